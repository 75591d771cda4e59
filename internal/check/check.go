// Package check is the exporter's check command: it validates a
// configuration file the way the exporter loads it, and with --online asks
// each account's API once for each family, to show before a deployment which
// credentials, permissions and families work.
package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/scheduler"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/bucket"
)

// Run checks the file and writes what it found to out; it returns the
// process' exit code: 0 when everything checked is fine.
func Run(ctx context.Context, out io.Writer, file string, online bool) int {
	return run(ctx, out, file, online, time.Now)
}

func run(ctx context.Context, out io.Writer, file string, online bool, now func() time.Time) int {
	if file == "" {
		fmt.Fprintln(out, "no --config.file given")
		return 2
	}
	cfg, err := config.Load(file)
	if err != nil {
		fmt.Fprintln(out, err)
		return 1
	}
	fmt.Fprintf(out, "%s: %d accounts, %d businesses, configuration OK\n", file, len(cfg.Accounts), len(cfg.Businesses))
	if !online {
		return 0
	}
	connector := &scheduler.Connector{}
	targets, err := connector.Targets(cfg)
	if err != nil {
		fmt.Fprintln(out, err)
		return 1
	}
	failed := discover(ctx, out, cfg, connector)
	if len(targets) == 0 {
		return exit(failed)
	}
	rows := make([][]cell, len(targets))
	served := make([]string, len(targets))
	for i, t := range targets {
		rows[i], served[i] = probe(ctx, t, now)
		failed = failed || slices.ContainsFunc(rows[i], func(c cell) bool { return c.err != nil })
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "\nWABA\tPROVIDER\tAPI VERSION\tWABA FIELDS\tMESSAGING\tCONVERSATIONS\tPRICING\tTEMPLATES\tCALLS")
	for i, t := range targets {
		fmt.Fprintf(w, "%s\t%s\t%s", t.Account.WABAID, t.Account.Provider, served[i])
		for _, c := range rows[i] {
			fmt.Fprintf(w, "\t%s", c)
		}
		fmt.Fprintln(w)
	}
	w.Flush()
	for i, t := range targets {
		for j, c := range rows[i] {
			if c.err != nil {
				fmt.Fprintf(out, "%s %s: %v\n", t.Account.WABAID, columns[j], c.err)
			}
		}
	}
	return exit(failed)
}

func exit(failed bool) int {
	if failed {
		return 1
	}
	return 0
}

