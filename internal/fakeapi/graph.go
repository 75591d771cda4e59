package fakeapi

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// Graph is a fake of the Graph API's WhatsApp analytics, served under any
// path prefix (/v21.0/{waba}, or a BSP's /api/v25.0/{waba}). It follows the
// reference documents: the analytics, conversation_analytics,
// pricing_analytics and call_analytics fields of a WABA node (several in
// one request, as field expansion allows, each paged field then paging on
// its own) and its plain fields (id, name, currency, timezone_id,
// is_enabled_for_insights), the template_analytics, message_templates and
// phone_numbers edges (with the health fields of health.go), a business's
// owned_whatsapp_business_accounts and client_whatsapp_business_accounts
// edges (business.go), Graph error bodies and the X-Business-Use-Case-Usage
// and X-App-Usage headers.
type Graph struct {
	*core
	// NoCost makes the fake behave like a BSP passthrough that never returns
	// cost: COST is dropped from answers instead of raising an error.
	NoCost bool
	// served, when set, is the version every answer says it was served in
	// (SetServedVersion).
	served string
}

// SetTemplatesAvailable enables template insights for a WABA, and makes
// its template analytics served where it is, as if it moved.
func (g *Graph) SetTemplatesAvailable(wabaID string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if a, ok := g.wabas[wabaID]; ok {
		a.InsightsDisabled, a.TemplatesUnsupported = false, false
	}
}

// SetServedVersion makes every answer say it was served in version
// (facebook-api-version), whatever the path asks for, as Meta answers a
// request for a version it no longer serves in the oldest one it still
// serves; "" names the version asked for again.
func (g *Graph) SetServedVersion(version string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.served = version
}

// NewGraph returns a fake Graph API serving wabas, the fake WABAs.
func NewGraph(wabas []WABA, opts Options) *Graph {
	return &Graph{core: newCore(wabas, opts)}
}

var graphVersion = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)

var graphEdges = map[string]bool{"template_analytics": true, "message_templates": true, "phone_numbers": true}

func (g *Graph) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if n := len(segs); n >= 3 && businessEdges[segs[n-1]] && graphVersion.MatchString(segs[n-3]) {
		g.mu.Lock()
		served := cmp.Or(g.served, segs[n-3])
		g.mu.Unlock()
		w.Header().Set("Facebook-API-Version", served)
		g.listing(w, r, segs[n-2], segs[n-3], segs[n-1])
		return
	}
	edge := ""
	if len(segs) > 0 && graphEdges[segs[len(segs)-1]] {
		edge, segs = segs[len(segs)-1], segs[:len(segs)-1]
	}
	if len(segs) < 2 || !graphVersion.MatchString(segs[len(segs)-2]) {
		graphError(w, http.StatusBadRequest, 2500, 0, "Unknown path components: "+r.URL.Path, "OAuthException", false)
		return
	}
	wabaID := segs[len(segs)-1]
	q := r.URL.Query()
	g.mu.Lock()
	served := cmp.Or(g.served, segs[len(segs)-2])
	g.mu.Unlock()
	w.Header().Set("Facebook-API-Version", served)

	g.mu.Lock()
	waba, ok := g.held(wabaID)
	op := edge
	if op == "" {
		op = fieldNames(q.Get("fields"))
	}
	usage := g.record(wabaID, op, r, q.Has("access_token"))
	app := g.recordApp()
	fault := g.takeFault(wabaID, op)
	g.mu.Unlock()

	if !ok {
		graphError(w, http.StatusBadRequest, 100, 33, fmt.Sprintf("Unsupported get request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", wabaID), "GraphMethodException", false)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+waba.Token {
		graphError(w, http.StatusUnauthorized, 190, 0, "Invalid OAuth access token - Cannot parse access token", "OAuthException", false)
		return
	}
	if waba.AppSecret != "" {
		mac := hmac.New(sha256.New, []byte(waba.AppSecret))
		mac.Write([]byte(waba.Token))
		if !hmac.Equal([]byte(q.Get("appsecret_proof")), []byte(hex.EncodeToString(mac.Sum(nil)))) {
			graphError(w, http.StatusBadRequest, 100, 0, "Invalid appsecret_proof provided in the API argument", "GraphMethodException", false)
			return
		}
	}
	setUsage(w, wabaID, usage)
	if g.appLimited(w, app) {
		return
	}
	if usage.exhausted {
		// The message_templates and phone_numbers references list 80008,
		// "too many calls to this WhatsApp Business Account"
		// (https://developers.facebook.com/docs/graph-api/reference/whats-app-business-hsm);
		// the analytics answer 80007, "WABA rate limit reached"
		// (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
		code := 80007
		if edge == "message_templates" || edge == "phone_numbers" {
			code = 80008
		}
		graphError(w, http.StatusBadRequest, code, 2494055, "Rate limit hit", "OAuthException", true)
		return
	}
	if fault != nil && g.misbehave(w, r, wabaID, waba.Token, fault) {
		return
	}

	switch edge {
	case "template_analytics":
		g.templateAnalytics(w, r, &waba, fault)
	case "message_templates":
		g.messageTemplates(w, r, &waba, segs[len(segs)-2], fault)
	case "phone_numbers":
		g.phoneNumbers(w, r, &waba, segs[len(segs)-2], fault)
	default:
		g.node(w, r, &waba, fault)
	}
}

