package scheduler

// The month-to-date counters: what they add up, against a scripted API
// whose buckets each step changes.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
)

// script is a Graph API whose messaging buckets the test sets: sent per
// half hour, by the bucket's start. It answers what a request's window
// holds, and only buckets that have ended, as Meta does; down makes it fail.
type script struct {
	mu      sync.Mutex
	now     func() time.Time
	sent    map[time.Time]float64
	down    bool
	failOld time.Time // when set, requests that start before it are too much data
}

func (s *script) set(start time.Time, sent float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent[start] = sent
}

func (s *script) respond(op string, q url.Values) (int, http.Header, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if op != "analytics" {
		return notFound(op)
	}
	var from, to int64
	fmt.Sscanf(q.Get("fields")[strings.Index(q.Get("fields"), ".start("):], ".start(%d).end(%d)", &from, &to)
	if s.down {
		return http.StatusServiceUnavailable, nil, "<html>503</html>"
	}
	if !s.failOld.IsZero() && time.Unix(from, 0).Before(s.failOld) {
		// What Graph answers a request too costly to compute.
		return http.StatusInternalServerError, nil, `{"error":{"message":"Please reduce the amount of data you're asking for, then retry your request","type":"OAuthException","code":1,"is_transient":true}}`
	}
	var starts []time.Time
	for start := range s.sent {
		end := start.Add(30 * time.Minute)
		if !start.Before(time.Unix(from, 0)) && start.Before(time.Unix(to, 0)) && !end.After(s.now()) {
			starts = append(starts, start)
		}
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i].Before(starts[j]) })
	var points []string
	for _, start := range starts {
		// Delivered stays 1, so that only the sent series changes.
		points = append(points, point(start.Unix(), start.Add(30*time.Minute).Unix(), fmt.Sprintf(`"sent":%g,"delivered":1`, s.sent[start])))
	}
	return ok(`{"analytics":{"data_points":[` + strings.Join(points, ",") + `]},"id":"1001"}`)
}

// monthFixture is a clock, the scripted API, and an exporter of one WABA's
// messaging against it, which restart replaces as a restarted process would.
type monthFixture struct {
	t   *testing.T
	clk *clock
	api *script
	url string
	e   *exporter
}

func newMonthFixture(t *testing.T, now time.Time) *monthFixture {
	f := &monthFixture{t: t, clk: newClock(now)}
	f.api = &script{now: f.clk.Now, sent: map[time.Time]float64{}}
	f.url = startStub(t, f.api.respond)
	f.restart()
	return f
}

func (f *monthFixture) restart() {
	f.e = newExporter([]Target{metaTarget(f.t, testAccount(f.t, wabaA, f.url, "token", chain(onlyFamilies("messaging"), func(a *config.Account) {
		a.MaxDataAge = 30 * 24 * time.Hour // these tests are not about staleness
	})))}, Options{Now: f.clk.Now})
}

func (f *monthFixture) refresh() { f.e.pollers[0].refresh(context.Background()) }

// total is whatsapp_messages_sent_total, and whether it is exposed.
func (f *monthFixture) total() (float64, bool) {
	return metricValue(f.t, f.e, "whatsapp_messages_sent_total")
}

// metricValue is the value of the one series of a metric in c, and whether
// there is one.
func metricValue(t *testing.T, c prometheus.Collector, name string) (float64, bool) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
		if len(mf.Metric) != 1 {
			t.Fatalf("%s has %d series, want 1", name, len(mf.Metric))
		}
		m := mf.Metric[0]
		if m.Counter != nil {
			return m.Counter.GetValue(), true
		}
		return m.Gauge.GetValue(), true
	}
	return 0, false
}

func (f *monthFixture) wantTotal(step string, want float64) {
	f.t.Helper()
	got, ok := f.total()
	if !ok || got != want {
		f.t.Errorf("%s: whatsapp_messages_sent_total = %g (exposed %v), want %g", step, got, ok, want)
	}
}

