package scheduler

// Exact values through the whole path: config, a real Graph client, a
// hand-made Graph answer, the collector, /metrics text.

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

const wabaA = "1001"

func ok(body string) (int, http.Header, string) { return http.StatusOK, nil, body }

func notFound(op string) (int, http.Header, string) {
	return http.StatusBadRequest, nil, `{"error":{"message":"unexpected request for ` + op + `","type":"OAuthException","code":100}}`
}

// point formats a Graph data point between two times of June 3.
func point(start, end int64, fields string) string {
	return fmt.Sprintf(`{"start":%d,"end":%d,%s}`, start, end, fields)
}

func dataPoints(field string, points ...string) string {
	return `{"` + field + `":{"data":[{"data_points":[` + strings.Join(points, ",") + `]}]},"id":"` + wabaA + `"}`
}

func TestFamilyValues(t *testing.T) {
	h := func(hour, minute int) int64 { return unixAt(hour, minute) }
	tests := []struct {
		name    string
		mod     func(*config.Account)
		respond func(op string, q url.Values) (int, http.Header, string)
		metrics []string
		want    string
	}{
		{
			// The newest half hour that ended before now minus the 30m delay
			// is 11:00-11:30: the complete 11:30-12:00 bucket the API
			// already returns is held back. Phone 222 had messages earlier
			// in the lookback but none in that bucket: 0, not absent.
			name: "messaging split by phone: delay, newest bucket, zero fill",
			mod: chain(onlyFamilies("messaging"), func(a *config.Account) {
				a.Messaging.SplitBy = []string{"PHONE"}
				a.Messaging.PhoneNumbers = []string{"111", "222"}
			}),
			respond: func(op string, q url.Values) (int, http.Header, string) {
				if op != "analytics" {
					return notFound(op)
				}
				var points []string
				switch {
				case strings.Contains(q.Get("fields"), `phone_numbers(["111"])`):
					points = []string{
						point(h(10, 0), h(10, 30), `"sent":5,"delivered":5`),
						point(h(11, 0), h(11, 30), `"sent":20,"delivered":18`),
						point(h(11, 30), h(12, 0), `"sent":99,"delivered":99`),
					}
				case strings.Contains(q.Get("fields"), `phone_numbers(["222"])`):
					points = []string{
						point(h(10, 0), h(10, 30), `"sent":7,"delivered":6`),
						point(h(11, 30), h(12, 0), `"sent":50,"delivered":50`),
					}
				default:
					return notFound("analytics without a phone filter")
				}
				return ok(`{"analytics":{"granularity":"HALF_HOUR","data_points":[` + strings.Join(points, ",") + `]},"id":"1001"}`)
			},
			metrics: []string{"whatsapp_messages_sent_newest", "whatsapp_messages_delivered_newest", "whatsapp_bucket_end_timestamp_seconds"},
			want: fmt.Sprintf(`
# HELP whatsapp_bucket_end_timestamp_seconds End of the analytics bucket that the family's newest-bucket gauges report, as a Unix timestamp.
# TYPE whatsapp_bucket_end_timestamp_seconds gauge
whatsapp_bucket_end_timestamp_seconds{family="messaging",waba_id="1001"} %d
# HELP whatsapp_messages_delivered_newest Messages delivered in the newest analytics bucket with data.
# TYPE whatsapp_messages_delivered_newest gauge
whatsapp_messages_delivered_newest{country="",phone_number="111",waba_id="1001"} 18
whatsapp_messages_delivered_newest{country="",phone_number="222",waba_id="1001"} 0
# HELP whatsapp_messages_sent_newest Messages sent in the newest analytics bucket with data.
# TYPE whatsapp_messages_sent_newest gauge
whatsapp_messages_sent_newest{country="",phone_number="111",waba_id="1001"} 20
whatsapp_messages_sent_newest{country="",phone_number="222",waba_id="1001"} 0
`, h(11, 30)),
		},
		{
			// 11:00-11:30 is eligible but the API has nothing for it yet:
			// the gauges keep 10:30-11:00 instead of dropping to zero, and
			// the bucket end says so.
			name: "conversations: empty newest bucket keeps the previous one",
			mod: chain(onlyFamilies("conversations"), func(a *config.Account) {
				a.Conversations.Dimensions = []string{"CONVERSATION_CATEGORY", "CONVERSATION_DIRECTION", "CONVERSATION_TYPE", "COUNTRY", "PHONE"}
			}),
			respond: func(op string, q url.Values) (int, http.Header, string) {
				if op != "conversation_analytics" {
					return notFound(op)
				}
				row := func(start, end int64, cat string, n, cost float64) string {
					return point(start, end, fmt.Sprintf(`"conversation":%g,"cost":%g,"phone_number":"111","country":"US","conversation_category":"%s","conversation_type":"REGULAR","conversation_direction":"BUSINESS_INITIATED"`, n, cost, cat))
				}
				return ok(dataPoints("conversation_analytics",
					row(h(10, 0), h(10, 30), "MARKETING", 4, 0.5),
					row(h(10, 0), h(10, 30), "UTILITY", 9, 0.25),
					row(h(10, 30), h(11, 0), "MARKETING", 6, 0.75),
				))
			},
			metrics: []string{"whatsapp_conversations_newest", "whatsapp_conversation_cost_newest", "whatsapp_bucket_end_timestamp_seconds"},
			want: fmt.Sprintf(`
# HELP whatsapp_bucket_end_timestamp_seconds End of the analytics bucket that the family's newest-bucket gauges report, as a Unix timestamp.
# TYPE whatsapp_bucket_end_timestamp_seconds gauge
whatsapp_bucket_end_timestamp_seconds{family="conversations",waba_id="1001"} %d
# HELP whatsapp_conversation_cost_newest Approximate cost of the conversations in the newest analytics bucket with data; in the WABA's currency, absent where the API reports no cost.
# TYPE whatsapp_conversation_cost_newest gauge
whatsapp_conversation_cost_newest{conversation_category="MARKETING",conversation_direction="BUSINESS_INITIATED",conversation_type="REGULAR",country="US",phone_number="111",waba_id="1001"} 0.75
whatsapp_conversation_cost_newest{conversation_category="UTILITY",conversation_direction="BUSINESS_INITIATED",conversation_type="REGULAR",country="US",phone_number="111",waba_id="1001"} 0
# HELP whatsapp_conversations_newest Conversations opened in the newest analytics bucket with data.
# TYPE whatsapp_conversations_newest gauge
whatsapp_conversations_newest{conversation_category="MARKETING",conversation_direction="BUSINESS_INITIATED",conversation_type="REGULAR",country="US",phone_number="111",waba_id="1001"} 6
whatsapp_conversations_newest{conversation_category="UTILITY",conversation_direction="BUSINESS_INITIATED",conversation_type="REGULAR",country="US",phone_number="111",waba_id="1001"} 0
`, h(11, 0)),
		},
		{
			// Only two dimensions asked for: the API still fills in a
			// direction ("UNKNOWN" in the documentation's example); the
			// rows that differ only there are one series, summed, and
			// the unrequested labels are "".
			name: "conversations: unrequested dimensions are empty and duplicate rows summed",
			mod: chain(onlyFamilies("conversations"), func(a *config.Account) {
				a.Conversations.Dimensions = []string{"CONVERSATION_CATEGORY", "COUNTRY"}
			}),
			respond: func(op string, q url.Values) (int, http.Header, string) {
				if op != "conversation_analytics" {
					return notFound(op)
				}
				return ok(dataPoints("conversation_analytics",
					point(h(11, 0), h(11, 30), `"conversation":3,"cost":0.25,"country":"US","conversation_category":"MARKETING","conversation_direction":"BUSINESS_INITIATED"`),
					point(h(11, 0), h(11, 30), `"conversation":2,"cost":0.5,"country":"US","conversation_category":"MARKETING","conversation_direction":"UNKNOWN"`),
					point(h(11, 0), h(11, 30), `"conversation":1,"cost":0.125,"country":"BR","conversation_category":"MARKETING","conversation_direction":"UNKNOWN"`),
				))
			},
			metrics: []string{"whatsapp_conversations_newest", "whatsapp_conversation_cost_newest"},
			want: `
# HELP whatsapp_conversation_cost_newest Approximate cost of the conversations in the newest analytics bucket with data; in the WABA's currency, absent where the API reports no cost.
# TYPE whatsapp_conversation_cost_newest gauge
whatsapp_conversation_cost_newest{conversation_category="MARKETING",conversation_direction="",conversation_type="",country="BR",phone_number="",waba_id="1001"} 0.125
whatsapp_conversation_cost_newest{conversation_category="MARKETING",conversation_direction="",conversation_type="",country="US",phone_number="",waba_id="1001"} 0.75
# HELP whatsapp_conversations_newest Conversations opened in the newest analytics bucket with data.
# TYPE whatsapp_conversations_newest gauge
whatsapp_conversations_newest{conversation_category="MARKETING",conversation_direction="",conversation_type="",country="BR",phone_number="",waba_id="1001"} 1
whatsapp_conversations_newest{conversation_category="MARKETING",conversation_direction="",conversation_type="",country="US",phone_number="",waba_id="1001"} 5
`,
		},
		{
			// A free row has no tier and no cost: its cost series is absent,
			// not 0, because the API did not report it.
			name: "pricing: every dimension, cost where reported",
			mod: chain(onlyFamilies("pricing"), func(a *config.Account) {
				a.Pricing.Dimensions = []string{"PRICING_CATEGORY", "PRICING_TYPE", "COUNTRY", "PHONE", "TIER"}
			}),
			respond: func(op string, q url.Values) (int, http.Header, string) {
				if op != "pricing_analytics" {
					return notFound(op)
				}
				return ok(dataPoints("pricing_analytics",
					point(h(11, 0), h(11, 30), `"volume":40,"cost":1.5,"phone_number":"111","country":"US","pricing_category":"MARKETING","pricing_type":"REGULAR","tier":"0:MAX"`),
					point(h(11, 0), h(11, 30), `"volume":12,"phone_number":"111","country":"US","pricing_category":"SERVICE","pricing_type":"FREE_CUSTOMER_SERVICE"`),
				))
			},
			metrics: []string{"whatsapp_pricing_volume_newest", "whatsapp_pricing_cost_newest", "whatsapp_bucket_end_timestamp_seconds"},
			want: fmt.Sprintf(`
# HELP whatsapp_bucket_end_timestamp_seconds End of the analytics bucket that the family's newest-bucket gauges report, as a Unix timestamp.
# TYPE whatsapp_bucket_end_timestamp_seconds gauge
whatsapp_bucket_end_timestamp_seconds{family="pricing",waba_id="1001"} %d
# HELP whatsapp_pricing_cost_newest Approximate charges for the delivered messages in the newest analytics bucket with data; in the WABA's currency, absent where the API reports no cost.
# TYPE whatsapp_pricing_cost_newest gauge
whatsapp_pricing_cost_newest{country="US",phone_number="111",pricing_category="MARKETING",pricing_type="REGULAR",tier="0:MAX",waba_id="1001"} 1.5
# HELP whatsapp_pricing_volume_newest Messages delivered, by pricing breakdown, in the newest analytics bucket with data.
# TYPE whatsapp_pricing_volume_newest gauge
whatsapp_pricing_volume_newest{country="US",phone_number="111",pricing_category="MARKETING",pricing_type="REGULAR",tier="0:MAX",waba_id="1001"} 40
whatsapp_pricing_volume_newest{country="US",phone_number="111",pricing_category="SERVICE",pricing_type="FREE_CUSTOMER_SERVICE",tier="",waba_id="1001"} 12
`, h(11, 30)),
		},
		{
			// Templates are daily: with the 2h delay at 12:10 on June 3 the
			// newest eligible day is June 2 (it ended at 00:00); June 3,
			// which the API answers as a partial day, is held back. The
			// template IDs come from the message_templates edge.
			name: "templates: daily, discovered IDs, clicks and cost",
			mod:  onlyFamilies("templates"),
			respond: func(op string, q url.Values) (int, http.Header, string) {
				switch op {
				case "message_templates":
					return ok(`{"data":[{"id":"71"},{"id":"72"}]}`)
				case "template_analytics":
					if q.Get("template_ids") != "[71,72]" {
						return notFound("template_analytics for " + q.Get("template_ids"))
					}
					tp := func(id string, d int, fields string) string {
						return fmt.Sprintf(`{"template_id":"%s","start":%d,"end":%d,%s}`, id, day(d), day(d+1), fields)
					}
					// Each product's sends are asked for apart; 72 was
					// sent through the Marketing Messages API too.
					switch q.Get("product_type") {
					case "MARKETING_MESSAGES_API_FOR_WHATSAPP":
						return ok(`{"data":[{"granularity":"DAILY","product_type":"marketing_messages_api_for_whatsapp","data_points":[` +
							tp("72", 2, `"sent":30,"delivered":28,"read":20`) + `]}]}`)
					case "CLOUD_API":
					default:
						return notFound("template_analytics for product_type " + q.Get("product_type"))
					}
					return ok(`{"data":[{"granularity":"DAILY","data_points":[` + strings.Join([]string{
						tp("71", 1, `"sent":10,"delivered":9,"read":5`),
						tp("71", 2, `"sent":100,"delivered":90,"read":50,"clicked":[{"type":"url_button","button_content":"Track order","count":7},{"type":"quick_reply_button","button_content":"Stop","count":2}],"cost":[{"type":"amount_spent","value":2.5},{"type":"cost_per_delivered","value":0.03125}]`),
						tp("71", 3, `"sent":1000,"delivered":1000,"read":1000`),
						tp("72", 1, `"sent":4,"delivered":4,"read":4,"clicked":[{"type":"url_button","button_content":"Shop","count":1}]`),
					}, ",") + `]}]}`)
				}
				return notFound(op)
			},
			metrics: []string{
				"whatsapp_template_sent_newest", "whatsapp_template_delivered_newest", "whatsapp_template_read_newest",
				"whatsapp_template_clicked_newest", "whatsapp_template_amount_spent_newest", "whatsapp_template_unit_cost_newest",
				"whatsapp_bucket_end_timestamp_seconds",
			},
			want: fmt.Sprintf(`
# HELP whatsapp_bucket_end_timestamp_seconds End of the analytics bucket that the family's newest-bucket gauges report, as a Unix timestamp.
# TYPE whatsapp_bucket_end_timestamp_seconds gauge
whatsapp_bucket_end_timestamp_seconds{family="templates",waba_id="1001"} %d
# HELP whatsapp_template_clicked_newest Clicks on a button of the template's sends on the newest day (UTC) with data; button_type and button_content are empty where the API reports one total.
# TYPE whatsapp_template_clicked_newest gauge
whatsapp_template_clicked_newest{button_content="Shop",button_type="url_button",product_type="cloud_api",template_id="72",waba_id="1001"} 0
whatsapp_template_clicked_newest{button_content="Stop",button_type="quick_reply_button",product_type="cloud_api",template_id="71",waba_id="1001"} 2
whatsapp_template_clicked_newest{button_content="Track order",button_type="url_button",product_type="cloud_api",template_id="71",waba_id="1001"} 7
# HELP whatsapp_template_amount_spent_newest Amount spent on the template's sends on the newest day (UTC) with data; in the WABA's currency, absent where the API reports no cost.
# TYPE whatsapp_template_amount_spent_newest gauge
whatsapp_template_amount_spent_newest{product_type="cloud_api",template_id="71",waba_id="1001"} 2.5
# HELP whatsapp_template_delivered_newest Deliveries of the template's sends on the newest day (UTC) with data.
# TYPE whatsapp_template_delivered_newest gauge
whatsapp_template_delivered_newest{product_type="cloud_api",template_id="71",waba_id="1001"} 90
whatsapp_template_delivered_newest{product_type="cloud_api",template_id="72",waba_id="1001"} 0
whatsapp_template_delivered_newest{product_type="marketing_messages",template_id="72",waba_id="1001"} 28
# HELP whatsapp_template_read_newest Reads of the template's sends on the newest day (UTC) with data; a day's reads keep growing for 7 days after it.
# TYPE whatsapp_template_read_newest gauge
whatsapp_template_read_newest{product_type="cloud_api",template_id="71",waba_id="1001"} 50
whatsapp_template_read_newest{product_type="cloud_api",template_id="72",waba_id="1001"} 0
whatsapp_template_read_newest{product_type="marketing_messages",template_id="72",waba_id="1001"} 20
# HELP whatsapp_template_sent_newest Sends of the template on the newest day (UTC) with data.
# TYPE whatsapp_template_sent_newest gauge
whatsapp_template_sent_newest{product_type="cloud_api",template_id="71",waba_id="1001"} 100
whatsapp_template_sent_newest{product_type="cloud_api",template_id="72",waba_id="1001"} 0
whatsapp_template_sent_newest{product_type="marketing_messages",template_id="72",waba_id="1001"} 30
# HELP whatsapp_template_unit_cost_newest A ratio of the template's cost (cost_type cost_per_delivered or cost_per_url_button_click) on the newest day (UTC) with data, in the WABA's currency; never add it up.
# TYPE whatsapp_template_unit_cost_newest gauge
whatsapp_template_unit_cost_newest{cost_type="cost_per_delivered",product_type="cloud_api",template_id="71",waba_id="1001"} 0.03125
`, day(3)),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := startStub(t, tt.respond)
			c := newExporter([]Target{metaTarget(t, testAccount(t, wabaA, url, "token", tt.mod))}, Options{Now: func() time.Time { return testNow }})
			refreshAll(c)
			if err := testutil.CollectAndCompare(c, strings.NewReader(tt.want), tt.metrics...); err != nil {
				t.Error(err)
			}
			// Every family that was asked for succeeded.
			success := lines(exposition(t, c, ""), "whatsapp_exporter_refresh_success{")
			if len(success) != 1 || countSuffix(success, " 1") != 1 {
				t.Errorf("want one family, refreshed successfully; got %q", success)
			}
		})
	}
}

