package fakeapi_test

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/meta"
)

// TestFleet: a generated fleet has the shape and the mix a BSP's has.
func TestFleet(t *testing.T) {
	const n = 2000
	wabas, biz := fakeapi.Fleet(n, fakeapi.FleetOptions{})
	if len(wabas) != n {
		t.Fatalf("%d WABAs, want %d", len(wabas), n)
	}
	wabaID := regexp.MustCompile(`^1[0-9]{14}$`)
	name := regexp.MustCompile(`^[A-Z][a-z]+ [A-Z][a-z]+ [0-9]{4}$`)
	ids, names, templateIDs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	zones, currencies := map[string]bool{}, map[string]bool{}
	offsets := map[time.Duration]bool{}
	count := map[string]int{}
	for _, a := range wabas {
		if !wabaID.MatchString(a.WABAID) || ids[a.WABAID] || !name.MatchString(a.Name) || names[a.Name] {
			t.Fatalf("WABA %q named %q: want a new 15-digit ID and a new name", a.WABAID, a.Name)
		}
		ids[a.WABAID], names[a.Name] = true, true
		if len(a.Phones) != 3 || len(a.Templates) != 20 || a.Token != fakeapi.DefaultFleetToken || a.HourlyBudget != 0 {
			t.Fatalf("WABA %s: %d numbers, %d templates, token %q, budget %d", a.WABAID, len(a.Phones), len(a.Templates), a.Token, a.HourlyBudget)
		}
		zones[a.TimezoneID], currencies[a.Currency] = true, true
		if a.TimezoneID != "0" {
			loc, ok := meta.Location(a.TimezoneID)
			if !ok {
				t.Fatalf("timezone_id %s is not in the exporter's table", a.TimezoneID)
			}
			_, off := time.Date(2024, 1, 15, 12, 0, 0, 0, loc).Zone()
			offsets[time.Duration(off)*time.Second] = true
		}
		for _, f := range []struct {
			name string
			on   bool
		}{{"partner billed", a.PartnerBilled}, {"insights disabled", a.InsightsDisabled}, {"marketing messages", !a.NoMarketingMessages}} {
			if f.on {
				count[f.name]++
			}
		}
		for _, tpl := range a.Templates {
			if templateIDs[tpl.ID] {
				t.Fatalf("template ID %s twice", tpl.ID)
			}
			templateIDs[tpl.ID] = true
			count[tpl.Category]++
			if len(tpl.Buttons) > 0 {
				count["with buttons"]++
			}
			if tpl.Status == "PENDING" {
				count["pending"]++
				if tpl.Weight != 0 {
					t.Errorf("pending template %s sends", tpl.ID)
				}
			}
		}
	}
	if len(zones) < 8 || len(currencies) < 5 {
		t.Errorf("%d time zones and %d currencies, want a spread", len(zones), len(currencies))
	}
	for _, off := range []time.Duration{-5 * time.Hour, -8 * time.Hour, -(3*time.Hour + 30*time.Minute), 5*time.Hour + 30*time.Minute, 8 * time.Hour} {
		if !offsets[off] {
			t.Errorf("no WABA at UTC%+v (January); offsets %v", off, offsets)
		}
	}
	templates := float64(20 * n)
	for _, tc := range []struct {
		what  string
		got   float64
		share float64
	}{
		{"partner billed", float64(count["partner billed"]) / n, 0.2},
		{"insights disabled", float64(count["insights disabled"]) / n, 0.1},
		{"marketing messages", float64(count["marketing messages"]) / n, 0.3},
		{"client WABAs", float64(len(biz.Client)) / n, 0.5},
		{"marketing templates", float64(count["MARKETING"]) / templates, 0.45},
		{"utility templates", float64(count["UTILITY"]) / templates, 0.35},
		{"authentication templates", float64(count["AUTHENTICATION"]) / templates, 0.2},
		{"pending templates", float64(count["pending"]) / templates, 0.1},
	} {
		if math.Abs(tc.got-tc.share) > 0.04 {
			t.Errorf("%s: %.3f of the fleet, want about %.2f", tc.what, tc.got, tc.share)
		}
	}
	if count["with buttons"] < int(templates)/4 {
		t.Errorf("%d templates with buttons", count["with buttons"])
	}
	listed := append(slices.Clone(biz.Owned), biz.Client...)
	slices.Sort(listed)
	all := make([]string, 0, n)
	for id := range ids {
		all = append(all, id)
	}
	slices.Sort(all)
	if biz.ID != fakeapi.DefaultFleetBusiness || biz.Token != fakeapi.DefaultFleetToken || !slices.Equal(listed, all) {
		t.Errorf("business %s lists %d WABAs, want each of the %d once", biz.ID, len(listed), n)
	}
}

// A fleet is the same on every run, and each WABA the same whatever the
// fleet's size.
func TestFleetIsDeterministic(t *testing.T) {
	a, ab := fakeapi.Fleet(500, fakeapi.FleetOptions{})
	b, bb := fakeapi.Fleet(500, fakeapi.FleetOptions{})
	small, _ := fakeapi.Fleet(40, fakeapi.FleetOptions{})
	if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(ab, bb) {
		t.Error("two fleets of 500 differ")
	}
	if !reflect.DeepEqual(small, a[:40]) {
		t.Error("a fleet of 40 is not the start of a fleet of 500")
	}
}

