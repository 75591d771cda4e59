package scheduler

import (
	"context"
	"slices"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// templateSends is what the exporter knows of which templates send through
// which product (the Cloud API, the Marketing Messages API): template
// analytics are asked for once per product, ten templates a request, and
// most templates of most WABAs never send through one of them. Each product
// is asked for every template once a day (a probe); in between, only for
// the templates that had sends through it at the probe or since, and for
// templates the probe did not know yet. A template that starts sending
// through a product it had not is therefore seen within a day, and its
// counters lose nothing: a day is within the week a template's figures are
// fetched again for.
type templateSends struct {
	probed  map[provider.TemplateProduct]time.Time
	sending map[provider.TemplateProduct]map[string]bool
	known   map[provider.TemplateProduct]map[string]bool
}

func (t *templateSends) init() {
	if t.probed == nil {
		t.probed = map[provider.TemplateProduct]time.Time{}
		t.sending = map[provider.TemplateProduct]map[string]bool{}
		t.known = map[provider.TemplateProduct]map[string]bool{}
	}
}

// ask returns the templates of ids to ask product for, and whether this is
// the product's probe.
func (t *templateSends) ask(product provider.TemplateProduct, ids []string, now time.Time) ([]string, bool) {
	t.init()
	if at, ok := t.probed[product]; !ok || now.Sub(at) >= RecheckUnavailable {
		return ids, true
	}
	var out []string
	for _, id := range ids {
		if t.sending[product][id] || !t.known[product][id] {
			out = append(out, id)
		}
	}
	return out, false
}

// learn notes which of the asked templates had sends in points. A probe
// starts the product's knowledge afresh; other answers only add to it.
func (t *templateSends) learn(product provider.TemplateProduct, asked []string, points []provider.TemplatePoint, probe bool, now time.Time) {
	t.init()
	if probe {
		t.probed[product] = now
		t.sending[product] = map[string]bool{}
		t.known[product] = map[string]bool{}
	}
	for _, id := range asked {
		t.known[product][id] = true
	}
	for id := range sent(points) {
		t.sending[product][id] = true
	}
}

// sent is the templates with any activity in points: a send, a delivery, a
// read, a click or a cost.
func sent(points []provider.TemplatePoint) map[string]bool {
	out := map[string]bool{}
	nonzero := func(v *float64) bool { return v != nil && *v != 0 }
	for _, pt := range points {
		active := nonzero(pt.Sent) || nonzero(pt.Delivered) || nonzero(pt.Read)
		for _, c := range pt.Clicked {
			active = active || c.Count != 0
		}
		for _, c := range pt.Cost {
			active = active || c.Value != 0
		}
		if active {
			out[pt.TemplateID] = true
		}
	}
	return out
}

// fetchTemplates asks for the sends of each API the provider tells apart,
// one query each (ten templates a request), and labels them with it. The
// first product's failure is the family's; a later one that the API refuses
// is left out for a day (refuseProduct). A template with no activity at all
// through a product in the answer has no series for it: it is not asked for
// between probes, and its zeros must not come and go with them.
func (p *poller) fetchTemplates(ctx context.Context, w provider.Window) ([]sample, error) {
	ids, err := p.templateIDs()
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	t := p.account.Templates
	products := p.caps.TemplateProducts
	if len(products) == 0 {
		products = []provider.TemplateProduct{provider.CloudAPI} // the API's default
	}
	var out []sample
	for i, product := range products {
		if i > 0 && p.productRefused(product) {
			continue
		}
		ask, probe := p.templateSends.ask(product, ids, p.now())
		if len(ask) == 0 {
			continue
		}
		points, err := withCostFallback(p, provider.Templates, config.WantCost(t.Cost), func(cost bool) ([]provider.TemplatePoint, error) {
			return p.source.Templates(ctx, provider.TemplateQuery{WABAID: p.account.WABAID, Window: w, TemplateIDs: ask, Cost: cost, Product: product})
		})
		if err != nil {
			if i > 0 && p.refuseProduct(product, err) {
				continue
			}
			return nil, err
		}
		p.templateSends.learn(product, ask, points, probe, p.now())
		active := sent(points)
		points = slices.DeleteFunc(points, func(pt provider.TemplatePoint) bool { return !active[pt.TemplateID] })
		out = append(out, templateSamples(points, product)...)
	}
	return out, nil
}
