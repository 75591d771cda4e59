package backfill

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/demo"
)

// Flags are the backfill command's flags.
type Flags struct {
	start, end, gaugesStart timeFlag
	output                  string
	labels                  map[string]string
	step                    time.Duration
	gauges, counters        bool
	concurrency             int
}

// AddFlags registers the command's flags on cmd.
func AddFlags(cmd *kingpin.CmdClause) *Flags {
	f := &Flags{labels: map[string]string{}}
	cmd.Flag("start", "Start of the window to backfill: a date (2026-06-01, midnight UTC) or an RFC 3339 time.").Required().SetValue(&f.start)
	cmd.Flag("end", "End of the window (excluded), as --start; now when not given.").SetValue(&f.end)
	cmd.Flag("output", "The OpenMetrics file to write, for promtool tsdb create-blocks-from openmetrics; the run's state goes beside it, in OUTPUT.state.").
		Required().PlaceHolder("FILE").StringVar(&f.output)
	cmd.Flag("label", "A label to add to every series, as Prometheus adds job and instance to the live exporter's (repeatable): --label job=whatsapp --label instance=host:9919.").
		PlaceHolder("NAME=VALUE").StringMapVar(&f.labels)
	cmd.Flag("sample-interval", "Time between two samples of a series. 5m, the default, is the longest Prometheus' default 5-minute lookback draws without gaps.").
		Default(DefaultStep.String()).DurationVar(&f.step)
	cmd.Flag("gauges.start", "Write the newest-bucket gauges from this time on (as --start; the window's start when not given); before it only the counters, fetched in days where that gives the same sums.").
		SetValue(&f.gaugesStart)
	cmd.Flag("gauges", "Write the newest-bucket gauges and their bucket end (--no-gauges: counters only).").Default("true").BoolVar(&f.gauges)
	cmd.Flag("counters", "Write the month-to-date counters (--no-counters: gauges only).").Default("true").BoolVar(&f.counters)
	cmd.Flag("concurrency", "How many WABAs are fetched at once; every request still goes through the configured throttle.").
		Default("20").IntVar(&f.concurrency)
	return f
}

// Run runs the command: the configuration file's accounts, or the demo's,
// until done or interrupted (SIGINT, SIGTERM). It returns the process' exit
// code: 0 done, 1 failed or incomplete (the output lacks what could not be
// fetched), 130 interrupted (run it again to go on).
func (f *Flags) Run(logger log.Logger, configFile string, d *demo.Flags) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := Options{
		Start: f.start.t, End: f.end.t, GaugesStart: f.gaugesStart.t, NoGauges: !f.gauges, NoCounters: !f.counters,
		Step: f.step, Labels: f.labels, Output: f.output, Logger: logger, Progress: os.Stderr, Accounts: f.concurrency,
	}
	switch {
	case d.Enabled && configFile != "":
		return fail(logger, errors.New("--demo and --config.file exclude each other"))
	case d.Enabled:
		fake, err := d.Start()
		if err != nil {
			return fail(logger, err)
		}
		defer fake.Close()
		opts.Config, opts.Now = fake.Config, fake.Now
	case configFile == "":
		return fail(logger, errors.New("no --config.file given (or --demo, to try it on the demo's data)"))
	default:
		cfg, err := config.Load(configFile)
		if err != nil {
			return fail(logger, err)
		}
		opts.Config = cfg
	}
	report, err := Run(ctx, opts)
	switch {
	case errors.Is(err, ErrInterrupted):
		return 130
	case errors.Is(err, ErrIncomplete):
		return 1
	case err != nil:
		return fail(logger, err)
	}
	fmt.Fprintf(os.Stderr, "Wrote %s (%d bytes, %d WABAs, %.0f requests). Next: promtool tsdb create-blocks-from openmetrics %s DIR\n",
		report.Output, report.Bytes, report.WABAs, report.Requests, report.Output)
	return 0
}

func fail(logger log.Logger, err error) int {
	level.Error(logger).Log("msg", "Backfill failed", "err", err)
	return 1
}

// timeFlag is a time given as a date (midnight UTC) or in RFC 3339.
type timeFlag struct{ t time.Time }

func (v *timeFlag) Set(s string) error {
	for _, layout := range []string{time.DateOnly, time.RFC3339Nano} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			v.t = t
			return nil
		}
	}
	return fmt.Errorf("%q is neither a date (2026-06-01) nor an RFC 3339 time (2026-06-01T00:00:00Z)", s)
}

func (v *timeFlag) String() string {
	if v.t.IsZero() {
		return ""
	}
	return v.t.Format(time.RFC3339)
}
