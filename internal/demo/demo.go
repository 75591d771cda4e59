// Package demo runs the exporter's built-in demo: fakes of the three APIs on
// a loopback port, with deterministic, time-moving data for a few WABAs, and
// the configuration that points the exporter at them.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/meta"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/vonage"
)

// Demo scenarios, chosen with --demo.scenario.
const (
	Healthy = "healthy"
	// DeliveryDrop makes one WABA (DropWABA) deliver only
	// half of its messages, as during a carrier incident, and shows the
	// account health alerts: its number's quality is RED and its template
	// paused.
	DeliveryDrop = "delivery-drop"
)

// The demo's WABAs. DropWABA is the one whose deliveries drop in the
// delivery-drop scenario. The first three are read from the Meta Graph fake;
// VonageWABA from the Vonage fake, PassthroughWABA from a Graph fake
// behind a BSP's path prefix that never returns cost.
const (
	RetailWABA      = "102290129340398"
	TravelWABA      = "104996122399160"
	DropWABA        = "109259195336416"
	VonageWABA      = "345688589250625"
	PassthroughWABA = "115344761664057"
	apiVersion      = config.DefaultAPIVersion
	refreshInterval = time.Minute
	// PassthroughPrefix is where the passthrough fake serves the Graph
	// paths, as a BSP serves /api/v25.0/{WABA_ID}
	// (a third party's documentation: Splashify Pro, a BSP,
	// https://partner-docs.splashifypro.com/api-reference/whatsapp/analytics-conversations).
	PassthroughPrefix  = "/api"
	passthroughVersion = "v25.0"
	// BusinessID is the demo's business portfolio: it owns the Meta WABAs
	// above, which the configuration lists by hand and so keeps as it
	// lists them, and manages two client WABAs that the exporter finds by
	// listing the business (ClientWABAs).
	BusinessID = "506914307656634"
)

// ClientWABAs are the WABAs the demo's business manages for its clients:
// nothing in the configuration names them; the exporter discovers them.
func ClientWABAs() []fakeapi.WABA {
	return []fakeapi.WABA{
		{
			WABAID: "118234567890123", Name: "Contoso Pharmacy", Volume: 30, DeliveryRate: 0.96, TimezoneID: "58",
			Currency:  "GBP",
			Phones:    []fakeapi.Phone{{Number: "447700900456", Display: "+44 7700 900456", Weight: 1}},
			Countries: []fakeapi.Country{{Code: "GB", Weight: 1, PriceFactor: 1.1}},
			Templates: []fakeapi.Template{{ID: "1288430120685091", Name: "prescription_ready", Category: "UTILITY", Weight: 1}},
		},
		{
			WABAID: "119876543210987", Name: "Fabrikam Foods", Volume: 50, DeliveryRate: 0.95, TimezoneID: "71",
			Currency:  "INR",
			Phones:    []fakeapi.Phone{{Number: "919876543210", Display: "+91 98765 43210", Weight: 1}},
			Countries: []fakeapi.Country{{Code: "IN", Weight: 1, PriceFactor: 0.3}},
			Templates: []fakeapi.Template{{ID: "1398430120685092", Name: "weekly_offers", Category: "MARKETING", Weight: 1,
				Buttons: []fakeapi.Button{{Type: "url_button", Content: "Order now"}}}},
		},
	}
}

