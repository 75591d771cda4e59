package fakeapi

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Vonage is a fake of the WhatsApp analytics of Vonage's Channel Manager API,
// as Vonage's WhatsApp Analytics guide specifies them
// (https://developer.vonage.com/en/channel-manager/guides/whatsapp/whatsapp-analytics):
// messaging-analytics, template-analytics and pricing-analytics of a WABA
// under /v1/channel-manager/whatsapp/wabas/{waba_id}/ (behind any path
// prefix), enable_insights, and the listing of the WABAs linked to an API
// key (/v1/channel-manager/whatsapp/wabas). It authenticates with HTTP Basic auth, an
// WABA's APIKey and its Token as the secret, and answers errors as RFC 7807
// problems: 401 for unknown credentials, 403 for a key not linked to the WABA,
// 404 for an unknown WABA, 429 with Retry-After past the hourly budget. The
// data is the Graph fake's, spelled the Vonage way: YYYY-MM-DD parameters,
// string timestamps, HAL bodies, one click count per template, no cost.
type Vonage struct {
	*core
	insights map[string]int // enable_insights calls per WABA
}

// NewVonage returns a fake Channel Manager serving wabas, the fake WABAs.
func NewVonage(wabas []WABA, opts Options) *Vonage {
	return &Vonage{core: newCore(wabas, opts), insights: map[string]int{}}
}

// InsightsEnabled reports how many times enable_insights was called for a
// WABA: the exporter itself must never call it.
func (v *Vonage) InsightsEnabled(wabaID string) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.insights[wabaID]
}

var (
	vonagePath    = regexp.MustCompile(`/v1/channel-manager/whatsapp/wabas/([^/]+)/([a-z_-]+)/?$`)
	vonageListing = regexp.MustCompile(`/v1/channel-manager/whatsapp/wabas/?$`)
)

// vonageEmbedded is the _embedded key of each analytics endpoint.
var vonageEmbedded = map[string]string{
	"messaging-analytics": "messaging_analytics",
	"template-analytics":  "template_analytics",
	"pricing-analytics":   "pricing_analytics",
}

// vonageLookback is the documented "lookback of up to 90 days", also the
// largest span between start and end.
const vonageLookback = 90

func (v *Vonage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if vonageListing.MatchString(r.URL.Path) {
		v.listing(w, r)
		return
	}
	m := vonagePath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		problem(w, http.StatusNotFound, "not-found", "Not Found", "The requested resource does not exist.")
		return
	}
	wabaID, op := m[1], m[2]
	q := r.URL.Query()

	key, secret, hasAuth := r.BasicAuth()
	v.mu.Lock()
	waba, ok := v.held(wabaID)
	var owner string
	for id, a := range v.wabas {
		if hasAuth && a.APIKey != "" && a.APIKey == key && a.Token == secret {
			owner = id
		}
	}
	// Vonage sends no usage headers: only the 429 tells of the budget.
	exhausted := v.record(wabaID, op, r, q.Has("api_key") || q.Has("api_secret")).exhausted
	fault := v.takeFault(wabaID, op)
	v.mu.Unlock()

	switch {
	case owner == "":
		problem(w, http.StatusUnauthorized, "unauthorized", "Unauthorized", "You did not provide correct credentials.")
		return
	case !ok:
		problem(w, http.StatusNotFound, "not-found", "Not Found", "WABA ID "+wabaID+" is invalid.")
		return
	case owner != wabaID:
		problem(w, http.StatusForbidden, "forbidden", "Forbidden", "API key is not linked to this WABA ID.")
		return
	case exhausted:
		w.Header().Set("Retry-After", "60")
		problem(w, http.StatusTooManyRequests, "rate-limit", "Too Many Requests", "The request was rate limited.")
		return
	}
	if fault != nil && v.misbehave(w, r, vonageEmbedded[op], waba.APIKey, waba.Token, fault) {
		return
	}

	if op == "enable_insights" {
		if r.Method != http.MethodPatch && r.Method != http.MethodPost {
			problem(w, http.StatusMethodNotAllowed, "method-not-allowed", "Method Not Allowed", "enable_insights changes the waba; it is not a GET.")
			return
		}
		v.mu.Lock()
		v.insights[wabaID]++
		v.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"waba_id": wabaID})
		return
	}
	if vonageEmbedded[op] == "" {
		problem(w, http.StatusNotFound, "not-found", "Not Found", "The requested resource does not exist.")
		return
	}
	if r.Method != http.MethodGet {
		problem(w, http.StatusMethodNotAllowed, "method-not-allowed", "Method Not Allowed", op+" answers GET only.")
		return
	}
	start, end, msg := v.dates(q, op != "pricing-analytics")
	if msg != "" {
		problem(w, http.StatusBadRequest, "invalid-params", "Bad Request", msg)
		return
	}
	v.mu.Lock()
	if s := v.stats[wabaID]; s != nil {
		s.MaxDaysPerRequest = max(s.MaxDaysPerRequest, end.Sub(start).Hours()/24)
	}
	v.mu.Unlock()

	switch op {
	case "messaging-analytics":
		v.messagingAnalytics(w, r, &waba, start, end, fault)
	case "pricing-analytics":
		v.pricingAnalytics(w, r, &waba, start, end, fault)
	case "template-analytics":
		v.templateAnalytics(w, r, &waba, start, end, fault)
	}
}

