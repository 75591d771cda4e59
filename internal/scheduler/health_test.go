package scheduler

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
)

// withHealth turns account health on (testAccount leaves it off).
func withHealth(a *config.Account) { a.Health.Enabled = enabled }

// healthFakeAccount is testFakeAccount with a degraded number and template.
func healthFakeAccount(wabaID, token string) fakeapi.WABA {
	a := testFakeAccount(wabaID, token)
	a.Phones[1].Health = fakeapi.PhoneHealth{ID: "106540352242922", VerifiedName: "Acme Support", Status: "FLAGGED",
		Quality: "YELLOW", NameStatus: "PENDING_REVIEW", Throughput: "HIGH", Limit: "TIER_2K", CanSend: "LIMITED"}
	a.Templates[1].Status, a.Templates[1].Quality, a.Templates[1].Language = "PAUSED", "RED", "pt_BR"
	return a
}

// The health read against the fake, with the messaging limit asked in each
// version's own field (the fake fails the other): every number's and
// template's state sets, info and limit, and two requests counted under the
// family "health".
func TestHealthThroughFake(t *testing.T) {
	for _, version := range []string{"v21.0", "v23.0", "v24.0", "v25.0"} {
		t.Run(version, func(t *testing.T) {
			graph, url := fakeGraph(t, []fakeapi.WABA{healthFakeAccount("1001", "tok")}, fakeapi.Options{Now: func() time.Time { return testNow }})
			acct := testAccount(t, "1001", url, "tok", chain(withHealth, onlyFamilies("messaging"), func(a *config.Account) { a.APIVersion = version }))
			c := newExporter([]Target{metaTarget(t, acct)}, Options{Now: func() time.Time { return testNow }})
			refreshAll(c)

			want := `
# HELP whatsapp_exporter_api_requests_total API requests, by HTTP status code ("none" when no response arrived).
# TYPE whatsapp_exporter_api_requests_total counter
whatsapp_exporter_api_requests_total{code="200",family="account",waba_id="1001"} 1
whatsapp_exporter_api_requests_total{code="200",family="health",waba_id="1001"} 2
whatsapp_exporter_api_requests_total{code="200",family="messaging",waba_id="1001"} 1
# HELP whatsapp_exporter_refresh_last_success_timestamp_seconds When the family last refreshed successfully, as a Unix timestamp.
# TYPE whatsapp_exporter_refresh_last_success_timestamp_seconds gauge
whatsapp_exporter_refresh_last_success_timestamp_seconds{family="health",waba_id="1001"} 1.7174166e+09
whatsapp_exporter_refresh_last_success_timestamp_seconds{family="messaging",waba_id="1001"} 1.7174166e+09
# HELP whatsapp_exporter_refresh_success Whether the last refresh of the family succeeded (1) or failed (0).
# TYPE whatsapp_exporter_refresh_success gauge
whatsapp_exporter_refresh_success{family="health",waba_id="1001"} 1
whatsapp_exporter_refresh_success{family="messaging",waba_id="1001"} 1
# HELP whatsapp_phone_number_can_send_message Whether the business phone number can send messages, from its health_status (AVAILABLE, LIMITED, BLOCKED). State set: 1 for the current can_send_message, 0 for the other known ones.
# TYPE whatsapp_phone_number_can_send_message gauge
whatsapp_phone_number_can_send_message{can_send_message="AVAILABLE",phone_number="16505550111",waba_id="1001"} 1
whatsapp_phone_number_can_send_message{can_send_message="BLOCKED",phone_number="16505550111",waba_id="1001"} 0
whatsapp_phone_number_can_send_message{can_send_message="LIMITED",phone_number="16505550111",waba_id="1001"} 0
whatsapp_phone_number_can_send_message{can_send_message="AVAILABLE",phone_number="16505550112",waba_id="1001"} 0
whatsapp_phone_number_can_send_message{can_send_message="BLOCKED",phone_number="16505550112",waba_id="1001"} 0
whatsapp_phone_number_can_send_message{can_send_message="LIMITED",phone_number="16505550112",waba_id="1001"} 1
# HELP whatsapp_phone_number_info A business phone number of the WABA, with its Graph ID, display number and verified name; always 1.
# TYPE whatsapp_phone_number_info gauge
whatsapp_phone_number_info{display_phone_number="+1 650-555-0111",phone_number="16505550111",phone_number_id="100000000000001",verified_name="1001",waba_id="1001"} 1
whatsapp_phone_number_info{display_phone_number="+1 650-555-0112",phone_number="16505550112",phone_number_id="106540352242922",verified_name="Acme Support",waba_id="1001"} 1
# HELP whatsapp_phone_number_messaging_limit_recipients Unique users the business phone number's portfolio may message outside a customer service window in a moving 24 hours, as its messaging limit tier says (+Inf: unlimited); absent for a tier that names no number.
# TYPE whatsapp_phone_number_messaging_limit_recipients gauge
whatsapp_phone_number_messaging_limit_recipients{phone_number="16505550111",waba_id="1001"} 10000
whatsapp_phone_number_messaging_limit_recipients{phone_number="16505550112",waba_id="1001"} 2000
# HELP whatsapp_phone_number_quality_rating The business phone number's quality rating (GREEN, YELLOW, RED, UNKNOWN). State set: 1 for the current quality_rating, 0 for the other known ones.
# TYPE whatsapp_phone_number_quality_rating gauge
whatsapp_phone_number_quality_rating{phone_number="16505550111",quality_rating="GREEN",waba_id="1001"} 1
whatsapp_phone_number_quality_rating{phone_number="16505550111",quality_rating="RED",waba_id="1001"} 0
whatsapp_phone_number_quality_rating{phone_number="16505550111",quality_rating="UNKNOWN",waba_id="1001"} 0
whatsapp_phone_number_quality_rating{phone_number="16505550111",quality_rating="YELLOW",waba_id="1001"} 0
whatsapp_phone_number_quality_rating{phone_number="16505550112",quality_rating="GREEN",waba_id="1001"} 0
whatsapp_phone_number_quality_rating{phone_number="16505550112",quality_rating="RED",waba_id="1001"} 0
whatsapp_phone_number_quality_rating{phone_number="16505550112",quality_rating="UNKNOWN",waba_id="1001"} 0
whatsapp_phone_number_quality_rating{phone_number="16505550112",quality_rating="YELLOW",waba_id="1001"} 1
# HELP whatsapp_template_info A message template of the WABA, with its name and language; always 1.
# TYPE whatsapp_template_info gauge
whatsapp_template_info{language="en_US",name="order_confirmation",template_id="1421988012088524",waba_id="1001"} 1
whatsapp_template_info{language="pt_BR",name="login_code",template_id="954638012257287",waba_id="1001"} 1
# HELP whatsapp_template_quality_score The message template's quality score (GREEN, YELLOW, RED, UNKNOWN). State set: 1 for the current quality_score, 0 for the other known ones.
# TYPE whatsapp_template_quality_score gauge
whatsapp_template_quality_score{quality_score="GREEN",template_id="1421988012088524",waba_id="1001"} 1
whatsapp_template_quality_score{quality_score="RED",template_id="1421988012088524",waba_id="1001"} 0
whatsapp_template_quality_score{quality_score="UNKNOWN",template_id="1421988012088524",waba_id="1001"} 0
whatsapp_template_quality_score{quality_score="YELLOW",template_id="1421988012088524",waba_id="1001"} 0
whatsapp_template_quality_score{quality_score="GREEN",template_id="954638012257287",waba_id="1001"} 0
whatsapp_template_quality_score{quality_score="RED",template_id="954638012257287",waba_id="1001"} 1
whatsapp_template_quality_score{quality_score="UNKNOWN",template_id="954638012257287",waba_id="1001"} 0
whatsapp_template_quality_score{quality_score="YELLOW",template_id="954638012257287",waba_id="1001"} 0
`
			if err := testutil.CollectAndCompare(c, strings.NewReader(want),
				"whatsapp_exporter_api_requests_total", "whatsapp_exporter_refresh_success", "whatsapp_exporter_refresh_last_success_timestamp_seconds",
				"whatsapp_phone_number_can_send_message", "whatsapp_phone_number_info", "whatsapp_phone_number_messaging_limit_recipients",
				"whatsapp_phone_number_quality_rating", "whatsapp_template_info", "whatsapp_template_quality_score"); err != nil {
				t.Error(err)
			}
			text := exposition(t, c, "1001")
			for _, want := range []string{
				`whatsapp_phone_number_status{phone_number="16505550112",status="FLAGGED",waba_id="1001"} 1`,
				`whatsapp_phone_number_status{phone_number="16505550112",status="CONNECTED",waba_id="1001"} 0`,
				`whatsapp_phone_number_name_status{name_status="PENDING_REVIEW",phone_number="16505550112",waba_id="1001"} 1`,
				`whatsapp_phone_number_throughput_level{phone_number="16505550112",throughput_level="HIGH",waba_id="1001"} 1`,
				`whatsapp_phone_number_messaging_limit{messaging_limit="TIER_2K",phone_number="16505550112",waba_id="1001"} 1`,
				`whatsapp_phone_number_messaging_limit{messaging_limit="TIER_10K",phone_number="16505550111",waba_id="1001"} 1`,
				`whatsapp_template_status{status="PAUSED",template_id="954638012257287",waba_id="1001"} 1`,
				`whatsapp_template_status{status="APPROVED",template_id="1421988012088524",waba_id="1001"} 1`,
				`whatsapp_template_category{category="AUTHENTICATION",template_id="954638012257287",waba_id="1001"} 1`,
			} {
				if !strings.Contains(text, want+"\n") {
					t.Errorf("no line %s", want)
				}
			}
			if s := graph.Stats("1001"); s.ByOperation["phone_numbers"] != 1 || s.ByOperation["message_templates"] != 1 {
				t.Errorf("the fake saw %v, want one request to each edge", s.ByOperation)
			}
		})
	}
}

