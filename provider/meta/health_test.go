package meta

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// TestHealthRequests: the health read asks the phone_numbers and
// message_templates edges for exactly the fields it decodes, with the
// messaging limit in the field of the configured version: messaging_limit_tier
// up to v23.0, whatsapp_business_manager_messaging_limit from v24.0. A BSP
// whose base URL carries the version is read by that version.
func TestHealthRequests(t *testing.T) {
	const (
		phones    = "id,display_phone_number,verified_name,status,quality_rating,name_status,throughput,health_status,"
		templates = "id,name,language,status,category,quality_score"
	)
	tests := []struct {
		name, prefix, version string
		wantPath, wantLimit   string
	}{
		{"v21.0", "", "v21.0", "/v21.0/", "messaging_limit_tier"},
		{"v23.0", "", "v23.0", "/v23.0/", "messaging_limit_tier"},
		{"v24.0", "", "v24.0", "/v24.0/", "whatsapp_business_manager_messaging_limit"},
		{"v27.0", "", "v27.0", "/v27.0/", "whatsapp_business_manager_messaging_limit"},
		{"v100.0", "", "v100.0", "/v100.0/", "whatsapp_business_manager_messaging_limit"},
		{"BSP prefix with v25.0", "/api", "v25.0", "/api/v25.0/", "whatsapp_business_manager_messaging_limit"},
		{"BSP URL ending in v25.0", "/api/v25.0", "", "/api/v25.0/", "whatsapp_business_manager_messaging_limit"},
		{"BSP URL ending in v22.0", "/api/v22.0", "", "/api/v22.0/", "messaging_limit_tier"},
		// Not a version the client knows how to read: the current field.
		{"no version", "", "", "/", "whatsapp_business_manager_messaging_limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGraph(t, func(w http.ResponseWriter, _ *http.Request, _ int) { io.WriteString(w, `{"data":[]}`) })
			c := newClient(t, g.URL+tt.prefix, func(o *Options) { o.APIVersion = tt.version })
			if _, err := c.PhoneHealth(context.Background(), wabaID); err != nil {
				t.Fatal(err)
			}
			if _, err := c.TemplateHealth(context.Background(), wabaID); err != nil {
				t.Fatal(err)
			}
			reqs := g.seen()
			if len(reqs) != 2 {
				t.Fatalf("%d requests, want 2", len(reqs))
			}
			for i, want := range []struct{ edge, fields string }{
				{"phone_numbers", phones + tt.wantLimit},
				{"message_templates", templates},
			} {
				r := reqs[i]
				if r.Path != tt.wantPath+wabaID+"/"+want.edge || r.Query.Get("fields") != want.fields || r.Query.Get("limit") != "100" {
					t.Errorf("request %s?%s, want %s%s/%s with fields=%s and limit=100", r.Path, r.RawQuery, tt.wantPath, wabaID, want.edge, want.fields)
				}
				if r.Header.Get("Authorization") != "Bearer "+token || r.Query.Has("access_token") {
					t.Errorf("request %s: the token must travel in the Authorization header only", r.Path)
				}
			}
		})
	}
}