// dates reads start and end as YYYY-MM-DD. end is the last day asked for:
// the returned end is the instant that day closes.
func (v *Vonage) dates(q url.Values, required bool) (start, end time.Time, problem string) {
	today := day(v.opts.Now())
	if !required && q.Get("start") == "" && q.Get("end") == "" {
		return today.AddDate(0, 0, -30), today.AddDate(0, 0, 1), ""
	}
	start, errStart := time.Parse(time.DateOnly, q.Get("start"))
	last, errEnd := time.Parse(time.DateOnly, q.Get("end"))
	switch {
	case errStart != nil || errEnd != nil:
		return start, end, "start and end are required, in the format YYYY-MM-DD"
	case last.Before(start):
		return start, end, "end must not be before start"
	case last.Sub(start) > vonageLookback*24*time.Hour:
		return start, end, "The maximum difference between the start and end dates is 90 days."
	case start.Before(today.AddDate(0, 0, -vonageLookback)):
		return start, end, "Analytics have a lookback of up to 90 days."
	}
	return start, last.AddDate(0, 0, 1), ""
}

func granularityParam(q url.Values, fallback string) (string, bool) {
	g := strings.ToUpper(q.Get("granularity"))
	if g == "" {
		g = fallback
	}
	return g, oneOf(g, "HALF_HOUR", "DAILY", "MONTHLY")
}

func (v *Vonage) messagingAnalytics(w http.ResponseWriter, r *http.Request, a *WABA, start, end time.Time, fault *Fault) {
	q := r.URL.Query()
	g, ok := granularityParam(q, "")
	if !ok {
		problem(w, http.StatusBadRequest, "invalid-params", "Bad Request", "granularity is required: HALF_HOUR, DAILY or MONTHLY")
		return
	}
	phones, countries := list(q.Get("phone_number")), list(q.Get("country_codes"))
	points := a.messaging(messagingQuery{start: start, end: end, now: v.opts.Now(), granularity: g, phones: phones, countries: countries})
	entries := make([]any, 0, len(points))
	for _, p := range points {
		// "start": "1543543200": Unix seconds, as strings.
		entries = append(entries, map[string]any{
			"start": strconv.FormatInt(p.start, 10), "end": strconv.FormatInt(p.end, 10),
			"sent": p.v[0], "delivered": p.v[1],
		})
	}
	pageEntries, next := page(entries, q.Get("after"), v.opts.PageSize, fault)
	writeValue(w, http.StatusOK, map[string]any{
		"id": a.WABAID, "granularity": g,
		"phone_numbers": phoneNumbers(a, phones), "country_codes": countryCodes(a, countries),
		"_embedded": map[string]any{"messaging_analytics": pageEntries},
		"paging":    v.paging(r, next, fault),
	}, fault)
}