// A failing health read keeps the last good health and fails no family;
// it is logged once when it starts, at debug while it repeats, and at info
// when it recovers. The WABA beside it reads its health as usual.
func TestHealthFailureKeepsLastHealth(t *testing.T) {
	clk := newClock(testNow)
	graph, url := fakeGraph(t, []fakeapi.WABA{healthFakeAccount(healthyWABA, "t1"), healthFakeAccount(faultyWABA, "t2")}, fakeapi.Options{Now: clk.Now})
	logs := &logBuffer{}
	c := newExporter([]Target{
		metaTarget(t, testAccount(t, healthyWABA, url, "t1", withHealth)),
		metaTarget(t, testAccount(t, faultyWABA, url, "t2", withHealth)),
	}, Options{Now: clk.Now, Logger: logs.logger()})
	refreshAll(c)
	quality := func(waba string) []string {
		return lines(exposition(t, c, waba), "whatsapp_phone_number_quality_rating{")
	}
	before := quality(faultyWABA)
	if len(before) != 8 {
		t.Fatalf("quality rating after the first refresh: %q", before)
	}

	// Both numbers turn RED, but the faulty WABA cannot read it: twice.
	for _, waba := range []string{healthyWABA, faultyWABA} {
		graph.Update(waba, func(a *fakeapi.WABA) {
			for i := range a.Phones {
				a.Phones[i].Health.Quality = "RED"
			}
		})
	}
	for range 2 {
		graph.Inject(faultyWABA, fakeapi.Fault{Kind: fakeapi.ServerError, Op: "phone_numbers", Times: 1})
		clk.Add(healthEvery)
		refreshAll(c)
		if got := quality(faultyWABA); strings.Join(got, "\n") != strings.Join(before, "\n") {
			t.Errorf("a failed read changed the health:\n got %q\nwant %q", got, before)
		}
		text := exposition(t, c, faultyWABA)
		for _, l := range lines(text, "whatsapp_exporter_refresh_success{") {
			if want := strings.Contains(l, `family="health"`); strings.HasSuffix(l, " 0") != want {
				t.Errorf("%s: only the health read failed", l)
			}
		}
		if l := lines(text, `whatsapp_exporter_refresh_last_success_timestamp_seconds{family="health"`); len(l) != 1 || !strings.HasSuffix(l[0], " 1.7174166e+09") {
			t.Errorf("health's last success %q, want the first refresh's", l)
		}
		if l := lines(text, `whatsapp_exporter_api_errors_total{error_code="http_503",family="health"`); len(l) != 1 {
			t.Errorf("no health error counted: %q", lines(text, "whatsapp_exporter_api_errors_total"))
		}
		if got := lines(exposition(t, c, healthyWABA), `whatsapp_phone_number_quality_rating{phone_number="16505550111",quality_rating="RED"`); len(got) != 1 || !strings.HasSuffix(got[0], " 1") {
			t.Errorf("the healthy WABA did not read its new health: %q", got)
		}
	}
	if n := logs.count("level=warn", "Reading the account's health failed", "waba_id="+faultyWABA); n != 1 {
		t.Errorf("%d warnings, want one for the failure that went on:\n%s", n, logs)
	}

	clk.Add(healthEvery)
	refreshAll(c)
	if got := lines(exposition(t, c, faultyWABA), `whatsapp_phone_number_quality_rating{phone_number="16505550112",quality_rating="RED"`); len(got) != 1 || !strings.HasSuffix(got[0], " 1") {
		t.Errorf("after the fault cleared: %q", got)
	}
	if n := logs.count("level=info", "Refresh recovered", "of=health", "waba_id="+faultyWABA); n != 1 {
		t.Errorf("%d recovery lines, want one:\n%s", n, logs)
	}
}

