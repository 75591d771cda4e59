package fakeapi_test

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
)

// countKeys are the fields that hold a count or a cost, in both fakes.
var countKeys = map[string]bool{
	"sent": true, "delivered": true, "read": true, "clicked": true,
	"conversation": true, "volume": true, "cost": true, "count": true, "value": true,
}

// unspell reads back the strings a StringCounts fault put under count keys
// as the numbers they spell, and counts them; a count still a number is an
// error.
func unspell(t *testing.T, v any, key string, spelled *int) any {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = unspell(t, e, k, spelled)
		}
	case []any:
		for i, e := range v {
			v[i] = unspell(t, e, "", spelled)
		}
	case string:
		if countKeys[key] {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Errorf("%s is %q, not a numeric string", key, v)
			}
			*spelled++
			return n
		}
	case float64:
		if countKeys[key] {
			t.Errorf("%s is still the number %v", key, v)
		}
	}
	return v
}

// StringCounts changes nothing but the spelling: every answer of both fakes
// reads, once its string counts are taken as numbers, exactly as without
// the fault, and the fault is spent like any other.
func TestStringCounts(t *testing.T) {
	t.Run("graph", func(t *testing.T) {
		g, srv := serve(t, fakeapi.Options{Now: func() time.Time { return now }})
		for name, u := range map[string]string{
			"analytics":              fieldURL(srv.URL, "analytics", now.Add(-6*time.Hour), now, "HALF_HOUR", ""),
			"conversation_analytics": conversationsURL(srv.URL, now.Add(-3*time.Hour), now),
			"pricing_analytics": fieldURL(srv.URL, "pricing_analytics", now.Add(-3*time.Hour), now, "HALF_HOUR",
				`.metric_types(["VOLUME","COST"]).dimensions(["PRICING_CATEGORY","COUNTRY","TIER"])`),
			"template_analytics": templatesURL(srv.URL, []string{"1421988012088524", "2632273056924580"}, now.AddDate(0, 0, -3), now, "DAILY"),
		} {
			t.Run(name, func(t *testing.T) {
				g.Inject(waba, fakeapi.Fault{Kind: fakeapi.StringCounts, Times: 1})
				faulted := get(t, u, token).json(t)
				plain := get(t, u, token).json(t)
				spelled := 0
				if got := unspell(t, faulted, "", &spelled); !reflect.DeepEqual(got, any(plain)) || spelled == 0 {
					t.Errorf("%d counts spelled; read back:\n%v\nwant the plain answer:\n%v", spelled, got, plain)
				}
			})
		}
	})
	t.Run("vonage", func(t *testing.T) {
		v, srv := serveVonage(t, fakeapi.Options{})
		for _, endpoint := range []struct {
			name   string
			params map[string]string
		}{
			{"messaging-analytics", vonageDay},
			{"pricing-analytics", map[string]string{"start": "2024-11-10", "end": "2024-11-13", "granularity": "DAILY"}},
			{"template-analytics", map[string]string{"start": "2024-11-10", "end": "2024-11-13", "granularity": "DAILY", "template_ids": "[458951126288942,458951126288937]"}},
		} {
			t.Run(endpoint.name, func(t *testing.T) {
				u := vonageURL(srv.URL, vonageWABA, endpoint.name, endpoint.params)
				v.Inject(vonageWABA, fakeapi.Fault{Kind: fakeapi.StringCounts, Times: 1})
				faulted := vonageDo(t, "GET", u, vonageKey, vonageSecret)
				plain := vonageDo(t, "GET", u, vonageKey, vonageSecret)
				spelled := 0
				if got := unspell(t, faulted.body, "", &spelled); !reflect.DeepEqual(got, plain.body) || spelled == 0 || faulted.status != 200 {
					t.Errorf("status %d, %d counts spelled; read back:\n%v\nwant the plain answer:\n%v", faulted.status, spelled, got, plain.body)
				}
			})
		}
	})
}
