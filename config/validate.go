package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/bucket"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/registry"
)

var (
	digitsOnly  = regexp.MustCompile(`^[0-9]+$`)
	apiVersion  = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)
	countryCode = regexp.MustCompile(`^[A-Z]{2}$`)
	// Category and type filters are passed to the API as given: Meta adds
	// values (and its own documents misspell some, e.g.
	// AUTHENTICATION_INTERATIONAL on the v21 edition of Meta's Analytics
	// page, https://developers.facebook.com/docs/whatsapp/business-management-api/analytics), so only
	// the shape is checked here, and the API judges the value.
	apiValue = regexp.MustCompile(`^[A-Z][A-Z_]*$`)
)

// validator collects every problem of a config, each located in the file.
type validator struct {
	file string
	doc  *yaml.Node
	dir  string
	errs []locatedError
}

type locatedError struct {
	line int
	msg  string
}

// err lists the problems in file order, each once: a bad key in defaults
// would otherwise be reported for every account that inherits it.
func (v *validator) err() error {
	slices.SortFunc(v.errs, func(a, b locatedError) int {
		if a.line != b.line {
			return a.line - b.line
		}
		return strings.Compare(a.msg, b.msg)
	})
	v.errs = slices.Compact(v.errs)
	errs := make([]error, len(v.errs))
	for i, e := range v.errs {
		errs[i] = errors.New(e.msg)
	}
	return errors.Join(errs...)
}

// fail records a problem with the value at path, e.g.
// ("accounts", 2, "messaging", "granularity"). A value an account inherited
// from defaults is reported where defaults sets it.
func (v *validator) fail(path []any, format string, args ...any) {
	at := path
	n := lookup(v.doc, path)
	if n == nil && len(path) > 2 && (path[0] == "accounts" || path[0] == "businesses") {
		// A key an account (or a business's WABAs) inherits from
		// defaults is reported where defaults set it.
		rest := path[2:]
		if path[0] == "businesses" && rest[0] == "defaults" {
			rest = rest[1:]
		}
		if d := lookup(v.doc, append([]any{"defaults"}, rest...)); d != nil && len(rest) > 0 {
			at, n = append([]any{"defaults"}, rest...), d
		}
	}
	for cut := len(path); n == nil && cut > 0; cut-- {
		n = lookup(v.doc, path[:cut])
	}
	msg := fmt.Sprintf(format, args...)
	if n == nil {
		v.errs = append(v.errs, locatedError{0, fmt.Sprintf("%s: %s: %s", v.file, formatPath(at), msg)})
		return
	}
	v.errs = append(v.errs, locatedError{n.Line, fmt.Sprintf("%s:%d: %s: %s", v.file, n.Line, formatPath(at), msg)})
}

func (v *validator) validate(c *Config) {
	g := c.Global
	if g.RequestsPerSecond < 0 {
		v.fail([]any{"global", "requests_per_second"}, "must be positive")
	}
	if g.Burst < 0 {
		v.fail([]any{"global", "burst"}, "must be positive")
	}
	if g.MaxConcurrentRequests < 0 {
		v.fail([]any{"global", "max_concurrent_requests"}, "must be positive")
	}
	if g.MaxRequestsPerHour < 0 {
		v.fail([]any{"global", "max_requests_per_hour"}, "must be positive")
	}
	if g.MaxResponseBytesInFlight < provider.MaxResponseBytes {
		v.fail([]any{"global", "max_response_bytes_in_flight"}, "must be at least %s, the largest response the exporter reads", Bytes(provider.MaxResponseBytes))
	}
	if len(c.Accounts) == 0 && len(c.Businesses) == 0 {
		v.fail([]any{"accounts"}, "no accounts configured; list at least one WABA, or a business whose WABAs to list")
	}
	v.validateBusinesses(c)
	seen := map[string]int{}
	for i := range c.Accounts {
		a := &c.Accounts[i]
		at := func(rest ...any) []any { return append([]any{"accounts", i}, rest...) }
		if first, dup := seen[a.WABAID]; dup && a.WABAID != "" {
			v.fail(at("waba_id"), "WABA %s is already configured at accounts[%d]", a.WABAID, first)
		}
		seen[a.WABAID] = i
		v.account(a, at)
	}
	v.webhooks(c)
}

