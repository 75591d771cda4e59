package collector

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
)

// family is one metric family the collector exports: its descriptor for
// client_golang, and what writing its samples out by hand needs (the
// /metrics handler writes pre-rendered text, see exposition.go).
type family struct {
	name string
	help string
	// labels are the label names in the order the render code passes
	// their values: waba_id first.
	labels  []string
	counter bool

	desc *prometheus.Desc
	// index is the family's place in allFamilies, sorted by name: the
	// order /metrics writes the collector's families in.
	index int
	// byName are the positions in labels sorted by label name, the order
	// client_golang writes a sample's labels in.
	byName []int
	// header is the family's # HELP and # TYPE lines, as client_golang
	// writes them, in the text format and in OpenMetrics.
	header [2][]byte
}

func newFamily(name, help string, counter bool, labels ...string) *family {
	f := &family{name: prometheus.BuildFQName(namespace, "", name), help: help, labels: labels, counter: counter}
	f.desc = prometheus.NewDesc(f.name, f.help, f.labels, nil)
	f.byName = make([]int, len(labels))
	for i := range labels {
		f.byName[i] = i
	}
	slices.SortFunc(f.byName, func(a, b int) int { return cmp.Compare(labels[a], labels[b]) })
	return f
}

// newGauge and newCounter declare a family; a counter's name ends in _total.
func newGauge(name, help string, labels ...string) *family {
	return newFamily(name, help, false, labels...)
}

func newCounter(name, help string, labels ...string) *family {
	return newFamily(name, help, true, labels...)
}

func (f *family) valueType() prometheus.ValueType {
	if f.counter {
		return prometheus.CounterValue
	}
	return prometheus.GaugeValue
}

// openMetricsName is the family's name in OpenMetrics, where a counter's
// family is its samples' name without _total.
func (f *family) openMetricsName() string {
	if f.counter {
		return strings.TrimSuffix(f.name, "_total")
	}
	return f.name
}

// The exposition formats the handler writes.
const (
	textFormat = iota
	openMetricsFormat
)

// Help texts are escaped as expfmt escapes them: backslash and line feed in
// the text format, and the double quote too in OpenMetrics
// (expfmt.MetricFamilyToText, expfmt.MetricFamilyToOpenMetrics).
var (
	textHelpEscaper        = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	openMetricsHelpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

// indexFamilies sorts the families by name, numbers them in that order and
// writes their headers. Every name must be a legacy Prometheus name, which
// both formats write unquoted, and each counter's must end in _total, the
// OpenMetrics counter's sample suffix: client_golang would write either case
// differently, and the hand-written samples would no longer match it.
func indexFamilies(families []*family) []*family {
	families = slices.Clone(families)
	slices.SortFunc(families, func(a, b *family) int { return strings.Compare(a.name, b.name) })
	for i, f := range families {
		if i > 0 && families[i-1].name == f.name {
			panic(fmt.Sprintf("collector: family %s declared twice", f.name))
		}
		if !model.LegacyValidation.IsValidMetricName(f.name) || (f.counter && !strings.HasSuffix(f.name, "_total")) {
			panic(fmt.Sprintf("collector: family name %q cannot be pre-rendered", f.name))
		}
		for _, l := range f.labels {
			if !model.LegacyValidation.IsValidLabelName(l) {
				panic(fmt.Sprintf("collector: label name %q of %s cannot be pre-rendered", l, f.name))
			}
		}
		typ := "gauge"
		if f.counter {
			typ = "counter"
		}
		f.index = i
		f.header[textFormat] = fmt.Appendf(nil, "# HELP %s %s\n# TYPE %s %s\n", f.name, textHelpEscaper.Replace(f.help), f.name, typ)
		om := f.openMetricsName()
		f.header[openMetricsFormat] = fmt.Appendf(nil, "# HELP %s %s\n# TYPE %s %s\n", om, openMetricsHelpEscaper.Replace(f.help), om, typ)
	}
	return families
}
