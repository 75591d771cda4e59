package fakeapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
)

// Demo scenarios, chosen with --demo.scenario.
const (
	ScenarioHealthy = "healthy"
	// ScenarioDeliveryDrop makes one WABA (DemoDropWABA) deliver only
	// half of its messages, as during a carrier incident.
	ScenarioDeliveryDrop = "delivery-drop"
)

// The demo's WABAs. DemoDropWABA is the one whose deliveries drop in the
// delivery-drop scenario. The first three are read from the Meta Graph fake;
// DemoVonageWABA from the Vonage fake, DemoPassthroughWABA from a Graph fake
// behind a BSP's path prefix that never returns cost.
const (
	DemoRetailWABA      = "102290129340398"
	DemoTravelWABA      = "104996122399160"
	DemoDropWABA        = "109259195336416"
	DemoVonageWABA      = "345688589250625"
	DemoPassthroughWABA = "115344761664057"
	demoAPIVersion      = config.DefaultAPIVersion
	demoRefreshTime     = time.Minute
	// DemoPassthroughPrefix is where the passthrough fake serves the Graph
	// paths, as a BSP serves /api/v25.0/{WABA_ID}
	// (graph-passthrough-bsp-conversation-analytics.txt).
	DemoPassthroughPrefix  = "/api"
	demoPassthroughVersion = "v25.0"
)

// DemoAccounts is the demo's data: a retailer with several numbers, markets
// and templates with buttons; a travel company billed through a partner (no
// cost); and a support desk with one number.
func DemoAccounts() []Account {
	return []Account{
		{
			WABAID: DemoRetailWABA, Volume: 120, DeliveryRate: 0.97,
			Phones: []Phone{
				{Number: "16505550111", Display: "+1 650-555-0111", Weight: 1},
				{Number: "16505550112", Display: "+1 650-555-0112", Weight: 0.6},
				{Number: "5511955550113", Display: "+55 11 95555-0113", Weight: 0.8},
			},
			Countries: []Country{{"US", 0.5, 1}, {"BR", 0.3, 0.6}, {"IN", 0.15, 0.3}, {"DE", 0.05, 1.4}},
			Templates: []Template{
				{ID: "1421988012088524", Name: "order_confirmation", Category: "UTILITY", Weight: 1,
					Buttons: []Button{{"url_button", "Track order"}}},
				{ID: "2632273056924580", Name: "spring_sale", Category: "MARKETING", Weight: 0.7,
					Buttons: []Button{{"quick_reply_button", "Contact Support"}, {"unique_url_button", "Tell me more"}}},
				{ID: "954638012257287", Name: "login_code", Category: "AUTHENTICATION", Weight: 0.9},
				{ID: "969725530748535", Name: "back_in_stock", Category: "MARKETING", Weight: 0.3,
					Buttons: []Button{{"url_button", "Shop now"}}},
			},
		},
		{
			WABAID: DemoTravelWABA, Volume: 60, DeliveryRate: 0.95, PartnerBilled: true,
			Phones: []Phone{
				{Number: "447700900123", Display: "+44 7700 900123", Weight: 1},
				{Number: "33612345678", Display: "+33 6 12 34 56 78", Weight: 0.5},
			},
			Countries: []Country{{"GB", 0.4, 1.1}, {"FR", 0.3, 1.2}, {"ES", 0.2, 0.9}, {"MX", 0.1, 0.5}},
			Templates: []Template{
				{ID: "1924084211297547", Name: "booking_reminder", Category: "UTILITY", Weight: 1,
					Buttons: []Button{{"quick_reply_button", "Confirm"}, {"quick_reply_button", "Reschedule"}}},
				{ID: "458951126288942", Name: "flight_deals", Category: "MARKETING", Weight: 0.5,
					Buttons: []Button{{"url_button", "See deals"}}},
			},
		},
		{
			WABAID: DemoDropWABA, Volume: 80, DeliveryRate: 0.98,
			Phones:    []Phone{{Number: "19195552584", Display: "+1 919-555-2584", Weight: 1}},
			Countries: []Country{{"US", 0.7, 1}, {"IN", 0.3, 0.3}},
			Templates: []Template{
				{ID: "245435364965041", Name: "ticket_update", Category: "UTILITY", Weight: 1,
					Buttons: []Button{{"url_button", "View ticket"}}},
			},
		},
	}
}