// Health is read with the refresh, at most every 15 minutes (a refresh up
// to 10% early still reads it), and a failed read again at the next
// refresh, whenever that is.
func TestHealthCadence(t *testing.T) {
	clk := newClock(testNow)
	graph, url := fakeGraph(t, []fakeapi.WABA{healthFakeAccount("1001", "tok")}, fakeapi.Options{Now: clk.Now})
	acct := testAccount(t, "1001", url, "tok", chain(withHealth, onlyFamilies("messaging"), func(a *config.Account) { a.Interval = 5 * time.Minute }))
	c := newExporter([]Target{metaTarget(t, acct)}, Options{Now: clk.Now})
	reads := func() int { return graph.Stats("1001").ByOperation["phone_numbers"] }
	for i, step := range []struct {
		after time.Duration
		reads int
	}{
		{0, 1},
		{5 * time.Minute, 1},
		{5 * time.Minute, 1},
		{3*time.Minute + 30*time.Second, 2}, // 13m30s after the last read
		{5 * time.Minute, 2},
		{10 * time.Minute, 3},
	} {
		clk.Add(step.after)
		refreshAll(c)
		if got := reads(); got != step.reads {
			t.Errorf("refresh %d: %d health reads, want %d", i, got, step.reads)
		}
	}
	graph.Inject("1001", fakeapi.Fault{Kind: fakeapi.ServerError, Op: "phone_numbers", Times: 1})
	clk.Add(healthEvery)
	refreshAll(c) // fails
	clk.Add(time.Minute)
	refreshAll(c) // tried again, a minute later
	if got := reads(); got != 5 {
		t.Errorf("%d health reads, want a failed one retried at the next refresh (5)", got)
	}
}