// discover lists each business's WABAs as the exporter would, and prints
// what the listing found and which of them the filters keep; it reports
// whether a listing failed. The WABAs it keeps are not probed: the
// exporter's log and metrics say how their refreshes go.
func discover(ctx context.Context, out io.Writer, cfg *config.Config, connector *scheduler.Connector) (failed bool) {
	for i := range cfg.Businesses {
		b := &cfg.Businesses[i]
		lister, err := connector.Lister(cfg.Global, b)
		var wabas []provider.DiscoveredWABA
		if err == nil {
			wabas, err = lister.ListWABAs(ctx, provider.ListQuery{BusinessID: b.BusinessID, Ownerships: b.Ownerships()})
		}
		if err != nil {
			fmt.Fprintf(out, "\nbusiness %s (%s): listing FAILED: %v\n", b.Label(), b.Connection().Provider, err)
			failed = true
			continue
		}
		kept := 0
		w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "WABA\tNAME\tOWNERSHIP\tCURRENCY\tTIME ZONE\tEXPORTED")
		for _, waba := range wabas {
			exported := "no (filtered out)"
			if b.Wants(waba.ID, waba.Name) {
				exported, kept = "yes", kept+1
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", waba.ID, orDash(waba.Name), orDash(waba.Ownership), orDash(waba.Currency), zoneName(waba.Location), exported)
		}
		fmt.Fprintf(out, "\nbusiness %s (%s): %d WABAs listed, %d exported\n", b.Label(), b.Connection().Provider, len(wabas), kept)
		w.Flush()
	}
	return failed
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func zoneName(loc *time.Location) string {
	if loc == nil {
		return "-"
	}
	return loc.String()
}

var columns = []string{"waba fields", "messaging", "conversations", "pricing", "templates", "calls"}

// cell is the outcome of one probe.
type cell struct {
	skipped string // why nothing was asked, or ""
	note    string // what an answer said, such as the currency
	err     error
}

func (c cell) String() string {
	switch {
	case c.skipped != "":
		return c.skipped
	case c.err != nil:
		var apiErr *provider.APIError
		if errors.As(c.err, &apiErr) {
			return "FAIL " + apiErr.Code
		}
		return "FAIL"
	case c.note != "":
		return "ok " + c.note
	}
	return "ok"
}

// versions remembers the API versions the answers say served them (Graph's
// facebook-api-version header).
type versions struct {
	provider.Observer
	seen []string
}

func (v *versions) ObserveVersion(version string) {
	if !slices.Contains(v.seen, version) {
		v.seen = append(v.seen, version)
	}
}

// served says which API version answered: the configured one when the
// answers say so, what they named instead, or "-" for an API without
// versions or answers that named none.
func (v *versions) served(configured string) string {
	switch {
	case len(v.seen) == 0:
		return "-"
	case len(v.seen) == 1 && v.seen[0] == configured:
		return configured
	}
	return fmt.Sprintf("%s (asked %s)", strings.Join(v.seen, ","), configured)
}

// probe asks the account's API once for its own fields and once for each
// enabled family, over the window a refresh would ask for, and returns what
// each gave and the API version that answered.
func probe(ctx context.Context, t Target, now func() time.Time) ([]cell, string) {
	a, src := t.Account, t.Source
	seen := &versions{Observer: provider.ObserverFrom(ctx)}
	ctx = provider.WithObserver(ctx, seen)
	caps := a.Capabilities()
	windows := bucket.Calculator{Now: now}
	window := func(f provider.Family) provider.Window { return windows.Span(a.Spec(f)).Query }
	row := make([]cell, 0, len(columns))
	if caps.WABAFields {
		waba, err := src.WABA(ctx, a.WABAID)
		row = append(row, cell{note: waba.Currency, err: err})
	} else {
		row = append(row, cell{skipped: "-"})
	}
	families := []struct {
		f     provider.Family
		query func() error
	}{
		{provider.Messaging, func() error {
			_, err := src.Messaging(ctx, provider.MessagingQuery{WABAID: a.WABAID, Window: window(provider.Messaging)})
			return err
		}},
		{provider.Conversations, func() error {
			c := a.Conversations
			_, err := src.Conversations(ctx, provider.ConversationQuery{WABAID: a.WABAID, Window: window(provider.Conversations),
				Dimensions: c.Dimensions, Cost: caps.Cost && config.WantCost(c.Cost)})
			return err
		}},
		{provider.Pricing, func() error {
			p := a.Pricing
			_, err := src.Pricing(ctx, provider.PricingQuery{WABAID: a.WABAID, Window: window(provider.Pricing),
				Dimensions: p.Dimensions, Cost: caps.Cost && config.WantCost(p.Cost)})
			return err
		}},
		{provider.Templates, func() error {
			ids := a.Templates.TemplateIDs
			if len(ids) == 0 {
				var err error
				if ids, err = src.TemplateIDs(ctx, a.WABAID); err != nil || len(ids) == 0 {
					return err
				}
			}
			_, err := src.Templates(ctx, provider.TemplateQuery{WABAID: a.WABAID, Window: window(provider.Templates),
				TemplateIDs: ids[:min(len(ids), 10)], Cost: caps.Cost && config.WantCost(a.Templates.Cost)})
			return err
		}},
		{provider.Calls, func() error {
			_, err := src.Calls(ctx, provider.CallQuery{WABAID: a.WABAID, Window: window(provider.Calls),
				Cost: caps.Cost && config.WantCost(a.Calls.Cost)})
			return err
		}},
	}
	for _, fam := range families {
		if !a.Family(fam.f).IsEnabled() {
			row = append(row, cell{skipped: "off"})
			continue
		}
		err := fam.query()
		if errors.Is(err, provider.ErrCostUnavailable) {
			// A partner-billed WABA: the exporter goes on without cost.
			row = append(row, cell{note: "(no cost)"})
			continue
		}
		row = append(row, cell{err: err})
	}
	return row, seen.served(a.APIVersion)
}

// Target is a scheduler target: an account and its client.
type Target = scheduler.Target