func (v *validator) account(a *Account, at func(...any) []any) {
	switch {
	case a.WABAID == "":
		v.fail(at(), "waba_id is required")
	case !digitsOnly.MatchString(a.WABAID):
		v.fail(at("waba_id"), "%q is not a WABA ID; want digits only", a.WABAID)
	}

	prov, known := registry.Lookup(a.Provider)
	caps := prov.Capabilities
	if !known {
		v.fail(at("provider"), "unknown provider %q; want %s", a.Provider, oneOf(registry.Names()))
	}
	switch {
	case !known:
	case caps.Versioned && !apiVersion.MatchString(a.APIVersion):
		v.fail(at("api_version"), "%q is not a Graph API version; want e.g. %s", a.APIVersion, DefaultAPIVersion)
	case caps.Versioned && a.urlVersion != "" && a.APIVersion != a.urlVersion:
		v.fail(at("api_version"), "%s contradicts the version %s that api_url ends in; give the version in one place", a.APIVersion, a.urlVersion)
	case !caps.Versioned:
		v.unused(at, "its API has one version", "api_version")
	}
	switch {
	case !known:
	case caps.Auth == provider.BearerToken:
		v.secret(&a.AccessToken, a.AccessTokenFile, true, at("access_token"), at("access_token_file"))
		v.unused(at, "it authenticates with access_token", "api_key", "api_secret", "api_secret_file")
	case caps.Auth == provider.KeyAndSecret:
		switch {
		case a.APIKey == "":
			v.fail(at(), "api_key is required for provider %s: the API key, sent with api_secret as HTTP Basic auth", a.Provider)
		case !oneToken(a.APIKey):
			v.fail(at("api_key"), "%s", notOneToken)
		}
		v.secret(&a.APISecret, a.APISecretFile, true, at("api_secret"), at("api_secret_file"))
		v.unused(at, "it authenticates with api_key and api_secret", "access_token", "access_token_file", "app_secret", "app_secret_file")
	}
	switch {
	case !known || caps.Auth != provider.BearerToken:
	case caps.AppSecretProof:
		v.secret(&a.AppSecret, a.AppSecretFile, false, at("app_secret"), at("app_secret_file"))
	default:
		// appsecret_proof is an HMAC keyed with Meta's app secret: sent to
		// a BSP it would hand the BSP a value derived from that secret, and
		// the BSP authenticates with its own key alone. One inherited from
		// defaults is meant for the meta accounts there, so it is dropped
		// rather than used.
		v.unused(at, "appsecret_proof is for Meta's own Graph API; a BSP authenticates with access_token alone", "app_secret", "app_secret_file")
		a.AppSecret, a.AppSecretFile = "", ""
	}
	switch u, err := url.Parse(a.APIURL); {
	case a.APIURL == "":
		// Only a provider without a default URL (a BSP's own) gets here;
		// an unknown provider is reported as such above.
		if known {
			v.fail(at("api_url"), "required for provider %s: the BSP's API root, e.g. https://api.example.com/api", a.Provider)
		}
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		v.fail(at("api_url"), "%q is not an http(s) URL", a.APIURL)
	case u.RawQuery != "" || u.User != nil:
		where := "access_token"
		if caps.Auth == provider.KeyAndSecret {
			where = "api_key and api_secret"
		}
		v.fail(at("api_url"), "must not carry a query string or user info; credentials belong in %s", where)
	}
	if a.Interval <= 0 {
		v.fail(at("interval"), "must be positive")
	}
	if a.Timeout <= 0 {
		v.fail(at("timeout"), "must be positive")
	}
	if a.MaxRequestsPerHour < 0 {
		v.fail(at("max_requests_per_hour"), "must be positive")
	}
	if a.MaxSeries < 0 {
		v.fail(at("max_series"), "must be positive")
	}
	if a.MaxDataAge < a.Interval && a.Interval > 0 {
		// Shorter than the interval, every value would be dropped for a
		// while between two refreshes that both succeed.
		v.fail(at("max_data_age"), "%s is shorter than the interval, %s: the values would vanish between two good refreshes", a.MaxDataAge, a.Interval)
	}

	for _, f := range provider.Families {
		v.family(a, f, at(string(f)))
	}
	v.offers(a, caps, at)
	v.health(a, caps, at)

	m := &a.Messaging
	v.each(m.PhoneNumbers, at("messaging", "phone_numbers"), digitsOnly, "a phone number in digits only, e.g. 16505550111")
	v.each(m.CountryCodes, at("messaging", "country_codes"), countryCode, "a two-letter country code, e.g. US")
	for i, t := range m.ProductTypes {
		if t != 0 && t != 2 {
			v.fail(at("messaging", "product_types", i), "%d is not a product type; want 0 (notification) or 2 (customer support)", t)
		}
	}
	v.enum(m.SplitBy, at("messaging", "split_by"), []string{"PHONE", "COUNTRY"})
	if slices.Contains(m.SplitBy, "COUNTRY") && len(m.CountryCodes) == 0 {
		v.fail(at("messaging", "split_by"), "COUNTRY needs the countries to split by in messaging.country_codes")
	}

	c := &a.Conversations
	v.each(c.PhoneNumbers, at("conversations", "phone_numbers"), digitsOnly, "a phone number in digits only")
	v.each(c.CountryCodes, at("conversations", "country_codes"), countryCode, "a two-letter country code")
	v.each(c.ConversationCategories, at("conversations", "conversation_categories"), apiValue, "a category in upper case, e.g. MARKETING")
	v.each(c.ConversationTypes, at("conversations", "conversation_types"), apiValue, "a conversation type in upper case, e.g. REGULAR")
	v.each(c.ConversationDirections, at("conversations", "conversation_directions"), apiValue, "a direction in upper case, e.g. USER_INITIATED")
	v.enum(c.Dimensions, at("conversations", "dimensions"), AllConversationDimensions)

	p := &a.Pricing
	v.each(p.PhoneNumbers, at("pricing", "phone_numbers"), digitsOnly, "a phone number in digits only")
	v.each(p.CountryCodes, at("pricing", "country_codes"), countryCode, "a two-letter country code")
	v.each(p.PricingCategories, at("pricing", "pricing_categories"), apiValue, "a pricing category in upper case, e.g. MARKETING")
	v.each(p.PricingTypes, at("pricing", "pricing_types"), apiValue, "a pricing type in upper case, e.g. REGULAR")
	v.enum(p.Dimensions, at("pricing", "dimensions"), AllPricingDimensions)

	v.each(a.Templates.TemplateIDs, at("templates", "template_ids"), digitsOnly, "a template ID in digits only")

	cl := &a.Calls
	v.each(cl.PhoneNumbers, at("calls", "phone_numbers"), digitsOnly, "a phone number in digits only")
	v.each(cl.CountryCodes, at("calls", "country_codes"), countryCode, "a two-letter country code")
	v.each(cl.Directions, at("calls", "directions"), apiValue, "a direction in upper case, e.g. USER_INITIATED")
	v.enum(cl.SplitBy, at("calls", "split_by"), []string{"PHONE", "COUNTRY", "DIRECTION"})
	if slices.Contains(cl.SplitBy, "COUNTRY") && len(cl.CountryCodes) == 0 {
		v.fail(at("calls", "split_by"), "COUNTRY needs the countries to split by in calls.country_codes")
	}
}