// While the API says to slow down, a refresh stops at the first rate limit:
// health is not read (and marked failed, as the families are), until the
// limit lifts.
func TestHealthWaitsOutRateLimits(t *testing.T) {
	clk := newClock(testNow)
	graph, url := fakeGraph(t, []fakeapi.WABA{healthFakeAccount("1001", "tok")}, fakeapi.Options{Now: clk.Now})
	c := newExporter([]Target{metaTarget(t, testAccount(t, "1001", url, "tok", withHealth))}, Options{Now: clk.Now})
	graph.Inject("1001", fakeapi.Fault{Kind: fakeapi.RateLimit, Code: 80007})
	refreshAll(c)
	if s := graph.Stats("1001"); s.ByOperation["phone_numbers"] != 0 {
		t.Errorf("a rate-limited refresh read health: %v", s.ByOperation)
	}
	if got := lines(exposition(t, c, "1001"), `whatsapp_exporter_refresh_success{family="health"`); len(got) != 1 || !strings.HasSuffix(got[0], " 0") {
		t.Errorf("health refresh %q, want failed", got)
	}
	graph.Clear("1001")
	clk.Add(time.Hour)
	refreshAll(c)
	if got := lines(exposition(t, c, "1001"), `whatsapp_exporter_refresh_success{family="health"`); len(got) != 1 || !strings.HasSuffix(got[0], " 1") {
		t.Errorf("after the limit lifted, health refresh %q", got)
	}
}

