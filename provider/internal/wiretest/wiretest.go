// Package wiretest holds what the providers' tests share about answers on
// the wire. It is imported by tests only.
package wiretest

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Respell decodes a JSON body and encodes it again, with every number under
// one of keys spelled as a string ("12") when asStrings. Keys match without
// regard to case, as encoding/json matches fields. Both spellings of a body
// go through the same round trip, so that what it changes (key order, the
// last of duplicate keys) changes both alike. n is how many numbers were
// respelled; ok is false if body is not JSON.
func Respell(body []byte, asStrings bool, keys ...string) (out []byte, n int, ok bool) {
	if !json.Valid(body) {
		return nil, 0, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil, 0, false
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
			for _, k := range keys {
				if asStrings && strings.EqualFold(key, k) {
					n++
					return string(v)
				}
			}
		}
		return v
	}
	out, err := json.Marshal(spell(v, ""))
	return out, n, err == nil
}
