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
	"time"
	"unicode"

	"gopkg.in/yaml.v3"
)

// Limits documented by the APIs.
const (
	// template_analytics has a lookback of up to 90 days
	// (meta-graph-analytics-v21.txt, "Template Analytics").
	maxTemplateHistory = 90 * 24 * time.Hour
	// pricing_analytics has a lookback of one year (graph-api-facts.md).
	maxPricingHistory = 365 * 24 * time.Hour
)

var (
	digitsOnly  = regexp.MustCompile(`^[0-9]+$`)
	apiVersion  = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)
	countryCode = regexp.MustCompile(`^[A-Z]{2}$`)
	// Category and type filters are passed to the API as given: Meta adds
	// values (and its own documents misspell some, e.g.
	// AUTHENTICATION_INTERATIONAL in meta-graph-analytics-v21.txt), so only
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
	if n == nil && len(path) > 2 && path[0] == "accounts" {
		if d := lookup(v.doc, append([]any{"defaults"}, path[2:]...)); d != nil {
			at, n = append([]any{"defaults"}, path[2:]...), d
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
	if len(c.Accounts) == 0 {
		v.fail([]any{"accounts"}, "no accounts configured; list at least one WABA")
	}
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
}

func (v *validator) account(a *Account, at func(...any) []any) {
	switch {
	case a.WABAID == "":
		v.fail(at(), "waba_id is required")
	case !digitsOnly.MatchString(a.WABAID):
		v.fail(at("waba_id"), "%q is not a WABA ID; want digits only", a.WABAID)
	}

	switch a.Provider {
	case ProviderMeta, ProviderGraphPassthrough:
		if !apiVersion.MatchString(a.APIVersion) {
			v.fail(at("api_version"), "%q is not a Graph API version; want e.g. %s", a.APIVersion, DefaultAPIVersion)
		} else if a.urlVersion != "" && a.APIVersion != a.urlVersion {
			v.fail(at("api_version"), "%s contradicts the version %s that api_url ends in; give the version in one place", a.APIVersion, a.urlVersion)
		}
		v.secret(&a.AccessToken, a.AccessTokenFile, true, at("access_token"), at("access_token_file"))
		v.unused(at, "it authenticates with access_token", "api_key", "api_secret", "api_secret_file")
		if a.Provider == ProviderMeta {
			v.secret(&a.AppSecret, a.AppSecretFile, false, at("app_secret"), at("app_secret_file"))
			break
		}
		// appsecret_proof is an HMAC keyed with Meta's app secret: sent to
		// a BSP it would hand the BSP a value derived from that secret, and
		// the BSP authenticates with its own key alone. One inherited from
		// defaults is meant for the meta accounts there, so it is dropped
		// rather than used.
		v.unused(at, "appsecret_proof is for Meta's own Graph API; a BSP authenticates with access_token alone", "app_secret", "app_secret_file")
		a.AppSecret, a.AppSecretFile = "", ""
	case ProviderVonage:
		switch {
		case a.APIKey == "":
			v.fail(at(), "api_key is required for provider vonage: the Vonage API key, sent with api_secret as HTTP Basic auth")
		case !oneToken(a.APIKey):
			v.fail(at("api_key"), "%s", notOneToken)
		}
		v.secret(&a.APISecret, a.APISecretFile, true, at("api_secret"), at("api_secret_file"))
		v.unused(at, "it authenticates with api_key and api_secret", "access_token", "access_token_file", "app_secret", "app_secret_file")
		v.unused(at, "its Channel Manager API has one version, v1", "api_version")
	default:
		v.fail(at("provider"), "unknown provider %q; want %s, %s or %s", a.Provider, ProviderMeta, ProviderGraphPassthrough, ProviderVonage)
	}
	switch u, err := url.Parse(a.APIURL); {
	case a.APIURL == "":
		// Only a passthrough has no default URL; an unknown provider is
		// reported as such above.
		if a.Provider == ProviderGraphPassthrough {
			v.fail(at("api_url"), "required for provider %s: the BSP's API root, e.g. https://api.example.com/api", a.Provider)
		}
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		v.fail(at("api_url"), "%q is not an http(s) URL", a.APIURL)
	case u.RawQuery != "" || u.User != nil:
		where := "access_token"
		if a.Provider == ProviderVonage {
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

	messagingHistory, pricingHistory := time.Duration(0), maxPricingHistory
	if a.Provider == ProviderVonage {
		messagingHistory, pricingHistory = vonageHistory, vonageHistory
	}
	v.family(&a.Messaging.Family, at("messaging"), a.Provider, messagingHistory)
	v.family(&a.Conversations.Family, at("conversations"), a.Provider, 0)
	v.family(&a.Pricing.Family, at("pricing"), a.Provider, pricingHistory)
	if a.Templates.Granularity == "DAILY" || NormalizeGranularity(a.Templates.Granularity) == "" {
		v.family(&a.Templates.Family, at("templates"), a.Provider, maxTemplateHistory)
	} else {
		// The granularity is the error: the history measured with its
		// alignment would be a second, misleading one.
		v.family(&a.Templates.Family, at("templates"), a.Provider, 0)
		v.fail(at("templates", "granularity"), "template analytics are DAILY only")
	}
	v.offers(a, at)

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
}

// offers rejects what the account's provider cannot serve: a family it has
// no endpoint for, cost it never reports, filters and discovery its API
// lacks. Each is a refresh that could only fail, so it is caught here, at
// its line, rather than as a failing refresh forever.
func (v *validator) offers(a *Account, at func(...any) []any) {
	for _, key := range []string{"messaging", "conversations", "pricing", "templates"} {
		if FamilyOffer(a.Provider, key) == NotOffered && a.families()[key].IsEnabled() {
			v.fail(at(key, "enabled"), "provider %s does not offer %s analytics; remove enabled: true", a.Provider, key)
		}
	}
	if !ReportsCost(a.Provider) {
		for key, cost := range map[string]*bool{"conversations": a.Conversations.Cost, "pricing": a.Pricing.Cost, "templates": a.Templates.Cost} {
			if cost != nil && *cost {
				v.fail(at(key, "cost"), "provider %s does not report cost; the cost series are absent for it, remove cost: true", a.Provider)
			}
		}
	}
	if a.Provider != ProviderVonage {
		return
	}
	// vonage-channel-manager-analytics.txt has no endpoint that lists a
	// WABA's phone numbers or templates, and its pricing-analytics filters
	// by phone number, country and tier only.
	if m := a.Messaging; m.IsEnabled() && slices.Contains(m.SplitBy, "PHONE") && len(m.PhoneNumbers) == 0 {
		v.fail(at("messaging", "split_by"), "PHONE needs the numbers to split by in messaging.phone_numbers: the Vonage analytics API cannot list a WABA's numbers")
	}
	if t := a.Templates; t.IsEnabled() && len(t.TemplateIDs) == 0 {
		v.fail(at("templates", "enabled"), "provider vonage needs the templates to report in templates.template_ids: its analytics API cannot list a WABA's templates")
	}
	if len(a.Pricing.PricingCategories) > 0 {
		v.fail(at("pricing", "pricing_categories"), "not a filter of Vonage's pricing-analytics; break the volume down with dimensions: [PRICING_CATEGORY] instead")
	}
	if len(a.Pricing.PricingTypes) > 0 {
		v.fail(at("pricing", "pricing_types"), "not a filter of Vonage's pricing-analytics; break the volume down with dimensions: [PRICING_TYPE] instead")
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

func (v *validator) family(f *Family, at []any, provider string, maxHistory time.Duration) {
	if NormalizeGranularity(f.Granularity) == "" {
		v.fail(sub(at, "granularity"), "unknown granularity %q; want HALF_HOUR, DAILY or MONTHLY", f.Granularity)
	}
	if f.Lookback < 0 {
		v.fail(sub(at, "lookback"), "must be positive")
	}
	if f.DelayOrZero() < 0 {
		v.fail(sub(at, "delay"), "must not be negative")
	}
	if maxHistory == 0 {
		return
	}
	align, unit := alignment(f.Granularity, provider)
	if reach := f.Lookback + f.DelayOrZero() + align; reach > maxHistory {
		hint := "; lower delay"
		if most := maxHistory - f.DelayOrZero() - align; most > 0 {
			hint = fmt.Sprintf("; lookback can be at most %s", most)
		}
		v.fail(sub(at, "lookback"), "lookback plus delay plus one %s (%s) for aligning the start is %s, more than the %s of history the API keeps%s",
			unit, align, reach, maxHistory, hint)
	}
}

// alignment is how far, at worst, the collector's window start moves back
// from now-delay-lookback when it is aligned to the start of its bucket
// (collector/account.go, window): a day starts at midnight UTC, a month on
// the 1st, which is up to 31 days back. The request must still fall within
// the history the API keeps once moved. Vonage takes whole UTC days only
// (provider/vonage, window), so a half-hour window there starts at
// midnight too.
func alignment(granularity, provider string) (time.Duration, string) {
	switch NormalizeGranularity(granularity) {
	case "MONTHLY":
		return 31 * 24 * time.Hour, "month"
	case "HALF_HOUR":
		if provider != ProviderVonage {
			return 30 * time.Minute, "half hour"
		}
	}
	return 24 * time.Hour, "day"
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
