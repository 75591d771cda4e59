package scheduler

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
)

// TestCallValues: call analytics split by direction, one query each; the
// count and cost become gauges and month-to-date counters, the mean
// duration a gauge only.
func TestCallValues(t *testing.T) {
	h := func(hour, minute int) int64 { return unixAt(hour, minute) }
	var fields []string
	srvURL := startStub(t, func(op string, q url.Values) (int, http.Header, string) {
		if op != "call_analytics" {
			return notFound(op)
		}
		fields = append(fields, q.Get("fields"))
		var points []string
		switch {
		case strings.Contains(q.Get("fields"), `directions(["USER_INITIATED"])`):
			points = []string{
				fmt.Sprintf(`{"start":%d,"end":%d,"count":4,"cost":0,"average_duration":90}`, h(10, 30), h(11, 0)),
				fmt.Sprintf(`{"start":%d,"end":%d,"count":6,"cost":0,"average_duration":100}`, h(11, 0), h(11, 30)),
			}
		case strings.Contains(q.Get("fields"), `directions(["BUSINESS_INITIATED"])`):
			points = []string{fmt.Sprintf(`{"start":%d,"end":%d,"count":2,"cost":0.05,"average_duration":150}`, h(10, 30), h(11, 0))}
		default:
			return notFound("call_analytics without a direction")
		}
		return ok(`{"call_analytics":{"granularity":"HALF_HOUR","data_points":[` + strings.Join(points, ",") + `]},"id":"1001"}`)
	})
	acct := testAccount(t, wabaA, srvURL, "token", chain(onlyFamilies("calls"), func(a *config.Account) {
		a.Calls.SplitBy = []string{"DIRECTION"}
	}))
	c := newExporter([]Target{metaTarget(t, acct)}, Options{Now: func() time.Time { return testNow }})
	refreshAll(c)

	// The newest half hour with data is 11:00-11:30; business-initiated
	// calls had none there, so they read 0 (seen earlier in the lookback).
	want := fmt.Sprintf(`
# HELP whatsapp_bucket_end_timestamp_seconds End of the analytics bucket that the family's newest-bucket gauges report, as a Unix timestamp.
# TYPE whatsapp_bucket_end_timestamp_seconds gauge
whatsapp_bucket_end_timestamp_seconds{family="calls",waba_id="1001"} %d
# HELP whatsapp_call_average_duration_seconds_newest Mean length of the calls in the newest analytics bucket with data, in seconds; a ratio: never add it up.
# TYPE whatsapp_call_average_duration_seconds_newest gauge
whatsapp_call_average_duration_seconds_newest{country="",direction="BUSINESS_INITIATED",phone_number="",waba_id="1001"} 0
whatsapp_call_average_duration_seconds_newest{country="",direction="USER_INITIATED",phone_number="",waba_id="1001"} 100
# HELP whatsapp_call_cost_newest Approximate cost of the calls in the newest analytics bucket with data; in the WABA's currency, absent where the API reports no cost.
# TYPE whatsapp_call_cost_newest gauge
whatsapp_call_cost_newest{country="",direction="BUSINESS_INITIATED",phone_number="",waba_id="1001"} 0
whatsapp_call_cost_newest{country="",direction="USER_INITIATED",phone_number="",waba_id="1001"} 0
# HELP whatsapp_call_cost_total Approximate cost of the calls this month (UTC) so far, summed over its analytics buckets; in the WABA's currency, absent where the API reports no cost.
# TYPE whatsapp_call_cost_total counter
whatsapp_call_cost_total{country="",direction="BUSINESS_INITIATED",phone_number="",waba_id="1001"} 0.05
whatsapp_call_cost_total{country="",direction="USER_INITIATED",phone_number="",waba_id="1001"} 0
# HELP whatsapp_calls_newest Calls (WhatsApp Business Calling) in the newest analytics bucket with data.
# TYPE whatsapp_calls_newest gauge
whatsapp_calls_newest{country="",direction="BUSINESS_INITIATED",phone_number="",waba_id="1001"} 0
whatsapp_calls_newest{country="",direction="USER_INITIATED",phone_number="",waba_id="1001"} 6
# HELP whatsapp_calls_total Calls (WhatsApp Business Calling) this month (UTC) so far, summed over its analytics buckets.
# TYPE whatsapp_calls_total counter
whatsapp_calls_total{country="",direction="BUSINESS_INITIATED",phone_number="",waba_id="1001"} 2
whatsapp_calls_total{country="",direction="USER_INITIATED",phone_number="",waba_id="1001"} 10
`, h(11, 30))
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "whatsapp_bucket_end_timestamp_seconds",
		"whatsapp_calls_newest", "whatsapp_calls_total", "whatsapp_call_cost_newest", "whatsapp_call_cost_total",
		"whatsapp_call_average_duration_seconds_newest", "whatsapp_call_average_duration_seconds_total"); err != nil {
		t.Error(err)
	}
	for _, f := range fields {
		if !strings.Contains(f, `metric_types(["COUNT","AVERAGE_DURATION","COST"])`) {
			t.Errorf("fields %s: want count, duration and cost", f)
		}
	}
}
