package fakeapi

import (
	"math"
	"time"
)

// The families' data, computed from a WABA for a query. Each returns
// the data points in the Graph API's field names; the Vonage fake renames
// what it must.

type messagingQuery struct {
	start, end, now time.Time
	granularity     string
	phones          []string
	countries       []string
}

func (a *WABA) messaging(q messagingQuery) []dataPoint {
	var out []dataPoint
	for _, b := range buckets(q.start, q.end, q.now, q.granularity, a.location()) {
		var sent, delivered float64
		b.halfHours(func(t time.Time) {
			for _, p := range a.Phones {
				if !filter(q.phones, p.Number) {
					continue
				}
				for _, c := range a.Countries {
					if filter(q.countries, c.Code) {
						sent += a.sent(p, c, t)
						delivered += a.delivered(p, c, t)
					}
				}
			}
		})
		if sent > 0 {
			out = append(out, dataPoint{"start": b.start.Unix(), "end": b.end.Unix(), "sent": sent, "delivered": delivered})
		}
	}
	return out
}

type breakdownQuery struct {
	start, end, now time.Time
	granularity     string
	phones          []string
	countries       []string
	categories      []string
	types           []string
	directions      []string
	dimensions      []string
	cost            bool
}

func (a *WABA) conversationPoints(q breakdownQuery) []dataPoint {
	return a.breakdownPoints(q, "conversation",
		[]string{"conversation_category", "conversation_type", "conversation_direction"},
		func(t time.Time, p Phone, c Country, add func(n, cost float64, values ...string)) {
			for _, cat := range conversationCategories {
				for _, typ := range conversationTypes {
					for _, dir := range conversationDirections {
						if !filter(q.categories, cat.name) || !filter(q.types, typ.name) || !filter(q.directions, dir.name) {
							continue
						}
						n := a.conversations(p, c, cat, typ, dir, t)
						add(n, n*cat.price*typ.price*c.PriceFactor,
							mask(q.dimensions, "CONVERSATION_CATEGORY", cat.name), mask(q.dimensions, "CONVERSATION_TYPE", typ.name),
							mask(q.dimensions, "CONVERSATION_DIRECTION", dir.name))
					}
				}
			}
		})
}

func (a *WABA) pricingPoints(q breakdownQuery) []dataPoint {
	return a.breakdownPoints(q, "volume", []string{"pricing_category", "pricing_type", "tier"},
		func(t time.Time, p Phone, c Country, add func(n, cost float64, values ...string)) {
			for _, cat := range pricingCategoriesAt(t) {
				for _, typ := range pricingTypes {
					if !filter(q.categories, cat.name) || !filter(q.types, typ.name) {
						continue
					}
					n := a.pricingVolume(p, c, cat, typ, t)
					add(n, n*price(cat, t)*typ.price*c.PriceFactor,
						mask(q.dimensions, "PRICING_CATEGORY", cat.name), mask(q.dimensions, "PRICING_TYPE", typ.name),
						mask(q.dimensions, "TIER", tier(cat, typ)))
				}
			}
		})
}

// breakdownPoints is the answer of an analytics field broken down by
// dimensions (conversations, pricing): for each bucket, the rows of every
// phone number and country that pass the filters, summed over the
// bucket's half hours per combination of the dimensions asked for (those
// not asked for are masked out by cells). count names the count field;
// fields name, in order, the values cells adds after the phone number and
// the country.
func (a *WABA) breakdownPoints(q breakdownQuery, count string, fields []string,
	cells func(t time.Time, p Phone, c Country, add func(n, cost float64, values ...string))) []dataPoint {
	var out []dataPoint
	for _, b := range buckets(q.start, q.end, q.now, q.granularity, a.location()) {
		agg := newAggregate()
		b.halfHours(func(t time.Time) {
			for _, p := range a.Phones {
				for _, c := range a.Countries {
					if !filter(q.phones, p.Number) || !filter(q.countries, c.Code) {
						continue
					}
					cells(t, p, c, func(n, cost float64, values ...string) {
						agg.add(append([]string{mask(q.dimensions, "PHONE", p.Number), mask(q.dimensions, "COUNTRY", c.Code)}, values...), n, cost)
					})
				}
			}
		})
		agg.each(func(v []string, n, cost float64) {
			dp := dataPoint{"start": b.start.Unix(), "end": b.end.Unix(), count: n}
			for i, field := range append([]string{"phone_number", "country"}, fields...) {
				setIf(dp, field, v[i])
			}
			if q.cost {
				dp["cost"] = cost
			}
			out = append(out, dp)
		})
	}
	return out
}