// TestPhoneHealthDecoding: every field decoded as the API spells it; values
// the exporter does not know pass through as they came (the collector shows
// them as states of their own); fields the API leaves out stay empty.
func TestPhoneHealthDecoding(t *testing.T) {
	g := newGraph(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		io.WriteString(w, `{"data":[
			{"id":"106540352242922","display_phone_number":"+1 631-555-5555","verified_name":"Lucky Shrub",
			 "status":"CONNECTED","quality_rating":"GREEN","name_status":"APPROVED","throughput":{"level":"HIGH"},
			 "health_status":{"can_send_message":"AVAILABLE","entities":[{"entity_type":"PHONE_NUMBER","id":"106540352242922","can_send_message":"AVAILABLE"}]},
			 "whatsapp_business_manager_messaging_limit":"TIER_2K"},
			{"id":106540352242923,"display_phone_number":"+55 11 5555-0100","status":"SUSPENDED_FOR_REVIEW","quality_rating":"AMBER",
			 "throughput":"ULTRA","health_status":{"can_send_message":"BLOCKED","entities":[{"errors":[{"error_code":141002}]}]},
			 "whatsapp_business_manager_messaging_limit":"TIER_5K"},
			{"id":"106540352242924","display_phone_number":"16315550101","throughput":null,"health_status":null},
			{"id":"106540352242925","throughput":{},"health_status":{}}
		],"paging":{"cursors":{"before":"a","after":"b"}}}`)
	})
	got, err := newClient(t, g.URL, func(o *Options) { o.APIVersion = "v25.0" }).PhoneHealth(context.Background(), wabaID)
	if err != nil {
		t.Fatal(err)
	}
	want := []provider.PhoneNumber{
		{Number: "16315555555", ID: "106540352242922", DisplayPhoneNumber: "+1 631-555-5555", VerifiedName: "Lucky Shrub",
			Status: "CONNECTED", QualityRating: "GREEN", NameStatus: "APPROVED", ThroughputLevel: "HIGH",
			MessagingLimit: "TIER_2K", CanSendMessage: "AVAILABLE"},
		{Number: "551155550100", ID: "106540352242923", DisplayPhoneNumber: "+55 11 5555-0100",
			Status: "SUSPENDED_FOR_REVIEW", QualityRating: "AMBER", ThroughputLevel: "ULTRA",
			MessagingLimit: "TIER_5K", CanSendMessage: "BLOCKED"},
		{Number: "16315550101", ID: "106540352242924", DisplayPhoneNumber: "16315550101"},
		{ID: "106540352242925"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded\n  %+v\nwant\n  %+v", got, want)
	}
}