func TestFleetOptions(t *testing.T) {
	wabas, biz := fakeapi.Fleet(1000, fakeapi.FleetOptions{
		BusinessID: "42", Token: "tok", PhonesPerWABA: 1, TemplatesPerWABA: 5,
		ClientShare: -1, PartnerBilledShare: -1, InsightsDisabledShare: 1, MarketingMessagesShare: -1, Budgets: true,
	})
	low := 0
	for _, a := range wabas {
		if len(a.Phones) != 1 || len(a.Templates) != 5 || a.Token != "tok" || a.PartnerBilled || !a.InsightsDisabled || !a.NoMarketingMessages {
			t.Fatalf("WABA %+v does not follow the options", a)
		}
		switch a.HourlyBudget {
		case 200:
			low++
			if a.Phones[0].Health.Status != "PENDING" {
				t.Errorf("WABA %s has 200 calls an hour but a registered number", a.WABAID)
			}
		case 5000:
		default:
			t.Fatalf("WABA %s: hourly budget %d", a.WABAID, a.HourlyBudget)
		}
	}
	if low < 20 || low > 80 {
		t.Errorf("%d WABAs of 1,000 at 200 calls an hour, want about 50", low)
	}
	if biz.ID != "42" || biz.Token != "tok" || len(biz.Client) != 0 || len(biz.Owned) != 1000 {
		t.Errorf("business %s with %d owned and %d client WABAs", biz.ID, len(biz.Owned), len(biz.Client))
	}
}

// A fleet served by the fake: listed by its business, each WABA answering
// the combined request, its Marketing Messages API sends only where it has
// them, its template insights refused where disabled.
func TestFleetServed(t *testing.T) {
	wabas, biz := fakeapi.Fleet(300, fakeapi.FleetOptions{Token: businessToken})
	g := fakeapi.NewGraph(wabas, fakeapi.Options{Now: func() time.Time { return now }, Businesses: []fakeapi.Business{biz}})
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)

	var listed []string
	for _, edge := range []string{"owned_whatsapp_business_accounts", "client_whatsapp_business_accounts"} {
		ids, _ := listAll(t, srv.URL+"/v25.0/"+biz.ID+"/"+edge+"?limit=100")
		listed = append(listed, ids...)
	}
	if len(listed) != len(wabas) {
		t.Errorf("the business lists %d WABAs, want %d", len(listed), len(wabas))
	}

	seen := map[string]bool{}
	for _, a := range wabas {
		kind := fmt.Sprintf("tz %s partner %v insights %v mm %v", a.TimezoneID, a.PartnerBilled, !a.InsightsDisabled, !a.NoMarketingMessages)
		if seen[kind] {
			continue
		}
		seen[kind] = true
		fields := combinedFields(now.Add(-6*time.Hour), now, "HALF_HOUR")
		if a.PartnerBilled {
			fields = fmt.Sprintf("analytics.start(%d).end(%d).granularity(HALF_HOUR)", now.Add(-6*time.Hour).Unix(), now.Unix())
		}
		u := srv.URL + "/v25.0/" + a.WABAID + "?" + url.Values{"fields": {fields}}.Encode()
		if pts, _ := points(t, get(t, u, biz.Token), "analytics"); len(pts) != 12 {
			t.Errorf("%s: %d half hours of messages, want 12", kind, len(pts))
		}

		var marketing []string
		for _, tpl := range a.Templates {
			if tpl.Category == "MARKETING" && tpl.Status == "" {
				marketing = append(marketing, tpl.ID)
			}
		}
		v := url.Values{"start": {fmt.Sprint(now.AddDate(0, 0, -3).Unix())}, "end": {fmt.Sprint(now.Unix())}, "granularity": {"DAILY"},
			"template_ids": {"[" + marketing[0] + "]"}, "product_type": {"MARKETING_MESSAGES_API_FOR_WHATSAPP"}, "metric_types": {`["SENT"]`}}
		ans := get(t, srv.URL+"/v25.0/"+a.WABAID+"/template_analytics?"+v.Encode(), biz.Token)
		switch {
		case a.InsightsDisabled:
			if ans.status != http.StatusBadRequest {
				t.Errorf("%s: template analytics answered %d", kind, ans.status)
			}
		case a.NoMarketingMessages:
			if pts, _ := points(t, ans, ""); len(pts) != 0 {
				t.Errorf("%s: %d Marketing Messages API data points, want none", kind, len(pts))
			}
		default:
			if pts, _ := points(t, ans, ""); len(pts) == 0 {
				t.Errorf("%s: no Marketing Messages API sends", kind)
			}
		}
	}
	if len(seen) < 10 {
		t.Errorf("only %d kinds of WABA checked", len(seen))
	}
}

// BenchmarkFleet: building a fleet of 10,000 must be cheap next to a load
// test.
func BenchmarkFleet(b *testing.B) {
	for b.Loop() {
		fakeapi.Fleet(10000, fakeapi.FleetOptions{})
	}
}

// BenchmarkCalls reads every WABA's calls of a fleet of 5,000 that all
// had requests from three hosts.
func BenchmarkCalls(b *testing.B) {
	wabas, _ := fakeapi.Fleet(5000, fakeapi.FleetOptions{})
	g := fakeapi.NewGraph(wabas, fakeapi.Options{Now: func() time.Time { return now }})
	for i, a := range wabas {
		req := httptest.NewRequest(http.MethodGet, "/v25.0/"+a.WABAID+"?fields=id", nil)
		req.Host = fmt.Sprintf("127.0.0.1:%d", 9000+i%3)
		req.Header.Set("Authorization", "Bearer "+a.Token)
		g.ServeHTTP(httptest.NewRecorder(), req)
	}
	for b.Loop() {
		if calls := g.Calls(); len(calls) != len(wabas) {
			b.Fatalf("%d WABAs with calls", len(calls))
		}
	}
}
