package scheduler

import (
	"slices"
	"strings"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/bucket"
)

// sample is one value of one bucket, before the newest bucket is chosen.
type sample struct {
	analytics.Value
	start, end time.Time
}

// newest is a family's newest complete bucket with data.
type newest struct {
	start, end time.Time
	values     []analytics.Value
}

// newestBucket picks the bucket to report from the samples of one refresh,
// following the value semantics docs/metrics.md documents:
//
//   - only buckets within the span count: ended at or before its cutoff
//     (newer ones are still being filled in by the API), and after its start
//     (a whole-day query also returns the hours before the lookback);
//   - of those, the newest bucket with any data is reported, so that an empty
//     newest bucket (data not in yet) does not read as a drop to zero;
//   - a series seen in an older bucket of the span but absent from the
//     reported one reads 0: nothing happened there in that bucket.
//
// Samples of the same series in the same bucket are added up: that happens
// when a dimension that was not asked for is masked out.
func newestBucket(samples []sample, span bucket.Span) newest {
	inSpan := func(s sample) bool {
		// A point without an end (an API that left it out) belongs to
		// no bucket: it must not become a series that reads 0.
		return !s.end.IsZero() && !s.end.After(span.Cutoff) && s.end.After(span.From)
	}
	var n newest
	for _, s := range samples {
		if inSpan(s) && s.end.After(n.end) {
			n.start, n.end = s.start, s.end
		}
	}
	if n.end.IsZero() {
		return newest{}
	}
	type series struct {
		measure    analytics.Measure
		dimensions analytics.Dimensions
	}
	index := map[series]int{}
	for _, s := range samples {
		if !inSpan(s) {
			continue
		}
		key := series{s.Measure, s.Dimensions}
		i, ok := index[key]
		if !ok {
			i = len(n.values)
			index[key] = i
			n.values = append(n.values, analytics.Value{Measure: s.Measure, Dimensions: s.Dimensions})
		}
		if s.end.Equal(n.end) {
			n.values[i].Value += s.Value.Value
		}
	}
	return n
}

// clean bounds a string from the API before it names a series: one huge or
// broken value must not bloat the cache or cost the whole refresh.
func clean(s string) string {
	const maxLen = 256
	if len(s) > maxLen {
		s = s[:maxLen]
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// keep returns v if the dimension was asked for, and "" otherwise: the API
// sometimes fills in a dimension nobody asked for (conversation_direction
// "UNKNOWN" in the documentation's own example), and a series must not
// depend on that.
func keep(dimensions []string, dimension, v string) string {
	if slices.Contains(dimensions, dimension) {
		return clean(v)
	}
	return ""
}

func add(out []sample, m analytics.Measure, start, end time.Time, v *float64, d analytics.Dimensions) []sample {
	if v == nil {
		return out // not reported: unknown, not 0
	}
	return append(out, sample{Value: analytics.Value{Measure: m, Dimensions: d, Value: *v}, start: start, end: end})
}

func messagingSamples(out []sample, points []provider.MessagingPoint, phone, country string) []sample {
	d := analytics.Dimensions{PhoneNumber: clean(phone), Country: clean(country)}
	for _, p := range points {
		out = add(out, analytics.MessagesSent, p.Start, p.End, p.Sent, d)
		out = add(out, analytics.MessagesDelivered, p.Start, p.End, p.Delivered, d)
	}
	return out
}

func conversationSamples(points []provider.ConversationPoint, dims []string) []sample {
	out := make([]sample, 0, 2*len(points))
	for _, p := range points {
		d := analytics.Dimensions{
			PhoneNumber: keep(dims, "PHONE", p.PhoneNumber), Country: keep(dims, "COUNTRY", p.Country),
			ConversationCategory:  keep(dims, "CONVERSATION_CATEGORY", p.Category),
			ConversationType:      keep(dims, "CONVERSATION_TYPE", p.Type),
			ConversationDirection: keep(dims, "CONVERSATION_DIRECTION", p.Direction),
		}
		out = add(out, analytics.Conversations, p.Start, p.End, p.Conversations, d)
		out = add(out, analytics.ConversationCost, p.Start, p.End, p.Cost, d)
	}
	return out
}

func pricingSamples(points []provider.PricingPoint, dims []string) []sample {
	out := make([]sample, 0, 2*len(points))
	for _, p := range points {
		d := analytics.Dimensions{
			PhoneNumber: keep(dims, "PHONE", p.PhoneNumber), Country: keep(dims, "COUNTRY", p.Country),
			PricingCategory: keep(dims, "PRICING_CATEGORY", p.Category),
			PricingType:     keep(dims, "PRICING_TYPE", p.Type),
			Tier:            keep(dims, "TIER", p.Tier),
		}
		out = add(out, analytics.PricingVolume, p.Start, p.End, p.Volume, d)
		out = add(out, analytics.PricingCost, p.Start, p.End, p.Cost, d)
	}
	return out
}

func templateSamples(points []provider.TemplatePoint, product provider.TemplateProduct) []sample {
	out := make([]sample, 0, 4*len(points))
	for _, p := range points {
		d := analytics.Dimensions{TemplateID: clean(p.TemplateID), ProductType: string(product)}
		out = add(out, analytics.TemplateSent, p.Start, p.End, p.Sent, d)
		out = add(out, analytics.TemplateDelivered, p.Start, p.End, p.Delivered, d)
		out = add(out, analytics.TemplateRead, p.Start, p.End, p.Read, d)
		for _, c := range p.Clicked {
			// Unique clicks count people, not clicks: a measure of their
			// own, which nothing may add to the clicks.
			m, button := analytics.TemplateClicked, d
			button.ButtonContent = clean(c.Content)
			if c.Type == uniqueURLButton {
				m = analytics.TemplateUniqueClicks
			} else {
				button.ButtonType = clean(c.Type)
			}
			out = add(out, m, p.Start, p.End, &c.Count, button)
		}
		for _, c := range p.Cost {
			// amount_spent adds up over days; cost_per_delivered and
			// cost_per_url_button_click are ratios, which do not.
			if c.Type == amountSpent {
				out = add(out, analytics.TemplateAmountSpent, p.Start, p.End, &c.Value, d)
				continue
			}
			unit := d
			unit.CostType = clean(c.Type)
			out = add(out, analytics.TemplateUnitCost, p.Start, p.End, &c.Value, unit)
		}
	}
	return out
}

// callSamples turns call analytics into samples of one split cell.
func callSamples(out []sample, points []provider.CallPoint, d analytics.Dimensions) []sample {
	for _, p := range points {
		out = add(out, analytics.Calls, p.Start, p.End, p.Count, d)
		out = add(out, analytics.CallCost, p.Start, p.End, p.Cost, d)
		out = add(out, analytics.CallAverageDuration, p.Start, p.End, p.AverageDuration, d)
	}
	return out
}

// The template analytics figures whose meaning decides how they add up
// (Meta's template analytics reference; see provider/meta).
const (
	uniqueURLButton = "unique_url_button"
	amountSpent     = "amount_spent"
)
