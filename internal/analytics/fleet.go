package analytics

import "time"

// Fleet is what the scheduler measures of all its accounts together: how
// many there are, how many wait for their turn to refresh, and how long the
// last cycle of refreshing each of them once took, against the interval it
// must fit.
type Fleet struct {
	Accounts int
	// Waiting is how many accounts are due and wait for a place to
	// refresh in; Refreshing how many refresh now.
	Waiting, Refreshing int
	// Cycles counts the cycles completed since the start; CycleDuration
	// and CycleRequests describe the last one, and are zero before the
	// first ends.
	Cycles int
	// CycleDuration is how long the last cycle took; CycleInterval the
	// longest interval of its accounts, which it must fit; CycleRequests
	// the API requests of the fleet during it.
	CycleDuration, CycleInterval time.Duration
	CycleRequests                float64
	// CycleElapsed is how long the cycle under way has run: a first cycle
	// that does not fit shows here before it ends.
	CycleElapsed time.Duration
}