// TestMessagingLimitField: the limit comes from the field asked for; an
// answer in the other field (a BSP that maps one onto the other) is taken
// when the one asked for is missing.
func TestMessagingLimitField(t *testing.T) {
	tests := []struct {
		version, body, want string
	}{
		{"v23.0", `"messaging_limit_tier":"TIER_1K"`, "TIER_1K"},
		{"v23.0", `"messaging_limit_tier":"TIER_1K","whatsapp_business_manager_messaging_limit":"TIER_2K"`, "TIER_1K"},
		{"v23.0", `"whatsapp_business_manager_messaging_limit":"TIER_2K"`, "TIER_2K"},
		{"v24.0", `"whatsapp_business_manager_messaging_limit":"TIER_10K"`, "TIER_10K"},
		{"v24.0", `"messaging_limit_tier":"TIER_1K","whatsapp_business_manager_messaging_limit":"TIER_10K"`, "TIER_10K"},
		{"v24.0", `"messaging_limit_tier":"TIER_1K"`, "TIER_1K"},
		{"v24.0", `"status":"CONNECTED"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.version+" "+tt.body, func(t *testing.T) {
			g := newGraph(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				fmt.Fprintf(w, `{"data":[{"id":"1","display_phone_number":"1",%s}]}`, tt.body)
			})
			got, err := newClient(t, g.URL, func(o *Options) { o.APIVersion = tt.version }).PhoneHealth(context.Background(), wabaID)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].MessagingLimit != tt.want {
				t.Errorf("decoded %+v, want messaging limit %q", got, tt.want)
			}
		})
	}
}

// TestTemplateHealthDecoding: quality_score is an object with a score (or
// a bare score from a BSP that flattens it); IDs come as strings or numbers;
// what is missing stays empty; unknown values pass through.
func TestTemplateHealthDecoding(t *testing.T) {
	var g *graph
	g = newGraph(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 0 {
			fmt.Fprintf(w, `{"data":[
				{"id":"1421988012088524","name":"order_confirmation","language":"en_US","status":"APPROVED","category":"UTILITY",
				 "quality_score":{"score":"GREEN","date":1717286400,"reasons":null}},
				{"id":2632273056924580,"name":"spring_sale","language":"pt_BR","status":"PAUSED","category":"MARKETING","quality_score":"RED"}
			],"paging":{"cursors":{"after":"x"},"next":"%s%s?after=x"}}`, g.URL, r.URL.Path)
			return
		}
		io.WriteString(w, `{"data":[
			{"id":"954638012257287","name":"login_code","language":"en","status":"FLAGGED_FOR_RECATEGORIZATION","category":"AUTHENTICATION_OTP","quality_score":{"score":"UNKNOWN"}},
			{"id":"969725530748535","quality_score":null},
			{"id":"969725530748536","quality_score":{}}
		]}`)
	})
	got, err := newClient(t, g.URL).TemplateHealth(context.Background(), wabaID)
	if err != nil {
		t.Fatal(err)
	}
	want := []provider.Template{
		{ID: "1421988012088524", Name: "order_confirmation", Language: "en_US", Status: "APPROVED", Category: "UTILITY", QualityScore: "GREEN"},
		{ID: "2632273056924580", Name: "spring_sale", Language: "pt_BR", Status: "PAUSED", Category: "MARKETING", QualityScore: "RED"},
		{ID: "954638012257287", Name: "login_code", Language: "en", Status: "FLAGGED_FOR_RECATEGORIZATION", Category: "AUTHENTICATION_OTP", QualityScore: "UNKNOWN"},
		{ID: "969725530748535"},
		{ID: "969725530748536"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded\n  %+v\nwant\n  %+v", got, want)
	}
	if n := len(g.seen()); n != 2 {
		t.Errorf("%d requests, want both pages", n)
	}
}

// TestHealthWrongTypes: a value of the wrong kind fails the read as a
// malformed response naming the field, as every other answer does; it is
// not read as "no value".
func TestHealthWrongTypes(t *testing.T) {
	tests := []struct {
		name, edge, body, want string
	}{
		{"status as number", "phone_numbers", `{"data":[{"id":"1","status":7}]}`, "field data.status"},
		{"throughput level as number", "phone_numbers", `{"data":[{"id":"1","throughput":{"level":2}}]}`, "field data.throughput"},
		{"throughput as list", "phone_numbers", `{"data":[{"id":"1","throughput":["HIGH"]}]}`, "field data.throughput"},
		{"health_status as string", "phone_numbers", `{"data":[{"id":"1","health_status":"AVAILABLE"}]}`, "field data.health_status"},
		{"quality score as number", "message_templates", `{"data":[{"id":"1","quality_score":{"score":3}}]}`, "field data.quality_score"},
		{"data not a list", "message_templates", `{"data":{"id":"1"}}`, "field data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGraph(t, func(w http.ResponseWriter, _ *http.Request, _ int) { io.WriteString(w, tt.body) })
			c := newClient(t, g.URL)
			var err error
			if tt.edge == "phone_numbers" {
				_, err = c.PhoneHealth(context.Background(), wabaID)
			} else {
				_, err = c.TemplateHealth(context.Background(), wabaID)
			}
			e := apiError(t, err)
			if e.Code != provider.CodeMalformedResponse || e.Op != tt.edge || !strings.Contains(e.Message, tt.want) {
				t.Errorf("error %+v, want malformed_response of %s naming %q", e, tt.edge, tt.want)
			}
		})
	}
}

// TestHealthErrors: a Graph error answer (a BSP that does not forward the
// field, an expired token) is the typed error of every other request.
func TestHealthErrors(t *testing.T) {
	g := newGraph(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":{"message":"(#100) Tried accessing nonexisting field (whatsapp_business_manager_messaging_limit) on node type (WhatsAppBusinessPhoneNumber)","type":"OAuthException","code":100,"fbtrace_id":"A"}}`)
	})
	_, err := newClient(t, g.URL, func(o *Options) { o.APIVersion = "v24.0" }).PhoneHealth(context.Background(), wabaID)
	if e := apiError(t, err); e.Code != "100" || e.Op != "phone_numbers" || e.Status != http.StatusBadRequest {
		t.Errorf("error %+v", e)
	}
}

func TestMessagingLimitRecipients(t *testing.T) {
	for tier, want := range map[string]string{
		"TIER_50": "50", "TIER_250": "250", "TIER_1K": "1000", "TIER_2K": "2000", "TIER_10K": "10000",
		"TIER_100K": "100000", "TIER_UNLIMITED": "+Inf", "UNTIERED": "none", "TIER_NOT_SET": "none", "": "none", "tier_2k": "none",
	} {
		got := "none"
		if v, ok := provider.MessagingLimitRecipients(tier); ok {
			got = fmt.Sprint(v)
		}
		if got != want {
			t.Errorf("MessagingLimitRecipients(%q) = %s, want %s", tier, got, want)
		}
	}
}
