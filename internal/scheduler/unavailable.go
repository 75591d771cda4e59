package scheduler

import (
	"errors"
	"time"

	"github.com/go-kit/log/level"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// RecheckUnavailable is how long the exporter leaves alone what the API said
// it does not serve for an account (a family, a template product) before it
// asks again: long enough not to spend requests, and alert noise, on a
// refusal that every refresh would repeat; short enough to notice within a
// day that it changed (template insights enabled, say).
const RecheckUnavailable = 24 * time.Hour

// unavailability is what the API said it does not serve for the account, and
// when to ask again.
type unavailability struct {
	families map[provider.Family]time.Time
	products map[provider.TemplateProduct]time.Time
}

// skipUnavailable reports whether family f is to be left out of this
// refresh, because the API said it does not serve it and the day is not
// over. Once it is, the family is asked for again, as if available.
func (p *poller) skipUnavailable(f provider.Family, next *analytics.Refresh) bool {
	until, ok := p.unavailable.families[f]
	if ok && p.now().Before(until) {
		next.Success = false
		return true
	}
	delete(p.unavailable.families, f)
	next.Unavailable = ""
	return false
}

// markUnavailable reports whether err says the API does not serve family f
// for this account at all; if so the family is marked unavailable for a
// day, which is not a failure: it is logged once, with why, and re-checked
// daily, and refresh_success reads 0 beside family_available 0, so that
// alerts can tell it from a failure; the family's data goes. It is logged
// again only if the reason changes.
func (p *poller) markUnavailable(f provider.Family, next *analytics.Refresh, err error) bool {
	var u *provider.Unavailable
	if !errors.As(err, &u) {
		return false
	}
	if p.unavailable.families == nil {
		p.unavailable.families = map[provider.Family]time.Time{}
	}
	p.unavailable.families[f] = p.now().Add(RecheckUnavailable)
	next.Success, next.Unavailable = false, u.Reason
	// Unlike a failure, which is expected to pass, this holds: the last
	// values would only grow stale, so they go.
	next.BucketStart, next.BucketEnd, next.Values, next.MonthToDate = time.Time{}, time.Time{}, nil, nil
	logger := level.Warn(p.logger)
	if p.lastErr[string(f)] == "unavailable "+u.Reason {
		logger = level.Debug(p.logger)
	}
	msg := "The API does not serve this family for this account; not asking again for a day"
	if u.Reason == provider.ReasonInsightsDisabled {
		msg = "Template insights are not enabled for this WABA (POST /{WABA_ID}?is_enabled_for_insights=true enables them, for good); not asking again for a day"
	}
	logger.Log("msg", msg, "family", f, "reason", u.Reason, "err", err)
	p.lastErr[string(f)] = "unavailable " + u.Reason
	return true
}

// productRefused reports whether the API refused the template analytics of
// product's sends for this account within the last day.
func (p *poller) productRefused(product provider.TemplateProduct) bool {
	until, ok := p.unavailable.products[product]
	if ok && p.now().Before(until) {
		return true
	}
	delete(p.unavailable.products, product)
	return false
}

// refuseProduct reports whether err refuses the template analytics of one
// product's sends (an account that does not use the Marketing Messages API,
// say) rather than failing the request: a refusal (HTTP 4xx) that is not a
// rate limit. The family then goes on with the other products' sends, and
// asks for this one's again in a day; logged once.
func (p *poller) refuseProduct(product provider.TemplateProduct, err error) bool {
	var apiErr *provider.APIError
	if !errors.As(err, &apiErr) || apiErr.Status < 400 || apiErr.Status >= 500 || apiErr.RateLimited || apiErr.Transient {
		return false
	}
	if p.unavailable.products == nil {
		p.unavailable.products = map[provider.TemplateProduct]time.Time{}
	}
	p.unavailable.products[product] = p.now().Add(RecheckUnavailable)
	key := string(provider.Templates) + " " + string(product)
	if p.lastErr[key] != apiErr.Code {
		level.Info(p.logger).Log("msg", "The API refuses the template analytics of this product's sends; reporting the others, asking again in a day",
			"family", provider.Templates, "product_type", product, "err", err)
	}
	p.lastErr[key] = apiErr.Code
	return true
}
