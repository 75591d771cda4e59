package fakeapi

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"
)

// point is one entry of a data_points array of the analytics, conversation,
// pricing or call analytics fields; its family says what its values are
// called.
type point struct {
	start, end int64
	// v are the counts, in the order of the family's names.
	v [2]float64
	// costUnits is the cost in the family's units (costDigits decimals).
	costUnits int64
	hasCost   bool
	// row is the point's row of sel, which holds its breakdown values;
	// points without breakdowns have no sel.
	row int32
	sel *selection
}

// family is how one analytics field spells its data points.
type family struct {
	counts []string
	dims   []string
	// costDigits is the decimals of its cost.
	costDigits int
}

var (
	messagingFamily    = &family{counts: []string{"sent", "delivered"}}
	conversationFamily = &family{counts: []string{"conversation"}, costDigits: costDigits,
		dims: []string{"phone_number", "country", "conversation_category", "conversation_type", "conversation_direction"}}
	pricingFamily = &family{counts: []string{"volume"}, costDigits: costDigits,
		dims: []string{"phone_number", "country", "pricing_category", "pricing_type", "tier"}}
	callFamily = &family{counts: []string{"count", "average_duration"}, costDigits: callCostDigits}
)

// appendDims appends the members of the dimension values asked for.
func (f *family) appendDims(b []byte, values []string) []byte {
	for j, v := range values {
		if v != "" {
			b = appendKey(b, f.dims[j])
			b = appendString(b, v)
		}
	}
	return b
}

// dim returns a point's value of a dimension, by its JSON name.
func (f *family) dim(p point, name string) string {
	if p.sel == nil {
		return ""
	}
	for i, d := range f.dims {
		if d == name {
			return p.sel.rows[p.row][i]
		}
	}
	return ""
}

// appendPoints appends points as a JSON array. The answers of a fleet are
// most of what the fake does, so they are written directly rather than
// through encoding/json's reflection.
func appendPoints(b []byte, f *family, points []point) []byte {
	if len(points) > 0 {
		size := 64
		if p := points[0]; p.sel != nil {
			size += len(p.sel.frags[p.row])
		}
		b = slices.Grow(b, len(points)*size)
	}
	var counts [2][]byte
	for j, name := range f.counts {
		counts[j] = appendKey(nil, name)
	}
	b = append(b, '[')
	var bucket []byte
	var start, end int64
	for i := range points {
		p := &points[i]
		if i > 0 {
			b = append(b, ',')
		}
		if bucket == nil || p.start != start || p.end != end {
			// A bucket's points all begin alike: spell it once.
			start, end = p.start, p.end
			bucket = append(bucket[:0], `{"start":`...)
			bucket = strconv.AppendInt(bucket, start, 10)
			bucket = append(bucket, `,"end":`...)
			bucket = strconv.AppendInt(bucket, end, 10)
		}
		b = append(b, bucket...)
		for j := range f.counts {
			b = append(b, counts[j]...)
			b = appendNumber(b, p.v[j])
		}
		if p.sel != nil {
			b = append(b, p.sel.frags[p.row]...)
		}
		if p.hasCost {
			b = append(b, `,"cost":`...)
			b = appendDecimal(b, p.costUnits, f.costDigits)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendNumber spells a count: a whole number as one, anything else as
// encoding/json does.
func appendNumber(b []byte, v float64) []byte {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.AppendInt(b, int64(v), 10)
	}
	return appendFloat(b, v)
}

// appendDecimal spells units/10^digits as a decimal without trailing
// zeros: the text reads back as the float64 nearest that decimal, which is
// what float64(units)/10^digits is.
func appendDecimal(b []byte, units int64, digits int) []byte {
	if units < 0 {
		b = append(b, '-')
		units = -units
	}
	scale := int64(1)
	for range digits {
		scale *= 10
	}
	b = strconv.AppendInt(b, units/scale, 10)
	frac := units % scale
	if frac == 0 {
		return b
	}
	for frac%10 == 0 {
		frac /= 10
		digits--
	}
	b = append(b, '.')
	text := strconv.AppendInt(nil, frac, 10)
	for range digits - len(text) {
		b = append(b, '0')
	}
	return append(b, text...)
}

func appendKey(b []byte, k string) []byte {
	b = append(b, ',')
	b = appendString(b, k)
	return append(b, ':')
}

// appendFloat spells a number as encoding/json does.
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-07 to e-7, as encoding/json writes it.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
			i++
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			i++
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
		}
	}
	return append(b, '"')
}

// answer is a JSON object written member by member into a buffer that
// the next answer reuses.
type answer struct {
	b       []byte
	members int
}

var answers = sync.Pool{New: func() any { return &answer{} }}

func newAnswer() *answer {
	a := answers.Get().(*answer)
	a.b, a.members = append(a.b[:0], '{'), 0
	return a
}

// free gives the buffer back once the answer is written (or dropped).
func (a *answer) free() {
	if cap(a.b) <= 4<<20 { // a huge one would stay in memory for good
		answers.Put(a)
	}
}

// member starts a member; its value is to be appended next.
func (a *answer) member(name string) {
	if a.members > 0 {
		a.b = append(a.b, ',')
	}
	a.members++
	a.b = appendString(a.b, name)
	a.b = append(a.b, ':')
}

// value appends a small value as encoding/json spells it.
func (a *answer) value(v any) {
	encoded, err := json.Marshal(v)
	if err != nil {
		panic(err) // the fake's own answers always encode
	}
	a.b = append(a.b, encoded...)
}

func (a *answer) set(name string, v any) {
	a.member(name)
	a.value(v)
}

// bytes closes the object and returns its text.
func (a *answer) bytes() []byte {
	return append(a.b, '}')
}

// writeBody answers a JSON body, spelled as a StringCounts fault spells it.
func writeBody(w http.ResponseWriter, status int, body []byte, f *Fault) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(spellCounts(body, f))
	w.Write([]byte{'\n'})
}

// writeJSON answers v encoded by encoding/json, for the fake's small or
// rare answers (errors, edges, templates).
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeValue(w, status, v, nil)
}

func writeValue(w http.ResponseWriter, status int, v any, f *Fault) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if err := enc.Encode(v); err != nil {
		panic(err) // the fake's own answers always encode
	}
	writeBody(w, status, bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), f)
}