// What the API says is untrusted: values that are no enum become OTHER,
// unknown enum values (in any case) are states of their own, long strings
// are cut, duplicates are dropped, what is left out has no series, and a
// number without digits or a template without ID is left out.
func TestHealthUntrustedValues(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes
	url := startStub(t, func(op string, q url.Values) (int, http.Header, string) {
		switch op {
		case "phone_numbers":
			return 200, nil, `{"data":[
				{"id":"1","display_phone_number":"+1 650-555-0111","verified_name":"` + long + `","status":"connected",
				 "quality_rating":"ORANGE","name_status":"<script>alert(1)</script>","throughput":{"level":"STANDARD"},
				 "whatsapp_business_manager_messaging_limit":"TIER_5K"},
				{"id":"2","display_phone_number":"+1 650-555-0111","quality_rating":"RED"},
				{"id":"3","verified_name":"no number"}
			]}`
		case "message_templates":
			return 200, nil, `{"data":[
				{"id":"7","name":"a","language":"en","status":"APPROVED","category":"MARKETING"},
				{"id":"7","name":"b","status":"PAUSED"},
				{"name":"no id","status":"PAUSED"}
			]}`
		}
		return 200, nil, `{"data":[]}`
	})
	acct := testAccount(t, "1001", url, "tok", chain(withHealth, onlyFamilies(), func(a *config.Account) { a.APIVersion = "v25.0" }))
	c := newExporter([]Target{metaTarget(t, acct)}, Options{Now: func() time.Time { return testNow }})
	refreshAll(c)
	text := exposition(t, c, "1001")
	info := lines(text, "whatsapp_phone_number_info{")
	if len(info) != 1 {
		t.Fatalf("phone_number_info %q, want the first number only", info)
	}
	if want := `verified_name="` + strings.Repeat("é", 128) + `"`; !strings.Contains(info[0], want) {
		t.Errorf("verified_name not cut to 256 bytes: %s", info[0])
	}
	for _, want := range []string{
		`whatsapp_phone_number_status{phone_number="16505550111",status="CONNECTED",waba_id="1001"} 1`,
		`whatsapp_phone_number_quality_rating{phone_number="16505550111",quality_rating="ORANGE",waba_id="1001"} 1`,
		`whatsapp_phone_number_quality_rating{phone_number="16505550111",quality_rating="GREEN",waba_id="1001"} 0`,
		`whatsapp_phone_number_name_status{name_status="OTHER",phone_number="16505550111",waba_id="1001"} 1`,
		`whatsapp_phone_number_messaging_limit{messaging_limit="TIER_5K",phone_number="16505550111",waba_id="1001"} 1`,
		`whatsapp_template_info{language="en",name="a",template_id="7",waba_id="1001"} 1`,
		`whatsapp_template_status{status="APPROVED",template_id="7",waba_id="1001"} 1`,
		`whatsapp_exporter_refresh_success{family="health",waba_id="1001"} 1`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("no line %s", want)
		}
	}
	for metric, want := range map[string]int{
		"whatsapp_phone_number_can_send_message":           0, // not reported
		"whatsapp_phone_number_messaging_limit_recipients": 0, // TIER_5K names no known number
		"whatsapp_phone_number_throughput_level":           3,
		"whatsapp_template_info":                           1,
		"whatsapp_template_quality_score":                  0,
	} {
		if got := testutil.CollectAndCount(c, metric); got != want {
			t.Errorf("%s: %d series, want %d", metric, got, want)
		}
	}
}

