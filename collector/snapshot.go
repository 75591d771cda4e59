package collector

import (
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// sample is one value of one bucket, before the newest bucket is chosen.
type sample struct {
	desc   *prometheus.Desc
	labels []string // the label values after waba_id
	end    time.Time
	value  float64
}

// family is the result of one successful refresh of one family: the gauges
// to serve and the end of the bucket they describe (zero when the lookback
// window held no data).
type family struct {
	metrics   []prometheus.Metric
	bucketEnd time.Time
}

// newestBucket turns the samples of one refresh into gauges, following the
// value semantics documented in the README:
//
//   - only buckets that ended at or before cutoff count: newer ones are still
//     being filled in by the API;
//   - of those, the newest bucket with any data is reported, so that an empty
//     newest bucket (data not in yet) does not read as a drop to zero;
//   - a label set seen in an older bucket of the window but absent from the
//     reported one reads 0: nothing happened there in that bucket.
//
// Samples with the same metric and labels in the same bucket are added up:
// that happens when a dimension that was not asked for is masked out.
func newestBucket(wabaID string, samples []sample, cutoff time.Time) family {
	var newest time.Time
	for _, s := range samples {
		if !s.end.After(cutoff) && s.end.After(newest) {
			newest = s.end
		}
	}
	if newest.IsZero() {
		return family{}
	}

	type series struct {
		desc   *prometheus.Desc
		labels []string
		value  float64
	}
	type seriesKey struct {
		desc   *prometheus.Desc
		labels string
	}
	index := map[seriesKey]int{}
	var all []series
	for _, s := range samples {
		if s.end.After(cutoff) || s.end.IsZero() {
			// A point without an end (an API that left it out) belongs
			// to no bucket: it must not become a series that reads 0.
			continue
		}
		key := seriesKey{s.desc, strings.Join(s.labels, "\xff")}
		i, ok := index[key]
		if !ok {
			i = len(all)
			index[key] = i
			all = append(all, series{desc: s.desc, labels: s.labels})
		}
		if s.end.Equal(newest) {
			all[i].value += s.value
		}
	}

	metrics := make([]prometheus.Metric, 0, len(all))
	for _, s := range all {
		values := append([]string{wabaID}, s.labels...)
		metrics = append(metrics, prometheus.MustNewConstMetric(s.desc, prometheus.GaugeValue, s.value, values...))
	}
	return family{metrics: metrics, bucketEnd: newest}
}

// labelValue makes an API string safe as a label value: the client library
// rejects invalid UTF-8, and one bad byte from the API must not cost the
// whole refresh.
func labelValue(s string) string {
	const maxLen = 256
	if len(s) > maxLen {
		s = s[:maxLen]
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func labels(values ...string) []string {
	for i, v := range values {
		values[i] = labelValue(v)
	}
	return values
}

// keep returns v if the dimension was asked for, and "" otherwise: the API
// sometimes fills in a dimension nobody asked for (conversation_direction
// "UNKNOWN" in the documentation's own example), and a label set must not
// depend on that.
func keep(dimensions []string, dimension, v string) string {
	if slices.Contains(dimensions, dimension) {
		return v
	}
	return ""
}

func add(out []sample, desc *prometheus.Desc, end time.Time, v *float64, labelValues []string) []sample {
	if v == nil {
		return out
	}
	return append(out, sample{desc: desc, labels: labelValues, end: end, value: *v})
}

func messagingSamples(out []sample, points []provider.MessagingPoint, phone, country string) []sample {
	for _, p := range points {
		l := labels(phone, country)
		out = add(out, messagesSentDesc, p.End, p.Sent, l)
		out = add(out, messagesDeliveredDesc, p.End, p.Delivered, l)
	}
	return out
}

func conversationSamples(points []provider.ConversationPoint, dims []string) []sample {
	out := make([]sample, 0, 2*len(points))
	for _, p := range points {
		l := labels(
			keep(dims, "PHONE", p.PhoneNumber), keep(dims, "COUNTRY", p.Country),
			keep(dims, "CONVERSATION_CATEGORY", p.Category), keep(dims, "CONVERSATION_TYPE", p.Type),
			keep(dims, "CONVERSATION_DIRECTION", p.Direction))
		out = add(out, conversationsDesc, p.End, p.Conversations, l)
		out = add(out, conversationCostDesc, p.End, p.Cost, l)
	}
	return out
}

func pricingSamples(points []provider.PricingPoint, dims []string) []sample {
	out := make([]sample, 0, 2*len(points))
	for _, p := range points {
		l := labels(
			keep(dims, "PHONE", p.PhoneNumber), keep(dims, "COUNTRY", p.Country),
			keep(dims, "PRICING_CATEGORY", p.Category), keep(dims, "PRICING_TYPE", p.Type),
			keep(dims, "TIER", p.Tier))
		out = add(out, pricingVolumeDesc, p.End, p.Volume, l)
		out = add(out, pricingCostDesc, p.End, p.Cost, l)
	}
	return out
}

func templateSamples(points []provider.TemplatePoint) []sample {
	out := make([]sample, 0, 4*len(points))
	for _, p := range points {
		id := labels(p.TemplateID)
		out = add(out, templateSentDesc, p.End, p.Sent, id)
		out = add(out, templateDeliveredDesc, p.End, p.Delivered, id)
		out = add(out, templateReadDesc, p.End, p.Read, id)
		for _, c := range p.Clicked {
			out = add(out, templateClickedDesc, p.End, &c.Count, labels(p.TemplateID, c.Type, c.Content))
		}
		for _, c := range p.Cost {
			out = add(out, templateCostDesc, p.End, &c.Value, labels(p.TemplateID, c.Type))
		}
	}
	return out
}
