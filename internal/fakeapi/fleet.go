package fakeapi

import (
	"fmt"
	"math"
	"strconv"
)

// FleetOptions shape a generated fleet of WABAs (Fleet). A zero field
// takes its default; a share below zero means none.
type FleetOptions struct {
	// BusinessID is the business that owns (or is shared) the fleet;
	// DefaultFleetBusiness when empty.
	BusinessID string
	// Token is the business's token, which every WABA of the fleet takes
	// too, as a system user's token reads every WABA its business can;
	// DefaultFleetToken when empty.
	Token string
	// PhonesPerWABA is 3 by default; TemplatesPerWABA 20.
	PhonesPerWABA, TemplatesPerWABA int
	// ClientShare is the share of WABAs its clients shared with the
	// business (listed on client_whatsapp_business_accounts), the others
	// being its own: 0.5 by default.
	ClientShare float64
	// PartnerBilledShare is the share billed through a partner, which
	// get no cost: 0.2 by default.
	PartnerBilledShare float64
	// InsightsDisabledShare is the share that never enabled template
	// insights: 0.1 by default.
	InsightsDisabledShare float64
	// MarketingMessagesShare is the share that also send marketing
	// templates through the Marketing Messages API: 0.3 by default.
	MarketingMessagesShare float64
	// Budgets gives every WABA an hourly budget of its own, as Meta does
	// (core.go, Options.HourlyBudget): 5,000 calls, and 200 for the share
	// UnregisteredShare (0.05 by default) whose numbers are not registered
	// yet (PENDING). Without it the fake's Options.HourlyBudget applies.
	Budgets           bool
	UnregisteredShare float64
}

// The fleet's defaults.
const (
	DefaultFleetBusiness = "805021500648488"
	DefaultFleetToken    = "fleet-system-user-token"
)

func fraction(v, fallback float64) float64 {
	switch {
	case v < 0:
		return 0
	case v == 0:
		return fallback
	}
	return v
}

// market is where a fleet WABA is based: its time zone (one the exporter's
// table knows: provider/meta/timezones.go), currency, numbers' country and
// the countries it messages, with their shares and prices.
type market struct {
	timezoneID, currency, dial string
	languages                  []string
	countries                  []Country
}

// The markets a fleet spreads over: UTC, west of it (New York, Los
// Angeles, São Paulo, and St John's at -3:30), and east (Berlin, Kolkata
// at +5:30, Singapore at +8, Sydney). The exporter's time zone table has
// no zone a quarter hour off (Kathmandu, Chatham): the fake's days cannot
// begin there either.
var markets = []market{
	{"0", "USD", "44", []string{"en_GB"}, []Country{{"GB", 0.5, 1.1}, {"DE", 0.3, 1.4}, {"FR", 0.2, 1.2}}},
	{"7", "USD", "1", []string{"en_US", "es"}, []Country{{"US", 0.7, 1}, {"CA", 0.2, 0.9}, {"MX", 0.1, 0.5}}},
	{"1", "USD", "1", []string{"en_US", "es_MX"}, []Country{{"US", 0.8, 1}, {"MX", 0.2, 0.5}}},
	{"25", "BRL", "55", []string{"pt_BR"}, []Country{{"BR", 0.9, 0.6}, {"AR", 0.1, 0.7}}},
	{"38", "CAD", "1", []string{"en_US", "fr"}, []Country{{"CA", 0.8, 0.9}, {"US", 0.2, 1}}},
	{"47", "EUR", "49", []string{"de", "en_GB"}, []Country{{"DE", 0.6, 1.4}, {"AT", 0.2, 1.3}, {"NL", 0.2, 1.3}}},
	{"71", "INR", "91", []string{"en_US", "hi"}, []Country{{"IN", 0.9, 0.3}, {"AE", 0.1, 0.8}}},
	{"128", "SGD", "65", []string{"en_US", "ms"}, []Country{{"SG", 0.5, 0.9}, {"MY", 0.3, 0.6}, {"ID", 0.2, 0.5}}},
	{"15", "AUD", "61", []string{"en_US"}, []Country{{"AU", 0.8, 1.1}, {"NZ", 0.2, 1.1}}},
}

