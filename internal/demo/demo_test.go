package demo

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/meta"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/vonage"
)

// The demo serves three Meta WABAs, a Vonage and a passthrough one, each
// from its own fake, with a config whose credentials each fake accepts.
func TestDemoProviders(t *testing.T) {
	now := time.Date(2024, 11, 14, 12, 10, 0, 0, time.UTC)
	d, err := Start(Healthy, func() time.Time { return now }, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	got := map[string]string{}
	for _, a := range d.Config.Accounts {
		got[a.WABAID] = a.Provider
	}
	want := map[string]string{
		RetailWABA: meta.Name, TravelWABA: meta.Name, DropWABA: meta.Name,
		VonageWABA: vonage.Name, PassthroughWABA: meta.PassthroughName,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("demo WABAs %v, want %v", got, want)
	}
	window := provider.Window{Start: now.Add(-3 * time.Hour), End: now, Granularity: provider.HalfHour}
	for _, a := range d.Config.Accounts {
		var source provider.Source
		switch a.Provider {
		case vonage.Name:
			source, err = vonage.New(vonage.Options{BaseURL: a.APIURL, APIKey: a.APIKey, APISecret: string(a.APISecret)})
		default:
			if a.Provider == meta.PassthroughName && (!strings.HasSuffix(a.APIURL, PassthroughPrefix) || a.APIVersion != "v25.0") {
				t.Errorf("passthrough at %s + %s, want the BSP prefix and v25.0", a.APIURL, a.APIVersion)
			}
			source, err = meta.New(meta.Options{BaseURL: a.APIURL, APIVersion: a.APIVersion, AccessToken: string(a.AccessToken)})
		}
		if err != nil {
			t.Fatal(err)
		}
		points, err := source.Messaging(context.Background(), provider.MessagingQuery{WABAID: a.WABAID, Window: window})
		if err != nil || len(points) == 0 {
			t.Errorf("WABA %s (%s): %d points, %v", a.WABAID, a.Provider, len(points), err)
		}
	}
}

// The delivery-drop scenario halves one WABA's deliveries, and no other's.
func TestDeliveryDrop(t *testing.T) {
	now := time.Date(2024, 11, 14, 12, 10, 0, 0, time.UTC)
	rates := map[string]map[string]float64{}
	for _, scenario := range []string{Healthy, DeliveryDrop} {
		d, err := Start(scenario, func() time.Time { return now }, 1)
		if err != nil {
			t.Fatal(err)
		}
		rates[scenario] = map[string]float64{}
		for _, a := range d.Config.Accounts[:3] {
			c, err := meta.New(meta.Options{BaseURL: a.APIURL, APIVersion: a.APIVersion, AccessToken: string(a.AccessToken)})
			if err != nil {
				t.Fatal(err)
			}
			points, err := c.Messaging(context.Background(), provider.MessagingQuery{WABAID: a.WABAID,
				Window: provider.Window{Start: now.Add(-3 * time.Hour), End: now, Granularity: provider.HalfHour}})
			if err != nil || len(points) == 0 {
				t.Fatalf("%s: %v", a.WABAID, err)
			}
			var sent, delivered float64
			for _, p := range points {
				sent += *p.Sent
				delivered += *p.Delivered
			}
			rates[scenario][a.WABAID] = delivered / sent
		}
		d.Close()
	}
	for waba, healthy := range rates[Healthy] {
		dropped := rates[DeliveryDrop][waba]
		if waba == DropWABA && (dropped > 0.55 || healthy < 0.9) || waba != DropWABA && dropped != healthy {
			t.Errorf("WABA %s: delivery rate %.3f healthy, %.3f in the drop scenario", waba, healthy, dropped)
		}
	}
	if _, err := Start("nonsense", nil, 1); err == nil {
		t.Error("an unknown scenario started")
	}
}

// Families follows the providers' defaults: Vonage has no conversations,
// the passthrough BSP neither pricing nor templates; the WABAs discovered
// from the business have Meta's defaults (conversations are opt-in).
func TestFamilies(t *testing.T) {
	all := []provider.Family{provider.Messaging, provider.Conversations, provider.Pricing, provider.Templates}
	defaults := []provider.Family{provider.Messaging, provider.Pricing, provider.Templates}
	want := map[string][]provider.Family{
		// The retailer takes calls too (an opt-in family).
		RetailWABA: append(all, provider.Calls), TravelWABA: all, DropWABA: all,
		VonageWABA:      {provider.Messaging, provider.Pricing, provider.Templates},
		PassthroughWABA: {provider.Messaging, provider.Conversations},
	}
	for _, c := range ClientWABAs() {
		want[c.WABAID] = defaults
	}
	if got := Families(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Families() = %v, want %v", got, want)
	}
}

// Refreshed waits for every family's result and its counters: the
// exporter publishes each family as it ends, so one refresh result per
// account is not enough.
func TestRefreshed(t *testing.T) {
	full := func(skip func(waba string, f provider.Family, line string) bool) []byte {
		var b strings.Builder
		b.WriteString("# HELP whatsapp_exporter_refresh_success Whether...\n")
		for _, a := range MetaWABAs() {
			line := fmt.Sprintf("whatsapp_webhook_statuses_total{status=\"sent\",waba_id=%q} 3", a.WABAID)
			if skip == nil || !skip(a.WABAID, "webhooks", line) {
				b.WriteString(line + "\n")
			}
		}
		for waba, families := range Families() {
			fmt.Fprintf(&b, "whatsapp_exporter_account_info{currency=\"\",name=\"x\",provider=\"meta\",waba_id=%q} 1\n", waba)
			for _, f := range families {
				for _, line := range []string{
					fmt.Sprintf("whatsapp_exporter_refresh_success{family=%q,waba_id=%q} 1", f, waba),
					fmt.Sprintf("%s{country=\"\",waba_id=%q} 12", counterOf[f], waba),
				} {
					if skip == nil || !skip(waba, f, line) {
						b.WriteString(line + "\n")
					}
				}
			}
		}
		return []byte(b.String())
	}
	if err := Refreshed(full(nil)); err != nil {
		t.Errorf("a complete scrape: %v", err)
	}
	for name, c := range map[string]struct {
		skip func(string, provider.Family, string) bool
		want string
	}{
		"a family without its result": {
			skip: func(w string, f provider.Family, l string) bool {
				return w == VonageWABA && f == provider.Templates && strings.HasPrefix(l, "whatsapp_exporter_")
			},
			want: "WABA " + VonageWABA + ": no templates refresh result",
		},
		"a family without its counters": {
			skip: func(w string, f provider.Family, l string) bool {
				return w == RetailWABA && f == provider.Pricing && !strings.HasPrefix(l, "whatsapp_exporter_")
			},
			want: "WABA " + RetailWABA + ": no whatsapp_pricing_volume_total yet",
		},
		"a Meta account without its webhooks": {
			skip: func(w string, f provider.Family, _ string) bool { return w == DropWABA && f == "webhooks" },
			want: "WABA " + DropWABA + ": no whatsapp_webhook_statuses_total yet",
		},
	} {
		err := Refreshed(full(c.skip))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error with %q", name, err, c.want)
		}
	}
	if err := Refreshed(nil); err == nil {
		t.Error("an empty scrape passed")
	}
}