func (v *Vonage) pricingAnalytics(w http.ResponseWriter, r *http.Request, a *WABA, start, end time.Time, fault *Fault) {
	q := r.URL.Query()
	g, ok := granularityParam(q, "DAILY")
	if !ok {
		problem(w, http.StatusBadRequest, "invalid-params", "Bad Request", "granularity must be one of HALF_HOUR, DAILY or MONTHLY")
		return
	}
	points := a.pricingPoints(breakdownQuery{
		start: start, end: end, now: v.opts.Now(), granularity: g,
		phones: list(q.Get("phone_numbers")), countries: list(q.Get("country_codes")),
		dimensions: upper(list(q.Get("dimensions"))),
	})
	tiers := list(q.Get("tier"))
	entries := make([]any, 0, len(points))
	for _, p := range points {
		if tier := pricingFamily.dim(p, "tier"); len(tiers) > 0 && !contains(tiers, tier) {
			continue
		}
		s, e := vonageDates(p.start, p.end, g)
		entry := map[string]any{"start": s, "end": e, "volume": p.v[0]}
		for _, k := range []string{"phone_number", "country", "tier", "pricing_type", "pricing_category"} {
			if val := pricingFamily.dim(p, k); val != "" {
				entry[k] = val
			}
		}
		entries = append(entries, entry)
	}
	pageEntries, next := page(entries, q.Get("after"), v.opts.PageSize, fault)
	writeValue(w, http.StatusOK, map[string]any{
		"granularity": g, "product_type": "cloud_api",
		"_embedded": map[string]any{"pricing_analytics": pageEntries},
		"paging":    v.paging(r, next, fault),
	}, fault)
}

func (v *Vonage) templateAnalytics(w http.ResponseWriter, r *http.Request, a *WABA, start, end time.Time, fault *Fault) {
	q := r.URL.Query()
	if !strings.EqualFold(q.Get("granularity"), "DAILY") {
		problem(w, http.StatusBadRequest, "invalid-params", "Bad Request", "granularity must be DAILY")
		return
	}
	ids := list(q.Get("template_ids"))
	v.mu.Lock()
	if s := v.stats[a.WABAID]; s != nil {
		s.MaxTemplateIDs = max(s.MaxTemplateIDs, len(ids))
	}
	v.mu.Unlock()
	if len(ids) == 0 || len(ids) > 10 {
		problem(w, http.StatusBadRequest, "invalid-params", "Bad Request", "template_ids must list 1 to 10 template IDs")
		return
	}
	metrics := upper(list(q.Get("metric_types")))
	if len(metrics) == 0 {
		metrics = []string{"SENT", "DELIVERED", "READ", "CLICKED"}
	}
	points := a.templatePoints(templateQuery{start: start, end: end, now: v.opts.Now(), ids: ids, metrics: metrics, product: cloudAPI})
	entries := make([]any, 0, len(points))
	for _, p := range points {
		s, e := vonageDates(p["start"].(int64), p["end"].(int64), "DAILY")
		entry := map[string]any{"template_id": p["template_id"], "start": s, "end": e}
		for _, k := range []string{"sent", "delivered", "read"} {
			if val, ok := p[k]; ok {
				entry[k] = val
			}
		}
		// One number for all buttons, where Graph lists each.
		if clicked, ok := p["clicked"].([]map[string]any); ok {
			total := 0.0
			for _, c := range clicked {
				total += c["count"].(float64)
			}
			entry["clicked"] = total
		}
		entries = append(entries, entry)
	}
	pageEntries, next := page(entries, q.Get("cursor"), v.opts.PageSize, fault)
	links := map[string]any{"self": map[string]string{"href": v.link(r, "", "", nil)}}
	if next != "" {
		links["next"] = map[string]string{"href": v.link(r, "cursor", next, fault)}
	}
	writeValue(w, http.StatusOK, map[string]any{
		"granularity": "DAILY", "product_type": "cloud_api", "page_size": v.opts.PageSize,
		"_embedded": map[string]any{"template_analytics": pageEntries},
		"_links":    links,
	}, fault)
}

