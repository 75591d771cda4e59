package wire

// Fuzz tests of the JSON types and header parsing every provider relies on.
// Their seeds run with every go test; CI fuzzes each for a short while, and
// one runs longer with
//
//	go test -run '^$' -fuzz '^FuzzNumber$' -fuzztime 5m ./provider/internal/wire/

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// fixtureValues returns the raw JSON of every value the providers'
// fixtures (the reference documents' examples) hold under keys, to seed a
// fuzz target with.
func fixtureValues(f *testing.F, keys ...string) [][]byte {
	f.Helper()
	var files []string
	for _, pattern := range []string{"../../meta/testdata/*.json", "../../vonage/testdata/*.json"} {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		files = append(files, matches...)
	}
	if len(files) == 0 {
		f.Fatal("no fixtures found")
	}
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	var values [][]byte
	var walk func(v any, key string)
	walk = func(v any, key string) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				walk(e, k)
			}
		case []any:
			for _, e := range v {
				walk(e, "")
			}
		default:
			if want[key] {
				raw, err := json.Marshal(v)
				if err != nil {
					f.Fatal(err)
				}
				values = append(values, raw)
			}
		}
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) == nil { // the quirks are not JSON: skipped
			walk(v, "")
		}
	}
	if len(values) == 0 {
		f.Fatalf("no fixture holds %v", keys)
	}
	return values
}

// checkTypeError requires what typeError promises: a decode error of a valid
// JSON value is an *json.UnmarshalTypeError naming the field, and a string
// longer than 40 bytes is only measured, never quoted.
func checkTypeError(t *testing.T, raw []byte, err error, field string) {
	t.Helper()
	var typeErr *json.UnmarshalTypeError
	if !errors.As(err, &typeErr) {
		t.Fatalf("%s: error %v (%T), want a *json.UnmarshalTypeError", raw, err, err)
	}
	if typeErr.Field != field {
		t.Errorf("%s: error names field %q, want %q", raw, typeErr.Field, field)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil && len(s) > 40 && !strings.HasSuffix(typeErr.Value, " bytes") {
		t.Errorf("%s: a %d-byte string is quoted in the error: %s", raw, len(s), typeErr.Value)
	}
}

// FuzzTime: a timestamp decodes to UTC or fails as a type error of its
// field; it falls within the years 1 to 9999; Unix seconds, as a number or
// a string, keep their exact value; and a whole-second result reads back
// from its Unix seconds as the same instant.
func FuzzTime(f *testing.F) {
	for _, raw := range fixtureValues(f, "start", "end") {
		f.Add(raw)
	}
	for _, s := range []string{`null`, `"2024-06-11"`, `"2024-06-11T02:00:00.5+02:00"`, `-62135596800`, `9223372036854775807`, `"1e3"`, `1.5`, `"9999-12-31T23:59:59Z"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return // the decoder refuses it before Time sees it
		}
		var v struct {
			T Time `json:"t"`
		}
		err := json.Unmarshal([]byte(`{"t":`+string(raw)+`}`), &v)
		if err != nil {
			checkTypeError(t, raw, err, "t")
			return
		}
		if v.T.Location() != time.UTC {
			t.Errorf("%s decoded to %s, not in UTC", raw, v.T.Time)
		}
		literal := string(bytes.TrimSpace(raw))
		_ = json.Unmarshal(raw, &literal) // the string's content, if a string
		if y := v.T.Year(); y < 1 || y > 9999 {
			t.Errorf("%s decoded to %s, outside the years 1 to 9999", raw, v.T.Time)
		}
		if secs, err := strconv.ParseInt(literal, 10, 64); err == nil && v.T.Unix() != secs {
			t.Errorf("%s decoded to %s, Unix %d, want Unix %d", raw, v.T.Time, v.T.Unix(), secs)
		}
		if !v.T.IsZero() && v.T.Nanosecond() == 0 {
			var back struct {
				T Time `json:"t"`
			}
			if err := json.Unmarshal([]byte(`{"t":`+strconv.FormatInt(v.T.Unix(), 10)+`}`), &back); err != nil || !back.T.Equal(v.T.Time) {
				t.Errorf("%s decoded to %s; its Unix seconds read back as %s, %v", raw, v.T.Time, back.T.Time, err)
			}
		}
	})
}

// FuzzID: an ID is exactly the string, or exactly the number's digits (never
// rounded through a float); null is empty; anything else is a type error of
// its field.
func FuzzID(f *testing.F) {
	for _, raw := range fixtureValues(f, "id", "template_id") {
		f.Add(raw)
	}
	for _, s := range []string{`null`, `12345678901234567890`, `1e3`, `-0`, `true`, `{"id":1}`, `["1"]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return
		}
		var v struct {
			ID ID `json:"id"`
		}
		err := json.Unmarshal([]byte(`{"id":`+string(raw)+`}`), &v)
		trimmed := bytes.TrimSpace(raw)
		var s string
		switch {
		case string(trimmed) == "null":
			if err != nil || v.ID != "" {
				t.Errorf("null decoded to %q, %v; want empty", v.ID, err)
			}
		case json.Unmarshal(trimmed, &s) == nil:
			if err != nil || string(v.ID) != s {
				t.Errorf("%s decoded to %q, %v; want the string %q", raw, v.ID, err, s)
			}
		case trimmed[0] == '-' || '0' <= trimmed[0] && trimmed[0] <= '9':
			if err != nil || string(v.ID) != string(trimmed) {
				t.Errorf("%s decoded to %q, %v; want the number's text %s", raw, v.ID, err, trimmed)
			}
		default:
			checkTypeError(t, raw, err, "id")
		}
	})
}