// node answers a request for fields of the WABA node.
func (g *Graph) node(w http.ResponseWriter, r *http.Request, a *WABA, fault *Fault) {
	q := r.URL.Query()
	fields, err := parseFields(q.Get("fields"))
	if err != nil || len(fields) == 0 {
		graphError(w, http.StatusBadRequest, 100, 0, "(#100) Invalid fields parameter", "OAuthException", false)
		return
	}
	after := q.Get("after")
	if paged := pagedFields(fields); after != "" && (paged != 1 || len(fields) != 1) {
		// Each paged field's next link asks for that field alone; a cursor
		// says nothing about which of several it belongs to.
		graphError(w, http.StatusBadRequest, 100, 0, "(#100) A paging cursor (after) applies to one paged field: ask for that field alone, as its paging.next does", "OAuthException", false)
		return
	}
	answer := newAnswer()
	defer answer.free()
	for _, f := range fields {
		start, errStart := unixParam(f.params["start"])
		end, errEnd := unixParam(f.params["end"])
		if !nodeFields[f.name] && (errStart != nil || errEnd != nil) {
			graphError(w, http.StatusBadRequest, 100, 0, fmt.Sprintf("(#100) %s requires start and end as UNIX timestamps", f.name), "OAuthException", false)
			return
		}
		granularity := strings.ToUpper(f.params["granularity"])
		metrics := upper(list(f.params["metric_types"]))
		switch f.name {
		case "id":
		case "name":
			answer.set("name", a.name())
		case "currency":
			answer.set("currency", a.currency())
		case "timezone_id":
			answer.set("timezone_id", a.timezoneID())
		case "is_enabled_for_insights":
			answer.set("is_enabled_for_insights", !a.InsightsDisabled)
		case "analytics":
			if !oneOf(granularity, "HALF_HOUR", "DAY", "MONTH") {
				graphError(w, http.StatusBadRequest, 100, 0, "(#100) Param granularity must be one of {HALF_HOUR, DAY, MONTH}", "OAuthException", false)
				return
			}
			points := a.messaging(messagingQuery{
				start: start, end: end, now: g.opts.Now(), granularity: granularity,
				phones: list(f.params["phone_numbers"]), countries: list(f.params["country_codes"]),
			})
			answer.member("analytics")
			answer.b = append(answer.b, `{"phone_numbers":`...)
			answer.value(phoneNumbers(a, list(f.params["phone_numbers"])))
			answer.b = append(answer.b, `,"country_codes":`...)
			answer.value(countryCodes(a, list(f.params["country_codes"])))
			answer.b = append(answer.b, `,"granularity":`...)
			answer.value(granularity)
			answer.b = append(answer.b, `,"data_points":`...)
			answer.b = appendPoints(answer.b, messagingFamily, points)
			answer.b = append(answer.b, '}')
		case "call_analytics":
			if !oneOf(granularity, "HALF_HOUR", "DAILY", "MONTHLY") {
				graphError(w, http.StatusBadRequest, 100, 0, "(#100) Param granularity must be one of {HALF_HOUR, DAILY, MONTHLY}", "OAuthException", false)
				return
			}
			cq := callQuery{
				start: start, end: end, now: g.opts.Now(), granularity: granularity,
				phones: list(f.params["phone_numbers"]), countries: list(f.params["country_codes"]),
				directions: upper(list(f.params["directions"])),
				cost:       (len(metrics) == 0 || contains(metrics, "COST")) && !g.NoCost,
			}
			if cq.cost && a.PartnerBilled {
				costNotAvailable(w)
				return
			}
			answer.member("call_analytics")
			answer.b = append(answer.b, `{"granularity":`...)
			answer.value(granularity)
			answer.b = append(answer.b, `,"data_points":`...)
			answer.b = appendPoints(answer.b, callFamily, a.callPoints(cq))
			if len(cq.directions) == 1 {
				answer.b = append(answer.b, `,"directions":`...)
				answer.value(cq.directions[0]) // as the page's example echoes its one direction
			}
			answer.b = append(answer.b, '}')
		case "conversation_analytics", "pricing_analytics":
			if !oneOf(granularity, "HALF_HOUR", "DAILY", "MONTHLY") {
				graphError(w, http.StatusBadRequest, 100, 0, "(#100) Param granularity must be one of {HALF_HOUR, DAILY, MONTHLY}", "OAuthException", false)
				return
			}
			bq := breakdownQuery{
				start: start, end: end, now: g.opts.Now(), granularity: granularity,
				phones: list(f.params["phone_numbers"]), countries: list(f.params["country_codes"]),
				dimensions: upper(list(f.params["dimensions"])),
			}
			bq.cost = len(metrics) == 0 || contains(metrics, "COST")
			if bq.cost && a.PartnerBilled && !g.NoCost {
				if len(metrics) > 0 {
					costNotAvailable(w)
					return
				}
				bq.cost = false // "If no metric_types are specified, only CONVERSATION is returned"
			}
			bq.cost = bq.cost && !g.NoCost
			var points []point
			fam := conversationFamily
			if f.name == "conversation_analytics" {
				bq.categories, bq.types, bq.directions = list(f.params["conversation_categories"]), list(f.params["conversation_types"]), list(f.params["conversation_directions"])
				points = a.conversationPoints(bq)
			} else {
				bq.categories, bq.types = list(f.params["pricing_categories"]), list(f.params["pricing_types"])
				points = a.pricingPoints(bq)
				fam = pricingFamily
			}
			g.recordDays(a.WABAID, start, end)
			pagePoints, next := page(points, after, g.opts.PageSize, fault)
			edge := after != ""
			if edge {
				// A paging link answers as the edge: no wrapping field, no id.
				answer.b = answer.b[:1]
			} else {
				answer.member(f.name)
				answer.b = append(answer.b, '{')
			}
			answer.b = append(answer.b, `"data":[{"data_points":`...)
			answer.b = appendPoints(answer.b, fam, pagePoints)
			answer.b = append(answer.b, "}]"...)
			if paging := g.fieldPaging(r, f, next, fault); paging != nil {
				answer.b = append(answer.b, `,"paging":`...)
				answer.value(paging)
			}
			if edge {
				writeBody(w, http.StatusOK, answer.bytes(), fault)
				return
			}
			answer.b = append(answer.b, '}')
		default:
			graphError(w, http.StatusBadRequest, 100, 0, fmt.Sprintf("(#100) Tried accessing nonexisting field (%s) on node type (WhatsAppBusinessAccount)", f.name), "OAuthException", false)
			return
		}
	}
	answer.set("id", a.WABAID)
	writeBody(w, http.StatusOK, answer.bytes(), fault)
}