// halfHours sets n buckets of sent from start on.
func (f *monthFixture) halfHours(start time.Time, n int, sent float64) {
	for i := range n {
		f.api.set(start.Add(time.Duration(i)*30*time.Minute), sent)
	}
}

// monthSoFar is what the counter must read now, computed from the script
// alone: the sent of every bucket that started this month (UTC) and ended
// by the cutoff, 30 minutes (the default delay) before now.
func (f *monthFixture) monthSoFar() float64 {
	f.api.mu.Lock()
	defer f.api.mu.Unlock()
	now := f.clk.Now()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	sum := 0.0
	for start, sent := range f.api.sent {
		if !start.Before(month) && !start.Add(30*time.Minute).After(now.Add(-30*time.Minute)) {
			sum += sent
		}
	}
	return sum
}

var june = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

// The counter is the sum of the month's buckets so far, fetched in full at
// the first refresh, and it follows new buckets, late rows and upward
// revisions by exactly their amount.
func TestMonthToDateLateRowsAndRevisionsUp(t *testing.T) {
	now := june.Add(3*24*time.Hour + 12*time.Hour + 10*time.Minute) // June 4, 12:10
	f := newMonthFixture(t, now)
	// Every half hour of June so far sent 2; May's last day sent 100,
	// which June's counter must not include.
	f.halfHours(june, 3*48+24, 2)
	f.halfHours(june.Add(-24*time.Hour), 48, 100)
	f.refresh()
	month := f.monthSoFar()
	if month != (3*48+23)*2 {
		t.Fatalf("the script's month so far is %g; the test is wrong", month)
	}
	f.wantTotal("first refresh", month)

	// Half an hour on, 11:30-12:00 is complete; a late row raises
	// 11:00-11:30 by 5, and 09:00-09:30 is revised up by 1.
	f.clk.Add(30 * time.Minute)
	f.api.set(june.Add(3*24*time.Hour+11*time.Hour), 7)
	f.api.set(june.Add(3*24*time.Hour+9*time.Hour), 3)
	f.refresh()
	f.wantTotal("late row, upward revision and a new bucket", month+2+5+1)
	if v, _ := metricValue(t, f.e, "whatsapp_exporter_downward_revisions_total"); v != 0 {
		t.Errorf("%g downward revisions counted, want none", v)
	}
}

// A downward revision never lowers the counter: the bucket keeps its highest
// value, and the revision is counted once. A later rise above that highest
// value counts again from there.
func TestMonthToDateRevisionDown(t *testing.T) {
	now := june.Add(12*time.Hour + 10*time.Minute)
	f := newMonthFixture(t, now)
	f.halfHours(june, 23, 10)
	bucket := june.Add(10 * time.Hour)
	f.refresh()
	month := f.monthSoFar()
	f.wantTotal("first refresh", month)

	for _, step := range []struct {
		name      string
		sent      float64
		total     float64
		revisions float64
	}{
		{"revised down to 4", 4, month, 1},
		{"still 4: no new revision", 4, month, 1},
		{"up to 8, still below the 10 counted", 8, month, 1},
		{"down again to 6", 6, month, 2},
		{"up to 13, above the 10 counted", 13, month + 3, 2},
	} {
		f.api.set(bucket, step.sent)
		f.refresh()
		f.wantTotal(step.name, step.total)
		if v, _ := metricValue(t, f.e, "whatsapp_exporter_downward_revisions_total"); v != step.revisions {
			t.Errorf("%s: %g downward revisions, want %g", step.name, v, step.revisions)
		}
	}
}

