package scheduler

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/go-kit/log/level"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// limitSeries keeps an account's analytics series within max, as
// Prometheus's sample_limit guards a target: past it, the rest are dropped
// rather than growing the exporter, and every scrape, without bound. A
// series is a gauge or a counter; the gauge and counter of one breakdown are
// kept or dropped together. What is kept is the same from one refresh to
// the next: families in their order, and within a family the breakdowns in
// the order of their labels. It returns the families to publish, sharing
// what it does not cut, and how many series of each it dropped.
func limitSeries(families map[provider.Family]*analytics.Refresh, max int) (map[provider.Family]*analytics.Refresh, map[provider.Family]int) {
	total := 0
	for _, r := range families {
		total += len(r.Values)
		if r.MonthToDate != nil {
			total += len(r.MonthToDate.Values)
		}
	}
	if max <= 0 || total <= max {
		return families, nil
	}
	kept := maps.Clone(families)
	dropped := map[provider.Family]int{}
	budget := max
	for _, f := range provider.Families {
		r := families[f]
		if r == nil {
			continue
		}
		var mtd []analytics.Value
		if r.MonthToDate != nil {
			mtd = r.MonthToDate.Values
		}
		// The series of the family by breakdown: each one's gauge and
		// counter.
		type pair struct{ newest, total []analytics.Value }
		byKey := map[series]*pair{}
		for _, v := range r.Values {
			k := series{v.Measure, v.Dimensions}
			if byKey[k] == nil {
				byKey[k] = &pair{}
			}
			byKey[k].newest = append(byKey[k].newest, v)
		}
		for _, v := range mtd {
			k := series{v.Measure, v.Dimensions}
			if byKey[k] == nil {
				byKey[k] = &pair{}
			}
			byKey[k].total = append(byKey[k].total, v)
		}
		// Spelled once per series, not once per comparison.
		spelled := make(map[series]string, len(byKey))
		for k := range byKey {
			spelled[k] = fmt.Sprintf("%+v", k.dimensions)
		}
		keys := slices.SortedFunc(maps.Keys(byKey), func(a, b series) int {
			return cmp.Or(cmp.Compare(spelled[a], spelled[b]), cmp.Compare(a.measure, b.measure))
		})
		cut := *r
		cut.Values = nil
		var cutMTD []analytics.Value
		for _, k := range keys {
			p := byKey[k]
			if n := len(p.newest) + len(p.total); n <= budget {
				budget -= n
				cut.Values = append(cut.Values, p.newest...)
				cutMTD = append(cutMTD, p.total...)
			} else {
				dropped[f] += n
			}
		}
		if r.MonthToDate != nil {
			m := *r.MonthToDate
			m.Values = cutMTD
			cut.MonthToDate = &m
		}
		kept[f] = &cut
	}
	return kept, dropped
}

// limitHealth keeps an account's health within max series: the phone
// numbers first, in their order, then the templates, in theirs; what does
// not fit is left out whole (a number or template with all its states) and
// counted. It shares h when it all fits.
func limitHealth(h *analytics.Health, max int) (*analytics.Health, int) {
	if h == nil || max <= 0 || h.Series() <= max {
		return h, 0
	}
	cut := *h
	cut.Phones, cut.Templates = nil, nil
	budget, dropped := max, 0
	for _, ph := range h.Phones {
		if n := ph.Series(); n <= budget {
			budget -= n
			cut.Phones = append(cut.Phones, ph)
		} else {
			dropped += n
		}
	}
	for _, t := range h.Templates {
		if n := t.Series(); n <= budget {
			budget -= n
			cut.Templates = append(cut.Templates, t)
		} else {
			dropped += n
		}
	}
	return &cut, dropped
}

// logDropped says when the account starts and stops dropping series.
func (p *poller) logDropped(dropped map[provider.Family]int, max int) {
	n := 0
	for _, d := range dropped {
		n += d
	}
	switch {
	case n > 0 && !p.dropping:
		level.Warn(p.logger).Log("msg", "The account has more series than max_series; dropping the rest",
			"max_series", max, "dropped", n)
	case n == 0 && p.dropping:
		level.Info(p.logger).Log("msg", "The account's series fit in max_series again", "max_series", max)
	}
	p.dropping = n > 0
}
