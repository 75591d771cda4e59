package demo

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider/meta"
)

// The demo's account health shows degraded states that alert no one (a
// YELLOW number, a template of YELLOW quality and one pending review, a
// number LIMITED while its display name is reviewed); the delivery-drop
// scenario adds what the health alerts are for, on the dropping WABA only: a
// RED number and a paused template.
func TestDemoHealth(t *testing.T) {
	now := time.Date(2024, 11, 14, 12, 10, 0, 0, time.UTC)
	type seen struct{ quality, canSend, templateStatus, templateQuality, status []string }
	read := func(scenario string) map[string]*seen {
		d, err := Start(scenario, func() time.Time { return now }, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		out := map[string]*seen{}
		for _, a := range d.Config.Accounts {
			if !a.Health.IsEnabled() {
				if a.Provider == meta.Name || a.Provider == meta.PassthroughName {
					t.Errorf("WABA %s (%s): health is off", a.WABAID, a.Provider)
				}
				continue
			}
			c, err := meta.New(meta.Options{BaseURL: a.APIURL, APIVersion: a.APIVersion, AccessToken: string(a.AccessToken)})
			if err != nil {
				t.Fatal(err)
			}
			phones, err := c.PhoneHealth(context.Background(), a.WABAID)
			if err != nil || len(phones) == 0 {
				t.Fatalf("WABA %s: %d numbers, %v", a.WABAID, len(phones), err)
			}
			templates, err := c.TemplateHealth(context.Background(), a.WABAID)
			if err != nil || len(templates) == 0 {
				t.Fatalf("WABA %s: %d templates, %v", a.WABAID, len(templates), err)
			}
			s := &seen{}
			for _, p := range phones {
				if p.MessagingLimit == "" || p.VerifiedName != name(a.WABAID) {
					t.Errorf("WABA %s: number %+v lacks its limit or verified name", a.WABAID, p)
				}
				s.quality, s.canSend, s.status = append(s.quality, p.QualityRating), append(s.canSend, p.CanSendMessage), append(s.status, p.Status)
			}
			for _, tp := range templates {
				s.templateStatus, s.templateQuality = append(s.templateStatus, tp.Status), append(s.templateQuality, tp.QualityScore)
			}
			out[a.WABAID] = s
		}
		return out
	}
	alerting := func(s *seen) []string {
		var why []string
		for _, v := range s.quality {
			if v == "RED" {
				why = append(why, "RED number")
			}
		}
		for _, v := range s.status {
			if v == "FLAGGED" || v == "RESTRICTED" {
				why = append(why, v)
			}
		}
		if slices.Contains(s.canSend, "BLOCKED") {
			why = append(why, "BLOCKED")
		}
		for _, v := range s.templateStatus {
			if v == "PAUSED" || v == "DISABLED" {
				why = append(why, v+" template")
			}
		}
		return why
	}

	healthy := read(Healthy)
	if len(healthy) != 4 {
		t.Errorf("health of %d WABAs, want the three Meta ones and the passthrough", len(healthy))
	}
	var degraded []string
	for waba, s := range healthy {
		if why := alerting(s); len(why) > 0 {
			t.Errorf("healthy demo, WABA %s: %v would alert", waba, why)
		}
		for _, v := range slices.Concat(s.quality, s.templateQuality) {
			if v == "YELLOW" {
				degraded = append(degraded, waba+" YELLOW")
			}
		}
		if slices.Contains(s.canSend, "LIMITED") {
			degraded = append(degraded, waba+" LIMITED")
		}
		if slices.Contains(s.templateStatus, "PENDING") {
			degraded = append(degraded, waba+" PENDING")
		}
	}
	if len(degraded) < 3 {
		t.Errorf("the healthy demo shows %v; want a YELLOW number and template, a LIMITED number and a pending template", degraded)
	}

	for waba, s := range read(DeliveryDrop) {
		why := alerting(s)
		if want := []string{"RED number", "PAUSED template"}; waba == DropWABA && !slices.Equal(why, want) {
			t.Errorf("delivery-drop, WABA %s: %v, want %v", waba, why, want)
		} else if waba != DropWABA && len(why) > 0 {
			t.Errorf("delivery-drop, WABA %s: %v would alert", waba, why)
		}
	}
}
