package collector

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
)

// parseOpenMetrics is the OpenMetrics reference parser (the Python client's,
// which the OpenMetrics project tests its specification with), printing the
// families it read as JSON. It rejects, among much else, two families of one
// name: a counter x_total is the family x, so a gauge x beside it clashes.
const parseOpenMetrics = `
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
print(json.dumps({f.name: f.type for f in text_string_to_metric_families(sys.stdin.read())}))
`

// openMetricsParser finds a Python with the reference parser: Debian's
// python3-prometheus-client, which CI installs. Without it the test skips,
// unless WHATSAPP_EXPORTER_E2E=required.
func openMetricsParser(t *testing.T) string {
	t.Helper()
	for _, python := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(python, "-c", "import prometheus_client.openmetrics.parser").Run() == nil {
			return python
		}
	}
	msg := "no python3 with prometheus_client (apt-get install -y python3-prometheus-client)"
	if os.Getenv("WHATSAPP_EXPORTER_E2E") == "required" {
		t.Fatal(msg + " (WHATSAPP_EXPORTER_E2E=required)")
	}
	t.Skip(msg)
	return ""
}

// What /metrics serves when Prometheus asks for OpenMetrics, as it does by
// default, is valid OpenMetrics: every newest-bucket gauge and month-to-date
// counter is a family of its own, of its type.
func TestOpenMetricsExposition(t *testing.T) {
	python := openMetricsParser(t)
	c := New(Options{})
	s := profileSnapshot("102290129340398")
	s.Currency = "USD"
	s.Errors = map[analytics.Outcome]float64{{Family: "pricing", Code: "4"}: 1}
	// Call analytics are opt-in, and not in the profile: one bucket of them.
	templates := s.Families["templates"]
	call := analytics.Dimensions{Direction: "USER_INITIATED"}
	s.Families["calls"] = &analytics.Refresh{Success: true, LastSuccess: templates.LastSuccess, BucketStart: templates.BucketStart, BucketEnd: templates.BucketEnd,
		Values: []analytics.Value{
			{Measure: analytics.Calls, Dimensions: call, Value: 6},
			{Measure: analytics.CallCost, Dimensions: call, Value: 0.05},
			{Measure: analytics.CallAverageDuration, Dimensions: call, Value: 106},
		}}
	for _, r := range s.Families {
		var additive []analytics.Value
		for _, v := range r.Values {
			if v.Measure.Additive() {
				additive = append(additive, v)
			}
		}
		r.MonthToDate = &analytics.MonthToDate{Month: r.BucketStart, Values: additive}
	}
	s.Families["templates"].Values = append(s.Families["templates"].Values, analytics.Value{
		Measure: analytics.TemplateUniqueClicks, Dimensions: analytics.Dimensions{TemplateID: "1", ButtonContent: "Tell me more"}, Value: 3})
	c.Publish(s)

	types := openMetricsTypes(t, python, c)
	for _, m := range measures {
		newest := m.newest.name
		if types[newest] != "gauge" {
			t.Errorf("family %s is %q, want gauge", newest, types[newest])
		}
		if m.total == nil {
			continue
		}
		family := strings.TrimSuffix(newest, "_newest")
		if types[family] != "counter" {
			t.Errorf("family %s (samples %s_total) is %q, want counter", family, family, types[family])
		}
	}
	if len(types) < 2*len(measures) {
		t.Errorf("%d families parsed: %v", len(types), types)
	}
}

// openMetricsTypes serves c's metrics on /metrics as Prometheus asks for
// them, in OpenMetrics, and returns the type of each family as the format's
// reference parser reads it; it fails the test if the parser rejects them.
func openMetricsTypes(t *testing.T, python string, c *Collector) map[string]string {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0;q=0.9,text/plain;q=0.5")
	rec := httptest.NewRecorder()
	c.Handler(prometheus.NewRegistry(), HandlerOpts{}).ServeHTTP(rec, req)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text") {
		t.Fatalf("Content-Type %q: OpenMetrics was not negotiated", ct)
	}
	cmd := exec.Command(python, "-c", parseOpenMetrics)
	cmd.Stdin = bytes.NewReader(rec.Body.Bytes())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the OpenMetrics parser rejects the exposition: %v\n%s", err, stderr.String())
	}
	var types map[string]string
	if err := json.Unmarshal(out, &types); err != nil {
		t.Fatal(err)
	}
	return types
}