// DemoVonageAccounts is the demo's WABA behind Vonage's Channel Manager: a
// logistics company with two numbers and templates whose clicks Vonage
// reports as one number each.
func DemoVonageAccounts() []Account {
	return []Account{{
		WABAID: DemoVonageWABA, Volume: 70, DeliveryRate: 0.96,
		Phones: []Phone{
			{Number: "16505550111", Display: "+1 650-555-0111", Weight: 1},
			{Number: "4915155550199", Display: "+49 151 55550199", Weight: 0.7},
		},
		Countries: []Country{{"US", 0.5, 1}, {"DE", 0.3, 1.4}, {"NL", 0.2, 1.3}},
		Templates: []Template{
			{ID: "458951126288942", Name: "shipment_update", Category: "UTILITY", Weight: 1,
				Buttons: []Button{{"url_button", "Track parcel"}}},
			{ID: "458951126288937", Name: "delivery_slot", Category: "UTILITY", Weight: 0.6,
				Buttons: []Button{{"quick_reply_button", "Morning"}, {"quick_reply_button", "Afternoon"}}},
			{ID: "458951126288950", Name: "signup_code", Category: "AUTHENTICATION", Weight: 0.4},
		},
	}}
}

// DemoPassthroughAccounts is the demo's WABA behind a BSP that passes the
// Graph API through: a clinic with one number, billed by the BSP (no cost).
func DemoPassthroughAccounts() []Account {
	return []Account{{
		WABAID: DemoPassthroughWABA, Volume: 40, DeliveryRate: 0.97,
		Phones:    []Phone{{Number: "912240289385", Display: "+91 22 4028 9385", Weight: 1}},
		Countries: []Country{{"IN", 0.7, 0.3}, {"KW", 0.3, 0.8}},
		Templates: []Template{
			{ID: "1121988012088524", Name: "appointment_reminder", Category: "UTILITY", Weight: 1,
				Buttons: []Button{{"quick_reply_button", "Confirm"}}},
		},
	}}
}

// Demo is the built-in demo: fake APIs on a loopback port and a config that
// points the exporter at them.
type Demo struct {
	Config *config.Config
	// Graph is Meta's Graph API, Vonage the Channel Manager and
	// Passthrough a BSP's Graph passthrough under DemoPassthroughPrefix.
	Graph       *Graph
	Vonage      *Vonage
	Passthrough *Graph
	URL         string
	server      *http.Server
}