type templateQuery struct {
	start, end, now time.Time
	ids             []string
	metrics         []string // upper case; empty means all
	// product is the product_type asked for, in its current name;
	// cloudAPI when none was.
	product string
}

func (q templateQuery) wants(metric string) bool {
	return len(q.metrics) == 0 || contains(q.metrics, metric)
}

// templatePoints follows "Template Analytics": days in UTC, start snapped
// back and end forward to 00:00, clicks only for MARKETING and UTILITY
// templates, cost as an array of typed figures.
func (a *WABA) templatePoints(q templateQuery) []dataPoint {
	var out []dataPoint
	end := day(q.end)
	if end.Before(q.end) {
		end = end.AddDate(0, 0, 1)
	}
	for _, id := range q.ids {
		tpl, ok := a.template(id)
		if !ok || (q.product == marketingMessages && tpl.Category != "MARKETING") {
			continue
		}
		for _, b := range buckets(q.start, end, q.now, "DAY", time.UTC) {
			d := a.templateDay(tpl, b.start, q.product)
			dp := dataPoint{"template_id": tpl.ID, "start": b.start.Unix(), "end": b.end.Unix()}
			if q.wants("SENT") {
				dp["sent"] = d.sent
			}
			if q.wants("DELIVERED") {
				dp["delivered"] = d.delivered
			}
			if q.wants("READ") {
				dp["read"] = d.read
			}
			clickable := tpl.Category == "MARKETING" || tpl.Category == "UTILITY"
			if q.wants("CLICKED") && clickable && len(tpl.Buttons) > 0 {
				var clicked []map[string]any
				for i, btn := range tpl.Buttons {
					clicked = append(clicked, map[string]any{"type": btn.Type, "button_content": btn.Content, "count": d.clicks[i]})
				}
				dp["clicked"] = clicked
			}
			if q.wants("COST") {
				costs := []map[string]any{{"type": "amount_spent", "value": d.amountSpent}}
				if d.delivered > 0 {
					costs = append(costs, map[string]any{"type": "cost_per_delivered", "value": round4(d.amountSpent / d.delivered)})
				}
				var urlClicks float64
				for i, btn := range tpl.Buttons {
					if btn.Type == "url_button" || btn.Type == "unique_url_button" {
						urlClicks += d.clicks[i]
					}
				}
				if urlClicks > 0 {
					costs = append(costs, map[string]any{"type": "cost_per_url_button_click", "value": round4(d.amountSpent / urlClicks)})
				}
				dp["cost"] = costs
			}
			out = append(out, dp)
		}
	}
	return out
}

func (a *WABA) template(id string) (Template, bool) {
	for _, t := range a.Templates {
		if t.ID == id {
			return t, true
		}
	}
	return Template{}, false
}

func setIf(dp dataPoint, key, v string) {
	if v != "" {
		dp[key] = v
	}
}

func round4(v float64) float64 { return float64(int64(v*10000+0.5)) / 10000 }

type callQuery struct {
	start, end, now time.Time
	granularity     string
	phones          []string
	countries       []string
	directions      []string
	cost            bool
}

// callPoints follows "Call analytics": one data point per bucket with
// calls, with their count, mean length and (when asked for) cost.
func (a *WABA) callPoints(q callQuery) []dataPoint {
	var out []dataPoint
	for _, b := range buckets(q.start, q.end, q.now, q.granularity, a.location()) {
		var count, seconds, cost float64
		b.halfHours(func(t time.Time) {
			for _, p := range a.Phones {
				for _, c := range a.Countries {
					for _, d := range callDirections {
						if !filter(q.phones, p.Number) || !filter(q.countries, c.Code) || !filter(q.directions, d.name) {
							continue
						}
						n, s := a.calls(p, c, d, t)
						count += n
						seconds += n * s
						cost += n * s / 60 * d.price * c.PriceFactor
					}
				}
			}
		})
		if count == 0 {
			continue
		}
		dp := dataPoint{"start": b.start.Unix(), "end": b.end.Unix(), "count": count, "average_duration": math.Round(seconds / count)}
		if q.cost {
			dp["cost"] = math.Round(cost*100000) / 100000
		}
		out = append(out, dp)
	}
	return out
}
