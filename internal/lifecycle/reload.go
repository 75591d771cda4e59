// Package lifecycle reloads the configuration on request, as Prometheus
// does: on SIGHUP, and on POST /-/reload when --web.enable-lifecycle is set.
// A configuration that does not load is not applied: the running one stays,
// the reason is logged, and whatsapp_exporter_config_last_reload_successful
// reads 0 until a reload succeeds. It also gives the web server the routes
// Prometheus's own servers have (/-/healthy, the landing page).
package lifecycle

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
)

// Reloader loads the configuration file again and hands it to apply.
type Reloader struct {
	file   string
	apply  func(*config.Config) error
	logger log.Logger
	now    func() time.Time

	mu          sync.Mutex // one reload at a time
	successful  prometheus.Gauge
	lastSuccess prometheus.Gauge
}

// New returns a reloader of file, which was loaded successfully at start;
// apply puts a new configuration into effect.
func New(file string, apply func(*config.Config) error, logger log.Logger) *Reloader {
	r := &Reloader{
		file: file, apply: apply, logger: logger, now: time.Now,
		successful: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "whatsapp_exporter_config_last_reload_successful",
			Help: "Whether the last configuration reload succeeded (1) or failed and left the previous configuration running (0).",
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "whatsapp_exporter_config_last_reload_success_timestamp_seconds",
			Help: "When the configuration was last loaded successfully, at start or by a reload, as a Unix timestamp.",
		}),
	}
	r.succeeded()
	return r
}

func (r *Reloader) succeeded() {
	r.successful.Set(1)
	r.lastSuccess.Set(float64(r.now().UnixNano()) / 1e9)
}

// Describe implements prometheus.Collector.
func (r *Reloader) Describe(ch chan<- *prometheus.Desc) {
	r.successful.Describe(ch)
	r.lastSuccess.Describe(ch)
}

// Collect implements prometheus.Collector.
func (r *Reloader) Collect(ch chan<- prometheus.Metric) {
	r.successful.Collect(ch)
	r.lastSuccess.Collect(ch)
}

// Reload loads the file and applies it. On error the running configuration
// stays in effect.
func (r *Reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg, err := config.Load(r.file)
	if err == nil {
		err = r.apply(cfg)
	}
	if err != nil {
		r.successful.Set(0)
		level.Error(r.logger).Log("msg", "Reloading the configuration failed; the previous one stays in effect", "file", r.file, "err", err)
		return err
	}
	r.succeeded()
	level.Info(r.logger).Log("msg", "Reloaded the configuration", "file", r.file, "accounts", len(cfg.Accounts))
	return nil
}

// WatchSignals reloads on every SIGHUP until ctx ends.
func (r *Reloader) WatchSignals(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			r.Reload()
		}
	}
}

// Handler serves POST /-/reload: 200 once the new configuration is in
// effect, 500 with the reason when it did not load.
func (r *Reloader) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost && req.Method != http.MethodPut {
			w.Header().Set("Allow", "POST, PUT")
			http.Error(w, "This endpoint requires a POST or PUT request.", http.StatusMethodNotAllowed)
			return
		}
		if err := r.Reload(); err != nil {
			http.Error(w, fmt.Sprintf("failed to reload config: %s", err), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "Reloaded")
	})
}
