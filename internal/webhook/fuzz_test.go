package webhook

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
	wt "github.com/whatsapp-exporter/whatsapp_exporter/internal/webhook/webhooktest"
)

// FuzzDecode: whatever the body, Decode does not panic; it fails only on
// what is not valid JSON, and always on that; every status it returns is
// fit for the labels; decoding is deterministic; and counting the statuses
// yields metrics that pass client_golang's checks, with every label value
// within 256 bytes of UTF-8.
func FuzzDecode(f *testing.F) {
	f.Add(one("wamid.seed"))
	f.Add(wt.Body(change(
		wt.Status{ID: "m1", Status: "sent", Timestamp: 1750857384, RecipientID: "16505551234", PricingCategory: "marketing", PricingType: "regular"},
		wt.Status{ID: "m1", Status: "delivered", Timestamp: 1750857390, PricingCategory: "marketing_lite", PricingType: "free_entry_point"},
		wt.Status{ID: "m1", Status: "read", Timestamp: 1750857490},
		wt.Status{ID: "m2", Status: "failed", Timestamp: 1750857391, ErrorCode: 131049, RecipientID: "5511955550113"},
	)))
	a := fakeapi.WABA{WABAID: "109259195336416", Volume: 40, DeliveryRate: 0.9,
		Phones:    []fakeapi.Phone{{Number: "19195552584", Display: "+1 919-555-2584", Weight: 1}},
		Countries: []fakeapi.Country{{Code: "US", Weight: 0.7}, {Code: "IN", Weight: 0.3}}}
	events := a.Statuses(mustTime("2026-03-02T10:00:00Z"), mustTime("2026-03-02T10:20:00Z"))
	f.Add(fakeapi.StatusWebhook(events[:min(len(events), 30)]))
	for _, s := range []string{
		`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"value":{"metadata":{"phone_number_id":"2"},"statuses":[{"id":"x","status":"played","timestamp":12}]}}]}]}`,
		`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"2","display_phone_number":"+44 (0)20"},"statuses":[{"id":"x","status":"failed","timestamp":"5","errors":[{"code":"007"}],"pricing":null}]}}]}]}`,
		`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"2"},"statuses":[{"id":"x","status":"read","timestamp":"5","pricing":{"category":"Ünïcode","type":"REGULAR"}}]}}]}]}`,
		`{"object":"whatsapp_business_account","entry":[1,"x",null,{"id":"1"}]}`,
		`[`, `{"object":`, `"whatsapp_business_account"`, ``, `{}`, `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"value":{"statuses":[]}}]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		batch, err := Decode(body)
		if valid := json.Valid(body); err != nil && valid || err == nil && !valid {
			t.Fatalf("Decode error %v on a body whose json.Valid is %v", err, valid)
		}
		if err != nil {
			return
		}
		again, _ := Decode(body)
		if !reflect.DeepEqual(batch, again) {
			t.Fatal("Decode is not deterministic")
		}
		for _, s := range batch.Statuses {
			for name, v := range map[string]string{"waba": s.WABAID, "phone number ID": s.PhoneNumberID} {
				if !allDigits(v, maxNumericIDDigits) {
					t.Errorf("%s %q", name, v)
				}
			}
			if s.PhoneNumber != "" && !allDigits(s.PhoneNumber, maxNumericIDDigits) {
				t.Errorf("phone number %q", s.PhoneNumber)
			}
			if s.MessageID == "" || len(s.MessageID) > maxIDBytes || s.Time == 0 || !slices.Contains(statusNames, s.Status) {
				t.Errorf("status %+v", s)
			}
			if s.ErrorCode != "" && (!allDigits(s.ErrorCode, maxErrorCodeDigits) || len(s.ErrorCode) > 1 && s.ErrorCode[0] == '0') {
				t.Errorf("error code %q", s.ErrorCode)
			}
			for _, v := range []string{s.PricingCategory, s.PricingType} {
				if v != "" && (len(v) > maxWordBytes || strings.ToUpper(v) != v || !utf8.ValidString(v)) {
					t.Errorf("pricing value %q", v)
				}
			}
			if c := Country(s.Recipient); c != "" && (len(c) != 2 || strings.ToUpper(c) != c) {
				t.Errorf("country %q of %q", c, s.Recipient)
			}
		}
		// Counting them: every label value of every series within 256
		// bytes of UTF-8 (the keys of the tally are the label values).
		tl, w := newTally(1000), newWindow(50)
		for i := range batch.Statuses {
			tl.count(w, &batch.Statuses[i], Country(batch.Statuses[i].Recipient))
		}
		var values []string
		for k := range tl.statuses {
			values = append(values, k.waba, k.phoneID, k.number, k.country, k.status)
		}
		for k := range tl.failures {
			values = append(values, k.waba, k.phoneID, k.number, k.code, ErrorTitle(k.code))
		}
		for k := range tl.priced {
			values = append(values, k.waba, k.phoneID, k.number, k.category, k.typ)
		}
		for _, v := range values {
			if len(v) > 256 || !utf8.ValidString(v) {
				t.Errorf("a label value of %d bytes: %q", len(v), v)
			}
		}
	})
}

// FuzzDecode's counting is checked on the tally; this checks once that
// the tally's keys are what the collector exports.
func TestFuzzSeedsCollect(t *testing.T) {
	r := New(&config.Webhooks{Path: "/webhooks", DedupWindow: 50, MaxSeries: 1000, AppSecrets: []config.Secret{"s"}}, Options{})
	batch, err := Decode([]byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"2","display_phone_number":"+1 555"},"statuses":[{"id":"x","status":"failed","timestamp":"5","recipient_id":"5511955550113","errors":[{"code":131026}]}]}}]}]}`))
	if err != nil || len(batch.Statuses) != 1 {
		t.Fatal(batch, err)
	}
	r.tally.count(r.window, &batch.Statuses[0], Country(batch.Statuses[0].Recipient))
	compare(t, r, failuresHelp+`
whatsapp_webhook_failures_total{error_code="131026",error_title="Message undeliverable",phone_number="1555",phone_number_id="2",waba_id="1"} 1
`, "whatsapp_webhook_failures_total")
	checkLabels(t, r)
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