// FuzzNumber: a count spelled as a string reads exactly as the same text as
// a JSON number would, and only then: a string that is not exactly a JSON
// number fails as a type error of its field. Every value that decodes is
// finite and keeps its sign, and null leaves the count unknown (nil).
func FuzzNumber(f *testing.F) {
	for _, raw := range fixtureValues(f, "sent", "delivered", "read", "conversation", "volume", "cost", "count", "value", "clicked") {
		f.Add(raw)
	}
	for _, s := range []string{`null`, `"12"`, `"12.5"`, `"-3"`, `"-0"`, `"1e400"`, `"NaN"`, `"Inf"`, `" 1"`, `"0x1p-2"`, `"1_0"`, `"+1"`, `1e-400`, `"-1e-400"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return
		}
		var v struct {
			N *Number `json:"n"`
		}
		err := json.Unmarshal([]byte(`{"n":`+string(raw)+`}`), &v)

		// What the same text gives as a plain JSON number.
		trimmed := bytes.TrimSpace(raw)
		literal, quoted := string(trimmed), false
		if trimmed[0] == '"' {
			quoted = json.Unmarshal(trimmed, &literal) == nil
		}
		var plain float64
		isNumber := literal != "" && (literal[0] == '-' || '0' <= literal[0] && literal[0] <= '9') &&
			literal == strings.TrimSpace(literal) && json.Unmarshal([]byte(literal), &plain) == nil

		switch {
		case literal == "null" && !quoted:
			if err != nil || v.N != nil {
				t.Errorf("null decoded to %v, %v; want nil", v.N, err)
			}
		case isNumber:
			if err != nil || v.N == nil || math.Float64bits(float64(*v.N)) != math.Float64bits(plain) {
				t.Fatalf("%s decoded to %v, %v; want %v, as the number %s", raw, v.N, err, plain, literal)
			}
			n := float64(*v.N)
			if math.IsNaN(n) || math.IsInf(n, 0) {
				t.Errorf("%s decoded to %v", raw, n)
			}
			if math.Signbit(n) != (literal[0] == '-') {
				t.Errorf("%s decoded to %v: the sign changed", raw, n)
			}
		default:
			if err == nil {
				t.Fatalf("%s decoded to %v, want an error: it is not a number", raw, *v.N)
			}
			checkTypeError(t, raw, err, "n")
		}
	})
}

// FuzzNextPage: a paging link that is accepted stays on the API's scheme and
// host, also once the request rebuilds it from its text, and carries no
// access_token.
func FuzzNextPage(f *testing.F) {
	for _, raw := range fixtureValues(f, "next", "href", "previous") {
		var link string
		if json.Unmarshal(raw, &link) == nil {
			for which := range uint8(3) { // each of the bases below
				f.Add(which, link)
			}
		}
	}
	for _, s := range []string{
		"https://graph.facebook.com/v21.0/1?access_token=EAAG&after=x",
		"//evil.example/x", "/v21.0/1?after=x", "?after=x", "https://graph.facebook.com@evil.example/",
		"https://graph.facebook.com:443/x", "HTTPS://GRAPH.FACEBOOK.COM/x", "https:%2F%2Fevil.example",
		"https://graph.facebook.com/x?access_token=a&ACCESS_TOKEN=b&access_token%3D=c",
	} {
		f.Add(uint8(0), s)
	}
	bases := []*url.URL{
		{Scheme: "https", Host: "graph.facebook.com"},
		{Scheme: "https", Host: "api.nexmo.com", Path: "/v1/channel-manager"},
		{Scheme: "http", Host: "127.0.0.1:8080", Path: "/api"},
	}
	f.Fuzz(func(t *testing.T, which uint8, next string) {
		base := bases[int(which)%len(bases)]
		u, err := NextPage(base, next)
		if err != nil {
			return
		}
		if u.Scheme != base.Scheme || u.Host != base.Host {
			t.Fatalf("NextPage(%s, %q) = %s: off the API", base, next, u)
		}
		if u.Query().Has("access_token") {
			t.Errorf("NextPage(%s, %q) = %s keeps access_token", base, next, u)
		}
		// The request is built from the link's text, as http.NewRequest does.
		req, err := http.NewRequest(http.MethodGet, u.String(), nil)
		if err != nil {
			return // no request is sent
		}
		if req.URL.Scheme != base.Scheme || req.URL.Host != base.Host || req.Host != base.Host {
			t.Errorf("NextPage(%s, %q) = %s, which requests %s://%s (Host %s)", base, next, u, req.URL.Scheme, req.URL.Host, req.Host)
		}
		if req.URL.Query().Has("access_token") {
			t.Errorf("NextPage(%s, %q) = %s, which requests an access_token", base, next, u)
		}
	})
}

// FuzzRetryAfter: a wait from the header is never negative and never past
// provider.MaxUpstreamWait, and a whole number of seconds is kept exactly up
// to that cap.
func FuzzRetryAfter(f *testing.F) {
	now := time.Date(2024, 6, 11, 12, 0, 0, 0, time.UTC)
	for _, s := range []string{"30", " 5 ", "0", "-10", "1.5", "+7", "86401", "99999999999999999999", "9223372036854775807",
		now.Add(90 * time.Second).Format(http.TimeFormat), "Tuesday, 11-Jun-24 12:00:30 GMT", "Mon Jan  2 15:04:05 2006", "Fri, 31 Dec 9999 23:59:59 GMT"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		h := http.Header{}
		h.Set("Retry-After", value)
		got := retryAfter(h, now)
		if got < 0 || got > provider.MaxUpstreamWait {
			t.Fatalf("Retry-After %q gave %s, want 0 to %s", value, got, provider.MaxUpstreamWait)
		}
		digits := strings.TrimSpace(h.Get("Retry-After"))
		if digits == "" || strings.Trim(digits, "0123456789") != "" {
			return
		}
		want := provider.MaxUpstreamWait
		if secs, err := strconv.ParseInt(digits, 10, 64); err == nil && secs < int64(provider.MaxUpstreamWait/time.Second) {
			want = time.Duration(secs) * time.Second
		}
		if got != want {
			t.Errorf("Retry-After %q gave %s, want %s", value, got, want)
		}
	})
}
