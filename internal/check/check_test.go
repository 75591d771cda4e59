package check

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
)

var now = time.Date(2024, 6, 3, 12, 10, 0, 0, time.UTC)

func fakeWABA(id, token string) fakeapi.WABA {
	return fakeapi.WABA{WABAID: id, Token: token, Volume: 10, DeliveryRate: 0.9,
		Phones:    []fakeapi.Phone{{Number: "15550001", Display: "+1 555-0001", Weight: 1}},
		Countries: []fakeapi.Country{{Code: "US", Weight: 1, PriceFactor: 1}},
		Templates: []fakeapi.Template{{ID: "71", Name: "hello", Category: "UTILITY", Weight: 1}}}
}

func writeConfig(t *testing.T, src string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestCheck(t *testing.T) {
	partner := fakeWABA("2", "t2")
	partner.PartnerBilled = true
	graph := httptest.NewServer(fakeapi.NewGraph([]fakeapi.WABA{fakeWABA("1", "t1"), partner, fakeWABA("3", "t3")},
		fakeapi.Options{Now: func() time.Time { return now }}))
	defer graph.Close()
	// A Graph API that answers in another version than the one asked for,
	// as Meta does once the asked one has ended.
	moved := fakeapi.NewGraph([]fakeapi.WABA{fakeWABA("1", "t1")}, fakeapi.Options{Now: func() time.Time { return now }})
	moved.SetServedVersion("v26.0")
	movedGraph := httptest.NewServer(moved)
	defer movedGraph.Close()
	good := fmt.Sprintf("defaults:\n  api_url: %s\n  conversations: {enabled: true}\naccounts:\n  - waba_id: \"1\"\n    access_token: t1\n  - waba_id: \"2\"\n    access_token: t2\n", graph.URL)

	for _, tc := range []struct {
		name   string
		src    string
		online bool
		code   int
		want   []string
	}{
		{
			name: "a bad file: each problem at its line",
			src:  "accounts:\n  - waba_id: \"1\"\n    access_token: t1\n    interval: -1m\n",
			code: 1,
			want: []string{"config.yml:4: accounts[0].interval: must be positive"},
		},
		{
			name: "a good file, offline: no request",
			src:  good,
			want: []string{"2 accounts, 0 businesses, configuration OK"},
		},
		{
			// The partner-billed WABA answers without cost: that works.
			name:   "online, every WABA answers",
			src:    good,
			online: true,
			want: []string{
				"WABA PROVIDER API VERSION WABA FIELDS MESSAGING CONVERSATIONS PRICING TEMPLATES CALLS",
				"1 meta v25.0 ok USD ok ok ok ok off",
				"2 meta v25.0 ok USD ok ok (no cost) ok (no cost) ok (no cost) off",
			},
		},
		{
			name:   "online, an expired token and a family turned off",
			src:    good + "  - waba_id: \"3\"\n    access_token: expired\n    pricing: {enabled: false}\n",
			online: true,
			code:   1,
			want: []string{
				"3 meta v25.0 FAIL 190 FAIL 190 FAIL 190 off FAIL 190 off",
				"3 messaging: analytics: Invalid OAuth access token",
			},
		},
		{
			name: "online, answered in another API version, calls on",
			src: fmt.Sprintf("accounts:\n  - waba_id: \"1\"\n    access_token: t1\n    api_url: %s\n    api_version: v22.0\n    calls: {enabled: true}\n",
				movedGraph.URL),
			online: true,
			want:   []string{"1 meta v26.0 (asked v22.0) ok USD ok off ok ok ok"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			code := run(context.Background(), &out, writeConfig(t, tc.src), tc.online, func() time.Time { return now })
			if code != tc.code {
				t.Errorf("exit code %d, want %d\n%s", code, tc.code, out.String())
			}
			// Columns are aligned with spaces; compare words.
			var words []string
			for _, l := range strings.Split(out.String(), "\n") {
				words = append(words, strings.Join(strings.Fields(l), " "))
			}
			for _, w := range tc.want {
				if !strings.Contains(strings.Join(words, "\n"), w) {
					t.Errorf("the output lacks %q:\n%s", w, out.String())
				}
			}
			if strings.Contains(out.String(), "t1") && strings.Contains(out.String(), "access_token") {
				t.Errorf("the output shows a credential:\n%s", out.String())
			}
		})
	}
}
