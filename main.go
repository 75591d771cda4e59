// Command whatsapp_exporter exports WhatsApp Business Account analytics to
// Prometheus. It refreshes each configured account in the background and
// serves the latest values from memory.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"
	slgk "github.com/tjhop/slog-gokit"

	"github.com/whatsapp-exporter/whatsapp_exporter/collector"
	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/demo"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/scheduler"
)

const name = "whatsapp_exporter"

func main() {
	var (
		configFile   = kingpin.Flag("config.file", "Path to the YAML configuration file.").String()
		demoFlags    = demo.AddFlags(kingpin.CommandLine)
		metricsPath  = kingpin.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String()
		logLevel     = kingpin.Flag("log.level", "Only log messages with the given severity or above.").Default("info").Enum("debug", "info", "warn", "error")
		logFormat    = kingpin.Flag("log.format", "Output format of log messages.").Default("logfmt").Enum("logfmt", "json")
		toolkitFlags = kingpinflag.AddFlags(kingpin.CommandLine, ":9919")
	)
	kingpin.Version(version.Print(name))
	kingpin.HelpFlag.Short('h')
	kingpin.Parse()
	logger, toolkitLogger := newLoggers(*logFormat, *logLevel)

	if err := run(logger, toolkitLogger, *configFile, demoFlags, *metricsPath, toolkitFlags); err != nil {
		level.Error(logger).Log("msg", "Exiting", "err", err)
		os.Exit(1)
	}
}

func run(logger log.Logger, toolkitLogger *slog.Logger, configFile string, demoFlags *demo.Flags, metricsPath string, toolkitFlags *web.FlagConfig) error {
	level.Info(logger).Log("msg", "Starting "+name, "version", version.Info(), "build_context", version.BuildContext())

	var cfg *config.Config
	var now func() time.Time // the scheduler's clock; the wall clock but in a sped-up demo
	switch {
	case demoFlags.Enabled && configFile != "":
		return errors.New("--demo and --config.file exclude each other: the demo brings its own configuration")
	case demoFlags.Enabled:
		d, err := demoFlags.Start()
		if err != nil {
			return err
		}
		defer d.Close()
		level.Info(logger).Log("msg", "Demo mode: exporting fake WhatsApp analytics", "fake_api", d.URL, "scenario", demoFlags.Scenario)
		cfg, now = d.Config, d.Now
	case configFile == "":
		return errors.New("no --config.file given; run with --demo to try the exporter on built-in fake data")
	default:
		var err error
		if cfg, err = config.Load(configFile); err != nil {
			return err
		}
	}

	targets, err := scheduler.Targets(cfg)
	if err != nil {
		return err
	}
	exporter := collector.New()
	refresher := scheduler.New(targets, exporter, scheduler.Options{Logger: logger, Now: now})
	registry := prometheus.NewRegistry()
	registry.MustRegister(
		exporter,
		versioncollector.NewCollector(name),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	level.Info(logger).Log("msg", "Loaded configuration", "accounts", len(cfg.Accounts))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	refreshed := make(chan struct{})
	go func() {
		defer close(refreshed)
		refresher.Run(ctx)
	}()

	server := &http.Server{Handler: routes(registry, metricsPath, logger)}
	go func() {
		<-ctx.Done()
		server.Shutdown(context.Background())
	}()
	err = web.ListenAndServe(server, toolkitFlags, toolkitLogger)
	stop()
	<-refreshed
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func routes(registry *prometheus.Registry, metricsPath string, logger log.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(metricsPath, promhttp.HandlerFor(registry, promhttp.HandlerOpts{
		ErrorLog:          promLogger{logger},
		EnableOpenMetrics: true,
	}))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Healthy") })
	if metricsPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        "WhatsApp Exporter",
			Description: "Prometheus exporter for WhatsApp Business Account analytics",
			Version:     version.Info(),
			Links:       []web.LandingLinks{{Address: metricsPath, Text: "Metrics"}},
		})
		if err != nil {
			level.Error(logger).Log("msg", "Landing page unavailable", "err", err)
		} else {
			mux.Handle("/", landing)
		}
	}
	return mux
}

// newLoggers returns the exporter's go-kit logger, and an slog view of the
// same output for exporter-toolkit. The slog bridge adds its own time and
// caller, so it wraps the logger before those are added; both use the key
// "time", as current Prometheus components do.
func newLoggers(format, lvl string) (log.Logger, *slog.Logger) {
	var base log.Logger
	if format == "json" {
		base = log.NewJSONLogger(log.NewSyncWriter(os.Stderr))
	} else {
		base = log.NewLogfmtLogger(log.NewSyncWriter(os.Stderr))
	}
	base = level.NewFilter(base, level.Allow(level.ParseDefault(lvl, level.InfoValue())))
	slogLevel := new(slog.LevelVar)
	if lvl == "debug" {
		slogLevel.Set(slog.LevelDebug)
	}
	return log.With(base, "time", log.DefaultTimestampUTC, "caller", log.DefaultCaller),
		slog.New(slgk.NewGoKitHandler(base, slogLevel))
}

// promLogger lets promhttp report encoding errors through go-kit.
type promLogger struct{ logger log.Logger }

func (l promLogger) Println(v ...any) { level.Error(l.logger).Log("msg", fmt.Sprint(v...)) }
