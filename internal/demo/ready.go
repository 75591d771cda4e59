package demo

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// counterOf names, per family, a month-to-date counter that every demo
// account fetching the family has once the family's month so far is in.
var counterOf = map[provider.Family]string{
	provider.Messaging:     "whatsapp_messages_sent_total",
	provider.Conversations: "whatsapp_conversations_total",
	provider.Pricing:       "whatsapp_pricing_volume_total",
	provider.Templates:     "whatsapp_template_sent_total",
	provider.Calls:         "whatsapp_calls_total",
}

// Families lists, per demo WABA, the analytics families the demo's
// configuration fetches, in the order of provider.Families.
func Families() map[string][]provider.Family {
	metaWABAs, vonageWABAs, passthroughWABAs := wabas()
	cfg, err := demoConfig("http://127.0.0.1:1", refreshInterval, "token", metaWABAs, vonageWABAs, passthroughWABAs)
	if err != nil {
		panic(err) // the demo's own configuration: a bug, which every test shows
	}
	accounts := slices.Clone(cfg.Accounts)
	for _, c := range ClientWABAs() {
		accounts = append(accounts, cfg.Businesses[0].Account(c.WABAID))
	}
	out := map[string][]provider.Family{}
	for _, a := range accounts {
		for _, f := range provider.Families {
			if a.Family(f).IsEnabled() {
				out[a.WABAID] = append(out[a.WABAID], f)
			}
		}
	}
	return out
}

var (
	wabaLabel   = regexp.MustCompile(`[{,]waba_id="([^"]*)"`)
	familyLabel = regexp.MustCompile(`[{,]family="([^"]*)"`)
)

// Refreshed reports whether a scrape of a demo exporter, in Prometheus'
// text format, shows every demo account done with its first refresh: a
// refresh result for each family the account fetches, and that family's
// month-to-date counters, which appear once its month so far is fetched;
// and the status webhooks of every Meta account counted.
// The exporter publishes after each family, so a refresh result alone only
// says that one family is done. The error says what is still missing.
func Refreshed(scrape []byte) error {
	results := map[string]bool{}  // waba_id/family with a refresh result
	counters := map[string]bool{} // waba_id/metric present
	sc := bufio.NewScanner(bytes.NewReader(scrape))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		waba := wabaLabel.FindStringSubmatch(line)
		if waba == nil {
			continue
		}
		if name == "whatsapp_exporter_refresh_success" {
			if f := familyLabel.FindStringSubmatch(line); f != nil {
				results[waba[1]+"/"+f[1]] = true
			}
			continue
		}
		counters[waba[1]+"/"+name] = true
	}
	if err := sc.Err(); err != nil {
		return err
	}
	var missing []string
	// The status webhooks of the Meta accounts (webhooks.go), whose first
	// send holds the last hour's.
	for _, a := range MetaWABAs() {
		if !counters[a.WABAID+"/whatsapp_webhook_statuses_total"] {
			missing = append(missing, fmt.Sprintf("WABA %s: no whatsapp_webhook_statuses_total yet", a.WABAID))
		}
	}
	for waba, families := range Families() {
		for _, f := range families {
			if !results[waba+"/"+string(f)] {
				missing = append(missing, fmt.Sprintf("WABA %s: no %s refresh result", waba, f))
			} else if c := counterOf[f]; !counters[waba+"/"+c] {
				missing = append(missing, fmt.Sprintf("WABA %s: no %s yet", waba, c))
			}
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("first refresh not done: %s", strings.Join(missing, "; "))
	}
	return nil
}
