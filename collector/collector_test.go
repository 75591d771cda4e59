package collector

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

var (
	lastSuccess = time.Date(2024, 6, 3, 12, 10, 0, 0, time.UTC)
	bucketStart = time.Date(2024, 6, 3, 11, 0, 0, 0, time.UTC)
	bucketEnd   = time.Date(2024, 6, 3, 11, 30, 0, 0, time.UTC)
)

// Each snapshot becomes exactly these metrics: the collector adds nothing
// and drops nothing.
func TestRender(t *testing.T) {
	tests := []struct {
		name    string
		snap    analytics.Snapshot
		metrics []string
		want    string
	}{
		{
			name: "an account before its first refresh",
			snap: analytics.Snapshot{WABAID: "1", Name: "Acme", Provider: "meta", Currency: "BRL"},
			want: `
# HELP whatsapp_exporter_account_info A configured WhatsApp Business Account, with the currency its costs are in (empty when unknown); always 1.
# TYPE whatsapp_exporter_account_info gauge
whatsapp_exporter_account_info{currency="BRL",name="Acme",provider="meta",waba_id="1"} 1
`,
		},
		{
			name: "a family's values, bucket end and health",
			snap: analytics.Snapshot{WABAID: "1", Provider: "vonage", Families: map[provider.Family]*analytics.Refresh{
				provider.Messaging: {Success: true, LastSuccess: lastSuccess, Duration: 1500 * time.Millisecond,
					BucketStart: bucketStart, BucketEnd: bucketEnd, Values: []analytics.Value{
						{Measure: analytics.MessagesSent, Dimensions: analytics.Dimensions{PhoneNumber: "111", Country: "US"}, Value: 20},
						{Measure: analytics.MessagesDelivered, Dimensions: analytics.Dimensions{PhoneNumber: "111", Country: "US"}, Value: 18},
						{Measure: analytics.MessagesSent, Dimensions: analytics.Dimensions{PhoneNumber: "222"}, Value: 0},
					}},
			}},
			want: `
# HELP whatsapp_bucket_end_timestamp_seconds End of the analytics bucket that the family's newest-bucket gauges report, as a Unix timestamp.
# TYPE whatsapp_bucket_end_timestamp_seconds gauge
whatsapp_bucket_end_timestamp_seconds{family="messaging",waba_id="1"} 1.7174142e+09
# HELP whatsapp_exporter_account_info A configured WhatsApp Business Account, with the currency its costs are in (empty when unknown); always 1.
# TYPE whatsapp_exporter_account_info gauge
whatsapp_exporter_account_info{currency="",name="",provider="vonage",waba_id="1"} 1
# HELP whatsapp_exporter_data_age_seconds Time since the family last refreshed successfully; its values are dropped from /metrics once it is older than the account's max_data_age.
# TYPE whatsapp_exporter_data_age_seconds gauge
whatsapp_exporter_data_age_seconds{family="messaging",waba_id="1"} 90
# HELP whatsapp_exporter_family_available Whether the API serves the family for this account (1), or says it does not, for the reason given (0; re-checked daily).
# TYPE whatsapp_exporter_family_available gauge
whatsapp_exporter_family_available{family="messaging",reason="",waba_id="1"} 1
# HELP whatsapp_exporter_refresh_duration_seconds How long the last refresh of the family took, throttling included.
# TYPE whatsapp_exporter_refresh_duration_seconds gauge
whatsapp_exporter_refresh_duration_seconds{family="messaging",waba_id="1"} 1.5
# HELP whatsapp_exporter_refresh_last_success_timestamp_seconds When the family last refreshed successfully, as a Unix timestamp.
# TYPE whatsapp_exporter_refresh_last_success_timestamp_seconds gauge
whatsapp_exporter_refresh_last_success_timestamp_seconds{family="messaging",waba_id="1"} 1.7174166e+09
# HELP whatsapp_exporter_refresh_success Whether the last refresh of the family succeeded (1) or failed (0).
# TYPE whatsapp_exporter_refresh_success gauge
whatsapp_exporter_refresh_success{family="messaging",waba_id="1"} 1
# HELP whatsapp_exporter_series_dropped Series of the family, or of account health (family health), left out of /metrics at the last refresh because the account has more than its max_series.
# TYPE whatsapp_exporter_series_dropped gauge
whatsapp_exporter_series_dropped{family="messaging",waba_id="1"} 0
# HELP whatsapp_messages_delivered_newest Messages delivered in the newest analytics bucket with data.
# TYPE whatsapp_messages_delivered_newest gauge
whatsapp_messages_delivered_newest{country="US",phone_number="111",waba_id="1"} 18
# HELP whatsapp_messages_sent_newest Messages sent in the newest analytics bucket with data.
# TYPE whatsapp_messages_sent_newest gauge
whatsapp_messages_sent_newest{country="",phone_number="222",waba_id="1"} 0
whatsapp_messages_sent_newest{country="US",phone_number="111",waba_id="1"} 20
`,
		},
		{
			// A family that never succeeded has health but no data and
			// no last success; one that failed after a success keeps
			// its data and its last success.
			name: "failed families",
			snap: analytics.Snapshot{WABAID: "1", Families: map[provider.Family]*analytics.Refresh{
				provider.Conversations: {Duration: time.Second},
				provider.Templates: {LastSuccess: lastSuccess, BucketStart: bucketStart, BucketEnd: bucketEnd, Values: []analytics.Value{
					{Measure: analytics.TemplateClicked, Dimensions: analytics.Dimensions{TemplateID: "7", ButtonType: "url_button", ButtonContent: "Go"}, Value: 3},
					{Measure: analytics.TemplateAmountSpent, Dimensions: analytics.Dimensions{TemplateID: "7"}, Value: 2.5},
				}},
			}},
			metrics: []string{"whatsapp_exporter_refresh_success", "whatsapp_exporter_refresh_last_success_timestamp_seconds",
				"whatsapp_template_clicked_newest", "whatsapp_template_amount_spent_newest", "whatsapp_conversations_newest"},
			want: `
# HELP whatsapp_exporter_refresh_last_success_timestamp_seconds When the family last refreshed successfully, as a Unix timestamp.
# TYPE whatsapp_exporter_refresh_last_success_timestamp_seconds gauge
whatsapp_exporter_refresh_last_success_timestamp_seconds{family="templates",waba_id="1"} 1.7174166e+09
# HELP whatsapp_exporter_refresh_success Whether the last refresh of the family succeeded (1) or failed (0).
# TYPE whatsapp_exporter_refresh_success gauge
whatsapp_exporter_refresh_success{family="conversations",waba_id="1"} 0
whatsapp_exporter_refresh_success{family="templates",waba_id="1"} 0
# HELP whatsapp_template_clicked_newest Clicks on a button of the template's sends on the newest day (UTC) with data; button_type and button_content are empty where the API reports one total.
# TYPE whatsapp_template_clicked_newest gauge
whatsapp_template_clicked_newest{button_content="Go",button_type="url_button",product_type="",template_id="7",waba_id="1"} 3
# HELP whatsapp_template_amount_spent_newest Amount spent on the template's sends on the newest day (UTC) with data; in the WABA's currency, absent where the API reports no cost.
# TYPE whatsapp_template_amount_spent_newest gauge
whatsapp_template_amount_spent_newest{product_type="",template_id="7",waba_id="1"} 2.5
`,
		},
		{
			// The month-to-date sums become counters with the gauges'
			// labels; a measure that does not add up gets none, even if a
			// snapshot carried one.
			name: "month-to-date counters",
			snap: analytics.Snapshot{WABAID: "1", Families: map[provider.Family]*analytics.Refresh{
				provider.Templates: {Success: true, LastSuccess: lastSuccess, MonthToDate: &analytics.MonthToDate{
					Month: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), DownwardRevisions: 2, Values: []analytics.Value{
						{Measure: analytics.TemplateSent, Dimensions: analytics.Dimensions{TemplateID: "7"}, Value: 1200},
						{Measure: analytics.TemplateAmountSpent, Dimensions: analytics.Dimensions{TemplateID: "7"}, Value: 31.5},
						{Measure: analytics.TemplateUnitCost, Dimensions: analytics.Dimensions{TemplateID: "7", CostType: "cost_per_delivered"}, Value: 0.03},
					}}},
			}},
			metrics: []string{"whatsapp_template_sent_total", "whatsapp_template_amount_spent_total", "whatsapp_exporter_downward_revisions_total",
				"whatsapp_template_unit_cost_newest"},
			want: `
# HELP whatsapp_exporter_downward_revisions_total Times the API reported a bucket of the current month lower than before; the month-to-date counters keep the higher value.
# TYPE whatsapp_exporter_downward_revisions_total counter
whatsapp_exporter_downward_revisions_total{family="templates",waba_id="1"} 2
# HELP whatsapp_template_amount_spent_total Amount spent on the template's sends this month (UTC) so far, summed over its days; in the WABA's currency, absent where the API reports no cost.
# TYPE whatsapp_template_amount_spent_total counter
whatsapp_template_amount_spent_total{product_type="",template_id="7",waba_id="1"} 31.5
# HELP whatsapp_template_sent_total Sends of the template this month (UTC) so far, summed over its days.
# TYPE whatsapp_template_sent_total counter
whatsapp_template_sent_total{product_type="",template_id="7",waba_id="1"} 1200
`,
		},
		{
			// A figure the API did not report (negative) has no series.
			name: "requests, errors and rate-limit usage",
			snap: analytics.Snapshot{WABAID: "1",
				Requests: map[analytics.Outcome]float64{{Family: provider.Pricing, Code: "503"}: 2, {Family: provider.Messaging, Code: "200"}: 5},
				Errors:   map[analytics.Outcome]float64{{Family: provider.Pricing, Code: "http_503"}: 2},
				Usage: []provider.Usage{
					{Type: "app", CallCount: 5, TotalCPUTime: -1, TotalTime: 2},
					{Type: "whatsapp_business_management", CallCount: 100, TotalCPUTime: 10, TotalTime: 20, RegainAccess: 90 * time.Second},
				},
			},
			metrics: []string{"whatsapp_exporter_api_requests_total", "whatsapp_exporter_api_errors_total",
				"whatsapp_exporter_api_rate_limit_usage_ratio", "whatsapp_exporter_api_rate_limit_regain_access_seconds"},
			want: `
# HELP whatsapp_exporter_api_errors_total Failed API requests, by the API's error code (Graph's 4, 190, 80007, ...) or the exporter's own (timeout, connection, malformed_response, ...).
# TYPE whatsapp_exporter_api_errors_total counter
whatsapp_exporter_api_errors_total{error_code="http_503",family="pricing",waba_id="1"} 2
# HELP whatsapp_exporter_api_rate_limit_regain_access_seconds Time until the API allows requests again, as last reported by its usage headers; 0 when not throttled.
# TYPE whatsapp_exporter_api_rate_limit_regain_access_seconds gauge
whatsapp_exporter_api_rate_limit_regain_access_seconds{usage_type="app",waba_id="1"} 0
whatsapp_exporter_api_rate_limit_regain_access_seconds{usage_type="whatsapp_business_management",waba_id="1"} 90
# HELP whatsapp_exporter_api_rate_limit_usage_ratio Share of the API rate limit used, as last reported by the API's usage headers (1 = the limit).
# TYPE whatsapp_exporter_api_rate_limit_usage_ratio gauge
whatsapp_exporter_api_rate_limit_usage_ratio{resource="call_count",usage_type="app",waba_id="1"} 0.05
whatsapp_exporter_api_rate_limit_usage_ratio{resource="call_count",usage_type="whatsapp_business_management",waba_id="1"} 1
whatsapp_exporter_api_rate_limit_usage_ratio{resource="total_cputime",usage_type="whatsapp_business_management",waba_id="1"} 0.1
whatsapp_exporter_api_rate_limit_usage_ratio{resource="total_time",usage_type="app",waba_id="1"} 0.02
whatsapp_exporter_api_rate_limit_usage_ratio{resource="total_time",usage_type="whatsapp_business_management",waba_id="1"} 0.2
# HELP whatsapp_exporter_api_requests_total API requests, by HTTP status code ("none" when no response arrived).
# TYPE whatsapp_exporter_api_requests_total counter
whatsapp_exporter_api_requests_total{code="200",family="messaging",waba_id="1"} 5
whatsapp_exporter_api_requests_total{code="503",family="pricing",waba_id="1"} 2
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Options{Now: func() time.Time { return lastSuccess.Add(90 * time.Second) }})
			c.Publish(&tt.snap)
			if err := testutil.CollectAndCompare(c, strings.NewReader(tt.want), tt.metrics...); err != nil {
				t.Error(err)
			}
		})
	}
}

// A new snapshot replaces the account's metrics whole, other accounts keep
// theirs, and a forgotten account's series go.
func TestPublishAndForget(t *testing.T) {
	c := New(Options{})
	c.Publish(profileSnapshot("1"))
	c.Publish(profileSnapshot("2"))
	perAccount := testutil.CollectAndCount(c) / 2
	if perAccount < 200 {
		t.Fatalf("%d series per profile account", perAccount)
	}
	c.Publish(&analytics.Snapshot{WABAID: "1", Name: "renamed", Provider: "meta"})
	if n := testutil.CollectAndCount(c); n != perAccount+1 {
		t.Errorf("after a bare snapshot of account 1: %d series, want %d (account 2's and one account_info)", n, perAccount+1)
	}
	c.Forget("2")
	want := `
# HELP whatsapp_exporter_account_info A configured WhatsApp Business Account, with the currency its costs are in (empty when unknown); always 1.
# TYPE whatsapp_exporter_account_info gauge
whatsapp_exporter_account_info{currency="",name="renamed",provider="meta",waba_id="1"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

// Describe lists the descriptor of every metric Collect sends, which a
// pedantic registry checks on gather, and the metrics pass the linter.
func TestDescribeCoversCollect(t *testing.T) {
	c := New(Options{})
	s := profileSnapshot("1")
	s.Errors = map[analytics.Outcome]float64{{Family: provider.Templates, Code: "4"}: 1}
	s.Usage = []provider.Usage{{Type: "app", CallCount: 1, TotalCPUTime: 1, TotalTime: 1}}
	c.Publish(s)
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", err, problems)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	if _, err := reg.Gather(); err != nil {
		t.Error(err)
	}
	if got := testutil.CollectAndCount(c, "whatsapp_exporter_api_rate_limit_usage_ratio"); got != 3 {
		t.Errorf("%d usage series, want 3", got)
	}
}

// A family whose last successful refresh is older than the account's
// max_data_age serves no values: neither its newest bucket nor its
// counters pass for current. Its health and the age stay.
func TestStaleDataDropped(t *testing.T) {
	now := lastSuccess
	c := New(Options{Now: func() time.Time { return now }})
	s := profileSnapshot("1")
	s.MaxDataAge = time.Hour
	for _, r := range s.Families {
		r.MonthToDate = &analytics.MonthToDate{Values: r.Values}
	}
	s.Families[provider.Pricing].LastSuccess = lastSuccess.Add(-50 * time.Minute)
	c.Publish(s)
	count := func(names ...string) int { return testutil.CollectAndCount(c, names...) }
	fresh := count("whatsapp_pricing_volume_newest", "whatsapp_pricing_volume_total")
	if fresh == 0 || count("whatsapp_messages_sent_newest") == 0 {
		t.Fatal("no values to begin with")
	}
	now = now.Add(15 * time.Minute) // pricing 65 minutes old, the others 15
	if n := count("whatsapp_pricing_volume_newest", "whatsapp_pricing_volume_total", "whatsapp_pricing_cost_newest"); n != 0 {
		t.Errorf("%d pricing series served 65 minutes after its last success, with max_data_age 1h", n)
	}
	if n := count("whatsapp_messages_sent_newest", "whatsapp_messages_sent_total"); n == 0 {
		t.Error("the fresh families' values went too")
	}
	want := `
# HELP whatsapp_exporter_data_age_seconds Time since the family last refreshed successfully; its values are dropped from /metrics once it is older than the account's max_data_age.
# TYPE whatsapp_exporter_data_age_seconds gauge
whatsapp_exporter_data_age_seconds{family="conversations",waba_id="1"} 900
whatsapp_exporter_data_age_seconds{family="messaging",waba_id="1"} 900
whatsapp_exporter_data_age_seconds{family="pricing",waba_id="1"} 3900
whatsapp_exporter_data_age_seconds{family="templates",waba_id="1"} 900
# HELP whatsapp_exporter_refresh_success Whether the last refresh of the family succeeded (1) or failed (0).
# TYPE whatsapp_exporter_refresh_success gauge
whatsapp_exporter_refresh_success{family="conversations",waba_id="1"} 1
whatsapp_exporter_refresh_success{family="messaging",waba_id="1"} 1
whatsapp_exporter_refresh_success{family="pricing",waba_id="1"} 1
whatsapp_exporter_refresh_success{family="templates",waba_id="1"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "whatsapp_exporter_data_age_seconds", "whatsapp_exporter_refresh_success"); err != nil {
		t.Error(err)
	}
}
