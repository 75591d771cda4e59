package fakeapi

import (
	"maps"
	"slices"
	"strings"
)

// Stats are what a fake saw of one WABA's requests. Each request is one
// call, as Meta counts calls (the fake has no batch endpoint).
type Stats struct {
	Requests int
	// ByOperation counts requests per analytics field or edge; a request
	// for several fields counts once, under their names joined by commas
	// in the order asked ("analytics,conversation_analytics").
	ByOperation map[string]int
	// ByField counts requests per field or edge asked for: a request for
	// several fields counts once for each.
	ByField map[string]int
	// ByHost counts requests per Host they were sent to: a fake served on
	// several listeners tells which one (which replica) asked.
	ByHost map[string]int
	// CredentialsInURL counts requests that carried a credential in the
	// query string, where proxies and access logs would see it.
	CredentialsInURL int
	// MaxTemplateIDs is the most template IDs one request asked for.
	MaxTemplateIDs int
	// MaxDaysPerRequest is the longest window one request asked for, in days.
	MaxDaysPerRequest float64
}

func newStats() *Stats {
	return &Stats{ByOperation: map[string]int{}, ByField: map[string]int{}, ByHost: map[string]int{}}
}

func (s *Stats) count(op, host string) {
	s.Requests++
	s.ByOperation[op]++
	for field := range strings.SplitSeq(op, ",") {
		s.ByField[field]++
	}
	s.ByHost[host]++
}

func (s *Stats) copy() Stats {
	copied := *s
	copied.ByOperation = maps.Clone(s.ByOperation)
	copied.ByField = maps.Clone(s.ByField)
	copied.ByHost = maps.Clone(s.ByHost)
	return copied
}

// Stats returns a copy of what the fake saw of a WABA's requests.
func (c *core) Stats(wabaID string) Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.stats[wabaID]
	if !ok {
		return newStats().copy()
	}
	return s.copy()
}

// Totals are what a fake saw of all requests, kept as they come so that
// reading them costs nothing however many WABAs the fake serves.
type Totals struct {
	// Requests counts every request: to a WABA (its node and edges) and
	// to a business's WABA listings.
	Requests        int
	WABARequests    int
	ListingRequests int
	// ByOperation, ByField and ByHost are as in Stats, over all WABAs and
	// listings (a listing's operation is its edge).
	ByOperation map[string]int
	ByField     map[string]int
	ByHost      map[string]int
	// WABAs is how many WABA IDs had at least one request (IDs the fake
	// does not hold, such as removed ones, included).
	WABAs int
}

type totals struct {
	requests, wabaRequests, listingRequests int
	all                                     *Stats
}

func newTotals() totals { return totals{all: newStats()} }

func (t *totals) count(op, host string, listing bool) {
	t.requests++
	if listing {
		t.listingRequests++
	} else {
		t.wabaRequests++
	}
	t.all.count(op, host)
}

// Totals returns what the fake saw of all requests.
func (c *core) Totals() Totals {
	c.mu.Lock()
	defer c.mu.Unlock()
	all := c.totals.all.copy()
	return Totals{
		Requests: c.totals.requests, WABARequests: c.totals.wabaRequests, ListingRequests: c.totals.listingRequests,
		ByOperation: all.ByOperation, ByField: all.ByField, ByHost: all.ByHost,
		WABAs: len(c.stats),
	}
}

// Calls is one WABA's requests in brief: how many, and the hosts they
// were sent to, sorted.
type Calls struct {
	Requests int
	Hosts    []string
}

// Calls returns every requested WABA's calls, in one pass under the lock:
// cheap enough to check thousands of WABAs at once, such as that each was
// asked by one replica only.
func (c *core) Calls() map[string]Calls {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]Calls, len(c.stats))
	for id, s := range c.stats {
		out[id] = Calls{Requests: s.Requests, Hosts: slices.Sorted(maps.Keys(s.ByHost))}
	}
	return out
}