func countSuffix(ls []string, suffix string) int {
	n := 0
	for _, l := range ls {
		if strings.HasSuffix(l, suffix) {
			n++
		}
	}
	return n
}

// The newest bucket moves with the clock, and an empty newest bucket that
// fills in later is picked up on the next refresh.
func TestNewestBucketMovesWithClock(t *testing.T) {
	h := func(hour, minute int) int64 { return unixAt(hour, minute) }
	clk := newClock(testNow)
	url := startStub(t, func(op string, q url.Values) (int, http.Header, string) {
		if op != "analytics" {
			return notFound(op)
		}
		points := []string{point(h(10, 30), h(11, 0), `"sent":8,"delivered":8`)}
		// The 11:00-11:30 bucket is filled in only once it is 50 minutes old.
		if !clk.Now().Before(time.Unix(h(11, 30), 0).Add(50 * time.Minute)) {
			points = append(points, point(h(11, 0), h(11, 30), `"sent":12,"delivered":11`))
		}
		return ok(`{"analytics":{"data_points":[` + strings.Join(points, ",") + `]}}`)
	})
	c := newExporter([]Target{metaTarget(t, testAccount(t, wabaA, url, "token", onlyFamilies("messaging")))}, Options{Now: clk.Now})

	want := func(end int64, sent, delivered int) string {
		return fmt.Sprintf(`
# HELP whatsapp_bucket_end_timestamp_seconds End of the analytics bucket that the family's newest-bucket gauges report, as a Unix timestamp.
# TYPE whatsapp_bucket_end_timestamp_seconds gauge
whatsapp_bucket_end_timestamp_seconds{family="messaging",waba_id="1001"} %d
# HELP whatsapp_messages_delivered_newest Messages delivered in the newest analytics bucket with data.
# TYPE whatsapp_messages_delivered_newest gauge
whatsapp_messages_delivered_newest{country="",phone_number="",waba_id="1001"} %d
# HELP whatsapp_messages_sent_newest Messages sent in the newest analytics bucket with data.
# TYPE whatsapp_messages_sent_newest gauge
whatsapp_messages_sent_newest{country="",phone_number="",waba_id="1001"} %d
`, end, delivered, sent)
	}
	names := []string{"whatsapp_messages_sent_newest", "whatsapp_messages_delivered_newest", "whatsapp_bucket_end_timestamp_seconds"}

	for _, step := range []struct {
		now        time.Time
		end        int64
		sent, dlvd int
	}{
		{now: testNow, end: h(11, 0), sent: 8, dlvd: 8},                          // 11:00-11:30 eligible but empty
		{now: testNow.Add(20 * time.Minute), end: h(11, 30), sent: 12, dlvd: 11}, // filled in
	} {
		clk.Set(step.now)
		refreshAll(c)
		if err := testutil.CollectAndCompare(c, strings.NewReader(want(step.end, step.sent, step.dlvd)), names...); err != nil {
			t.Errorf("at %s: %v", step.now.Format("15:04"), err)
		}
	}
}

