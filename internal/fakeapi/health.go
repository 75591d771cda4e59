package fakeapi

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// PhoneHealth is what the phone_numbers edge says of a number's health
// (Meta's phone number reference and the pages cited in
// provider/health.go). An empty field reads as a healthy number's.
type PhoneHealth struct {
	// ID is the number's Graph ID; "1" and its position, zero-padded,
	// when empty.
	ID string
	// VerifiedName is the display name; the WABA's ID when empty.
	VerifiedName string
	// Status (CONNECTED), Quality (GREEN), NameStatus (APPROVED),
	// Throughput (STANDARD), Limit (TIER_10K) and CanSend (AVAILABLE),
	// with their defaults.
	Status, Quality, NameStatus, Throughput, Limit, CanSend string
}

// Update changes a WABA's data under the fake's lock, for tests that move
// its health (or anything else) between two refreshes.
func (c *core) Update(wabaID string, f func(*WABA)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a, ok := c.wabas[wabaID]; ok {
		// Requests under way read copies of the WABA that share its
		// slices: change fresh ones.
		a.Phones, a.Templates, a.Countries = slices.Clone(a.Phones), slices.Clone(a.Templates), slices.Clone(a.Countries)
		f(a)
		a.m = nil // its series may have changed
	}
}

func or(v, fallback string) string {
	if v == "" {
		return fallback
	}
	return v
}

// The fields each edge knows, and those it answers when asked for none
// (Graph's defaults are longer; these are the ones the exporter reads).
var (
	phoneFields = []string{"id", "display_phone_number", "verified_name", "status", "quality_rating", "name_status",
		"throughput", "health_status", "whatsapp_business_manager_messaging_limit", "messaging_limit_tier"}
	defaultPhoneFields = []string{"id", "display_phone_number", "verified_name", "quality_rating"}
	templateFields     = []string{"id", "name", "language", "status", "category", "quality_score"}
	// Graph's default answer is longer (components too).
	defaultTemplateFields = []string{"id", "name", "status", "category", "language"}
)

// The messaging limit moved to a new field in v24.0: Meta's Messaging limits
// page says to request whatsapp_business_manager_messaging_limit "for v24.0
// and newer" and messaging_limit_tier "for 23.0 and older". The fake holds
// each version to its own field, as if the other did not exist there, so
// that a client asking the wrong one is caught.
var fakeVersion = regexp.MustCompile(`^v([0-9]+)\.`)

func fieldInVersion(field, version string) bool {
	m := fakeVersion.FindStringSubmatch(version)
	major := 0
	if m != nil {
		major, _ = strconv.Atoi(m[1])
	}
	switch field {
	case "whatsapp_business_manager_messaging_limit":
		return major >= 24
	case "messaging_limit_tier":
		return major < 24
	}
	return true
}

// edgeFields is the fields parameter of an edge request: the names asked
// for (id always among them, as Graph answers it), or the defaults.
// A name the edge does not know in this version is an error, as it is on
// Graph.
func edgeFields(w http.ResponseWriter, r *http.Request, known, defaults []string, version, nodeType string) ([]string, bool) {
	raw := r.URL.Query().Get("fields")
	if strings.TrimSpace(raw) == "" {
		return defaults, true
	}
	fields := []string{"id"}
	for _, f := range strings.Split(raw, ",") {
		f = strings.TrimSpace(f)
		if !contains(known, f) || !fieldInVersion(f, version) {
			graphError(w, http.StatusBadRequest, 100, 0,
				fmt.Sprintf("(#100) Tried accessing nonexisting field (%s) on node type (%s)", f, nodeType), "OAuthException", false)
			return nil, false
		}
		if !contains(fields, f) {
			fields = append(fields, f)
		}
	}
	return fields, true
}

// pick keeps the fields asked for of a full item.
func pick(item map[string]any, fields []string) map[string]any {
	out := make(map[string]any, len(fields))
	for _, f := range fields {
		if v, ok := item[f]; ok {
			out[f] = v
		}
	}
	return out
}

// phoneNumbers answers the phone_numbers edge with the fields asked for.
func (g *Graph) phoneNumbers(w http.ResponseWriter, r *http.Request, a *WABA, version string, fault *Fault) {
	fields, ok := edgeFields(w, r, phoneFields, defaultPhoneFields, version, "WhatsAppBusinessPhoneNumber")
	if !ok {
		return
	}
	items := make([]any, 0, len(a.Phones))
	for i, p := range a.Phones {
		items = append(items, pick(phoneItem(a.WABAID, i, p), fields))
	}
	g.writeEdge(w, r, items, fault)
}

// phoneItem is every field of a number the fake knows, in the shapes of
// Meta's documents: throughput {"level"}
// (https://developers.facebook.com/documentation/business-messaging/whatsapp/throughput),
// health_status with its entities and, when not AVAILABLE, why
// (https://developers.facebook.com/documentation/business-messaging/whatsapp/support/health-status).
func phoneItem(wabaID string, i int, p Phone) map[string]any {
	h := p.Health
	id := phoneNumberID(i, p)
	canSend := or(h.CanSend, "AVAILABLE")
	entity := map[string]any{"entity_type": "PHONE_NUMBER", "id": id, "can_send_message": canSend}
	switch canSend {
	case "LIMITED":
		entity["additional_info"] = []string{"Your display name has not been approved yet. Your messages will show your phone number instead."}
	case "BLOCKED":
		entity["errors"] = []map[string]any{{"error_code": 141006, "error_description": "There is an error with the payment method.",
			"possible_solution": "Add a new payment method to the account."}}
	}
	limit := or(h.Limit, "TIER_10K")
	return map[string]any{
		"id":                   id,
		"display_phone_number": p.Display,
		"verified_name":        or(h.VerifiedName, wabaID),
		"status":               or(h.Status, "CONNECTED"),
		"quality_rating":       or(h.Quality, "GREEN"),
		"name_status":          or(h.NameStatus, "APPROVED"),
		"throughput":           map[string]any{"level": or(h.Throughput, "STANDARD")},
		"health_status": map[string]any{
			"can_send_message": canSend,
			"entities": []any{entity,
				map[string]any{"entity_type": "WABA", "id": wabaID, "can_send_message": "AVAILABLE"}},
		},
		"whatsapp_business_manager_messaging_limit": limit,
		"messaging_limit_tier":                      limit,
	}
}

// phoneNumberID is the ID of a WABA's i-th number, on the phone_numbers
// edge and in its webhooks.
func phoneNumberID(i int, p Phone) string { return or(p.Health.ID, fmt.Sprintf("1%014d", i+1)) }

// messageTemplates answers the message_templates edge with the fields asked
// for; quality_score is an object with a score, as Meta's template quality
// page shows it
// (https://developers.facebook.com/documentation/business-messaging/whatsapp/templates/template-quality/).
func (g *Graph) messageTemplates(w http.ResponseWriter, r *http.Request, a *WABA, version string, fault *Fault) {
	fields, ok := edgeFields(w, r, templateFields, defaultTemplateFields, version, "WhatsAppBusinessHSM")
	if !ok {
		return
	}
	items := make([]any, 0, len(a.Templates))
	for _, t := range a.Templates {
		items = append(items, pick(map[string]any{
			"id": t.ID, "name": t.Name, "category": t.Category,
			"language":      or(t.Language, "en_US"),
			"status":        or(t.Status, "APPROVED"),
			"quality_score": map[string]any{"score": or(t.Quality, "GREEN")},
		}, fields))
	}
	g.writeEdge(w, r, items, fault)
}
