package fakeapi

import (
	"time"
)

// The queries of the analytics families (computed in model.go) and the
// template analytics, whose days are in UTC and computed per template.

type messagingQuery struct {
	start, end, now time.Time
	granularity     string
	phones          []string
	countries       []string
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

type callQuery struct {
	start, end, now time.Time
	granularity     string
	phones          []string
	countries       []string
	directions      []string
	cost            bool
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
	if q.product == marketingMessages && a.NoMarketingMessages {
		return nil // the WABA sends no template through the Marketing Messages API
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

func round4(v float64) float64 { return float64(int64(v*10000+0.5)) / 10000 }
