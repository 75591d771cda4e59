// Package cli is the exporter's command line. What serving takes (the
// configuration or the demo, the web server, logging) is a flag of the
// application itself, as on every Prometheus exporter, so that plain --help
// lists it; serve is the default command, and the other commands (check)
// add their own flags.
package cli

import (
	"fmt"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/backfill"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/demo"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fleet"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/webhook"
)

// Name is the program's name, in --help and --version.
const Name = "whatsapp_exporter"

// The commands.
const (
	Serve    = "serve"
	Check    = "check"
	Backfill = "backfill"
)

// Args is a parsed command line.
type Args struct {
	// Command is Serve unless another command was named.
	Command string

	ConfigFile          string
	LogLevel, LogFormat string

	// Serving.
	MetricsPath string
	Lifecycle   bool
	Demo        *demo.Flags
	Web         *web.FlagConfig
	// Shard is this replica's share of a fleet: of TotalShards replicas,
	// the one numbered Shard, or the one whose StatefulSet pod is named
	// ShardPod (its ordinal).
	Shard, TotalShards int
	ShardPod           string
	// Webhooks is where the webhook endpoint listens, when not beside
	// /metrics.
	Webhooks *webhook.Flags

	// check.
	Online bool

	// Backfill holds the backfill command's flags.
	Backfill *backfill.Flags
}

// New returns the application with every flag and command; parsing a
// command line with it fills in the Args.
func New() (*kingpin.Application, *Args) {
	a := &Args{}
	app := kingpin.New(Name, "Exports WhatsApp Business Account analytics to Prometheus: it refreshes each configured account in the background and serves the latest values from memory. Run with --demo to try it on built-in fake data.")
	app.Version(version.Print(Name))
	app.HelpFlag.Short('h')

	app.Flag("config.file", "Path to the YAML configuration file.").StringVar(&a.ConfigFile)
	a.Demo = demo.AddFlags(app)
	a.Web = kingpinflag.AddFlags(app, ":9919")
	a.Webhooks = webhook.AddFlags(app)
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&a.MetricsPath)
	app.Flag("web.enable-lifecycle", "Reload the configuration on POST /-/reload, as on SIGHUP.").BoolVar(&a.Lifecycle)
	app.Flag("shard", "This replica's shard, from 0, when --total-shards replicas share the WABAs: each keeps those whose ID hashes to it.").Default("0").IntVar(&a.Shard)
	app.Flag("total-shards", "How many replicas share the WABAs (1: this one exports them all).").Default("1").IntVar(&a.TotalShards)
	app.Flag("shard.from-pod-name", "Take --shard from this StatefulSet pod name's ordinal (name-N), e.g. --shard.from-pod-name=$(POD_NAME).").PlaceHolder("NAME").StringVar(&a.ShardPod)
	app.Flag("log.level", "Only log messages with the given severity or above.").Default("info").EnumVar(&a.LogLevel, "debug", "info", "warn", "error")
	app.Flag("log.format", "Output format of log messages.").Default("logfmt").EnumVar(&a.LogFormat, "logfmt", "json")

	app.Command(Serve, "Export the configured accounts (the default).").Default()
	check := app.Command(Check, "Validate the configuration file and exit; with --online, also probe each WABA once.")
	check.Flag("online", "Probe each WABA: credentials, permissions, which families answer, the API version served.").BoolVar(&a.Online)
	a.Backfill = backfill.AddFlags(app.Command(Backfill, "Write what the APIs still hold of a past window as OpenMetrics, for promtool tsdb create-blocks-from openmetrics (docs/backfill.md)."))
	return app, a
}

// Parse parses a command line (without the program's name). --help and
// --version print and exit, as kingpin does.
func Parse(args []string) (*Args, error) {
	app, a := New()
	command, err := app.Parse(args)
	a.Command = command
	return a, err
}

// ShardOf is the replica's shard the flags give: --shard, or the ordinal of
// the pod --shard.from-pod-name names, of --total-shards.
func (a *Args) ShardOf() (fleet.Shard, error) {
	s := fleet.Shard{Index: a.Shard, Count: a.TotalShards}
	if a.ShardPod != "" {
		n, err := fleet.OrdinalOf(a.ShardPod)
		if err != nil {
			return fleet.Shard{}, fmt.Errorf("--shard.from-pod-name: %w", err)
		}
		s.Index = n
	}
	return s, s.Validate()
}
