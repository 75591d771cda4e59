package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"
)

// Time is a timestamp as the analytics APIs spell it: Unix seconds as a JSON
// number (Graph) or as a string (Vonage messaging), or an RFC 3339 or
// YYYY-MM-DD string (Vonage templates and pricing). A time outside the years
// 1 to 9999 (those RFC 3339 can write) is refused, however spelled: no
// bucket is there, and near the ends of time.Time's range the bucket
// arithmetic would overflow into a bucket that ends before it starts.
type Time struct{ time.Time }

// The range a Time may take: from firstTime, up to before pastLastTime.
var (
	firstTime    = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	pastLastTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

func (t *Time) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	if secs, err := strconv.ParseInt(s, 10, 64); err == nil {
		// Compared as seconds: time.Unix wraps around far out.
		if firstTime.Unix() <= secs && secs < pastLastTime.Unix() {
			t.Time = time.Unix(secs, 0).UTC()
			return nil
		}
		return typeError(b, reflect.TypeFor[time.Time]())
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if parsed, err := time.Parse(layout, s); err == nil && !parsed.Before(firstTime) && parsed.Before(pastLastTime) {
			t.Time = parsed.UTC()
			return nil
		}
	}
	return typeError(b, reflect.TypeFor[time.Time]())
}

// typeError reports a value these types cannot take. It is an
// *json.UnmarshalTypeError because encoding/json then adds the path of the
// field to it, which an error of another type would lose. A short value is
// quoted so that the reader sees what came; a long one is only measured,
// never cut: the cut-off head of an echoed credential would escape the
// redaction of whole secrets.
func typeError(b []byte, want reflect.Type) error {
	kind, text := "number", string(b)
	if len(b) > 0 {
		switch b[0] {
		case '"':
			kind = "string"
			_ = json.Unmarshal(b, &text) // b is a valid JSON string: the decoder checked it
		case '{':
			kind = "object"
		case '[':
			kind = "array"
		case 't', 'f':
			kind = "bool"
		}
	}
	if len(text) > 40 {
		return &json.UnmarshalTypeError{Value: fmt.Sprintf("%s of %d bytes", kind, len(text)), Type: want}
	}
	return &json.UnmarshalTypeError{Value: fmt.Sprintf("%s %q", kind, text), Type: want}
}

// ID is an identifier that the APIs send as a string or as a bare number.
type ID string

func (id *ID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = ID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return typeError(b, reflect.TypeFor[string]())
	}
	*id = ID(n.String())
	return nil
}

// Number is a count or an amount as the APIs spell it: a JSON number, or the
// same number in a string ("12", "12.5"), as some answers send them. Anything
// else fails with the field's name. Use it as *Number: a field the API
// leaves out, or sends as null, stays nil (unknown), never 0.
//
// Only finite values pass. A string can spell what a JSON number cannot
// ("NaN", "Inf", "1e999"), and one NaN would poison every sum over it.
// Negative values pass as they come, whichever the spelling: the type
// settles how a value is written, not whether it is plausible, as plain
// numbers never were checked for sign either; refusing one would fail the
// whole family and hide its good rows.
type Number float64

func (n *Number) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil // as encoding/json does: null leaves the value alone
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	if !isNumber(s) {
		return typeError(b, reflect.TypeFor[float64]())
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		// Out of range (1e999): encoding/json refuses it as a float64 too.
		return typeError(b, reflect.TypeFor[float64]())
	}
	*n = Number(f)
	return nil
}

// Value is n as the provider types hold a count: nil, the unknown, stays nil.
func (n *Number) Value() *float64 { return (*float64)(n) }

// isNumber reports whether s is exactly a JSON number: not hex, "1_000",
// "+1" or "Inf", which strconv.ParseFloat would take, nor padded with
// spaces, which json.Valid would. A JSON value that starts with a minus or a
// digit is a number, and one that ends in a digit has no trailing space.
func isNumber(s string) bool {
	if s == "" {
		return false
	}
	first, last := s[0], s[len(s)-1]
	return (first == '-' || '0' <= first && first <= '9') && '0' <= last && last <= '9' && json.Valid([]byte(s))
}

// Paging is the paging object of Graph and of Vonage's Graph-like answers.
type Paging struct {
	Cursors struct {
		Before string `json:"before"`
		After  string `json:"after"`
	} `json:"cursors"`
	Next     string `json:"next"`
	Previous string `json:"previous"`
}