// MetaWABAs is the demo's data: a retailer with several numbers, markets
// and templates with buttons; a travel company billed through a partner (no
// cost); and a support desk with one number. Their health shows what
// degrades without alerting: a YELLOW number, a template of YELLOW quality
// and one pending review, a display name in review that LIMITs a number.
func MetaWABAs() []fakeapi.WABA {
	return []fakeapi.WABA{
		{
			WABAID: RetailWABA, Volume: 120, DeliveryRate: 0.97,
			Phones: []fakeapi.Phone{
				{Number: "16505550111", Display: "+1 650-555-0111", Weight: 1, Health: health(RetailWABA, "GREEN", "HIGH", "TIER_100K")},
				{Number: "16505550112", Display: "+1 650-555-0112", Weight: 0.6, Health: health(RetailWABA, "GREEN", "STANDARD", "TIER_100K")},
				// Brazilian users block its marketing more often.
				{Number: "5511955550113", Display: "+55 11 95555-0113", Weight: 0.8, Health: health(RetailWABA, "YELLOW", "STANDARD", "TIER_100K")},
			},
			Countries: []fakeapi.Country{{Code: "US", Weight: 0.5, PriceFactor: 1}, {Code: "BR", Weight: 0.3, PriceFactor: 0.6}, {Code: "IN", Weight: 0.15, PriceFactor: 0.3}, {Code: "DE", Weight: 0.05, PriceFactor: 1.4}},
			Templates: []fakeapi.Template{
				{ID: "1421988012088524", Name: "order_confirmation", Category: "UTILITY", Weight: 1,
					Buttons: []fakeapi.Button{{Type: "url_button", Content: "Track order"}}},
				{ID: "2632273056924580", Name: "spring_sale", Category: "MARKETING", Weight: 0.7, Quality: "YELLOW",
					Buttons: []fakeapi.Button{{Type: "quick_reply_button", Content: "Contact Support"}, {Type: "unique_url_button", Content: "Tell me more"}}},
				{ID: "954638012257287", Name: "login_code", Category: "AUTHENTICATION", Weight: 0.9},
				{ID: "969725530748535", Name: "back_in_stock", Category: "MARKETING", Weight: 0.3, Language: "pt_BR",
					Buttons: []fakeapi.Button{{Type: "url_button", Content: "Shop now"}}},
				// Submitted, not yet reviewed: no analytics, quality pending.
				{ID: "1066542392340011", Name: "holiday_hours", Category: "UTILITY", Status: "PENDING", Quality: "UNKNOWN"},
			},
		},
		{
			WABAID: TravelWABA, Volume: 60, DeliveryRate: 0.95, PartnerBilled: true,
			Phones: []fakeapi.Phone{
				{Number: "447700900123", Display: "+44 7700 900123", Weight: 1, Health: health(TravelWABA, "GREEN", "STANDARD", "TIER_10K")},
				// A new number whose display name is still in review: it
				// sends, but Meta shows the number instead of the name.
				{Number: "33612345678", Display: "+33 6 12 34 56 78", Weight: 0.5, Health: fakeapi.PhoneHealth{
					VerifiedName: name(TravelWABA), Quality: "UNKNOWN", NameStatus: "PENDING_REVIEW", Limit: "TIER_10K", CanSend: "LIMITED"}},
			},
			Countries: []fakeapi.Country{{Code: "GB", Weight: 0.4, PriceFactor: 1.1}, {Code: "FR", Weight: 0.3, PriceFactor: 1.2}, {Code: "ES", Weight: 0.2, PriceFactor: 0.9}, {Code: "MX", Weight: 0.1, PriceFactor: 0.5}},
			Templates: []fakeapi.Template{
				{ID: "1924084211297547", Name: "booking_reminder", Category: "UTILITY", Weight: 1,
					Buttons: []fakeapi.Button{{Type: "quick_reply_button", Content: "Confirm"}, {Type: "quick_reply_button", Content: "Reschedule"}}},
				{ID: "458951126288942", Name: "flight_deals", Category: "MARKETING", Weight: 0.5, Language: "es",
					Buttons: []fakeapi.Button{{Type: "url_button", Content: "See deals"}}},
			},
		},
		{
			WABAID: DropWABA, Volume: 80, DeliveryRate: 0.98,
			Phones:    []fakeapi.Phone{{Number: "19195552584", Display: "+1 919-555-2584", Weight: 1, Health: health(DropWABA, "GREEN", "STANDARD", "TIER_2K")}},
			Countries: []fakeapi.Country{{Code: "US", Weight: 0.7, PriceFactor: 1}, {Code: "IN", Weight: 0.3, PriceFactor: 0.3}},
			Templates: []fakeapi.Template{
				{ID: "245435364965041", Name: "ticket_update", Category: "UTILITY", Weight: 1,
					Buttons: []fakeapi.Button{{Type: "url_button", Content: "View ticket"}}},
			},
		},
	}
}

