package scheduler

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// healthEvery is how often account health is read: with a refresh, at most
// this often, so that an account refreshed every few minutes does not spend
// its API budget on states that Meta changes a few times a day at most; and
// with every refresh at the default interval of 15 minutes. A refresh that
// comes a little early (the ±10% jitter) still reads it.
const healthEvery = 15 * time.Minute

// healthState is what the poller keeps of account health between reads.
type healthState struct {
	// current is what publish hands on; replaced, never changed.
	current *analytics.Health
	// read is when health was last read in full; zero until then, or
	// after a failure, so that the next refresh tries again.
	read time.Time
}

// readHealth reads the status, quality and limits of the account's phone
// numbers and templates, when due: two requests (and one per further
// hundred numbers or templates) at most every 15 minutes. It comes first in
// a refresh, because the analytics take the numbers and templates it lists
// (inventory.go) rather than listing them again. A failure keeps the last
// good health, marks the health refresh failed and is logged once; it fails
// no analytics family (they use the last lists). While the API says to slow
// down, it is not read, and marked failed as the families are.
func (p *poller) readHealth(ctx context.Context, r *round) {
	h := p.account.Health
	if !p.caps.AccountHealth || !h.IsEnabled() {
		return
	}
	if !p.health.read.IsZero() && p.now().Sub(p.health.read) < healthEvery-healthEvery/10 {
		return
	}
	next := analytics.Health{}
	if prev := p.health.current; prev != nil {
		next = *prev
	}
	if p.hold(r) != nil {
		next.Refresh.Success = false
		p.health.current = &next
		p.publish()
		return
	}
	ctx = provider.WithObserver(ctx, observer{t: p.tally, family: analytics.HealthFamily})
	started := time.Now()
	phones, err := p.source.PhoneHealth(ctx, p.account.WABAID)
	if err == nil {
		next.Phones = phoneHealth(phones)
		p.inventory.setPhones(numbers(next.Phones), nil, p.now())
		if !h.TemplatesEnabled() {
			next.Templates = nil
		} else {
			var templates []provider.Template
			if templates, err = p.source.TemplateHealth(ctx, p.account.WABAID); err == nil {
				next.Templates = templateHealth(templates)
				p.inventory.setTemplates(templateIDs(next.Templates), nil, p.now())
			}
		}
	}
	if ctx.Err() != nil {
		return // shutting down: keep the last snapshot as it is
	}
	r.note(analytics.HealthFamily, err)
	next.Refresh.Duration = time.Since(started)
	next.Refresh.Success = err == nil
	if err != nil {
		p.logFailure(string(analytics.HealthFamily), "Reading the account's health failed; serving the last good health", analytics.HealthFamily, err)
		p.health.read = time.Time{}
	} else {
		next.Refresh.LastSuccess = p.now()
		p.health.read = next.Refresh.LastSuccess
		p.logRecovery(string(analytics.HealthFamily), analytics.HealthFamily)
	}
	p.health.current = &next
	p.publish()
}

// phoneHealth turns the API's phone numbers into the snapshot's, one per
// number: every string is untrusted, so it is bounded and made valid UTF-8,
// and a number without digits (which no analytics series could match) is
// left out.
func phoneHealth(in []provider.PhoneNumber) []analytics.PhoneHealth {
	out := make([]analytics.PhoneHealth, 0, len(in))
	seen := map[string]bool{}
	for _, ph := range in {
		number := clean(ph.Number)
		if number == "" || seen[number] {
			continue
		}
		seen[number] = true
		h := analytics.PhoneHealth{
			PhoneNumber: number, ID: clean(ph.ID),
			DisplayPhoneNumber: clean(ph.DisplayPhoneNumber), VerifiedName: clean(ph.VerifiedName),
			Status: state(ph.Status), QualityRating: state(ph.QualityRating), NameStatus: state(ph.NameStatus),
			ThroughputLevel: state(ph.ThroughputLevel), MessagingLimit: state(ph.MessagingLimit),
			CanSendMessage: state(ph.CanSendMessage),
		}
		if v, ok := provider.MessagingLimitRecipients(h.MessagingLimit); ok {
			h.MessagingLimitRecipients = &v
		}
		out = append(out, h)
	}
	return out
}

// templateHealth does the same for templates, one per ID.
func templateHealth(in []provider.Template) []analytics.TemplateHealth {
	out := make([]analytics.TemplateHealth, 0, len(in))
	seen := map[string]bool{}
	for _, t := range in {
		id := clean(t.ID)
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, analytics.TemplateHealth{
			TemplateID: id, Name: clean(t.Name), Language: clean(t.Language),
			Status: state(t.Status), Category: state(t.Category), QualityScore: state(t.QualityScore),
		})
	}
	return out
}

// enumValue is the shape of the API's enum values (GREEN, TIER_2K).
var enumValue = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)

// state is the value of a state set: the API's value in upper case, which
// may be one the exporter does not know yet (Meta adds values, and they
// must not vanish: each becomes a state of its own); "OTHER" for anything
// that is no enum value at all, so that an API sending free text cannot
// mint a label value per answer; "" when the field was not reported.
func state(v string) string {
	v = strings.ToUpper(strings.TrimSpace(clean(v)))
	switch {
	case v == "":
		return ""
	case enumValue.MatchString(v):
		return v
	}
	return "OTHER"
}

// numbers and templateIDs are what the analytics take of account health:
// the numbers to split by, the templates to ask for.
func numbers(phones []analytics.PhoneHealth) []string {
	out := make([]string, len(phones))
	for i, ph := range phones {
		out[i] = ph.PhoneNumber
	}
	return out
}

func templateIDs(templates []analytics.TemplateHealth) []string {
	out := make([]string, len(templates))
	for i, t := range templates {
		out[i] = t.TemplateID
	}
	return out
}