// No health where it is not read: a Vonage account (whose API has none), a
// Meta account that turns it off; and no template health for one that
// turns that part off.
func TestNoHealthWhereNotRead(t *testing.T) {
	vonageFake := fakeapi.NewVonage([]fakeapi.WABA{func() fakeapi.WABA {
		a := testFakeAccount("345688589250625", "vonage-secret")
		a.APIKey = "a1b2c3d4"
		return a
	}()}, fakeapi.Options{Now: func() time.Time { return testNow }})
	vonageSrv := httptest.NewServer(vonageFake)
	t.Cleanup(vonageSrv.Close)
	vonageURL := vonageSrv.URL
	graph, url := fakeGraph(t, []fakeapi.WABA{healthFakeAccount("1001", "t1"), healthFakeAccount("1002", "t2")}, fakeapi.Options{Now: func() time.Time { return testNow }})

	cfg := vonageTarget(t, vonageURL, "345688589250625", "a1b2c3d4", "vonage-secret")
	targets, err := Targets(cfg)
	if err != nil {
		t.Fatal(err)
	}
	targets = append(targets,
		metaTarget(t, testAccount(t, "1001", url, "t1", nil)), // health off, as testAccount leaves it
		metaTarget(t, testAccount(t, "1002", url, "t2", chain(withHealth, func(a *config.Account) { a.Health.Templates = disabled }))),
	)
	c := newExporter(targets, Options{Now: func() time.Time { return testNow }})
	refreshAll(c)

	health := []string{"whatsapp_phone_number_info", "whatsapp_phone_number_status", "whatsapp_phone_number_quality_rating",
		"whatsapp_template_info", "whatsapp_template_status"}
	for _, waba := range []string{"345688589250625", "1001"} {
		text := exposition(t, c, waba)
		for _, m := range health {
			if l := lines(text, m+"{"); len(l) > 0 {
				t.Errorf("WABA %s: %q, want no health series", waba, l)
			}
		}
		if l := lines(text, `whatsapp_exporter_refresh_success{family="health"`); len(l) > 0 {
			t.Errorf("WABA %s: %q", waba, l)
		}
		if strings.Contains(text, `family="health"`) {
			t.Errorf("WABA %s made health requests:\n%s", waba, strings.Join(lines(text, "whatsapp_exporter"), "\n"))
		}
	}
	if s := graph.Stats("1001"); s.ByOperation["phone_numbers"] != 0 {
		t.Errorf("health off, yet the fake saw %v", s.ByOperation)
	}
	text := exposition(t, c, "1002")
	if len(lines(text, "whatsapp_phone_number_info{")) != 2 || len(lines(text, "whatsapp_template_info{")) != 0 {
		t.Errorf("templates off: want the numbers' health only:\n%s", strings.Join(lines(text, "whatsapp_"), "\n"))
	}
	if l := lines(text, `whatsapp_exporter_api_requests_total{code="200",family="health"`); len(l) != 1 || !strings.HasSuffix(l[0], " 1") {
		t.Errorf("templates off: health requests %q, want the phone_numbers one alone", l)
	}
}