// VonageWABAs is the demo's WABA behind Vonage's Channel Manager: a
// logistics company with two numbers and templates whose clicks Vonage
// reports as one number each.
func VonageWABAs() []fakeapi.WABA {
	return []fakeapi.WABA{{
		WABAID: VonageWABA, Volume: 70, DeliveryRate: 0.96,
		Phones: []fakeapi.Phone{
			{Number: "16505550111", Display: "+1 650-555-0111", Weight: 1},
			{Number: "4915155550199", Display: "+49 151 55550199", Weight: 0.7},
		},
		Countries: []fakeapi.Country{{Code: "US", Weight: 0.5, PriceFactor: 1}, {Code: "DE", Weight: 0.3, PriceFactor: 1.4}, {Code: "NL", Weight: 0.2, PriceFactor: 1.3}},
		Templates: []fakeapi.Template{
			{ID: "458951126288942", Name: "shipment_update", Category: "UTILITY", Weight: 1,
				Buttons: []fakeapi.Button{{Type: "url_button", Content: "Track parcel"}}},
			{ID: "458951126288937", Name: "delivery_slot", Category: "UTILITY", Weight: 0.6,
				Buttons: []fakeapi.Button{{Type: "quick_reply_button", Content: "Morning"}, {Type: "quick_reply_button", Content: "Afternoon"}}},
			{ID: "458951126288950", Name: "signup_code", Category: "AUTHENTICATION", Weight: 0.4},
		},
	}}
}

// PassthroughWABAs is the demo's WABA behind a BSP that passes the
// Graph API through: a clinic with one number, billed by the BSP (no cost).
func PassthroughWABAs() []fakeapi.WABA {
	return []fakeapi.WABA{{
		WABAID: PassthroughWABA, Volume: 40, DeliveryRate: 0.97,
		// A portfolio at the starting limit of 250.
		Phones: []fakeapi.Phone{{Number: "912240289385", Display: "+91 22 4028 9385", Weight: 1,
			Health: health(PassthroughWABA, "GREEN", "STANDARD", "TIER_250")}},
		Countries: []fakeapi.Country{{Code: "IN", Weight: 0.7, PriceFactor: 0.3}, {Code: "KW", Weight: 0.3, PriceFactor: 0.8}},
		Templates: []fakeapi.Template{
			{ID: "1121988012088524", Name: "appointment_reminder", Category: "UTILITY", Weight: 1,
				Buttons: []fakeapi.Button{{Type: "quick_reply_button", Content: "Confirm"}}},
		},
	}}
}

// Demo is the built-in demo: fake APIs on a loopback port and a config that
// points the exporter at them.
type Demo struct {
	Config *config.Config
	// Now is the demo's clock, which the exporter must use too.
	Now func() time.Time
	// Graph is Meta's Graph API, Vonage the Channel Manager and
	// Passthrough a BSP's Graph passthrough under PassthroughPrefix.
	Graph       *fakeapi.Graph
	Vonage      *fakeapi.Vonage
	Passthrough *fakeapi.Graph
	URL         string
	server      *http.Server
	// metaWABAs are the Meta fake's accounts, whose statuses SendWebhooks
	// sends.
	metaWABAs []fakeapi.WABA
}

