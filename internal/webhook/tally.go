package webhook

// The counts behind the webhook metrics, kept as plain maps under the
// receiver's lock and turned into const metrics on a scrape: a status costs
// a few map operations, and the series cap is one comparison.

// phone is the labels every webhook series has: the WABA and the business
// phone number, by ID and by its digits as the analytics label it.
type phone struct{ waba, phoneID, number string }

type statusKey struct {
	phone
	country, status string
}

type failureKey struct {
	phone
	code string
}

type pricingKey struct {
	phone
	category, typ string
}

// latencyBuckets are the upper bounds, in seconds, of the sent-to-delivered
// and sent-to-read histograms: a delivery takes seconds, a delivery to a
// phone that was off hours, a read minutes to days.
var latencyBuckets = []float64{1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400}

type histogram struct {
	counts [15]uint64 // per bucket of latencyBuckets, not cumulative; above the last: only in count
	sum    float64
	count  uint64
}

func (h *histogram) observe(seconds float64) {
	for i, le := range latencyBuckets {
		if seconds <= le {
			h.counts[i]++
			break
		}
	}
	h.sum += seconds
	h.count++
}

// cumulative is the histogram as client_golang's const histograms take it.
func (h *histogram) cumulative() map[float64]uint64 {
	out := make(map[float64]uint64, len(latencyBuckets))
	var n uint64
	for i, le := range latencyBuckets {
		n += h.counts[i]
		out[le] = n
	}
	return out
}

// tally is every count of the webhook metrics.
type tally struct {
	maxSeries   int
	statuses    map[statusKey]uint64
	failures    map[failureKey]uint64
	priced      map[pricingKey]uint64
	toDelivered map[phone]*histogram
	toRead      map[phone]*histogram
	duplicates  map[string]uint64 // by status
	skipped     map[string]uint64 // by reason
}

func newTally(maxSeries int) *tally {
	t := &tally{
		maxSeries: maxSeries,
		statuses:  map[statusKey]uint64{}, failures: map[failureKey]uint64{}, priced: map[pricingKey]uint64{},
		toDelivered: map[phone]*histogram{}, toRead: map[phone]*histogram{},
		duplicates: map[string]uint64{}, skipped: map[string]uint64{},
	}
	// Every status and reason is exported from the start, at 0, so that a
	// rate of them is 0 rather than absent until the first one.
	for _, s := range statusNames {
		t.duplicates[s] = 0
	}
	for _, r := range skipReasons {
		t.skipped[r] = 0
	}
	return t
}

func (t *tally) series() int {
	return len(t.statuses) + len(t.failures) + len(t.priced) + len(t.toDelivered) + len(t.toRead)
}

// effects is what counting one status does.
type effects struct {
	status           statusKey
	impliedDelivered bool // a read whose delivered Meta did not send
	failure          *failureKey
	pricing          *pricingKey
	toDelivered      float64 // seconds; < 0: none to observe
	toRead           float64
}

// newSeries is how many series the effects would add.
func (t *tally) newSeries(e *effects) int {
	n := 0
	if _, ok := t.statuses[e.status]; !ok {
		n++
	}
	if e.impliedDelivered {
		k := e.status
		k.status = statusDelivered
		if _, ok := t.statuses[k]; !ok {
			n++
		}
	}
	if e.failure != nil {
		if _, ok := t.failures[*e.failure]; !ok {
			n++
		}
	}
	if e.pricing != nil {
		if _, ok := t.priced[*e.pricing]; !ok {
			n++
		}
	}
	if _, ok := t.toDelivered[e.status.phone]; e.toDelivered >= 0 && !ok {
		n++
	}
	if _, ok := t.toRead[e.status.phone]; e.toRead >= 0 && !ok {
		n++
	}
	return n
}

func (t *tally) apply(e *effects) {
	t.statuses[e.status]++
	if e.impliedDelivered {
		k := e.status
		k.status = statusDelivered
		t.statuses[k]++
	}
	if e.failure != nil {
		t.failures[*e.failure]++
	}
	if e.pricing != nil {
		t.priced[*e.pricing]++
	}
	observe := func(m map[phone]*histogram, seconds float64) {
		if seconds < 0 {
			return
		}
		h := m[e.status.phone]
		if h == nil {
			h = &histogram{}
			m[e.status.phone] = h
		}
		h.observe(seconds)
	}
	observe(t.toDelivered, e.toDelivered)
	observe(t.toRead, e.toRead)
}

// count counts one status, once: a status of a message the window already
// counted is a duplicate. country is the recipient's.
func (t *tally) count(w *window, s *Status, country string) {
	key := w.key(s)
	rec, known := w.get(key)
	bit := statusBit(s.Status)
	if rec.seen&bit != 0 {
		t.duplicates[s.Status]++
		return
	}
	p := phone{s.WABAID, s.PhoneNumberID, s.PhoneNumber}
	e := effects{status: statusKey{p, country, s.Status}, toDelivered: -1, toRead: -1}
	since := func(from, to uint32) float64 {
		if from == 0 || to == 0 {
			return -1
		}
		// Statuses carry whole seconds, and a delivery can be stamped
		// the second before its sent: that is no delivery at all.
		return max(float64(to)-float64(from), 0)
	}
	next := rec
	next.seen |= bit
	switch s.Status {
	case statusSent:
		next.sent = s.Time
		e.toDelivered, e.toRead = since(s.Time, rec.delivered), since(s.Time, rec.read)
	case statusDelivered:
		next.delivered = s.Time
		e.toDelivered = since(rec.sent, s.Time)
	case statusRead:
		next.read = s.Time
		e.toRead = since(rec.sent, s.Time)
		// Meta does not send delivered for a message read as it arrived
		// (the status webhook reference): read implies delivered. Only for
		// a message the window knows: a read of one it forgot may well
		// follow a delivered counted long ago. The implied delivery is not
		// timed: a delivered that is only late would come with its time.
		if known && rec.seen&seenDelivered == 0 {
			e.impliedDelivered = true
			next.seen |= seenDelivered
		}
	case statusFailed:
		e.failure = &failureKey{p, s.ErrorCode}
	}
	if s.PricingCategory != "" || s.PricingType != "" {
		if !rec.priced {
			e.pricing = &pricingKey{p, s.PricingCategory, s.PricingType}
			next.priced = true
		}
	}
	if t.series()+t.newSeries(&e) > t.maxSeries {
		t.skipped[skipSeriesLimit]++
		return
	}
	t.apply(&e)
	w.put(key, next)
}