func (g *Graph) templateAnalytics(w http.ResponseWriter, r *http.Request, a *WABA, fault *Fault) {
	q := r.URL.Query()
	start, errStart := unixParam(q.Get("start"))
	end, errEnd := unixParam(q.Get("end"))
	if errStart != nil || errEnd != nil {
		graphError(w, http.StatusBadRequest, 100, 0, "(#100) start and end must be UNIX timestamps", "OAuthException", false)
		return
	}
	if !strings.EqualFold(q.Get("granularity"), "DAILY") {
		graphError(w, http.StatusBadRequest, 100, 0, "(#100) Param granularity must be DAILY", "OAuthException", false)
		return
	}
	ids := list(q.Get("template_ids"))
	g.mu.Lock()
	s := g.stats[a.WABAID]
	s.MaxTemplateIDs = max(s.MaxTemplateIDs, len(ids))
	g.mu.Unlock()
	if len(ids) == 0 || len(ids) > 10 {
		graphError(w, http.StatusBadRequest, 100, 0, "(#100) Param template_ids must be an array of 1 to 10 template IDs", "OAuthException", false)
		return
	}
	if start.Before(g.opts.Now().AddDate(0, 0, -90)) {
		graphError(w, http.StatusBadRequest, 100, 0, "(#100) start must be within the last 90 days", "OAuthException", false)
		return
	}
	// Meta documents no error for a WABA without template analytics;
	// these are the shapes third parties report (Graph code 100, subcodes
	// 4182004 and 4182005).
	switch {
	case a.TemplatesUnsupported:
		graphError(w, http.StatusForbidden, 100, 4182005, "(#100) Template analytics are not available for this WhatsApp Business Account", "OAuthException", false)
		return
	case a.InsightsDisabled:
		graphError(w, http.StatusBadRequest, 100, 4182004, "(#100) Template insights are not enabled for this WhatsApp Business Account", "OAuthException", false)
		return
	}
	product := cloudAPI
	switch p := q.Get("product_type"); strings.ToUpper(p) {
	case "", cloudAPI:
	case marketingMessages, "MARKETING_MESSAGES_LITE_API": // the current name and the former one
		product = marketingMessages
	default:
		graphError(w, http.StatusBadRequest, 100, 0, fmt.Sprintf("(#100) Param product_type must be one of {%s, %s} - got %q", cloudAPI, marketingMessages, p), "OAuthException", false)
		return
	}
	metrics := upper(list(q.Get("metric_types")))
	if (len(metrics) == 0 || contains(metrics, "COST")) && a.PartnerBilled && !g.NoCost {
		costNotAvailable(w)
		return
	}
	if g.NoCost && len(metrics) == 0 {
		metrics = []string{"SENT", "DELIVERED", "READ", "CLICKED"}
	}
	g.recordDays(a.WABAID, start, end)
	points := a.templatePoints(templateQuery{start: start, end: end, now: g.opts.Now(), ids: ids, metrics: metrics, product: product})
	pagePoints, next := page(points, q.Get("after"), g.opts.PageSize, fault)
	body := map[string]any{"data": []any{map[string]any{"granularity": "DAILY", "product_type": strings.ToLower(product), "data_points": pagePoints}}}
	if paging := g.paging(r, next, fault); paging != nil {
		body["paging"] = paging
	}
	writeValue(w, http.StatusOK, body, fault)
}