// The exporter's own metrics: requests by status, errors by the API's code,
// the usage headers as ratios, success and the time of the last success.
func TestSelfMetrics(t *testing.T) {
	usage := http.Header{
		"X-Business-Use-Case-Usage": {`{"1001":[{"type":"whatsapp_business_management","call_count":42,"total_cputime":10,"total_time":20,"estimated_time_to_regain_access":0}]}`},
		"X-App-Usage":               {`{"call_count":5,"total_cputime":1,"total_time":2}`},
	}
	url := startStub(t, func(op string, q url.Values) (int, http.Header, string) {
		switch op {
		case "analytics":
			return http.StatusOK, usage, `{"analytics":{"data_points":[` + point(unixAt(11, 0), unixAt(11, 30), `"sent":1,"delivered":1`) + `]}}`
		case "conversation_analytics":
			return http.StatusBadRequest, nil, `{"error":{"message":"(#100) Invalid parameter","type":"OAuthException","code":100,"fbtrace_id":"x"}}`
		case "pricing_analytics":
			return http.StatusServiceUnavailable, http.Header{"Content-Type": {"text/html"}}, "<html>503</html>"
		}
		return notFound(op)
	})
	c := newExporter([]Target{metaTarget(t, testAccount(t, wabaA, url, "token", onlyFamilies("messaging", "conversations", "pricing")))},
		Options{Now: func() time.Time { return testNow }})
	refreshAll(c)
	// At the same time: the next refresh retries only what failed
	// transiently (pricing's 503), not conversations (a 400 is no
	// passing fault) nor messaging. The first refresh asked for the three
	// families in one request, which the API refused (conversations' 400
	// for all), then for each alone.
	refreshAll(c)

	want := fmt.Sprintf(`
# HELP whatsapp_exporter_account_info A configured WhatsApp Business Account, with the currency its costs are in (empty when unknown); always 1.
# TYPE whatsapp_exporter_account_info gauge
whatsapp_exporter_account_info{currency="USD",name="Test 1001",provider="meta",waba_id="1001"} 1
# HELP whatsapp_exporter_api_errors_total Failed API requests, by the API's error code (Graph's 4, 190, 80007, ...) or the exporter's own (timeout, connection, malformed_response, ...).
# TYPE whatsapp_exporter_api_errors_total counter
whatsapp_exporter_api_errors_total{error_code="100",family="combined",waba_id="1001"} 1
whatsapp_exporter_api_errors_total{error_code="100",family="conversations",waba_id="1001"} 1
whatsapp_exporter_api_errors_total{error_code="http_503",family="pricing",waba_id="1001"} 2
# HELP whatsapp_exporter_api_rate_limit_regain_access_seconds Time until the API allows requests again, as last reported by its usage headers; 0 when not throttled.
# TYPE whatsapp_exporter_api_rate_limit_regain_access_seconds gauge
whatsapp_exporter_api_rate_limit_regain_access_seconds{usage_type="app",waba_id="1001"} 0
whatsapp_exporter_api_rate_limit_regain_access_seconds{usage_type="whatsapp_business_management",waba_id="1001"} 0
# HELP whatsapp_exporter_api_rate_limit_usage_ratio Share of the API rate limit used, as last reported by the API's usage headers (1 = the limit).
# TYPE whatsapp_exporter_api_rate_limit_usage_ratio gauge
whatsapp_exporter_api_rate_limit_usage_ratio{resource="call_count",usage_type="app",waba_id="1001"} 0.05
whatsapp_exporter_api_rate_limit_usage_ratio{resource="call_count",usage_type="whatsapp_business_management",waba_id="1001"} 0.42
whatsapp_exporter_api_rate_limit_usage_ratio{resource="total_cputime",usage_type="app",waba_id="1001"} 0.01
whatsapp_exporter_api_rate_limit_usage_ratio{resource="total_cputime",usage_type="whatsapp_business_management",waba_id="1001"} 0.1
whatsapp_exporter_api_rate_limit_usage_ratio{resource="total_time",usage_type="app",waba_id="1001"} 0.02
whatsapp_exporter_api_rate_limit_usage_ratio{resource="total_time",usage_type="whatsapp_business_management",waba_id="1001"} 0.2
# HELP whatsapp_exporter_api_requests_total API requests, by HTTP status code ("none" when no response arrived).
# TYPE whatsapp_exporter_api_requests_total counter
whatsapp_exporter_api_requests_total{code="200",family="account",waba_id="1001"} 1
whatsapp_exporter_api_requests_total{code="400",family="combined",waba_id="1001"} 1
whatsapp_exporter_api_requests_total{code="200",family="messaging",waba_id="1001"} 1
whatsapp_exporter_api_requests_total{code="400",family="conversations",waba_id="1001"} 1
whatsapp_exporter_api_requests_total{code="503",family="pricing",waba_id="1001"} 2
# HELP whatsapp_exporter_refresh_last_success_timestamp_seconds When the family last refreshed successfully, as a Unix timestamp.
# TYPE whatsapp_exporter_refresh_last_success_timestamp_seconds gauge
whatsapp_exporter_refresh_last_success_timestamp_seconds{family="messaging",waba_id="1001"} %d
# HELP whatsapp_exporter_refresh_success Whether the last refresh of the family succeeded (1) or failed (0).
# TYPE whatsapp_exporter_refresh_success gauge
whatsapp_exporter_refresh_success{family="conversations",waba_id="1001"} 0
whatsapp_exporter_refresh_success{family="messaging",waba_id="1001"} 1
whatsapp_exporter_refresh_success{family="pricing",waba_id="1001"} 0
`, testNow.Unix())
	if err := testutil.CollectAndCompare(c, strings.NewReader(want),
		"whatsapp_exporter_account_info", "whatsapp_exporter_api_errors_total", "whatsapp_exporter_api_rate_limit_regain_access_seconds",
		"whatsapp_exporter_api_rate_limit_usage_ratio", "whatsapp_exporter_api_requests_total",
		"whatsapp_exporter_refresh_last_success_timestamp_seconds", "whatsapp_exporter_refresh_success",
	); err != nil {
		t.Error(err)
	}
	// A family that never succeeded has no bucket end and no data.
	if got := testutil.CollectAndCount(c, "whatsapp_conversations_newest", "whatsapp_pricing_volume_newest"); got != 0 {
		t.Errorf("failed families export %d data series, want 0", got)
	}
	// Durations are wall-clock, so only their presence is checked.
	if got := testutil.CollectAndCount(c, "whatsapp_exporter_refresh_duration_seconds"); got != 3 {
		t.Errorf("refresh_duration_seconds has %d series, want one per enabled family (3)", got)
	}
}

