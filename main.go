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

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/whatsapp-exporter/whatsapp_exporter/collector"
	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/check"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/cli"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fleet"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/lifecycle"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/logging"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/scheduler"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/webhook"
)

const name = cli.Name

func main() {
	args, err := cli.Parse(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: error: %v, try --help\n", name, err)
		os.Exit(1)
	}
	logger, toolkitLogger := logging.New(args.LogFormat, args.LogLevel)
	switch args.Command {
	case cli.Check:
		os.Exit(check.Run(context.Background(), os.Stdout, args.ConfigFile, args.Online))
	case cli.Backfill:
		os.Exit(args.Backfill.Run(logger, args.ConfigFile, args.Demo))
	}
	if err := run(logger, toolkitLogger, args); err != nil {
		level.Error(logger).Log("msg", "Exiting", "err", err)
		os.Exit(1)
	}
}

func run(logger log.Logger, toolkitLogger *slog.Logger, args *cli.Args) error {
	level.Info(logger).Log("msg", "Starting "+name, "version", version.Info(), "build_context", version.BuildContext())
	var cfg *config.Config
	var now func() time.Time // the scheduler's clock: the wall clock but in a sped-up demo
	var demoWebhooks func(context.Context, http.Handler)
	switch {
	case args.Demo.Enabled && args.ConfigFile != "":
		return errors.New("--demo and --config.file exclude each other: the demo brings its own configuration")
	case args.Demo.Enabled:
		d, err := args.Demo.Start()
		if err != nil {
			return err
		}
		defer d.Close()
		level.Info(logger).Log("msg", "Demo mode: exporting fake WhatsApp analytics", "fake_api", d.URL, "scenario", args.Demo.Scenario)
		cfg, now, demoWebhooks = d.Config, d.Now, d.SendWebhooks
	case args.ConfigFile == "":
		return errors.New("no --config.file given; run with --demo to try the exporter on built-in fake data")
	default:
		var err error
		if cfg, err = config.Load(args.ConfigFile); err != nil {
			return err
		}
		now = args.Demo.Clock() // nil but in load tests against a fake
	}
	shard, err := args.ShardOf()
	if err != nil {
		return err
	}
	exporter := collector.New(collector.Options{Now: now})
	refresher := scheduler.New(nil, exporter, scheduler.Options{Logger: logger, Now: now, RequestsPerSecond: cfg.Global.RequestsPerSecond,
		MaxConcurrentRefreshes: 2 * cfg.Global.MaxConcurrentRequests})
	accounts := fleet.New(cfg, &scheduler.Connector{}, refresher.Apply, fleet.Options{Logger: logger, Shard: shard, Now: now})
	targets, err := accounts.Targets()
	if err != nil {
		return err
	}
	refresher.Apply(targets)
	hooks := webhook.New(cfg.Webhooks, webhook.Options{Logger: logger, Now: now})
	registry := prometheus.NewRegistry()
	// The exporter's own series are not registered: its handler writes
	// them pre-rendered after the registry's.
	registry.MustRegister(collector.NewFleet(accounts.State, refresher.Fleet), hooks, versioncollector.NewCollector(name),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	level.Info(logger).Log("msg", "Loaded configuration", "accounts", len(cfg.Accounts), "businesses", len(cfg.Businesses), "shard", shard.Index, "total_shards", max(shard.Count, 1))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	mux := lifecycle.Routes(args.MetricsPath, exporter.Handler(registry, collector.HandlerOpts{ErrorLog: logging.PromHTTP{Logger: logger}}), logger)
	if err := hooks.Serve(ctx, mux, args.Webhooks, *args.Web.WebConfigFile, toolkitLogger); err != nil {
		return err
	}
	if demoWebhooks != nil {
		go demoWebhooks(ctx, hooks)
	}
	if args.ConfigFile != "" {
		reloader := lifecycle.New(args.ConfigFile, func(cfg *config.Config) error {
			if err := accounts.Reload(cfg); err != nil {
				return err
			}
			hooks.Apply(cfg.Webhooks)
			return nil
		}, logger)
		registry.MustRegister(reloader)
		go reloader.WatchSignals(ctx)
		if args.Lifecycle {
			mux.Handle("/-/reload", reloader.Handler())
		}
	}
	refreshed := make(chan struct{})
	go func() {
		defer close(refreshed)
		refresher.Run(ctx)
	}()
	go accounts.Run(ctx)
	server := &http.Server{Handler: mux}
	go func() {
		<-ctx.Done()
		server.Shutdown(context.Background())
	}()
	err = web.ListenAndServe(server, args.Web, toolkitLogger)
	stop()
	<-refreshed
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