// writeEdge answers a list edge, honouring its limit parameter.
func (g *Graph) writeEdge(w http.ResponseWriter, r *http.Request, items []any, fault *Fault) {
	size := g.opts.PageSize
	if limit := r.URL.Query().Get("limit"); limit != "" {
		fmt.Sscan(limit, &size)
	}
	size = min(max(size, 1), g.opts.PageSize)
	pageItems, next := page(items, r.URL.Query().Get("after"), size, fault)
	body := map[string]any{"data": pageItems}
	if paging := g.paging(r, next, fault); paging != nil {
		body["paging"] = paging
	}
	writeJSON(w, http.StatusOK, body)
}

// paging builds the paging object with a next link that repeats the request
// with an after cursor, or nil on the last page.
func (g *Graph) paging(r *http.Request, next string, fault *Fault) map[string]any {
	if next == "" {
		return nil
	}
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	if r.TLS != nil {
		u.Scheme = "https"
	}
	if fault != nil && fault.Kind == ForeignNext {
		u.Host = "collector.attacker.invalid"
	}
	v := u.Query()
	v.Set("after", next)
	u.RawQuery = v.Encode()
	return map[string]any{"cursors": map[string]string{"before": "MAZDZD", "after": next}, "next": u.String()}
}

// fieldPaging is the paging object of one paged field of a node request:
// its next link asks the same node for that field alone, with its
// modifiers, and the cursor. So a client can ask for several fields in one
// call and then page each on its own; a request for one field gets the
// link it always had.
func (g *Graph) fieldPaging(r *http.Request, f field, next string, fault *Fault) map[string]any {
	if next == "" {
		return nil
	}
	u := *r.URL
	v := u.Query()
	v.Set("fields", f.raw)
	u.RawQuery = v.Encode()
	alone := *r
	alone.URL = &u
	return g.paging(&alone, next, fault)
}

