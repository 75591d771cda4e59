package lifecycle

import (
	"fmt"
	"net/http"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
)

// Routes is the exporter's web server's routes, as Prometheus's own
// servers have them: metrics on metricsPath, GET /-/healthy, and the
// exporter-toolkit landing page on / unless the metrics are served there.
// POST /-/reload is added by the caller, only with --web.enable-lifecycle.
func Routes(metricsPath string, metrics http.Handler, logger log.Logger) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(metricsPath, metrics)
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Healthy") })
	if metricsPath == "/" {
		return mux
	}
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name:        "WhatsApp Exporter",
		Description: "Prometheus exporter for WhatsApp Business Account analytics",
		Version:     version.Info(),
		Links:       []web.LandingLinks{{Address: metricsPath, Text: "Metrics"}},
	})
	if err != nil {
		level.Error(logger).Log("msg", "Landing page unavailable", "err", err)
		return mux
	}
	mux.Handle("/", landing)
	return mux
}
