// Command fleetfake serves the fake Graph API with a business that owns and
// is shared a generated fleet of WABAs, for load tests of the exporter:
//
//	go run ./internal/fleetfake --wabas 5000 --listen 127.0.0.1:0 --listen 127.0.0.1:0
//
// It prints one JSON line on stdout with what a client needs (the base URLs,
// one per --listen, the business ID and the file holding its token, which
// reads every WABA of the fleet), and serves GET /-/stats on every listener:
// the calls it answered, in total, per operation, field and host, and with
// ?per_waba=true per WABA. With the exporter's clock flags
// (--demo.clock.start, --demo.clock.since, --demo.clock.speed, given the
// same values), the fake and the exporter agree on the time: a load test
// can start on the last day of a month, or run a day in minutes. It listens
// on loopback addresses only.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/demo"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { <-stop; close(done) }()
	logger := level.NewFilter(log.NewLogfmtLogger(log.NewSyncWriter(os.Stderr)), level.AllowInfo())
	if err := run(os.Args[1:], os.Stdout, logger, done); err != nil {
		level.Error(logger).Log("msg", "fleetfake failed", "err", err)
		os.Exit(1)
	}
}

// config is what the flags ask for.
type config struct {
	wabas, phones, templates   int
	listen                     []string
	dir, business              string
	budgets                    bool
	hourlyBudget, appBudget    int
	pageSize                   int
	clockStart, clockSince     string
	clockSpeed                 float64
	clientShare, partnerShare  float64
	insightsOffShare, mmShares float64
}

func parse(args []string) (config, error) {
	var c config
	app := kingpin.New("fleetfake", "Serves the fake Graph API with a business and a generated fleet of WABAs, for load tests of the exporter.")
	app.Flag("wabas", "How many WABAs the fleet has.").Default("1000").IntVar(&c.wabas)
	app.Flag("listen", "An address to serve on, loopback only; repeat it for several listeners (one per replica of the exporter).").
		Default("127.0.0.1:0").StringsVar(&c.listen)
	app.Flag("dir", "Where to write the token file and the list of WABA IDs; a new temporary directory when empty.").StringVar(&c.dir)
	app.Flag("business", "The business's ID.").Default(fakeapi.DefaultFleetBusiness).StringVar(&c.business)
	app.Flag("phones", "Phone numbers per WABA.").Default("3").IntVar(&c.phones)
	app.Flag("templates", "Templates per WABA.").Default("20").IntVar(&c.templates)
	app.Flag("client-share", "The share of WABAs shared with the business by clients (the others it owns).").Default("0.5").Float64Var(&c.clientShare)
	app.Flag("partner-billed-share", "The share of WABAs billed through a partner (no cost).").Default("0.2").Float64Var(&c.partnerShare)
	app.Flag("insights-disabled-share", "The share of WABAs with template insights off.").Default("0.1").Float64Var(&c.insightsOffShare)
	app.Flag("marketing-messages-share", "The share of WABAs that send through the Marketing Messages API.").Default("0.3").Float64Var(&c.mmShares)
	app.Flag("budgets", "Give each WABA Meta's hourly budget: 5,000 calls, 200 for a twentieth without a registered number.").BoolVar(&c.budgets)
	app.Flag("hourly-budget", "Calls a WABA may make in an hour (0: no limit), where --budgets does not set one.").Default("0").IntVar(&c.hourlyBudget)
	app.Flag("app-hourly-budget", "Calls the app may make in an hour over all WABAs (0: no limit, no X-App-Usage).").Default("0").IntVar(&c.appBudget)
	app.Flag("page-size", "Data points per page of conversation and pricing analytics.").Default("500").IntVar(&c.pageSize)
	app.Flag("demo.clock.start", "The fake's time at --demo.clock.since (RFC 3339), as the exporter's flag of that name.").StringVar(&c.clockStart)
	app.Flag("demo.clock.since", "The wall-clock time from which the clock runs --demo.clock.speed times faster (RFC 3339); give the exporter the same.").StringVar(&c.clockSince)
	app.Flag("demo.clock.speed", "How much faster than the wall clock the fake's clock runs.").Default("1").Float64Var(&c.clockSpeed)
	if _, err := app.Parse(args); err != nil {
		return c, err
	}
	if c.wabas < 1 {
		return c, fmt.Errorf("--wabas %d: want at least 1", c.wabas)
	}
	for _, addr := range c.listen {
		if err := loopback(addr); err != nil {
			return c, err
		}
	}
	return c, nil
}

// loopback refuses an address a non-local client could reach.
func loopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--listen %q: the fake serves loopback addresses only (127.0.0.1, ::1, localhost)", addr)
	}
	return nil
}

// clock is the fake's clock, as the exporter's demo builds its own from the
// same flags (internal/demo, Flags.Start): the wall clock, unless a start
// or a speed is given.
func (c config) clock() (func() time.Time, error) {
	var start, since time.Time
	for _, f := range []struct {
		name, value string
		into        *time.Time
	}{{"demo.clock.start", c.clockStart, &start}, {"demo.clock.since", c.clockSince, &since}} {
		if f.value == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, f.value)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", f.name, err)
		}
		*f.into = t
	}
	if c.clockSpeed <= 1 && start.IsZero() {
		return time.Now, nil
	}
	clk := demo.Clock{Start: start, Since: since, Speed: c.clockSpeed}
	if clk.Since.IsZero() {
		clk.Since = time.Now()
	}
	if clk.Start.IsZero() {
		clk.Start = clk.Since
	}
	return clk.Now, nil
}

