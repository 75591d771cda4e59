package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log/level"
	"github.com/prometheus/exporter-toolkit/web"
)

// Flags are the command-line flags of the webhook endpoint.
type Flags struct {
	ListenAddress, WebConfigFile string
}

// AddFlags registers the endpoint's flags on app (the application or one of
// its commands).
func AddFlags(app interface {
	Flag(name, help string) *kingpin.FlagClause
}) *Flags {
	f := &Flags{}
	app.Flag("webhooks.listen-address", "Serve the webhook endpoint (the configuration's webhooks section) on this address of its own, rather than beside /metrics on --web.listen-address: to expose it to the internet alone.").
		PlaceHolder(":9920").StringVar(&f.ListenAddress)
	app.Flag("webhooks.web-config-file", "The exporter-toolkit web configuration (TLS) of --webhooks.listen-address; --web.config.file's when not given. Meta sends no basic auth credentials.").
		PlaceHolder("FILE").StringVar(&f.WebConfigFile)
	return f
}

// Serve puts the endpoint where the flags say, until ctx ends: on mux, which
// the exporter's listener serves, or on a listener of its own, with TLS from
// the web configuration (the flags' own, or mainWebConfig, that of
// --web.config.file). An endpoint that is off serves nothing. The error is
// a path that mux serves already, a listener that could not start, or a web
// configuration that does not load.
func (r *Receiver) Serve(ctx context.Context, mux *http.ServeMux, f *Flags, mainWebConfig string, logger *slog.Logger) error {
	if !r.on {
		if f != nil && f.ListenAddress != "" {
			level.Warn(r.logger).Log("msg", "--webhooks.listen-address is set, but the configuration has no webhooks section: no webhook endpoint")
		}
		return nil
	}
	if f == nil || f.ListenAddress == "" {
		probe := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: r.path}}
		if _, pattern := mux.Handler(probe); pattern == r.path {
			return fmt.Errorf("webhooks.path %s is already served by the exporter; choose another", r.path)
		}
		mux.Handle(r.path, r)
		level.Info(r.logger).Log("msg", "Serving the webhook endpoint beside the metrics", "path", r.path)
		return nil
	}
	webConfig := f.WebConfigFile
	if webConfig == "" {
		webConfig = mainWebConfig
	}
	if webConfig != "" {
		if err := web.Validate(webConfig); err != nil {
			return fmt.Errorf("webhook web configuration %s: %w", webConfig, err)
		}
	}
	listener, err := net.Listen("tcp", f.ListenAddress)
	if err != nil {
		return fmt.Errorf("webhook endpoint: %w", err)
	}
	own := http.NewServeMux()
	own.Handle(r.path, r)
	// Bounds on slow senders, which the internet has: a header within 10
	// seconds, a body of at most 3 MiB within a minute.
	server := &http.Server{Handler: own, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	noSystemd := false
	toolkit := &web.FlagConfig{WebListenAddresses: &[]string{f.ListenAddress}, WebSystemdSocket: &noSystemd, WebConfigFile: &webConfig}
	go func() {
		<-ctx.Done()
		server.Shutdown(context.Background())
	}()
	go func() {
		if err := web.Serve(listener, server, toolkit, logger); err != nil && !errors.Is(err, http.ErrServerClosed) {
			level.Error(r.logger).Log("msg", "The webhook endpoint stopped", "err", err)
		}
	}()
	level.Info(r.logger).Log("msg", "Serving the webhook endpoint", "address", listener.Addr().String(), "path", r.path)
	return nil
}