// After a restart the counter is recomputed from the API: it is absent
// until the month so far is fetched in full, and then it is what it was
// plus what happened while the exporter was down, never less. The
// newest-bucket gauges need only the recent buckets: they do not wait.
func TestMonthToDateRestart(t *testing.T) {
	now := june.Add(5*24*time.Hour + 12*time.Hour + 10*time.Minute)
	f := newMonthFixture(t, now)
	f.halfHours(june, 5*48+24, 1)
	f.refresh()
	f.wantTotal("before the restart", f.monthSoFar())
	before, _ := f.total()

	// Down for two days, in which every half hour sent 3; the first
	// refresh after the restart fails to fetch the older part of the
	// month.
	f.clk.Add(48 * time.Hour)
	f.halfHours(june.Add(5*24*time.Hour+12*time.Hour), 96, 3)
	f.restart()
	f.api.failOld = june.Add(24 * time.Hour)
	f.refresh()
	if v, ok := f.total(); ok {
		t.Errorf("the counter is exposed (%g) before the month so far is fetched in full", v)
	}
	if _, ok := metricValue(t, f.e, "whatsapp_messages_sent_newest"); !ok {
		t.Error("no newest-bucket gauge: it waits for the month so far, which it does not need")
	}
	f.api.failOld = time.Time{}
	f.refresh()
	f.wantTotal("after the restart", f.monthSoFar())
	if after, _ := f.total(); after <= before {
		t.Errorf("the counter went from %g to %g across the restart: Prometheus would read a reset, or the days down are missing", before, after)
	}
}

// An outage longer than the buckets refetched each time opens a gap: the
// buckets the exporter could not fetch are fetched once it can again, so
// the counter loses none of them; meanwhile it keeps its value.
func TestMonthToDateOutageGap(t *testing.T) {
	now := june.Add(2*24*time.Hour + 12*time.Hour + 10*time.Minute)
	f := newMonthFixture(t, now)
	f.halfHours(june, 2*48+24, 1)
	f.refresh()
	before := f.monthSoFar()
	f.wantTotal("before the outage", before)

	f.api.down = true
	for range 8 { // 8 hours of failed refreshes, each hour sending 2 a half hour
		f.clk.Add(time.Hour)
		f.halfHours(f.clk.Now().Truncate(time.Hour).Add(-time.Hour), 2, 2)
		f.refresh()
	}
	f.wantTotal("during the outage", before)
	f.api.down = false
	f.refresh()
	f.wantTotal("after the outage", f.monthSoFar())
	if f.monthSoFar() < before+8*2*2-2 {
		t.Fatalf("the script sent %g during the outage; the test is wrong", f.monthSoFar()-before)
	}
}

// At the start of a month the counter starts again from that month's
// buckets, which Prometheus reads as a reset; the previous month's buckets
// no longer count, even if they change.
func TestMonthToDateMonthBoundary(t *testing.T) {
	july := june.AddDate(0, 1, 0)
	f := newMonthFixture(t, july.Add(-80*time.Minute)) // June 30, 22:40
	f.halfHours(june, 30*48, 1)
	f.refresh()
	f.wantTotal("June", f.monthSoFar())

	f.clk.Set(july.Add(2*time.Hour + 10*time.Minute))
	f.halfHours(july, 3, 5)
	f.api.set(july.Add(-30*time.Minute), 50) // a late change to June
	f.refresh()
	f.wantTotal("July", 15)
}

// A WABA quiet for days has no newest bucket to report, but its counter
// keeps the month's sum: nothing was sent, so nothing was added.
func TestMonthToDateQuietForDays(t *testing.T) {
	f := newMonthFixture(t, june.Add(12*time.Hour+10*time.Minute))
	f.halfHours(june, 23, 4)
	f.refresh()
	month := f.monthSoFar()
	f.wantTotal("before the quiet days", month)
	f.clk.Add(3 * 24 * time.Hour)
	f.refresh()
	f.wantTotal("after three quiet days", month)
	if v, ok := metricValue(t, f.e, "whatsapp_messages_sent_newest"); ok {
		t.Errorf("a newest bucket (%g) after three days without data; want none within the lookback", v)
	}
}