// zeros rejects a key that the file sets to 0 (or "") where leaving the key
// out means a default: interval: 0s would otherwise silently become 15m, and
// requests_per_second: 0 the default rate, not "none". It runs before the
// defaults are applied, and reports each key where the file sets it: an
// account that inherits a zero from defaults is reported once, at defaults.
func (v *validator) zeros(c *Config) {
	g := c.Global
	for _, k := range []struct {
		key     string
		zero    bool
		without string
	}{
		{"requests_per_second", g.RequestsPerSecond == 0, fmt.Sprintf("the default, %d", DefaultRequestsPerSecond)},
		{"burst", g.Burst == 0, fmt.Sprintf("the default, %d", DefaultBurst)},
		{"max_concurrent_requests", g.MaxConcurrentRequests == 0, fmt.Sprintf("the default, %d", DefaultMaxConcurrentRequests)},
		{"max_requests_per_hour", g.MaxRequestsPerHour == 0, "no ceiling"},
		{"max_response_bytes_in_flight", g.MaxResponseBytesInFlight == 0, "the default, " + Bytes(DefaultMaxResponseBytesInFlight).String()},
	} {
		v.zero(k.zero, []any{"global", k.key}, k.without)
	}
	v.webhookZeros(c)
	v.accountZeros(&c.Defaults, []any{"defaults"})
	for i := range c.Accounts {
		v.accountZeros(&c.Accounts[i], []any{"accounts", i})
	}
	for i := range c.Businesses {
		b := &c.Businesses[i]
		v.accountZeros(&b.Defaults, []any{"businesses", i, "defaults"})
		v.zero(b.ListInterval == 0, []any{"businesses", i, "list_interval"}, "the default, "+DefaultListInterval.String())
	}
}

