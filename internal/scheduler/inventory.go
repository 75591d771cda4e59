package scheduler

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// InventoryEvery is how often a WABA's phone numbers and templates are
// listed where account health does not read them anyway: numbers and
// templates come and go a few times a month, and listing them on every
// refresh cost a request per WABA and refresh (a fleet of 1,000 WABAs spent
// 1,000 calls a cycle re-listing its templates).
const InventoryEvery = time.Hour

// inventory is the WABA's phone numbers and templates, as the analytics
// need them: the numbers a split by PHONE asks for one by one, the templates
// whose analytics are asked for. Account health reads the same edges with
// more fields (health.go); where it is read, the analytics take what it
// listed, so that each edge is read once per health interval, not twice.
type inventory struct {
	phones, templates []string
	// phonesRead and templatesRead are when each was last listed; zero
	// before, or after a failure.
	phonesRead, templatesRead time.Time
	// phonesErr and templatesErr are why the last listing failed, while
	// no list has been read at all.
	phonesErr, templatesErr error
}

// needsPhones and needsTemplates say whether the analytics need the lists
// from the API: a split by PHONE whose numbers the config does not list,
// templates without template_ids.
func (p *poller) needsPhones() bool {
	m, c := p.account.Messaging, p.account.Calls
	return p.account.Messaging.IsEnabled() && slices.Contains(m.SplitBy, "PHONE") && len(m.PhoneNumbers) == 0 ||
		c.IsEnabled() && slices.Contains(c.SplitBy, "PHONE") && len(c.PhoneNumbers) == 0
}

func (p *poller) needsTemplates() bool {
	return p.account.Templates.IsEnabled() && len(p.account.Templates.TemplateIDs) == 0
}

// listInventory lists what the analytics need and account health has not
// read within InventoryEvery. A failure keeps the last lists; without any,
// the families that need them fail with it.
func (p *poller) listInventory(ctx context.Context, r *round) {
	due := func(read time.Time) bool {
		return read.IsZero() || p.now().Sub(read) >= InventoryEvery-InventoryEvery/10
	}
	ctx = provider.WithObserver(ctx, observer{t: p.tally, family: analytics.InventoryFamily})
	if p.needsPhones() && due(p.inventory.phonesRead) && p.hold(r) == nil {
		phones, err := p.source.PhoneNumbers(ctx, p.account.WABAID)
		p.inventory.setPhones(phones, err, p.now())
		p.noteInventory(r, "phone numbers", err)
	}
	if p.needsTemplates() && due(p.inventory.templatesRead) && p.hold(r) == nil {
		ids, err := p.source.TemplateIDs(ctx, p.account.WABAID)
		p.inventory.setTemplates(ids, err, p.now())
		p.noteInventory(r, "message templates", err)
	}
}

func (p *poller) noteInventory(r *round, what string, err error) {
	if err != nil {
		r.note(analytics.InventoryFamily, err)
		p.logFailure(string(analytics.InventoryFamily)+" "+what, "Listing the WABA's "+what+" failed; the analytics use the last list", analytics.InventoryFamily, err)
		return
	}
	p.logRecovery(string(analytics.InventoryFamily)+" "+what, analytics.InventoryFamily)
}

func (inv *inventory) setPhones(phones []string, err error, now time.Time) {
	if err != nil {
		if inv.phonesRead.IsZero() {
			inv.phonesErr = fmt.Errorf("list phone numbers: %w", err)
		}
		return
	}
	inv.phones, inv.phonesRead, inv.phonesErr = phones, now, nil
}

func (inv *inventory) setTemplates(ids []string, err error, now time.Time) {
	if err != nil {
		if inv.templatesRead.IsZero() {
			inv.templatesErr = fmt.Errorf("list message templates: %w", err)
		}
		return
	}
	inv.templates, inv.templatesRead, inv.templatesErr = ids, now, nil
}

// splitPhones is the phone numbers a family split by PHONE asks for one by
// one: those the config lists, or the WABA's; one unsplit request ("")
// without such a split.
func (p *poller) splitPhones(splitBy, listed []string) ([]string, error) {
	switch {
	case !slices.Contains(splitBy, "PHONE"):
		return []string{""}, nil
	case len(listed) > 0:
		return listed, nil
	case p.inventory.phonesRead.IsZero() && p.inventory.phonesErr != nil:
		return nil, p.inventory.phonesErr
	}
	return p.inventory.phones, nil
}

// templateIDs is the templates whose analytics are asked for: those the
// config lists, or the WABA's.
func (p *poller) templateIDs() ([]string, error) {
	if ids := p.account.Templates.TemplateIDs; len(ids) > 0 {
		return ids, nil
	}
	if p.inventory.templatesRead.IsZero() && p.inventory.templatesErr != nil {
		return nil, p.inventory.templatesErr
	}
	return p.inventory.templates, nil
}
