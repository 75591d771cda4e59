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
	// The WABAs' time zones must load on a minimal image without a zone
	// database, such as the Dockerfile's distroless one.
	_ "time/tzdata"

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

	"github.com/whatsapp-exporter/whatsapp_exporter/collector"
	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/check"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/demo"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/lifecycle"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/logging"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/scheduler"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/webhook"
)

const name = "whatsapp_exporter"

// flags are the command line's, for the serve command.
type flags struct {
	configFile, metricsPath string
	lifecycle               bool
	demo                    *demo.Flags
	toolkit                 *web.FlagConfig
	webhooks                *webhook.Flags
}

func main() {
	var f flags
	kingpin.Flag("config.file", "Path to the YAML configuration file.").StringVar(&f.configFile)
	logLevel := kingpin.Flag("log.level", "Only log messages with the given severity or above.").Default("info").Enum("debug", "info", "warn", "error")
	logFormat := kingpin.Flag("log.format", "Output format of log messages.").Default("logfmt").Enum("logfmt", "json")
	serve := kingpin.Command("serve", "Export the configured accounts (the default).").Default()
	f.demo = demo.AddFlags(serve)
	serve.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&f.metricsPath)
	serve.Flag("web.enable-lifecycle", "Reload the configuration on POST /-/reload, as on SIGHUP.").BoolVar(&f.lifecycle)
	f.toolkit = kingpinflag.AddFlags(serve, ":9919")
	f.webhooks = webhook.AddFlags(serve)
	checkCmd := kingpin.Command("check", "Validate the configuration file and exit; with --online, also probe each WABA once.")
	online := checkCmd.Flag("online", "Probe each WABA: credentials, permissions, which families answer, the API version served.").Bool()
	kingpin.Version(version.Print(name))
	kingpin.HelpFlag.Short('h')
	command := kingpin.Parse()
	logger, toolkitLogger := logging.New(*logFormat, *logLevel)

	if command == checkCmd.FullCommand() {
		os.Exit(check.Run(context.Background(), os.Stdout, f.configFile, *online))
	}
	if err := run(logger, toolkitLogger, f); err != nil {
		level.Error(logger).Log("msg", "Exiting", "err", err)
		os.Exit(1)
	}
}

func run(logger log.Logger, toolkitLogger *slog.Logger, f flags) error {
	level.Info(logger).Log("msg", "Starting "+name, "version", version.Info(), "build_context", version.BuildContext())
	var cfg *config.Config
	var now func() time.Time // the scheduler's clock: the wall clock but in a sped-up demo
	var demoWebhooks func(context.Context, http.Handler)
	switch {
	case f.demo.Enabled && f.configFile != "":
		return errors.New("--demo and --config.file exclude each other: the demo brings its own configuration")
	case f.demo.Enabled:
		d, err := f.demo.Start()
		if err != nil {
			return err
		}
		defer d.Close()
		level.Info(logger).Log("msg", "Demo mode: exporting fake WhatsApp analytics", "fake_api", d.URL, "scenario", f.demo.Scenario)
		cfg, now, demoWebhooks = d.Config, d.Now, d.SendWebhooks
	case f.configFile == "":
		return errors.New("no --config.file given; run with --demo to try the exporter on built-in fake data")
	default:
		var err error
		if cfg, err = config.Load(f.configFile); err != nil {
			return err
		}
	}
	connector := &scheduler.Connector{}
	targets, err := connector.Targets(cfg)
	if err != nil {
		return err
	}
	exporter := collector.New(collector.Options{Now: now})
	refresher := scheduler.New(targets, exporter, scheduler.Options{Logger: logger, Now: now})
	hooks := webhook.New(cfg.Webhooks, webhook.Options{Logger: logger, Now: now})
	registry := prometheus.NewRegistry()
	registry.MustRegister(exporter, hooks, versioncollector.NewCollector(name), collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	level.Info(logger).Log("msg", "Loaded configuration", "accounts", len(cfg.Accounts))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	mux := routes(registry, f.metricsPath, logger)
	if err := hooks.Serve(ctx, mux, f.webhooks, *f.toolkit.WebConfigFile, toolkitLogger); err != nil {
		return err
	}
	if demoWebhooks != nil {
		go demoWebhooks(ctx, hooks)
	}
	if f.configFile != "" {
		reloader := lifecycle.New(f.configFile, func(cfg *config.Config) error {
			targets, err := connector.Targets(cfg)
			if err == nil {
				refresher.Apply(targets)
				hooks.Apply(cfg.Webhooks)
			}
			return err
		}, logger)
		registry.MustRegister(reloader)
		go reloader.WatchSignals(ctx)
		if f.lifecycle {
			mux.Handle("/-/reload", reloader.Handler())
		}
	}
	refreshed := make(chan struct{})
	go func() {
		defer close(refreshed)
		refresher.Run(ctx)
	}()
	server := &http.Server{Handler: mux}
	go func() {
		<-ctx.Done()
		server.Shutdown(context.Background())
	}()
	err = web.ListenAndServe(server, f.toolkit, toolkitLogger)
	stop()
	<-refreshed
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func routes(registry *prometheus.Registry, metricsPath string, logger log.Logger) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(metricsPath, promhttp.HandlerFor(registry, promhttp.HandlerOpts{ErrorLog: logging.PromHTTP{Logger: logger}, EnableOpenMetrics: true}))
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