// Start serves the demo's fake APIs on 127.0.0.1 and returns the config
// to export them with. Credentials are random: the demo has no secrets to
// leak, and nothing can depend on them. now is the fakes' clock (the wall
// clock when nil), which the exporter must share; speed, when above 1, says
// how much faster than the wall clock it runs, and shortens the refresh
// interval to match (a second at the least).
func Start(scenario string, now func() time.Time, speed float64) (*Demo, error) {
	if now == nil {
		now = time.Now
	}
	interval := refreshInterval
	if speed > 1 {
		interval = max(time.Duration(float64(refreshInterval)/speed), time.Second)
	}
	metaWABAs, vonageWABAs, passthroughWABAs := wabas()
	switch scenario {
	case "", Healthy:
	case DeliveryDrop:
		for i := range metaWABAs {
			if a := &metaWABAs[i]; a.WABAID == DropWABA {
				// The incident began before the exporter started, so that
				// the buckets it reports already show it. Users blocked
				// the messages they did get: Meta rated the number RED
				// and paused the template.
				a.DropFrom, a.DroppedRate = now().Add(-24*time.Hour), 0.5
				a.Phones[0].Health.Quality = "RED"
				a.Templates[0].Status, a.Templates[0].Quality = "PAUSED", "RED"
			}
		}
	default:
		return nil, fmt.Errorf("unknown demo scenario %q; want %s or %s", scenario, Healthy, DeliveryDrop)
	}

	// The business reads its WABAs with its system user's token, which
	// its client WABAs take too.
	businessToken := randomToken()
	clients := ClientWABAs()
	business := fakeapi.Business{ID: BusinessID, Token: businessToken}
	for _, a := range metaWABAs {
		business.Owned = append(business.Owned, a.WABAID)
	}
	for i := range clients {
		clients[i].Token = businessToken
		business.Client = append(business.Client, clients[i].WABAID)
	}
	opts := fakeapi.Options{Now: now, HourlyBudget: 5000, Businesses: []fakeapi.Business{business}}
	graph := fakeapi.NewGraph(append(slices.Clone(metaWABAs), clients...), opts)
	opts.Businesses = nil
	vonageFake := fakeapi.NewVonage(vonageWABAs, opts)
	passthrough := fakeapi.NewGraph(passthroughWABAs, opts)
	passthrough.NoCost = true
	// One listener for all three: the Graph fake finds the version and WABA
	// at the end of any path, so the BSP's prefix needs no stripping.
	mux := http.NewServeMux()
	mux.Handle(PassthroughPrefix+"/", passthrough)
	mux.Handle("/v1/channel-manager/", vonageFake)
	mux.Handle("/", graph)
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start demo API: %w", err)
	}
	d := &Demo{
		Now:         now,
		Graph:       graph,
		Vonage:      vonageFake,
		Passthrough: passthrough,
		URL:         "http://" + listener.Addr().String(),
		server:      &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		metaWABAs:   metaWABAs,
	}
	go d.server.Serve(listener)

	cfg, err := demoConfig(d.URL, interval, businessToken, metaWABAs, vonageWABAs, passthroughWABAs)
	if err != nil {
		d.Close()
		return nil, err
	}
	d.Config = cfg
	return d, nil
}

// wabas is the demo's data, each WABA with fresh random credentials.
func wabas() (metaWABAs, vonageWABAs, passthroughWABAs []fakeapi.WABA) {
	metaWABAs, vonageWABAs, passthroughWABAs = MetaWABAs(), VonageWABAs(), PassthroughWABAs()
	for _, list := range [][]fakeapi.WABA{metaWABAs, vonageWABAs, passthroughWABAs} {
		for i := range list {
			list[i].Token = randomToken()
			list[i].APIKey = randomToken()[:13] // "demo-" and 8 hex digits, the length of a Vonage key
		}
	}
	return metaWABAs, vonageWABAs, passthroughWABAs
}

