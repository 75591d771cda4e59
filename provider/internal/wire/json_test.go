package wire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTimeUnmarshal(t *testing.T) {
	tests := []struct {
		json    string
		want    time.Time
		wantErr bool
	}{
		{`1543543200`, time.Date(2018, 11, 30, 2, 0, 0, 0, time.UTC), false},
		{`"1543543200"`, time.Date(2018, 11, 30, 2, 0, 0, 0, time.UTC), false},
		{`0`, time.Unix(0, 0).UTC(), false},
		{`"2024-06-11T00:00:00Z"`, time.Date(2024, 6, 11, 0, 0, 0, 0, time.UTC), false},
		{`"2024-06-11T02:00:00+02:00"`, time.Date(2024, 6, 11, 0, 0, 0, 0, time.UTC), false},
		{`"2024-06-11"`, time.Date(2024, 6, 11, 0, 0, 0, 0, time.UTC), false},
		{`null`, time.Time{}, false},
		{`"yesterday"`, time.Time{}, true},
		{`""`, time.Time{}, true},
		{`"2024-13-01"`, time.Time{}, true},
		{`1543543200.5`, time.Time{}, true},
		{`253402300799`, time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), false},
		{`253402300800`, time.Time{}, true}, // past year 9999
		{`"9223371974719179007"`, time.Time{}, true},
		{`-9223372036854775808`, time.Time{}, true},
		{`"9999-12-31T23:59:59.5Z"`, time.Date(9999, 12, 31, 23, 59, 59, 5e8, time.UTC), false},
		{`"9999-12-31T23:00:00-01:00"`, time.Time{}, true}, // year 10000 in UTC
		{`"0000-06-01"`, time.Time{}, true},
		{`true`, time.Time{}, true},
		{`{"unix":1}`, time.Time{}, true},
		{`[1543543200]`, time.Time{}, true},
	}
	for _, tt := range tests {
		var v struct {
			T Time `json:"t"`
		}
		err := json.Unmarshal([]byte(`{"t":`+tt.json+`}`), &v)
		if tt.wantErr {
			if err == nil {
				t.Errorf("%s decoded to %s, want an error", tt.json, v.T.Time)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.json, err)
			continue
		}
		if !v.T.Time.Equal(tt.want) || v.T.Location() != time.UTC {
			t.Errorf("%s decoded to %s, want %s in UTC", tt.json, v.T.Time, tt.want)
		}
	}
}

func TestIDUnmarshal(t *testing.T) {
	tests := []struct {
		json    string
		want    ID
		wantErr bool
	}{
		{`"1421988012088524"`, "1421988012088524", false},
		{`102290129340398`, "102290129340398", false},
		// Bigger than a float64 keeps exactly: IDs must not be rounded.
		{`12345678901234567890`, "12345678901234567890", false},
		{`null`, "", false},
		{`true`, "", true},
		{`["1"]`, "", true},
		{`{"id":"1"}`, "", true},
	}
	for _, tt := range tests {
		var v struct {
			ID ID `json:"id"`
		}
		err := json.Unmarshal([]byte(`{"id":`+tt.json+`}`), &v)
		if (err != nil) != tt.wantErr || v.ID != tt.want {
			t.Errorf("%s decoded to %q, %v; want %q (error %v)", tt.json, v.ID, err, tt.want, tt.wantErr)
		}
	}
}

func TestPagingUnmarshal(t *testing.T) {
	var p Paging
	err := json.Unmarshal([]byte(`{"cursors":{"before":"MAZDZD","after":"MjQZD"},
		"next":"https://graph.facebook.com/v21.0/1?after=MjQZD","previous":"https://graph.facebook.com/v21.0/1?before=MAZDZD"}`), &p)
	if err != nil {
		t.Fatal(err)
	}
	if p.Cursors.Before != "MAZDZD" || p.Cursors.After != "MjQZD" ||
		p.Next != "https://graph.facebook.com/v21.0/1?after=MjQZD" || p.Previous != "https://graph.facebook.com/v21.0/1?before=MAZDZD" {
		t.Errorf("decoded %+v", p)
	}
	if err := json.Unmarshal([]byte(`{"next":5}`), &p); err == nil {
		t.Error("a numeric next link decoded without error")
	}
}

