package fakeapi

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// field is one parsed entry of a Graph fields parameter, such as
// conversation_analytics.start(1).end(2).granularity(DAILY).
type field struct {
	name   string
	params map[string]string
	// raw is the field's own text in the parameter, modifiers included:
	// what a paging link of the field asks for again.
	raw string
}

// parseFields splits a fields parameter at its top-level commas (commas inside
// [...] belong to a list) and each field at its top-level dots.
func parseFields(s string) ([]field, error) {
	var fields []field
	for _, part := range splitTop(s, ',') {
		segs := splitTop(part, '.')
		f := field{name: strings.TrimSpace(segs[0]), params: map[string]string{}, raw: strings.TrimSpace(part)}
		for _, seg := range segs[1:] {
			open := strings.IndexByte(seg, '(')
			if open < 0 || !strings.HasSuffix(seg, ")") {
				return nil, fmt.Errorf("malformed field modifier %q", seg)
			}
			f.params[seg[:open]] = seg[open+1 : len(seg)-1]
		}
		fields = append(fields, f)
	}
	return fields, nil
}

func splitTop(s string, sep byte) []string {
	var parts []string
	depth, quoted, last := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(' || c == '[':
			depth++
		case c == ')' || c == ']':
			depth--
		case c == sep && depth == 0:
			parts = append(parts, s[last:i])
			last = i + 1
		}
	}
	return append(parts, s[last:])
}

// list reads a list parameter in any of the spellings the documents use:
// ["A","B"], [A,B] or A,B.
func list(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	var quoted []string
	if json.Unmarshal([]byte(v), &quoted) == nil {
		return quoted
	}
	// Not a list of JSON strings. A failed Unmarshal may have filled in
	// part of quoted ("" for each bare number of [1,2]), so start afresh.
	var out []string
	v = strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")
	for _, item := range strings.Split(v, ",") {
		if item = strings.Trim(strings.TrimSpace(item), `"`); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func unixParam(v string) (time.Time, error) {
	secs, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a UNIX timestamp", v)
	}
	return time.Unix(secs, 0).UTC(), nil
}

func contains(list []string, v string) bool {
	for _, item := range list {
		if strings.EqualFold(item, v) {
			return true
		}
	}
	return false
}

// filter reports whether v passes a filter; an empty filter passes all.
func filter(list []string, v string) bool { return len(list) == 0 || contains(list, v) }