func (v *validator) accountZeros(a *Account, at []any) {
	v.zero(a.Interval == 0, sub(at, "interval"), "the default, "+DefaultInterval.String())
	v.zero(a.Timeout == 0, sub(at, "timeout"), "the default, "+DefaultTimeout.String())
	v.zero(a.MaxRequestsPerHour == 0, sub(at, "max_requests_per_hour"), "no ceiling")
	v.zero(a.MaxDataAge == 0, sub(at, "max_data_age"), "the default, four intervals and at least an hour")
	v.zero(a.MaxSeries == 0, sub(at, "max_series"), fmt.Sprintf("the default, %d", DefaultMaxSeries))
	v.zero(a.Provider == "", sub(at, "provider"), "the default, "+registry.Names()[0])
	v.zero(a.APIVersion == "", sub(at, "api_version"), "the default, "+DefaultAPIVersion)
	name := a.Provider
	if name == "" {
		name = registry.Names()[0]
	}
	if p, ok := registry.Lookup(name); !ok || p.DefaultURL != "" {
		// Without a default, an empty api_url is reported as missing.
		v.zero(a.APIURL == "", sub(at, "api_url"), "the provider's default")
	}
	for _, f := range provider.Families {
		s := a.Family(f)
		v.zero(s.Granularity == "", sub(at, string(f), "granularity"), "the default")
		v.zero(s.Lookback == 0, sub(at, string(f), "lookback"), "the default")
	}
}

// zero reports the key at path when the file sets it and its value is zero.
func (v *validator) zero(zero bool, path []any, without string) {
	n := lookup(v.doc, path)
	if !zero || n == nil {
		return
	}
	msg := "must be positive"
	if n.ShortTag() == "!!str" && n.Value == "" {
		msg = "must not be empty"
	}
	v.fail(path, "%s; leave it out for %s", msg, without)
}

// offers rejects what the account's provider cannot serve: a family it has
// no endpoint for, cost it never reports, filters and discovery its API
// lacks. Each is a refresh that could only fail, so it is caught here, at
// its line, rather than as a failing refresh forever.
func (v *validator) offers(a *Account, caps provider.Capabilities, at func(...any) []any) {
	if caps.Name == "" {
		return // an unknown provider, reported as such
	}
	for _, f := range provider.Families {
		if caps.Family(f).Offer == provider.NotOffered && a.Family(f).IsEnabled() {
			v.fail(at(string(f), "enabled"), "provider %s does not offer %s analytics; remove enabled: true", a.Provider, f)
		}
	}
	if !caps.Cost {
		for f, cost := range a.costs() {
			if *cost != nil && **cost {
				v.fail(at(string(f), "cost"), "provider %s does not report cost; the cost series are absent for it, remove cost: true", a.Provider)
			}
		}
	}
	if m := a.Messaging; !caps.DiscoverPhones && m.IsEnabled() && slices.Contains(m.SplitBy, "PHONE") && len(m.PhoneNumbers) == 0 {
		v.fail(at("messaging", "split_by"), "PHONE needs the numbers to split by in messaging.phone_numbers: provider %s cannot list a WABA's numbers", a.Provider)
	}
	if t := a.Templates; !caps.DiscoverTemplates && t.IsEnabled() && len(t.TemplateIDs) == 0 {
		v.fail(at("templates", "enabled"), "provider %s needs the templates to report in templates.template_ids: its API cannot list a WABA's templates", a.Provider)
	}
	if !caps.PricingFilters {
		for _, filter := range []struct {
			key, dimension string
			values         []string
		}{
			{"pricing_categories", "PRICING_CATEGORY", a.Pricing.PricingCategories},
			{"pricing_types", "PRICING_TYPE", a.Pricing.PricingTypes},
		} {
			if len(filter.values) > 0 {
				v.fail(at("pricing", filter.key), "not a filter of provider %s's pricing analytics; break the volume down with dimensions: [%s] instead", a.Provider, filter.dimension)
			}
		}
	}
}

// unused rejects a key that the account itself sets but its provider never
// reads: a Graph token on a Vonage account is a mistake, not a fallback. A
// key inherited from defaults is fine, so that one defaults section can serve
// accounts of several providers.
func (v *validator) unused(at func(...any) []any, why string, keys ...string) {
	for _, k := range keys {
		if lookup(v.doc, at(k)) != nil {
			v.fail(at(k), "not used by this account's provider: %s", why)
		}
	}
}