func TestNumberUnmarshal(t *testing.T) {
	long := `"` + strings.Repeat("9", 39) + `x"` // 40 bytes: quoted in the error
	longer := `"` + strings.Repeat("9", 40) + `x"`
	tests := []struct {
		json string
		want *float64 // nil: unknown
		// wantErr is part of the error text; "" means no error.
		wantErr string
	}{
		{`12`, ptr(12), ""},
		{`"12"`, ptr(12), ""},
		{`12.5`, ptr(12.5), ""},
		{`"12.5"`, ptr(12.5), ""},
		{`0`, ptr(0), ""},
		{`"0"`, ptr(0), ""}, // a known zero, not unknown
		{`"1e3"`, ptr(1000), ""},
		{`"0.0128"`, ptr(0.0128), ""},
		{`"1E-2"`, ptr(0.01), ""},
		// Negative values pass, spelled either way: see Number.
		{`-3`, ptr(-3), ""},
		{`"-3"`, ptr(-3), ""},
		{`"1e-400"`, ptr(0), ""}, // underflows to 0, as a JSON number does
		{`null`, nil, ""},
		{`"NaN"`, nil, `string "NaN"`},
		{`"Inf"`, nil, `string "Inf"`},
		{`"-Infinity"`, nil, `string "-Infinity"`},
		{`"1e400"`, nil, `string "1e400"`},
		{`1e400`, nil, `number "1e400"`},
		{`""`, nil, `string ""`},
		{`" 12"`, nil, `string " 12"`},
		{`"12 "`, nil, `string "12 "`},
		{`"+12"`, nil, `string "+12"`},
		{`"012"`, nil, `string "012"`},
		{`".5"`, nil, `string ".5"`},
		{`"5."`, nil, `string "5."`},
		{`"0x10"`, nil, `string "0x10"`},
		{`"1_000"`, nil, `string "1_000"`},
		{`"12,5"`, nil, `string "12,5"`},
		{`"many"`, nil, `string "many"`},
		{`"null"`, nil, `string "null"`},
		{`"\"12\""`, nil, `string "\"12\""`},
		{`true`, nil, "bool"},
		{`[12]`, nil, "array"},
		{`{"value":12}`, nil, "object"},
		{long, nil, "string \"" + strings.Repeat("9", 39) + "x\""},
		// A long value is measured, never quoted: it may be an echoed
		// credential whose cut-off head would escape redaction.
		{longer, nil, "string of 41 bytes"},
	}
	for _, tt := range tests {
		var v struct {
			N *Number `json:"n"`
		}
		err := json.Unmarshal([]byte(`{"n":`+tt.json+`}`), &v)
		if tt.wantErr != "" {
			var typeErr *json.UnmarshalTypeError
			if !errors.As(err, &typeErr) || typeErr.Field != "n" || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "float64") {
				t.Errorf("%s: error %v, want a type error of field n mentioning %s", tt.json, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.json, err)
			continue
		}
		switch {
		case tt.want == nil && v.N != nil:
			t.Errorf("%s decoded to %v, want nil (unknown)", tt.json, *v.N)
		case tt.want != nil && (v.N == nil || float64(*v.N) != *tt.want):
			t.Errorf("%s decoded to %v, want %v", tt.json, v.N, *tt.want)
		}
	}

	// Left out: unknown, like null.
	var v struct {
		N *Number `json:"n"`
	}
	if err := json.Unmarshal([]byte(`{}`), &v); err != nil || v.N != nil {
		t.Errorf("absent field decoded to %v, %v; want nil", v.N, err)
	}
	// A Number held by value keeps its value on null, as encoding/json's own
	// types do.
	n := Number(7)
	if err := json.Unmarshal([]byte(`null`), &n); err != nil || n != 7 {
		t.Errorf("null into a Number of 7: %v, %v", n, err)
	}
}

func ptr(v float64) *float64 { return &v }