// Template stems by category, and the buttons templates of each kind
// carry. Click analytics exist for MARKETING and UTILITY only.
var (
	fleetTemplates = map[string][]string{
		"MARKETING":      {"seasonal_sale", "new_arrivals", "loyalty_points", "cart_reminder", "back_in_stock", "weekend_offer", "vip_preview"},
		"UTILITY":        {"order_confirmation", "shipping_update", "delivery_slot", "appointment_reminder", "payment_receipt", "account_update"},
		"AUTHENTICATION": {"login_code", "verify_number", "reset_password"},
	}
	marketingButtons = [][]Button{
		{{Type: "url_button", Content: "Shop now"}},
		{{Type: "quick_reply_button", Content: "Tell me more"}, {Type: "quick_reply_button", Content: "Stop promotions"}},
		{{Type: "unique_url_button", Content: "See your offer"}},
		nil,
	}
	utilityButtons = [][]Button{
		{{Type: "url_button", Content: "Track order"}},
		{{Type: "quick_reply_button", Content: "Confirm"}, {Type: "quick_reply_button", Content: "Reschedule"}},
		nil,
		nil,
	}
	brands     = []string{"Northwind", "Contoso", "Fabrikam", "Tailspin", "Wingtip", "Adatum", "Litware", "Proseware", "Lucerne", "Woodgrove"}
	industries = []string{"Retail", "Travel", "Logistics", "Clinic", "Bank", "Insurance", "Telecom", "Foods", "Motors", "Academy"}
	limitTiers = []string{"TIER_250", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED"}
)

// Fleet generates n WABAs for load tests, and the business that lists them:
// IDs shaped like Meta's, names like "Northwind Retail 0001", markets and
// time zones spread over the world, a mix of template categories with and
// without buttons (a tenth pending review, without analytics), and the
// shares of FleetOptions. Each WABA depends only on its position, so the
// first thousand WABAs of a fleet of 5,000 are those of a fleet of 1,000,
// and a fleet is the same on every run.
func Fleet(n int, o FleetOptions) ([]WABA, Business) {
	b := Business{ID: o.BusinessID, Token: o.Token}
	if b.ID == "" {
		b.ID = DefaultFleetBusiness
	}
	if b.Token == "" {
		b.Token = DefaultFleetToken
	}
	phones, templates := o.PhonesPerWABA, o.TemplatesPerWABA
	if phones <= 0 {
		phones = 3
	}
	if templates <= 0 {
		templates = 20
	}
	client := fraction(o.ClientShare, 0.5)
	partner := fraction(o.PartnerBilledShare, 0.2)
	noInsights := fraction(o.InsightsDisabledShare, 0.1)
	mm := fraction(o.MarketingMessagesShare, 0.3)
	unregistered := fraction(o.UnregisteredShare, 0.05)

	wabas := make([]WABA, n)
	for i := range wabas {
		s := seed("fleet", strconv.Itoa(i))
		// draw gives the i-th WABA's k-th choice, in [0, 1).
		draw := func(k int64) float64 { return unit(s, k) }
		m := markets[int(draw(1)*float64(len(markets)))]
		id := strconv.FormatInt(102000000000000+int64(i)*1000003+int64(draw(2)*1000), 10)
		name := fmt.Sprintf("%s %s %04d", brands[int(draw(3)*float64(len(brands)))], industries[int(draw(4)*float64(len(industries)))], i+1)
		a := WABA{
			WABAID: id, Name: name, Token: b.Token,
			Countries:  m.countries,
			Currency:   m.currency,
			TimezoneID: m.timezoneID,
			// 10 to 200 messages in a number's busy half hour: many small
			// WABAs, a few large ones.
			Volume:              10 * math.Pow(20, draw(5)),
			DeliveryRate:        0.93 + 0.06*draw(6),
			PartnerBilled:       draw(7) < partner,
			InsightsDisabled:    draw(8) < noInsights,
			NoMarketingMessages: draw(9) >= mm,
		}
		pending := o.Budgets && draw(10) < unregistered
		if o.Budgets {
			a.HourlyBudget = 5000
			if pending {
				a.HourlyBudget = 200
			}
		}
		for j := range phones {
			local := fmt.Sprintf("%03d555%04d", 200+(i%700), 100+(i/700)*phones+j)
			p := Phone{
				Number: m.dial + local, Display: "+" + m.dial + " " + local[:3] + "-" + local[3:6] + "-" + local[6:],
				Weight: 1 / float64(j+1),
				Health: PhoneHealth{
					ID:           strconv.FormatInt(106000000000000+int64(i)*100+int64(j), 10),
					VerifiedName: name,
					Limit:        limitTiers[int(draw(20+int64(j))*float64(len(limitTiers)))],
				},
			}
			if draw(30+int64(j)) < 0.05 {
				p.Health.Quality = "YELLOW"
			}
			if pending {
				p.Health.Status, p.Health.Quality, p.Health.CanSend = "PENDING", "UNKNOWN", "LIMITED"
			}
			a.Phones = append(a.Phones, p)
		}
		a.Templates = fleetTemplatesOf(i, templates, m, draw)
		wabas[i] = a
		if draw(11) < client {
			b.Client = append(b.Client, id)
		} else {
			b.Owned = append(b.Owned, id)
		}
	}
	return wabas, b
}

// fleetTemplatesOf is the i-th WABA's templates: about 45% marketing, 35%
// utility, 20% authentication; every tenth pending review.
func fleetTemplatesOf(i, n int, m market, draw func(int64) float64) []Template {
	out := make([]Template, 0, n)
	for j := range n {
		k := int64(100 + 4*j)
		category := "AUTHENTICATION"
		switch u := draw(k); {
		case u < 0.45:
			category = "MARKETING"
		case u < 0.80:
			category = "UTILITY"
		}
		stems := fleetTemplates[category]
		t := Template{
			ID:       strconv.FormatInt(1000000000000000+int64(i)*10000+int64(j), 10),
			Name:     fmt.Sprintf("%s_%d", stems[int(draw(k+1)*float64(len(stems)))], j+1),
			Category: category,
			Weight:   0.2 + draw(k+2),
			Language: m.languages[j%len(m.languages)],
		}
		switch category {
		case "MARKETING":
			t.Buttons = marketingButtons[int(draw(k+3)*float64(len(marketingButtons)))]
		case "UTILITY":
			t.Buttons = utilityButtons[int(draw(k+3)*float64(len(utilityButtons)))]
		}
		if j%10 == 9 {
			// Submitted, not reviewed yet: no sends, no analytics.
			t.Status, t.Quality, t.Weight = "PENDING", "UNKNOWN", 0
		}
		out = append(out, t)
	}
	return out
}
