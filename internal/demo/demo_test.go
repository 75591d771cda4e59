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
