package collector

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
)

func healthSnapshot() *analytics.Snapshot {
	tenK, unlimited := 10000.0, math.Inf(1)
	return &analytics.Snapshot{WABAID: "1", Provider: "meta", Health: &analytics.Health{
		Refresh: analytics.Refresh{Success: true, LastSuccess: lastSuccess, Duration: 250 * time.Millisecond},
		Phones: []analytics.PhoneHealth{
			{PhoneNumber: "16505550111", ID: "106540352242922", DisplayPhoneNumber: "+1 650-555-0111", VerifiedName: "Acme",
				Status: "CONNECTED", QualityRating: "YELLOW", NameStatus: "APPROVED", ThroughputLevel: "STANDARD",
				MessagingLimit: "TIER_10K", MessagingLimitRecipients: &tenK, CanSendMessage: "AVAILABLE"},
			// A value Meta added after this was written is a state of
			// its own; a field the API left out has no series.
			{PhoneNumber: "16505550112", ID: "106540352242923", DisplayPhoneNumber: "+1 650-555-0112",
				Status: "SUSPENDED_FOR_REVIEW", QualityRating: "RED",
				MessagingLimit: "TIER_UNLIMITED", MessagingLimitRecipients: &unlimited},
			{PhoneNumber: "16505550113", MessagingLimit: "UNTIERED"},
		},
		Templates: []analytics.TemplateHealth{
			{TemplateID: "7", Name: "spring_sale", Language: "pt_BR", Status: "PAUSED", Category: "MARKETING", QualityScore: "RED"},
			{TemplateID: "8", Name: "login_code", Language: "en", Status: "OTHER"},
		},
	}}
}