// Before the first refresh only the account is known, and the API version
// it asks for: no success, no data, no version served yet.
func TestBeforeFirstRefresh(t *testing.T) {
	a := testAccount(t, wabaA, "http://127.0.0.1:1", "token", nil)
	c := newExporter([]Target{metaTarget(t, a)}, Options{})
	want := `
# HELP whatsapp_exporter_account_info A configured WhatsApp Business Account, with the currency its costs are in (empty when unknown); always 1.
# TYPE whatsapp_exporter_account_info gauge
whatsapp_exporter_account_info{currency="",name="Test 1001",provider="meta",waba_id="1001"} 1
# HELP whatsapp_exporter_api_version_expiry_timestamp_seconds When Meta stops serving the configured Graph API version, as a Unix timestamp; absent when not known.
# TYPE whatsapp_exporter_api_version_expiry_timestamp_seconds gauge
whatsapp_exporter_api_version_expiry_timestamp_seconds{version="v25.0",waba_id="1001"} 1.8484416e+09
# HELP whatsapp_exporter_api_version_info The Graph API version the account's requests name (configured) and the one the API last answered in (served, from the facebook-api-version header; empty until an answer named one); always 1.
# TYPE whatsapp_exporter_api_version_info gauge
whatsapp_exporter_api_version_info{configured="v25.0",served="",waba_id="1001"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
