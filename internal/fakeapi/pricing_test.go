package fakeapi_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
)

// TestPricingFollowsMeta: the fake's pricing answers follow Meta's pricing
// changes: before per-message pricing (2025-07-01) the four original
// categories with free service messages; after it MARKETING_LITE,
// AUTHENTICATION_INTERNATIONAL and REFERRAL_CONVERSION too; from
// 2026-10-01 service messages charged and utility templates in the service
// window no longer free.
func TestPricingFollowsMeta(t *testing.T) {
	type row struct{ category, typ string }
	read := func(day time.Time) (volume, cost map[row]float64) {
		clock := func() time.Time { return day.Add(36 * time.Hour) }
		_, srv := serve(t, fakeapi.Options{Now: clock})
		u := fieldURL(srv.URL, "pricing_analytics", day, day.Add(24*time.Hour), "DAILY",
			`.metric_types(["VOLUME","COST"]).dimensions(["PRICING_CATEGORY","PRICING_TYPE"])`)
		pts, _ := points(t, get(t, u, token), "pricing_analytics")
		volume, cost = map[row]float64{}, map[row]float64{}
		for _, p := range pts {
			k := row{fmt.Sprint(p.Raw["pricing_category"]), fmt.Sprint(p.Raw["pricing_type"])}
			volume[k] += p.Raw["volume"].(float64)
			cost[k] += p.Raw["cost"].(float64)
		}
		return volume, cost
	}
	categories := func(volume map[row]float64) []string {
		var out []string
		for k := range volume {
			if !slices.Contains(out, k.category) {
				out = append(out, k.category)
			}
		}
		slices.Sort(out)
		return out
	}

	before, _ := read(time.Date(2024, 6, 2, 0, 0, 0, 0, time.UTC))
	if got, want := categories(before), []string{"AUTHENTICATION", "MARKETING", "SERVICE", "UTILITY"}; !slices.Equal(got, want) {
		t.Errorf("categories in 2024: %v, want %v", got, want)
	}
	if v := before[row{"SERVICE", "REGULAR"}]; v != 0 {
		t.Errorf("charged service messages in 2024: %v, want none", v)
	}

	perMessage, pmCost := read(time.Date(2026, 9, 2, 0, 0, 0, 0, time.UTC))
	if got, want := categories(perMessage), []string{"AUTHENTICATION", "AUTHENTICATION_INTERNATIONAL", "MARKETING", "MARKETING_LITE",
		"REFERRAL_CONVERSION", "SERVICE", "UTILITY"}; !slices.Equal(got, want) {
		t.Errorf("categories in September 2026: %v, want %v", got, want)
	}
	for k, v := range perMessage {
		switch {
		case k.category == "REFERRAL_CONVERSION" && (k.typ != "FREE_ENTRY_POINT" || pmCost[k] != 0):
			t.Errorf("%v: volume %v, cost %v; want free entry points only, free", k, v, pmCost[k])
		case (k.category == "MARKETING_LITE" || k.category == "AUTHENTICATION_INTERNATIONAL") && (k.typ != "REGULAR" || pmCost[k] == 0):
			t.Errorf("%v: volume %v, cost %v; want charged only", k, v, pmCost[k])
		}
	}
	if v := perMessage[row{"SERVICE", "REGULAR"}]; v != 0 {
		t.Errorf("charged service messages in September 2026: %v, want none", v)
	}
	if v := perMessage[row{"UTILITY", "FREE_CUSTOMER_SERVICE"}]; v == 0 {
		t.Error("no free utility messages in the service window in September 2026")
	}

	charged, cost := read(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))
	if k := (row{"SERVICE", "REGULAR"}); charged[k] == 0 || cost[k] == 0 {
		t.Errorf("service messages in November 2026: volume %v, cost %v; want charged", charged[k], cost[k])
	}
	if v := charged[row{"UTILITY", "FREE_CUSTOMER_SERVICE"}]; v != 0 {
		t.Errorf("free utility messages in the service window in November 2026: %v, want none", v)
	}
}
