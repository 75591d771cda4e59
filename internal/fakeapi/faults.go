package fakeapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
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
	// StringCounts spoils nothing: the answer is the usual one, with every
	// count and cost spelled as a numeric string ("12", "0.0232"), as the
	// API has begun to send some of them.
	StringCounts
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

// countKeys are the fields of the analytics answers that hold a count or a
// cost, under both APIs' names.
var countKeys = map[string]bool{
	"sent": true, "delivered": true, "read": true, "clicked": true,
	"conversation": true, "volume": true, "cost": true, "count": true, "value": true,
}

// spellCounts returns an answer body as a StringCounts fault spells it, or
// unchanged under any other fault. The number's own JSON text goes into the
// string, so "12" reads as exactly the 12 it stands for.
func spellCounts(body []byte, f *Fault) []byte {
	if f == nil || f.Kind != StringCounts {
		return body
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		panic(err) // the fake's own answers always decode
	}
	var spell func(v any, key string) any
	spell = func(v any, key string) any {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				v[k] = spell(e, k)
			}
		case []any:
			for i, e := range v {
				v[i] = spell(e, "")
			}
		case json.Number:
			if countKeys[key] {
				return string(v)
			}
		}
		return v
	}
	spelled, err := json.Marshal(spell(v, ""))
	if err != nil {
		panic(err)
	}
	return spelled
}

// The faults both fakes answer the same way, whatever the API's own shape.

// serverError is the HTML page a proxy in front of an API answers with.
func serverError(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusServiceUnavailable)
	fmt.Fprint(w, "<html><body><h1>503 Service Unavailable</h1></body></html>")
}

// stall holds the request for the fault's delay; it reports whether the
// client went away meanwhile (then nothing more is to be written).
func stall(r *http.Request, f *Fault) (gone bool) {
	select {
	case <-time.After(f.Delay):
		return false
	case <-r.Context().Done():
		return true
	}
}

// writeHuge writes a JSON body of about size bytes: head, then padding,
// then tail, streamed so that no length is announced.
func writeHuge(w http.ResponseWriter, head string, size int, tail string) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, head)
	pad := strings.Repeat("x", 64<<10)
	for n := 0; n < size; n += len(pad) {
		if _, err := fmt.Fprint(w, pad); err != nil {
			return
		}
	}
	fmt.Fprint(w, tail)
}
