package backfill

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/whatsapp-exporter/whatsapp_exporter/collector"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// The backfilled series must be the live exporter's, name for name and
// label for label, or history and live data would not join. Rather than
// restate the collector's names, labels and help texts, the schema asks the
// collector itself: it renders a snapshot holding one marked value of each
// measure, and reads back under which family, with which labels, each
// marked value came out.

// family is one metric family as the exporter exposes it in OpenMetrics.
type family struct {
	// name is the family's name: for a counter, without _total, which its
	// samples add.
	name, help string
	counter    bool
	// labels are the label names after waba_id, in the order written,
	// and fields the Dimensions field each one reads.
	labels []string
	fields []int
}

// sampleName is the name of the family's samples.
func (f *family) sampleName() string {
	if f.counter {
		return f.name + "_total"
	}
	return f.name
}

// schema is every family the backfill writes.
type schema struct {
	// newest and total are each measure's gauge and counter (nil for a
	// measure without a counter).
	newest, total map[analytics.Measure]*family
	bucketEnd     *family
	accountInfo   *family
	// order lists every family by name: the order of the output.
	order []*family
}

// measures lists every analytics measure.
var measures = func() []analytics.Measure {
	var out []analytics.Measure
	for m := analytics.MessagesSent; m <= analytics.CallAverageDuration; m++ {
		out = append(out, m)
	}
	return out
}()

// dimensionFields is the number of fields of analytics.Dimensions, each a
// string.
var dimensionFields = reflect.TypeFor[analytics.Dimensions]().NumField()

// marker is the label value that stands for Dimensions field i in the
// probe.
func marker(i int) string { return fmt.Sprintf("\x00field%d", i) }

func dimension(d *analytics.Dimensions, i int) string {
	return reflect.ValueOf(d).Elem().Field(i).String()
}

// newSchema probes the collector.
func newSchema() (*schema, error) {
	var probe analytics.Dimensions
	for i := range dimensionFields {
		reflect.ValueOf(&probe).Elem().Field(i).SetString(marker(i))
	}
	r := &analytics.Refresh{Success: true, LastSuccess: time.Unix(1, 0), BucketEnd: time.Unix(1, 0), MonthToDate: &analytics.MonthToDate{}}
	for _, m := range measures {
		// The value names the measure: 1 + its number.
		v := analytics.Value{Measure: m, Dimensions: probe, Value: float64(m) + 1}
		r.Values = append(r.Values, v)
		if m.Additive() {
			r.MonthToDate.Values = append(r.MonthToDate.Values, v)
		}
	}
	c := collector.New(collector.Options{Now: func() time.Time { return time.Unix(2, 0) }})
	c.Publish(&analytics.Snapshot{WABAID: "waba", Name: "name", Provider: "provider", Currency: "currency",
		Families: map[provider.Family]*analytics.Refresh{provider.Messaging: r}})
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	gathered, err := reg.Gather()
	if err != nil {
		return nil, err
	}
	s := &schema{newest: map[analytics.Measure]*family{}, total: map[analytics.Measure]*family{}}
	for _, mf := range gathered {
		f := &family{name: mf.GetName(), help: mf.GetHelp(), counter: mf.GetType() == dto.MetricType_COUNTER}
		if len(mf.Metric) != 1 {
			continue // per-family health metrics: not backfilled
		}
		m := mf.Metric[0]
		switch {
		case f.name == "whatsapp_bucket_end_timestamp_seconds":
			f.labels = []string{"family"}
			s.bucketEnd = f
		case f.name == "whatsapp_exporter_account_info":
			// The probe named the account by its labels' own names.
			for _, lp := range m.GetLabel() {
				if lp.GetName() != "waba_id" && lp.GetName() != lp.GetValue() {
					return nil, fmt.Errorf("collector family %s: label %s is not what the backfill expects", f.name, lp.GetName())
				}
			}
			f.labels = []string{"currency", "name", "provider"}
			s.accountInfo = f
		case strings.HasPrefix(f.name, "whatsapp_exporter_"):
			continue
		default:
			if err := f.readLabels(m); err != nil {
				return nil, fmt.Errorf("collector family %s: %w", f.name, err)
			}
			measure := analytics.Measure(m.GetGauge().GetValue() - 1)
			if f.counter {
				measure = analytics.Measure(m.GetCounter().GetValue() - 1)
				f.name = strings.TrimSuffix(f.name, "_total")
				s.total[measure] = f
			} else {
				s.newest[measure] = f
			}
		}
		s.order = append(s.order, f)
	}
	for _, m := range measures {
		if s.newest[m] == nil || m.Additive() != (s.total[m] != nil) {
			return nil, fmt.Errorf("the collector exports measure %d unlike the backfill expects", m)
		}
	}
	if s.bucketEnd == nil || s.accountInfo == nil {
		return nil, fmt.Errorf("the collector exports no bucket end or account info")
	}
	slices.SortFunc(s.order, func(a, b *family) int { return strings.Compare(a.name, b.name) })
	return s, nil
}

// readLabels maps the probe's label values back to the Dimensions fields
// they came from.
func (f *family) readLabels(m *dto.Metric) error {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == "waba_id" {
			continue
		}
		field := -1
		for i := range dimensionFields {
			if lp.GetValue() == marker(i) {
				field = i
			}
		}
		if field < 0 {
			return fmt.Errorf("label %s holds no dimension", lp.GetName())
		}
		f.labels = append(f.labels, lp.GetName())
		f.fields = append(f.fields, field)
	}
	return nil
}

func setDimensions(d *analytics.Dimensions, values []string) {
	v := reflect.ValueOf(d).Elem()
	for i, s := range values {
		v.Field(i).SetString(s)
	}
}