func (v *validator) family(a *Account, f provider.Family, at []any) {
	s := a.Family(f)
	g := provider.Granularity(NormalizeGranularity(s.Granularity))
	fc := a.Capabilities().Family(f)
	switch {
	case g == "":
		v.fail(sub(at, "granularity"), "unknown granularity %q; want HALF_HOUR, DAILY or MONTHLY", s.Granularity)
	case fc.Granularities != nil && !slices.Contains(fc.Granularities, g):
		// The granularity is the error: the history measured with its
		// alignment would be a second, misleading one.
		v.fail(sub(at, "granularity"), "%s analytics are %s only", strings.TrimSuffix(string(f), "s"), granularities(fc.Granularities))
		g = ""
	}
	if s.Lookback < 0 {
		v.fail(sub(at, "lookback"), "must be positive")
	}
	if s.DelayOrZero() < 0 {
		v.fail(sub(at, "delay"), "must not be negative")
	}
	if fc.History == 0 || g == "" {
		return
	}
	spec := a.Spec(f)
	align := bucket.Reach(spec) - spec.Lookback - spec.Delay
	if reach := bucket.Reach(spec); reach > fc.History {
		hint := "; lower delay"
		if most := fc.History - spec.Delay - align; most > 0 {
			hint = fmt.Sprintf("; lookback can be at most %s", most)
		}
		v.fail(sub(at, "lookback"), "lookback plus delay plus one %s (%s) for aligning the start is %s, more than the %s of history the API keeps%s",
			unit(spec), align, reach, fc.History, hint)
	}
}

// unit names the unit a window's start is aligned to, in messages.
func unit(spec bucket.Spec) string {
	g := bucket.Alignment(spec)
	name := map[provider.Granularity]string{provider.HalfHour: "half hour", provider.Day: "day", provider.Month: "month"}[g]
	if spec.Zoned && g != provider.HalfHour {
		name += " in the WABA's time zone, with a change of the clocks"
	}
	return name
}

func granularities(gs []provider.Granularity) string {
	names := make([]string, len(gs))
	for i, g := range gs {
		names[i] = string(g)
	}
	return oneOf(names)
}

// oneOf lists values as "a, b or c".
func oneOf(values []string) string {
	if len(values) < 2 {
		return strings.Join(values, "")
	}
	return strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
}

func (v *validator) each(values []string, at []any, re *regexp.Regexp, want string) {
	for i, s := range values {
		if !re.MatchString(s) {
			v.fail(sub(at, i), "%q is not %s", s, want)
		}
	}
}

func (v *validator) enum(values []string, at []any, allowed []string) {
	seen := map[string]bool{}
	for i, s := range values {
		switch {
		case !slices.Contains(allowed, s):
			v.fail(sub(at, i), "unknown value %q; want one of %s", s, strings.Join(allowed, ", "))
		case seen[s]:
			v.fail(sub(at, i), "%q is listed twice", s)
		}
		seen[s] = true
	}
}

// secret resolves a credential given inline or in a file. The file is read
// now, so that a missing secret stops the exporter at start-up rather than at
// its first request.
func (v *validator) secret(s *Secret, file string, required bool, inlineAt, fileAt []any) {
	switch {
	case *s != "" && file != "":
		v.fail(fileAt, "set either %s or %s, not both", inlineAt[len(inlineAt)-1], fileAt[len(fileAt)-1])
	case file != "":
		path := file
		if !filepath.IsAbs(path) {
			path = filepath.Join(v.dir, path)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			v.fail(fileAt, "%v", err)
			return
		}
		switch *s = Secret(strings.TrimSpace(string(data))); {
		case *s == "":
			v.fail(fileAt, "%s is empty", path)
		case !oneToken(string(*s)):
			v.fail(fileAt, "%s %s", path, notOneToken)
		}
	case *s == "" && required:
		v.fail(inlineAt[:len(inlineAt)-1], "%s or %s is required", inlineAt[len(inlineAt)-1], fileAt[len(fileAt)-1])
	case !oneToken(string(*s)):
		v.fail(inlineAt, "%s", notOneToken)
	}
}

// notOneToken says what is wrong with a credential without quoting it.
const notOneToken = "contains whitespace or control characters; a credential is one line without spaces"

// oneToken reports whether a credential could be sent as it is. A line
// break or space inside one (a token file with two lines, a secret pasted
// with a space) would otherwise load and then fail every request, as a
// connection error that does not point at the config.
func oneToken(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
}

// sub extends a path without sharing its backing array with other extensions.
func sub(path []any, rest ...any) []any { return append(slices.Clip(path), rest...) }