// Each enum is a state set: every known state with 0 and the current one
// with 1, plus the current one where it is not known; nothing for a field
// the API did not report. The health read reports its refresh as the
// family "health".
func TestRenderHealth(t *testing.T) {
	c := New(Options{})
	c.Publish(healthSnapshot())
	want := `
# HELP whatsapp_exporter_refresh_last_success_timestamp_seconds When the family last refreshed successfully, as a Unix timestamp.
# TYPE whatsapp_exporter_refresh_last_success_timestamp_seconds gauge
whatsapp_exporter_refresh_last_success_timestamp_seconds{family="health",waba_id="1"} 1.7174166e+09
# HELP whatsapp_exporter_refresh_success Whether the last refresh of the family succeeded (1) or failed (0).
# TYPE whatsapp_exporter_refresh_success gauge
whatsapp_exporter_refresh_success{family="health",waba_id="1"} 1
# HELP whatsapp_phone_number_info A business phone number of the WABA, with its Graph ID, display number and verified name; always 1.
# TYPE whatsapp_phone_number_info gauge
whatsapp_phone_number_info{display_phone_number="",phone_number="16505550113",phone_number_id="",verified_name="",waba_id="1"} 1
whatsapp_phone_number_info{display_phone_number="+1 650-555-0111",phone_number="16505550111",phone_number_id="106540352242922",verified_name="Acme",waba_id="1"} 1
whatsapp_phone_number_info{display_phone_number="+1 650-555-0112",phone_number="16505550112",phone_number_id="106540352242923",verified_name="",waba_id="1"} 1
# HELP whatsapp_phone_number_messaging_limit The messaging limit tier of the business phone number's portfolio (TIER_250 ... TIER_UNLIMITED). State set: 1 for the current messaging_limit, 0 for the other known ones.
# TYPE whatsapp_phone_number_messaging_limit gauge
whatsapp_phone_number_messaging_limit{messaging_limit="TIER_100K",phone_number="16505550111",waba_id="1"} 0
whatsapp_phone_number_messaging_limit{messaging_limit="TIER_10K",phone_number="16505550111",waba_id="1"} 1
whatsapp_phone_number_messaging_limit{messaging_limit="TIER_250",phone_number="16505550111",waba_id="1"} 0
whatsapp_phone_number_messaging_limit{messaging_limit="TIER_2K",phone_number="16505550111",waba_id="1"} 0
whatsapp_phone_number_messaging_limit{messaging_limit="TIER_UNLIMITED",phone_number="16505550111",waba_id="1"} 0
whatsapp_phone_number_messaging_limit{messaging_limit="UNTIERED",phone_number="16505550111",waba_id="1"} 0
whatsapp_phone_number_messaging_limit{messaging_limit="TIER_100K",phone_number="16505550112",waba_id="1"} 0
whatsapp_phone_number_messaging_limit{messaging_limit="TIER_10K",phone_number="16505550112",waba_id="1"} 0
whatsapp_phone_number_messaging_limit{messaging_limit="TIER_250",phone_number="16505550112",waba_id="1"} 0
whatsapp_phone_number_messaging_limit{messaging_limit="TIER_2K",phone_number="16505550112",waba_id="1"} 0
whatsapp_phone_number_messaging_limit{messaging_limit="TIER_UNLIMITED",phone_number="16505550112",waba_id="1"} 1
whatsapp_phone_number_messaging_limit{messaging_limit="UNTIERED",phone_number="16505550112",waba_id="1"} 0
whatsapp_phone_number_messaging_limit{messaging_limit="TIER_100K",phone_number="16505550113",waba_id="1"} 0
whatsapp_phone_number_messaging_limit{messaging_limit="TIER_10K",phone_number="16505550113",waba_id="1"} 0
whatsapp_phone_number_messaging_limit{messaging_limit="TIER_250",phone_number="16505550113",waba_id="1"} 0
whatsapp_phone_number_messaging_limit{messaging_limit="TIER_2K",phone_number="16505550113",waba_id="1"} 0
whatsapp_phone_number_messaging_limit{messaging_limit="TIER_UNLIMITED",phone_number="16505550113",waba_id="1"} 0
whatsapp_phone_number_messaging_limit{messaging_limit="UNTIERED",phone_number="16505550113",waba_id="1"} 1
# HELP whatsapp_phone_number_messaging_limit_recipients Unique users the business phone number's portfolio may message outside a customer service window in a moving 24 hours, as its messaging limit tier says (+Inf: unlimited); absent for a tier that names no number.
# TYPE whatsapp_phone_number_messaging_limit_recipients gauge
whatsapp_phone_number_messaging_limit_recipients{phone_number="16505550111",waba_id="1"} 10000
whatsapp_phone_number_messaging_limit_recipients{phone_number="16505550112",waba_id="1"} +Inf
# HELP whatsapp_phone_number_quality_rating The business phone number's quality rating (GREEN, YELLOW, RED, UNKNOWN). State set: 1 for the current quality_rating, 0 for the other known ones.
# TYPE whatsapp_phone_number_quality_rating gauge
whatsapp_phone_number_quality_rating{phone_number="16505550111",quality_rating="GREEN",waba_id="1"} 0
whatsapp_phone_number_quality_rating{phone_number="16505550111",quality_rating="RED",waba_id="1"} 0
whatsapp_phone_number_quality_rating{phone_number="16505550111",quality_rating="UNKNOWN",waba_id="1"} 0
whatsapp_phone_number_quality_rating{phone_number="16505550111",quality_rating="YELLOW",waba_id="1"} 1
whatsapp_phone_number_quality_rating{phone_number="16505550112",quality_rating="GREEN",waba_id="1"} 0
whatsapp_phone_number_quality_rating{phone_number="16505550112",quality_rating="RED",waba_id="1"} 1
whatsapp_phone_number_quality_rating{phone_number="16505550112",quality_rating="UNKNOWN",waba_id="1"} 0
whatsapp_phone_number_quality_rating{phone_number="16505550112",quality_rating="YELLOW",waba_id="1"} 0
# HELP whatsapp_phone_number_status The business phone number's status (CONNECTED to send; FLAGGED, RESTRICTED, BANNED, ...). State set: 1 for the current status, 0 for the other known ones.
# TYPE whatsapp_phone_number_status gauge
whatsapp_phone_number_status{phone_number="16505550111",status="BANNED",waba_id="1"} 0
whatsapp_phone_number_status{phone_number="16505550111",status="CONNECTED",waba_id="1"} 1
whatsapp_phone_number_status{phone_number="16505550111",status="DELETED",waba_id="1"} 0
whatsapp_phone_number_status{phone_number="16505550111",status="DISCONNECTED",waba_id="1"} 0
whatsapp_phone_number_status{phone_number="16505550111",status="FLAGGED",waba_id="1"} 0
whatsapp_phone_number_status{phone_number="16505550111",status="MIGRATED",waba_id="1"} 0
whatsapp_phone_number_status{phone_number="16505550111",status="PENDING",waba_id="1"} 0
whatsapp_phone_number_status{phone_number="16505550111",status="RATE_LIMITED",waba_id="1"} 0
whatsapp_phone_number_status{phone_number="16505550111",status="RESTRICTED",waba_id="1"} 0
whatsapp_phone_number_status{phone_number="16505550112",status="BANNED",waba_id="1"} 0
whatsapp_phone_number_status{phone_number="16505550112",status="CONNECTED",waba_id="1"} 0
whatsapp_phone_number_status{phone_number="16505550112",status="DELETED",waba_id="1"} 0
whatsapp_phone_number_status{phone_number="16505550112",status="DISCONNECTED",waba_id="1"} 0
whatsapp_phone_number_status{phone_number="16505550112",status="FLAGGED",waba_id="1"} 0
whatsapp_phone_number_status{phone_number="16505550112",status="MIGRATED",waba_id="1"} 0
whatsapp_phone_number_status{phone_number="16505550112",status="PENDING",waba_id="1"} 0
whatsapp_phone_number_status{phone_number="16505550112",status="RATE_LIMITED",waba_id="1"} 0
whatsapp_phone_number_status{phone_number="16505550112",status="RESTRICTED",waba_id="1"} 0
whatsapp_phone_number_status{phone_number="16505550112",status="SUSPENDED_FOR_REVIEW",waba_id="1"} 1
# HELP whatsapp_template_info A message template of the WABA, with its name and language; always 1.
# TYPE whatsapp_template_info gauge
whatsapp_template_info{language="en",name="login_code",template_id="8",waba_id="1"} 1
whatsapp_template_info{language="pt_BR",name="spring_sale",template_id="7",waba_id="1"} 1
# HELP whatsapp_template_quality_score The message template's quality score (GREEN, YELLOW, RED, UNKNOWN). State set: 1 for the current quality_score, 0 for the other known ones.
# TYPE whatsapp_template_quality_score gauge
whatsapp_template_quality_score{quality_score="GREEN",template_id="7",waba_id="1"} 0
whatsapp_template_quality_score{quality_score="RED",template_id="7",waba_id="1"} 1
whatsapp_template_quality_score{quality_score="UNKNOWN",template_id="7",waba_id="1"} 0
whatsapp_template_quality_score{quality_score="YELLOW",template_id="7",waba_id="1"} 0
# HELP whatsapp_template_status The message template's status (APPROVED; PAUSED, DISABLED, REJECTED, ...). State set: 1 for the current status, 0 for the other known ones.
# TYPE whatsapp_template_status gauge
whatsapp_template_status{status="APPROVED",template_id="7",waba_id="1"} 0
whatsapp_template_status{status="ARCHIVED",template_id="7",waba_id="1"} 0
whatsapp_template_status{status="DELETED",template_id="7",waba_id="1"} 0
whatsapp_template_status{status="DISABLED",template_id="7",waba_id="1"} 0
whatsapp_template_status{status="IN_APPEAL",template_id="7",waba_id="1"} 0
whatsapp_template_status{status="LIMIT_EXCEEDED",template_id="7",waba_id="1"} 0
whatsapp_template_status{status="PAUSED",template_id="7",waba_id="1"} 1
whatsapp_template_status{status="PENDING",template_id="7",waba_id="1"} 0
whatsapp_template_status{status="PENDING_DELETION",template_id="7",waba_id="1"} 0
whatsapp_template_status{status="REJECTED",template_id="7",waba_id="1"} 0
whatsapp_template_status{status="APPROVED",template_id="8",waba_id="1"} 0
whatsapp_template_status{status="ARCHIVED",template_id="8",waba_id="1"} 0
whatsapp_template_status{status="DELETED",template_id="8",waba_id="1"} 0
whatsapp_template_status{status="DISABLED",template_id="8",waba_id="1"} 0
whatsapp_template_status{status="IN_APPEAL",template_id="8",waba_id="1"} 0
whatsapp_template_status{status="LIMIT_EXCEEDED",template_id="8",waba_id="1"} 0
whatsapp_template_status{status="OTHER",template_id="8",waba_id="1"} 1
whatsapp_template_status{status="PAUSED",template_id="8",waba_id="1"} 0
whatsapp_template_status{status="PENDING",template_id="8",waba_id="1"} 0
whatsapp_template_status{status="PENDING_DELETION",template_id="8",waba_id="1"} 0
whatsapp_template_status{status="REJECTED",template_id="8",waba_id="1"} 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want),
		"whatsapp_exporter_refresh_success", "whatsapp_exporter_refresh_last_success_timestamp_seconds",
		"whatsapp_phone_number_info", "whatsapp_phone_number_status", "whatsapp_phone_number_quality_rating",
		"whatsapp_phone_number_messaging_limit", "whatsapp_phone_number_messaging_limit_recipients",
		"whatsapp_template_info", "whatsapp_template_status", "whatsapp_template_quality_score"); err != nil {
		t.Error(err)
	}
	// The fields the snapshot leaves empty have no state sets: name
	// status, throughput and can_send for the first number only; the
	// category for the first template only.
	for metric, want := range map[string]int{
		"whatsapp_phone_number_name_status":          6,
		"whatsapp_phone_number_throughput_level":     3,
		"whatsapp_phone_number_can_send_message":     3,
		"whatsapp_template_category":                 3,
		"whatsapp_exporter_refresh_duration_seconds": 1,
	} {
		if got := testutil.CollectAndCount(c, metric); got != want {
			t.Errorf("%s: %d series, want %d", metric, got, want)
		}
	}
}

// A failed health read that never succeeded has its refresh status and no
// state; an account without health (Vonage, or health turned off) has no
// health series at all.
func TestRenderHealthAbsent(t *testing.T) {
	c := New(Options{})
	c.Publish(&analytics.Snapshot{WABAID: "1", Health: &analytics.Health{Refresh: analytics.Refresh{Duration: time.Second}}})
	c.Publish(&analytics.Snapshot{WABAID: "2", Provider: "vonage"})
	want := `
# HELP whatsapp_exporter_refresh_success Whether the last refresh of the family succeeded (1) or failed (0).
# TYPE whatsapp_exporter_refresh_success gauge
whatsapp_exporter_refresh_success{family="health",waba_id="1"} 0
`
	names := []string{"whatsapp_exporter_refresh_success", "whatsapp_exporter_refresh_last_success_timestamp_seconds"}
	for _, f := range healthFamilies {
		names = append(names, f.name)
	}
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
}

// The health metrics are described, pass the linter and a pedantic
// registry, and each is a gauge family of its own in OpenMetrics.
func TestHealthMetricsConform(t *testing.T) {
	c := New(Options{})
	c.Publish(healthSnapshot())
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", err, problems)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}

	python := openMetricsParser(t)
	types := openMetricsTypes(t, python, c)
	for _, f := range healthFamilies {
		if name := f.name; types[name] != "gauge" {
			t.Errorf("family %s is %q, want gauge (parsed: %v)", name, types[name], types)
		}
	}
}

// analytics.Health.Series, which max_series counts, is exactly what the
// collector renders of an account's health: state sets with undocumented
// values and fields left out included.
func TestHealthSeriesCount(t *testing.T) {
	s := healthSnapshot()
	c := New(Options{})
	c.Publish(s)
	n := 0
	for _, f := range healthFamilies {
		n += testutil.CollectAndCount(c, f.name)
	}
	if want := s.Health.Series(); n != want || n == 0 {
		t.Errorf("the collector renders %d health series, Health.Series says %d", n, want)
	}
}
