package scheduler

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// tally is what one account's requests met: counts of responses and errors
// since the start, the rate-limit usage the API reported, and the longest
// wait it asked for during the current refresh. The provider reports to it
// through an observer per family.
type tally struct {
	// wabaID is the account's: usage reports of other objects are not
	// its own.
	wabaID   string
	mu       sync.Mutex
	requests map[analytics.Outcome]float64
	errors   map[analytics.Outcome]float64
	// usage is what the latest finished refresh reported, current what
	// the refresh under way has reported so far, by budget type.
	usage, current map[string]provider.Usage
	// wait is the longest wait the usage reports of the current refresh
	// asked for (0: none).
	wait time.Duration
	// served is the API version the latest answer that named one was
	// served in.
	served string
	// unanswered says the latest request got no answer at all.
	unanswered bool
	// sent counts the requests sent since the start.
	sent float64
}

func newTally(wabaID string) *tally {
	return &tally{
		wabaID:   wabaID,
		requests: map[analytics.Outcome]float64{},
		errors:   map[analytics.Outcome]float64{},
		usage:    map[string]provider.Usage{},
		current:  map[string]provider.Usage{},
	}
}

// startRefresh begins a refresh. The usage reports of the last one hold
// until it ends, and then only those it repeated: Graph sends its usage
// headers only while usage is high, and a report that is not repeated no
// longer holds (it must not keep an alert firing on its last value).
func (t *tally) startRefresh() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.current = map[string]provider.Usage{}
	t.wait = 0
}

// endRefresh makes the current refresh's usage reports the ones that hold.
// A refresh that retried some families only adds to them: the others were
// not asked, so their answers' reports were not denied.
func (t *tally) endRefresh(full bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if full {
		t.usage = t.current
	} else {
		maps.Copy(t.usage, t.current)
	}
	t.current = map[string]provider.Usage{}
}

// pressure is the highest share of its own budget, in percent, that the
// usage reports of the last refresh and of the one under way say the
// account has used; 0 when none said.
func (t *tally) pressure() float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	most := 0.0
	for _, u := range t.usage {
		if u.Type != "app" {
			most = max(most, u.CallCount, u.TotalCPUTime, u.TotalTime)
		}
	}
	for _, u := range t.current {
		if u.Type == "app" {
			continue // the app's budget is the host's concern (the throttle's)
		}
		most = max(most, u.CallCount, u.TotalCPUTime, u.TotalTime)
	}
	return most
}

func (t *tally) throttledFor() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.wait
}

// counts returns copies of the counts, and the usage reports that hold:
// those of the last finished refresh, updated by the one under way.
func (t *tally) counts() (requests, errs map[analytics.Outcome]float64, usage []provider.Usage) {
	t.mu.Lock()
	defer t.mu.Unlock()
	merged := maps.Clone(t.usage)
	maps.Copy(merged, t.current)
	for _, k := range slices.Sorted(maps.Keys(merged)) {
		usage = append(usage, merged[k])
	}
	return maps.Clone(t.requests), maps.Clone(t.errors), usage
}

// observer binds a tally to one family, for provider.WithObserver.
type observer struct {
	t      *tally
	family provider.Family
}

func (o observer) ObserveResponse(code string) {
	o.t.mu.Lock()
	defer o.t.mu.Unlock()
	o.t.requests[analytics.Outcome{Family: o.family, Code: code}]++
	o.t.unanswered = code == provider.NoResponse
	o.t.sent++
}

// noAnswer reports whether the account's latest request got no answer.
func (t *tally) noAnswer() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.unanswered
}

// requestsSent is how many requests the account has sent since the start.
func (t *tally) requestsSent() float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sent
}

func (o observer) ObserveError(code string) {
	o.t.mu.Lock()
	defer o.t.mu.Unlock()
	o.t.errors[analytics.Outcome{Family: o.family, Code: code}]++
}

// ObserveUsage keeps the latest report of each budget type, figure by
// figure (a report that leaves a figure out does not erase it), and notes
// the wait it asks for. Graph reports the share of the budget used in
// percent, and the minutes until access returns once it is cut; either one
// at its limit backs the account off.
func (o observer) ObserveUsage(u provider.Usage) {
	if u.Object != "" && u.Object != o.t.wabaID {
		// Another object's budget (Graph's header may name several):
		// not this account's to back off for.
		return
	}
	o.t.mu.Lock()
	defer o.t.mu.Unlock()
	u.Type = clean(u.Type)
	if prev, ok := o.t.current[u.Type]; ok {
		for _, f := range []struct{ now, before *float64 }{
			{&u.CallCount, &prev.CallCount}, {&u.TotalCPUTime, &prev.TotalCPUTime}, {&u.TotalTime, &prev.TotalTime},
		} {
			if *f.now < 0 {
				*f.now = *f.before
			}
		}
	}
	o.t.current[u.Type] = u
	wait := u.RegainAccess
	if wait <= 0 && max(u.CallCount, u.TotalCPUTime, u.TotalTime) >= 100 {
		wait = time.Nanosecond // at the limit, no time given: the usual backoff
	}
	o.t.wait = max(o.t.wait, wait)
}

// ObserveVersion keeps the latest version an answer was served in: all of
// an account's answers come from one API, so the latest stands for all.
// Family binds the tally to another family: the further pages of a
// request for several families count as their own family's.
func (o observer) Family(f provider.Family) provider.Observer {
	return observer{t: o.t, family: f}
}

func (o observer) ObserveVersion(v string) {
	o.t.mu.Lock()
	defer o.t.mu.Unlock()
	o.t.served = clean(v)
}

func (t *tally) servedVersion() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.served
}
