package wire

import (
	"encoding/json"
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