// Ready is the line fleetfake prints on stdout once it serves.
type Ready struct {
	// BaseURLs are the listeners' roots, one per --listen, in order: the
	// Graph paths (/v25.0/{id}...) and /-/stats are under each.
	BaseURLs   []string `json:"base_urls"`
	BusinessID string   `json:"business_id"`
	// TokenFile holds the business's token, which every WABA takes too.
	TokenFile string `json:"token_file"`
	// WABAsFile lists the fleet's WABA IDs, one a line.
	WABAsFile string `json:"wabas_file"`
	WABAs     int    `json:"wabas"`
	Owned     int    `json:"owned"`
	Client    int    `json:"client"`
	// Now is the fake's time when it started, for a check that the
	// exporter's clock agrees.
	Now time.Time `json:"now"`
}

// Stats is the body of GET /-/stats.
type Stats struct {
	Requests        int            `json:"requests"`
	WABARequests    int            `json:"waba_requests"`
	ListingRequests int            `json:"listing_requests"`
	ByOperation     map[string]int `json:"by_operation"`
	ByField         map[string]int `json:"by_field"`
	ByHost          map[string]int `json:"by_host"`
	// WABAsCalled is how many WABA IDs had at least one request, of WABAs.
	WABAsCalled int `json:"wabas_called"`
	WABAs       int `json:"wabas"`
	// PerWABA, with ?per_waba=true, is each called WABA's requests and
	// the hosts (listeners) they came to.
	PerWABA map[string]WABACalls `json:"per_waba,omitempty"`
}

// WABACalls is one WABA's entry of Stats.PerWABA.
type WABACalls struct {
	Requests int      `json:"requests"`
	Hosts    []string `json:"hosts"`
}

func run(args []string, stdout io.Writer, logger log.Logger, stop <-chan struct{}) error {
	c, err := parse(args)
	if err != nil {
		return err
	}
	now, err := c.clock()
	if err != nil {
		return err
	}
	token, err := randomToken()
	if err != nil {
		return err
	}
	wabas, business := fakeapi.Fleet(c.wabas, fakeapi.FleetOptions{
		BusinessID: c.business, Token: token, PhonesPerWABA: c.phones, TemplatesPerWABA: c.templates,
		ClientShare: orNone(c.clientShare), PartnerBilledShare: orNone(c.partnerShare),
		InsightsDisabledShare: orNone(c.insightsOffShare), MarketingMessagesShare: orNone(c.mmShares),
		Budgets: c.budgets,
	})
	graph := fakeapi.NewGraph(wabas, fakeapi.Options{
		Now: now, PageSize: c.pageSize, HourlyBudget: c.hourlyBudget, AppHourlyBudget: c.appBudget,
		Businesses: []fakeapi.Business{business},
	})

	dir := c.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "fleetfake-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	ready := Ready{BusinessID: business.ID, WABAs: len(wabas), Owned: len(business.Owned), Client: len(business.Client), Now: now().UTC(),
		TokenFile: filepath.Join(dir, "token"), WABAsFile: filepath.Join(dir, "wabas")}
	if err := os.WriteFile(ready.TokenFile, []byte(token+"\n"), 0o600); err != nil {
		return err
	}
	ids := make([]string, len(wabas))
	for i, a := range wabas {
		ids[i] = a.WABAID
	}
	if err := os.WriteFile(ready.WABAsFile, []byte(strings.Join(ids, "\n")+"\n"), 0o644); err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /-/stats", func(w http.ResponseWriter, r *http.Request) {
		perWABA, _ := strconv.ParseBool(r.URL.Query().Get("per_waba"))
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(stats(graph, len(wabas), perWABA))
	})
	mux.Handle("/", graph)
	var servers []*http.Server
	errs := make(chan error, len(c.listen))
	for _, addr := range c.listen {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			shutdown(servers)
			return fmt.Errorf("--listen %s: %w", addr, err)
		}
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		ready.BaseURLs = append(ready.BaseURLs, "http://"+l.Addr().String())
		go func() {
			if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
				errs <- err
			}
		}()
	}
	line, _ := json.Marshal(ready)
	if _, err := fmt.Fprintf(stdout, "%s\n", line); err != nil {
		shutdown(servers)
		return err
	}
	level.Info(logger).Log("msg", "serving a fleet", "wabas", len(wabas), "business", business.ID, "listeners", strings.Join(ready.BaseURLs, " "))
	select {
	case <-stop:
		level.Info(logger).Log("msg", "stopping", "requests", graph.Totals().Requests)
		return shutdown(servers)
	case err := <-errs:
		shutdown(servers)
		return err
	}
}

func stats(g *fakeapi.Graph, wabas int, perWABA bool) Stats {
	t := g.Totals()
	s := Stats{
		Requests: t.Requests, WABARequests: t.WABARequests, ListingRequests: t.ListingRequests,
		ByOperation: t.ByOperation, ByField: t.ByField, ByHost: t.ByHost, WABAsCalled: t.WABAs, WABAs: wabas,
	}
	if perWABA {
		s.PerWABA = map[string]WABACalls{}
		for id, c := range g.Calls() {
			s.PerWABA[id] = WABACalls{Requests: c.Requests, Hosts: c.Hosts}
		}
	}
	return s
}

func shutdown(servers []*http.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, srv := range servers {
		errs = append(errs, srv.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// orNone turns a flag's share into FleetOptions': there 0 means the
// default, here it means none.
func orNone(share float64) float64 {
	if share == 0 {
		return -1
	}
	return share
}

// randomToken is the business's token: random, so that nothing depends on
// it and no secret is kept anywhere.
func randomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "fleet-" + hex.EncodeToString(b), nil
}