// demoConfig is the configuration that exports the demo's WABAs from the
// fakes at url.
func demoConfig(url string, interval time.Duration, businessToken string, metaWABAs, vonageWABAs, passthroughWABAs []fakeapi.WABA) (*config.Config, error) {
	// The fakes are in-process: the requests need not wait for a rate
	// that keeps a real API's budget. The webhook endpoint is on, with
	// secrets as random as the credentials: the demo signs its own
	// webhooks (webhooks.go).
	cfg := &config.Config{Global: config.Global{RequestsPerSecond: 100, Burst: 20},
		Webhooks: &config.Webhooks{AppSecrets: []config.Secret{config.Secret(randomToken())}, VerifyToken: config.Secret(randomToken())}}
	on := true
	for _, a := range metaWABAs {
		acct := config.Account{
			WABAID: a.WABAID, Name: name(a.WABAID), Provider: meta.Name,
			APIURL: url, APIVersion: apiVersion, AccessToken: config.Secret(a.Token),
			Interval: interval,
		}
		acct.Messaging.SplitBy = []string{"PHONE"}
		// Conversation analytics are opt-in on Meta since per-message
		// pricing; the demo shows every family.
		acct.Conversations.Enabled = &on
		if a.WABAID == RetailWABA {
			// Calls are opt-in too: the retailer takes calls.
			acct.Calls.Enabled = &on
			acct.Calls.SplitBy = []string{"DIRECTION"}
			acct.Messaging.SplitBy = []string{"PHONE", "COUNTRY"}
			for _, c := range a.Countries {
				acct.Messaging.CountryCodes = append(acct.Messaging.CountryCodes, c.Code)
			}
		}
		cfg.Accounts = append(cfg.Accounts, acct)
	}
	for _, a := range vonageWABAs {
		// Vonage cannot list numbers or templates: the config names them.
		// Conversations are off by default (the Channel Manager has none).
		acct := config.Account{
			WABAID: a.WABAID, Name: name(a.WABAID), Provider: vonage.Name,
			APIURL: url, APIKey: a.APIKey, APISecret: config.Secret(a.Token),
			Interval: interval,
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
	for _, a := range passthroughWABAs {
		// The BSP's defaults: conversations and messaging; pricing and
		// templates are opt-in for a passthrough and stay off here.
		acct := config.Account{
			WABAID: a.WABAID, Name: name(a.WABAID), Provider: meta.PassthroughName,
			APIURL: url + PassthroughPrefix, APIVersion: passthroughVersion, AccessToken: config.Secret(a.Token),
			Interval: interval,
		}
		acct.Messaging.SplitBy = []string{"PHONE"}
		cfg.Accounts = append(cfg.Accounts, acct)
	}
	// The business: its own WABAs are listed above by hand and keep their
	// settings; its clients' are discovered, with these defaults.
	business := config.Business{
		BusinessID: BusinessID, Name: "Demo Solutions", Provider: meta.Name,
		APIURL: url, APIVersion: apiVersion, AccessToken: config.Secret(businessToken),
	}
	business.Defaults.Interval = interval
	business.Defaults.Messaging.SplitBy = []string{"PHONE"}
	cfg.Businesses = append(cfg.Businesses, business)
	if err := config.Finish(cfg); err != nil {
		return nil, fmt.Errorf("demo config: %w", err)
	}
	return cfg, nil
}

// Close stops the demo's fake APIs.
func (d *Demo) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return d.server.Shutdown(ctx)
}

func name(wabaID string) string {
	switch wabaID {
	case RetailWABA:
		return "Acme Retail"
	case TravelWABA:
		return "Globex Travel"
	case VonageWABA:
		return "Umbrella Logistics (Vonage)"
	case PassthroughWABA:
		return "Hooli Clinic (BSP passthrough)"
	default:
		return "Initech Support"
	}
}

// health is a connected number with an approved display name, the WABA's,
// of the given quality, throughput and messaging limit.
func health(wabaID, quality, throughput, limit string) fakeapi.PhoneHealth {
	return fakeapi.PhoneHealth{VerifiedName: name(wabaID), Quality: quality, Throughput: throughput, Limit: limit}
}

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return "demo-" + hex.EncodeToString(b)
}
