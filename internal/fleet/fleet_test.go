package fleet

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/scheduler"
)

// applied records what a fleet hands the scheduler.
type applied struct {
	mu    sync.Mutex
	calls [][]scheduler.Target
}

func (a *applied) apply(t []scheduler.Target) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, t)
}

func (a *applied) last() []scheduler.Target {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.calls) == 0 {
		return nil
	}
	return a.calls[len(a.calls)-1]
}

func (a *applied) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.calls)
}

func ids(targets []scheduler.Target) []string {
	out := make([]string, len(targets))
	for i, t := range targets {
		out[i] = t.Account.WABAID
	}
	return out
}

// waitFor waits until cond holds. The minute is a ceiling for a slow
// machine under the race detector, not a figure the test checks.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting until %s", what)
}

// fleetFake serves a fake Graph API with a fleet of n WABAs and its
// business.
func fleetFake(t *testing.T, n int) (*fakeapi.Graph, fakeapi.Business, string) {
	t.Helper()
	wabas, business := fakeapi.Fleet(n, fakeapi.FleetOptions{})
	g := fakeapi.NewGraph(wabas, fakeapi.Options{})
	g.SetBusiness(business)
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return g, business, srv.URL
}

func parse(t testing.TB, src string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(src), "whatsapp_exporter.yml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The business's WABAs, all pages of both edges, become accounts, with what
// the listing says of each; the filters leave out what they name; an
// account the file lists wins over the business's, and comes first.
func TestDiscovery(t *testing.T) {
	g, business, url := fleetFake(t, 260)
	all := append(slices.Clone(business.Owned), business.Client...)
	excluded, explicit := all[3], all[5]
	cfg := parse(t, fmt.Sprintf(`
accounts:
  - waba_id: %q
    api_url: %s
    access_token: %s
    name: Listed by hand
businesses:
  - business_id: %q
    api_url: %s
    access_token: %s
    exclude_waba_ids: [%q]
    defaults:
      interval: 5m
`, explicit, url, fakeapi.DefaultFleetToken, business.ID, url, fakeapi.DefaultFleetToken, excluded))
	got := &applied{}
	f := New(cfg, &scheduler.Connector{}, got.apply, Options{})
	targets, err := f.Targets()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(targets), []string{explicit}) {
		t.Fatalf("before the first listing: %v, want the listed account alone", ids(targets))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.Run(ctx)
	waitFor(t, "the first listing", func() bool { return got.count() > 0 })

	targets = got.last()
	want := []string{explicit}
	for _, id := range all {
		if id != excluded && id != explicit {
			want = append(want, id)
		}
	}
	if !slices.Equal(ids(targets), want) {
		t.Fatalf("accounts %v\nwant %v", ids(targets), want)
	}
	if targets[0].Discovered != nil || targets[0].Account.Name != "Listed by hand" {
		t.Errorf("the account listed by hand: %+v, want it as the file has it", targets[0].Account)
	}
	zoned := 0
	for _, tg := range targets[1:] {
		if tg.Discovered == nil || tg.Discovered.Name == "" || tg.Discovered.Currency == "" {
			t.Fatalf("WABA %s: listed as %+v, want its name and currency", tg.Account.WABAID, tg.Discovered)
		}
		if tg.Discovered.Location != nil {
			zoned++
		}
		if tg.Account.Interval != 5*time.Minute {
			t.Fatalf("WABA %s: interval %s, want the business's default", tg.Account.WABAID, tg.Account.Interval)
		}
	}
	if zoned == 0 {
		t.Error("no listed WABA came with its time zone")
	}
	// Two edges, at most 100 WABAs a page.
	wantPages := (len(business.Owned)+99)/100 + (len(business.Client)+99)/100
	if s := g.BusinessStats(business.ID); s.Requests != wantPages {
		t.Errorf("%d listing requests, want %d (100 WABAs a page)", s.Requests, wantPages)
	}
	st := f.State()
	if len(st.Businesses) != 1 || st.Businesses[0].Listed != 260 || st.Businesses[0].Kept != 259 || !st.Businesses[0].Success ||
		st.Configured != 1 || st.Discovered != 258 {
		t.Errorf("state %+v", st)
	}
}

// While the exporter runs, the business gains and loses WABAs: a listing
// applies the difference. A listing that fails keeps the last list, and
// says so; the next good one takes over.
func TestDiscoveryWhileRunning(t *testing.T) {
	g, business, url := fleetFake(t, 40)
	// The business lists all but one of the fleet at first.
	added := business.Owned[len(business.Owned)-1]
	start := business
	start.Owned = slices.Clone(business.Owned[:len(business.Owned)-1])
	g.SetBusiness(start)
	cfg := parse(t, fmt.Sprintf("businesses:\n  - business_id: %q\n    api_url: %s\n    access_token: %s\n    list_interval: 1h\n",
		business.ID, url, fakeapi.DefaultFleetToken))
	got := &applied{}
	f := New(cfg, &scheduler.Connector{}, got.apply, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.Run(ctx)
	waitFor(t, "the first listing", func() bool { return got.count() == 1 })
	first := f.State().Businesses[0].LastSuccess

	if slices.Contains(ids(got.last()), added) {
		t.Fatalf("WABA %s is exported before the business lists it", added)
	}
	// One client leaves, one WABA is added: listed again on reload.
	gone := business.Client[0]
	changed := business
	changed.Client = slices.Clone(business.Client[1:])
	g.SetBusiness(changed)
	if err := f.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the listing after the reload", func() bool { return got.count() >= 3 })
	after := ids(got.last())
	if slices.Contains(after, gone) || !slices.Contains(after, added) || len(after) != len(changed.Owned)+len(changed.Client) {
		t.Errorf("after the change: %d accounts (%v), want %d, with %s and without %s", len(after), after, len(changed.Owned)+len(changed.Client), added, gone)
	}

	// The listing fails: the last list stays, and the state says so.
	g.Inject(business.ID, fakeapi.Fault{Kind: fakeapi.ServerError})
	calls := got.count()
	if err := f.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a failed listing", func() bool { st := f.State(); return st.Businesses[0].Listings && !st.Businesses[0].Success })
	st := f.State().Businesses[0]
	if !slices.Equal(ids(got.last()), after) || st.Kept != len(after) || !st.LastSuccess.After(first) {
		t.Errorf("after a failed listing: %d accounts, state %+v; want the last list kept", len(ids(got.last())), st)
	}
	if got.count() != calls+1 { // the reload's own, with the last list
		t.Errorf("%d applications after the failed listing, want one (the reload's)", got.count()-calls)
	}
	g.Clear(business.ID)
	if err := f.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a good listing again", func() bool { return f.State().Businesses[0].Success })
}
