package fakeapi

import (
	"time"
)

// FaultKind is a way for the fake to misbehave.
type FaultKind int

const (
	// RateLimit answers with a Graph rate-limit error: Code (default 4),
	// HTTP Status (default 429 for code 4, 400 otherwise), and a usage
	// header asking to wait RegainMinutes.
	RateLimit FaultKind = iota + 1
	// ServerError answers 503 with an HTML page, as a load balancer does.
	ServerError
	// Malformed answers 200 with JSON cut off in the middle.
	Malformed
	// WrongTypes answers 200 with a count spelled as a string.
	WrongTypes
	// Slow answers after Delay.
	Slow
	// Hang never answers; only the client's timeout ends the request.
	Hang
	// InvalidToken answers Graph's code 190, as for an expired token.
	InvalidToken
	// EndlessPages links every page to another one.
	EndlessPages
	// Huge answers 200 with a valid body of Size bytes.
	Huge
	// ForeignNext links the next page to a host that is not the API.
	ForeignNext
	// EchoToken answers an error whose message quotes the bearer token, as
	// a careless proxy might.
	EchoToken
)

// Fault is one injected misbehaviour of the fake, for one WABA.
type Fault struct {
	Kind FaultKind
	// Times is how many requests the fault spoils; 0 means until cleared.
	Times int
	// Op, when set, spoils only the requests of that field or edge
	// (phone_numbers, conversation_analytics, ...); the others pass.
	Op string

	Code          int           // RateLimit: the Graph error code
	Status        int           // RateLimit: the HTTP status
	RegainMinutes int           // RateLimit: estimated_time_to_regain_access
	Delay         time.Duration // Slow
	Size          int           // Huge
}

// Inject makes the fake misbehave for one WABA's requests. Faults queue:
// a fault with Times > 0 gives way to the next one once spent.
func (c *core) Inject(wabaID string, f Fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults[wabaID] = append(c.faults[wabaID], &f)
}

// Clear removes all faults of a WABA: the fault ends.
func (c *core) Clear(wabaID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.faults, wabaID)
}

// takeFault returns the fault that spoils the current request, of field or
// edge op, if any: the first queued one that applies to op.
func (c *core) takeFault(wabaID, op string) *Fault {
	queue := c.faults[wabaID]
	for i, f := range queue {
		if f.Op != "" && f.Op != op {
			continue
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				c.faults[wabaID] = append(queue[:i:i], queue[i+1:]...)
			}
		}
		copied := *f
		return &copied
	}
	return nil
}