// StartDemo serves the demo's fake APIs on 127.0.0.1 and returns the config
// to export them with. Credentials are random: the demo has no secrets to
// leak, and nothing can depend on them.
func StartDemo(scenario string, now func() time.Time) (*Demo, error) {
	if now == nil {
		now = time.Now
	}
	accounts, vonageAccounts, passthroughAccounts := DemoAccounts(), DemoVonageAccounts(), DemoPassthroughAccounts()
	for _, list := range [][]Account{accounts, vonageAccounts, passthroughAccounts} {
		for i := range list {
			list[i].Token = randomToken()
			list[i].APIKey = randomToken()[:13] // "demo-" and 8 hex digits, the length of a Vonage key
		}
	}
	switch scenario {
	case "", ScenarioHealthy:
	case ScenarioDeliveryDrop:
		for i := range accounts {
			if accounts[i].WABAID == DemoDropWABA {
				// The incident began before the exporter started, so that
				// the buckets it reports already show it.
				accounts[i].DropFrom, accounts[i].DroppedRate = now().Add(-24*time.Hour), 0.5
			}
		}
	default:
		return nil, fmt.Errorf("unknown demo scenario %q; want %s or %s", scenario, ScenarioHealthy, ScenarioDeliveryDrop)
	}

	opts := Options{Now: now, HourlyBudget: 5000}
	graph := NewGraph(accounts, opts)
	vonage := NewVonage(vonageAccounts, opts)
	passthrough := NewGraph(passthroughAccounts, opts)
	passthrough.NoCost = true
	// One listener for all three: the Graph fake finds the version and WABA
	// at the end of any path, so the BSP's prefix needs no stripping.
	mux := http.NewServeMux()
	mux.Handle(DemoPassthroughPrefix+"/", passthrough)
	mux.Handle("/v1/channel-manager/", vonage)
	mux.Handle("/", graph)
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start demo API: %w", err)
	}
	d := &Demo{
		Graph:       graph,
		Vonage:      vonage,
		Passthrough: passthrough,
		URL:         "http://" + listener.Addr().String(),
		server:      &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
	}
	go d.server.Serve(listener)

	cfg := &config.Config{}
	for _, a := range accounts {
		acct := config.Account{
			WABAID: a.WABAID, Name: demoName(a.WABAID), Provider: config.ProviderMeta,
			APIURL: d.URL, APIVersion: demoAPIVersion, AccessToken: config.Secret(a.Token),
			Interval: demoRefreshTime,
		}
		acct.Messaging.SplitBy = []string{"PHONE"}
		if a.WABAID == DemoRetailWABA {
			acct.Messaging.SplitBy = []string{"PHONE", "COUNTRY"}
			for _, c := range a.Countries {
				acct.Messaging.CountryCodes = append(acct.Messaging.CountryCodes, c.Code)
			}
		}
		cfg.Accounts = append(cfg.Accounts, acct)
	}
	for _, a := range vonageAccounts {
		// Vonage cannot list numbers or templates: the config names them.
		// Conversations are off by default (the Channel Manager has none).
		acct := config.Account{
			WABAID: a.WABAID, Name: demoName(a.WABAID), Provider: config.ProviderVonage,
			APIURL: d.URL, APIKey: a.APIKey, APISecret: config.Secret(a.Token),
			Interval: demoRefreshTime,
		}
		acct.Messaging.SplitBy = []string{"PHONE"}
		for _, p := range a.Phones {
			acct.Messaging.PhoneNumbers = append(acct.Messaging.PhoneNumbers, p.Number)
		}
		for _, t := range a.Templates {
			acct.Templates.TemplateIDs = append(acct.Templates.TemplateIDs, t.ID)
		}
		cfg.Accounts = append(cfg.Accounts, acct)
	}
	for _, a := range passthroughAccounts {
		// The BSP's defaults: conversations and messaging; pricing and
		// templates are opt-in for a passthrough and stay off here.
		acct := config.Account{
			WABAID: a.WABAID, Name: demoName(a.WABAID), Provider: config.ProviderGraphPassthrough,
			APIURL: d.URL + DemoPassthroughPrefix, APIVersion: demoPassthroughVersion, AccessToken: config.Secret(a.Token),
			Interval: demoRefreshTime,
		}
		acct.Messaging.SplitBy = []string{"PHONE"}
		cfg.Accounts = append(cfg.Accounts, acct)
	}
	if err := config.Finish(cfg); err != nil {
		d.Close()
		return nil, fmt.Errorf("demo config: %w", err)
	}
	d.Config = cfg
	return d, nil
}

// Close stops the demo's fake APIs.
func (d *Demo) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return d.server.Shutdown(ctx)
}

func demoName(wabaID string) string {
	switch wabaID {
	case DemoRetailWABA:
		return "Acme Retail"
	case DemoTravelWABA:
		return "Globex Travel"
	case DemoVonageWABA:
		return "Umbrella Logistics (Vonage)"
	case DemoPassthroughWABA:
		return "Hooli Clinic (BSP passthrough)"
	default:
		return "Initech Support"
	}
}

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return "demo-" + hex.EncodeToString(b)
}