// vonageDates spells a bucket as the document's template and pricing
// examples do: RFC 3339, and a day or month labelled by its last day
// ("start" and "end" both 2024-11-11T00:00:00Z for one day).
func vonageDates(startUnix, endUnix int64, g string) (string, string) {
	start := time.Unix(startUnix, 0).UTC()
	end := time.Unix(endUnix, 0).UTC()
	if g != "HALF_HOUR" {
		end = end.AddDate(0, 0, -1)
	}
	return start.Format(time.RFC3339), end.Format(time.RFC3339)
}

// paging is the Graph-style paging object of the messaging and pricing
// examples; the last page has cursors but no next link.
func (v *Vonage) paging(r *http.Request, next string, fault *Fault) map[string]any {
	p := map[string]any{"cursors": map[string]string{"before": "MAZDZD", "after": next}}
	if next != "" {
		p["next"] = v.link(r, "after", next, fault)
	}
	return p
}

// link repeats the request with a cursor parameter set, as an absolute URL.
func (v *Vonage) link(r *http.Request, param, cursor string, fault *Fault) string {
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	if r.TLS != nil {
		u.Scheme = "https"
	}
	if fault != nil && fault.Kind == ForeignNext {
		u.Host = "collector.attacker.invalid"
	}
	if param != "" {
		q := u.Query()
		q.Set(param, cursor)
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// misbehave applies a fault to a request whose answer embeds its items
// under key, made with the credentials apiKey and secret, and reports
// whether it answered the request.
func (v *Vonage) misbehave(w http.ResponseWriter, r *http.Request, key, apiKey, secret string, f *Fault) bool {
	if key == "" {
		key = "messaging_analytics"
	}
	switch f.Kind {
	case RateLimit:
		status := f.Status
		if status == 0 {
			status = http.StatusTooManyRequests
		}
		wait := f.RegainMinutes * 60
		if wait == 0 {
			wait = 60
		}
		w.Header().Set("Retry-After", strconv.Itoa(wait))
		problem(w, status, "rate-limit", "Too Many Requests", "The request was rate limited.")
	case ServerError:
		serverError(w)
	case Malformed:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"_embedded": {%q: [{"start": "1685602800", "end": "16856`, key)
	case WrongTypes:
		if key == "wabas" {
			writeJSON(w, http.StatusOK, map[string]any{"_embedded": map[string]any{key: []any{
				map[string]any{"waba_id": 345688589250625, "name": 7}}}})
			return true
		}
		writeJSON(w, http.StatusOK, map[string]any{"_embedded": map[string]any{key: []any{
			map[string]any{"start": "1685602800", "end": "1685604600", "sent": "many", "delivered": 1, "volume": "many"},
		}}})
	case Slow:
		return stall(r, f)
	case Hang:
		<-r.Context().Done()
	case InvalidToken:
		problem(w, http.StatusUnauthorized, "unauthorized", "Unauthorized", "You did not provide correct credentials.")
	case Huge:
		writeHuge(w, fmt.Sprintf(`{"_embedded": {%q: []}, "padding": "`, key), f.Size, `"}`)
	case EchoToken:
		problem(w, http.StatusBadRequest, "invalid-params", "Bad Request", "Malformed credentials "+apiKey+":"+secret)
	default:
		return false // EndlessPages, ForeignNext and StringCounts shape the answer instead
	}
	return true
}

// The page size of the WABA listing when none is asked for: the reference
// gives 50 as its example, and no default or maximum.
const vonageListingPageSize = 50

// listing answers GET /v1/channel-manager/whatsapp/wabas, "List WhatsApp
// Business Accounts (WABAs)" of the Channel Manager API reference
// (https://developer.vonage.com/en/api/channel-manager; the code snippet,
// https://developer.vonage.com/en/channel-manager/code-snippets/whatsapp-waba-management/list-waba-accounts):
// the WABAs linked to the API key of the Basic credentials, page by page
// (page, page_size, order asc or desc), in a HAL body: page_size, page,
// total_pages, total_items, _embedded.wabas[] of waba_id, api_key, name,
// account_review_status, timezone_id and currency, and _links self,
// first, last, next and prev. The fake lists WABAs by ID; it leaves out
// the optional ID of the partner solution a WABA was onboarded through.
func (v *Vonage) listing(w http.ResponseWriter, r *http.Request) {
	const op = "wabas"
	q := r.URL.Query()
	key, secret, hasAuth := r.BasicAuth()
	v.mu.Lock()
	s, ok := v.listings[key]
	if !ok {
		s = newStats()
		v.listings[key] = s
	}
	s.count(op, r.Host)
	v.totals.count(op, r.Host, true)
	if q.Has("api_key") || q.Has("api_secret") {
		s.CredentialsInURL++
	}
	var linked []*WABA
	authorized := false
	for _, a := range v.wabas {
		if hasAuth && a.APIKey != "" && a.APIKey == key {
			linked = append(linked, a)
			authorized = authorized || a.Token == secret
		}
	}
	var fault *Fault
	if authorized {
		fault = v.takeFault(key, op)
	}
	slices.SortFunc(linked, func(x, y *WABA) int { return strings.Compare(x.WABAID, y.WABAID) })
	items := make([]map[string]any, 0, len(linked))
	for _, a := range linked {
		items = append(items, map[string]any{
			"waba_id": a.WABAID, "api_key": a.APIKey, "name": a.name(),
			"account_review_status": "Approved", "timezone_id": a.timezoneID(), "currency": a.currency(),
		})
	}
	v.mu.Unlock()

	if !authorized {
		problem(w, http.StatusUnauthorized, "unauthorized", "Unauthorized", "You did not provide correct credentials.")
		return
	}
	if r.Method != http.MethodGet {
		problem(w, http.StatusMethodNotAllowed, "method-not-allowed", "Method Not Allowed", "the WABA listing answers GET only.")
		return
	}
	if fault != nil && v.misbehave(w, r, op, key, secret, fault) {
		return
	}
	number := func(name string, fallback int) (int, bool) {
		raw := q.Get(name)
		if raw == "" {
			return fallback, true
		}
		n, err := strconv.Atoi(raw)
		return n, err == nil && n >= 1
	}
	pageNumber, okPage := number("page", 1)
	size, okSize := number("page_size", vonageListingPageSize)
	order := cmp.Or(q.Get("order"), "asc")
	if !okPage || !okSize || (order != "asc" && order != "desc") {
		problem(w, http.StatusBadRequest, "invalid-params", "Bad Request", "page and page_size must be positive integers, order asc or desc")
		return
	}
	if order == "desc" {
		slices.Reverse(items)
	}
	pages := max((len(items)+size-1)/size, 1)
	from := min((pageNumber-1)*size, len(items))
	link := func(p int) map[string]string {
		u := *r.URL
		u.Scheme, u.Host = "http", r.Host
		if r.TLS != nil {
			u.Scheme = "https"
		}
		if fault != nil && fault.Kind == ForeignNext {
			u.Host = "collector.attacker.invalid"
		}
		u.RawQuery = url.Values{"page": {strconv.Itoa(p)}, "page_size": {strconv.Itoa(size)}, "order": {order}}.Encode()
		return map[string]string{"href": u.String()}
	}
	links := map[string]any{"self": link(pageNumber), "first": link(1), "last": link(pages)}
	if pageNumber < pages || (fault != nil && fault.Kind == EndlessPages) {
		links["next"] = link(pageNumber + 1)
	}
	if pageNumber > 1 {
		links["prev"] = link(pageNumber - 1)
	}
	writeValue(w, http.StatusOK, map[string]any{
		"page_size": size, "page": pageNumber, "total_pages": pages, "total_items": len(items),
		"_embedded": map[string]any{"wabas": items[from:min(from+size, len(items))]},
		"_links":    links,
	}, fault)
}

// problem answers an RFC 7807 problem, the way Vonage's APIs report errors.
func problem(w http.ResponseWriter, status int, kind, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{
		"type":     "https://developer.vonage.com/api-errors#" + kind,
		"title":    title,
		"detail":   detail,
		"instance": "bf0ca0bf-927b-3b52-e3e8-0f5e4bc9c3a7",
	})
}