// nodeFields are the WABA node's plain fields, which take no modifiers.
var nodeFields = map[string]bool{"id": true, "name": true, "currency": true, "timezone_id": true, "is_enabled_for_insights": true}

// pagedFields counts the fields that answer pages of data points.
func pagedFields(fields []field) int {
	n := 0
	for _, f := range fields {
		if f.name == "conversation_analytics" || f.name == "pricing_analytics" {
			n++
		}
	}
	return n
}

func (g *Graph) recordDays(wabaID string, start, end time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if s := g.stats[wabaID]; s != nil {
		s.MaxDaysPerRequest = max(s.MaxDaysPerRequest, end.Sub(start).Hours()/24)
	}
}

// misbehave applies a fault to a request for a WABA or a business (id,
// whose token is token) and reports whether it answered the request.
func (g *Graph) misbehave(w http.ResponseWriter, r *http.Request, id, token string, f *Fault) bool {
	switch f.Kind {
	case RateLimit:
		code, status := f.Code, f.Status
		if code == 0 {
			code = 4
		}
		if status == 0 {
			status = http.StatusBadRequest
			if code == 4 {
				status = http.StatusTooManyRequests
			}
		}
		setUsage(w, id, budget{percent: 100, regain: f.RegainMinutes})
		graphError(w, status, code, 2446079, "(#"+fmt.Sprint(code)+") Application request limit reached", "OAuthException", true)
	case ServerError:
		serverError(w)
	case Malformed:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"conversation_analytics": {"data": [{"data_points": [{"start": 1685602800, "end": 16856`)
	case WrongTypes:
		writeJSON(w, http.StatusOK, wrongTypes(r))
	case Slow:
		return stall(r, f)
	case Hang:
		<-r.Context().Done()
	case InvalidToken:
		graphError(w, http.StatusUnauthorized, 190, 463, "Error validating access token: Session has expired.", "OAuthException", false)
	case Huge:
		if strings.HasSuffix(r.URL.Path, "_whatsapp_business_accounts") {
			writeHuge(w, `{"data": [], "padding": "`, f.Size, `"}`)
		} else {
			writeHuge(w, `{"analytics": {"data_points": [], "padding": "`, f.Size, `"}}`)
		}
	case EchoToken:
		graphError(w, http.StatusBadRequest, 100, 0, "Malformed access token "+token, "OAuthException", false)
	default:
		return false // EndlessPages, ForeignNext and StringCounts shape the answer instead
	}
	return true
}

// wrongTypes is a well-formed answer in the shape of the request's field or
// edge with one value of the wrong JSON type: an answer in another shape
// would read as "no data" rather than as the type error it stands for.
func wrongTypes(r *http.Request) map[string]any {
	point := map[string]any{"start": 1685602800, "end": 1685604600}
	switch path := r.URL.Path; {
	case strings.HasSuffix(path, "/template_analytics"):
		point["template_id"], point["sent"] = "1", "many"
		return map[string]any{"data": []any{map[string]any{"data_points": []any{point}}}}
	case strings.HasSuffix(path, "/message_templates"):
		return map[string]any{"data": []any{map[string]any{"id": map[string]any{"id": 1}}}}
	case strings.HasSuffix(path, "/phone_numbers"):
		return map[string]any{"data": []any{map[string]any{"display_phone_number": 16505550111}}}
	case strings.HasSuffix(path, "_whatsapp_business_accounts"):
		return map[string]any{"data": []any{map[string]any{"id": map[string]any{"id": 1}, "name": 7}}}
	}
	fields := r.URL.Query().Get("fields")
	for _, f := range []struct{ field, count string }{{"conversation_analytics", "conversation"}, {"pricing_analytics", "volume"}} {
		if strings.HasPrefix(fields, f.field) {
			point[f.count] = "many"
			return map[string]any{f.field: map[string]any{"data": []any{map[string]any{"data_points": []any{point}}}}}
		}
	}
	point["sent"], point["delivered"] = "many", 1
	return map[string]any{"analytics": map[string]any{"data_points": []any{point}}}
}

func graphError(w http.ResponseWriter, status, code, subcode int, msg, typ string, transient bool) {
	body := map[string]any{"message": msg, "type": typ, "code": code, "fbtrace_id": "AbCdEfGhIjKlMnOp"}
	if subcode != 0 {
		body["error_subcode"] = subcode
	}
	if transient {
		body["is_transient"] = true
	}
	writeJSON(w, status, map[string]any{"error": body})
}

// costNotAvailable is the exception "Analytics" documents for businesses
// billed through a partner.
func costNotAvailable(w http.ResponseWriter) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{
		"message":          "Cost is no longer shown for businesses who bill through a partner (i.e., BSP). To understand your charges, please reach out to your partner.",
		"type":             "OAuthException",
		"code":             100,
		"error_user_title": "Cost not available",
		"fbtrace_id":       "AbCdEfGhIjKlMnOp",
	}})
}

// setUsage reports the share of a WABA's budget used the way Graph does:
// percentages, and the minutes until access is regained.
func setUsage(w http.ResponseWriter, wabaID string, b budget) {
	usage := map[string][]map[string]any{wabaID: {{
		"type": "whatsapp_business_management", "call_count": int(b.percent),
		"total_cputime": int(b.percent / 2), "total_time": int(b.percent / 2),
		"estimated_time_to_regain_access": b.regain,
	}}}
	encoded, _ := json.Marshal(usage)
	w.Header().Set("X-Business-Use-Case-Usage", string(encoded))
}

// recordApp counts a request against the app's budget, if it has one
// (g.mu held).
func (g *Graph) recordApp() *budget {
	if g.opts.AppHourlyBudget <= 0 {
		return nil
	}
	b := g.app.record(g.opts.Now(), g.opts.AppHourlyBudget)
	return &b
}

// appLimited reports the app's usage in X-App-Usage, and answers code 4
// once its budget is spent.
func (g *Graph) appLimited(w http.ResponseWriter, app *budget) bool {
	if app == nil {
		return false
	}
	percent := int(app.percent)
	w.Header().Set("X-App-Usage", fmt.Sprintf(`{"call_count":%d,"total_cputime":%d,"total_time":%d}`, percent, percent/2, percent/2))
	if !app.exhausted {
		return false
	}
	graphError(w, http.StatusTooManyRequests, 4, 2446079, "(#4) Application request limit reached", "OAuthException", true)
	return true
}

func fieldNames(fields string) string {
	parsed, err := parseFields(fields)
	if err != nil {
		return "invalid"
	}
	names := make([]string, len(parsed))
	for i, f := range parsed {
		names[i] = f.name
	}
	return strings.Join(names, ",")
}

func phoneNumbers(a *WABA, filter []string) []string {
	var out []string
	for _, p := range a.Phones {
		if len(filter) == 0 || contains(filter, p.Number) {
			out = append(out, p.Number)
		}
	}
	return out
}

func countryCodes(a *WABA, filter []string) []string {
	var out []string
	for _, c := range a.Countries {
		if len(filter) == 0 || contains(filter, c.Code) {
			out = append(out, c.Code)
		}
	}
	return out
}

func upper(values []string) []string {
	for i, v := range values {
		values[i] = strings.ToUpper(v)
	}
	return values
}

func oneOf(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}
