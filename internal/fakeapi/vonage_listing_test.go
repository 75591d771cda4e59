package fakeapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
)

// serveVonageKeys serves five WABAs linked to vonageKey and one to another
// key.
func serveVonageKeys(t *testing.T) (*fakeapi.Vonage, string, []string) {
	t.Helper()
	var wabas []fakeapi.WABA
	var ids []string
	for i := range 5 {
		a := vonageAccounts()[0]
		a.WABAID, a.Name, a.TimezoneID, a.Currency = fmt.Sprint(345688589250630+i), fmt.Sprintf("Umbrella %d", i), "58", "EUR"
		wabas = append(wabas, a)
		ids = append(ids, a.WABAID)
	}
	wabas = append(wabas, vonageAccounts()[1]) // another key's
	v := fakeapi.NewVonage(wabas, fakeapi.Options{Now: func() time.Time { return vonageNow }})
	srv := httptest.NewServer(v)
	t.Cleanup(srv.Close)
	return v, srv.URL, ids
}

const vonageWABAs = "/v1/channel-manager/whatsapp/wabas"

// vonageListAll follows _links.next and returns the listed IDs and the
// pages' sizes.
func vonageListAll(t *testing.T, u string) (ids []string, sizes []int) {
	t.Helper()
	for pages := 0; u != ""; pages++ {
		if pages > 100 {
			t.Fatal("paging does not end")
		}
		a := vonageDo(t, "GET", u, vonageKey, vonageSecret)
		if a.status != http.StatusOK {
			t.Fatalf("%s: status %d: %v", u, a.status, a.body)
		}
		items := a.body["_embedded"].(map[string]any)["wabas"].([]any)
		for _, item := range items {
			ids = append(ids, item.(map[string]any)["waba_id"].(string))
		}
		sizes = append(sizes, len(items))
		u = ""
		if next, ok := a.body["_links"].(map[string]any)["next"].(map[string]any); ok {
			u = next["href"].(string)
		}
	}
	return ids, sizes
}

// TestVonageListsWABAs: the listing answers the WABAs linked to the key of
// the credentials, in the reference's HAL shape, page by page.
func TestVonageListsWABAs(t *testing.T) {
	v, base, ids := serveVonageKeys(t)
	desc := slices.Clone(ids)
	slices.Reverse(desc)
	for _, tc := range []struct {
		name, query string
		want        []string
		sizes       []int
	}{
		{"default page size", "", ids, []int{5}},
		{"two a page", "?page_size=2", ids, []int{2, 2, 1}},
		{"descending", "?page_size=3&order=desc", desc, []int{3, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, sizes := vonageListAll(t, base+vonageWABAs+tc.query)
			if !slices.Equal(got, tc.want) || !slices.Equal(sizes, tc.sizes) {
				t.Errorf("listed %v in pages %v, want %v in %v", got, sizes, tc.want, tc.sizes)
			}
		})
	}

	a := vonageDo(t, "GET", base+vonageWABAs+"?page=2&page_size=2", vonageKey, vonageSecret)
	if got := fmt.Sprint(a.body["page"], a.body["page_size"], a.body["total_pages"], a.body["total_items"]); got != "2 2 3 5" {
		t.Errorf("page, page_size, total_pages, total_items = %s, want 2 2 3 5", got)
	}
	links := a.body["_links"].(map[string]any)
	for rel, page := range map[string]string{"self": "page=2", "first": "page=1", "last": "page=3", "next": "page=3", "prev": "page=1"} {
		l, _ := links[rel].(map[string]any)
		if href, _ := l["href"].(string); !strings.HasPrefix(href, base+vonageWABAs+"?") || !strings.Contains(href, page+"&") && !strings.HasSuffix(href, page) {
			t.Errorf("_links.%s %v, want %s of this listing", rel, l, page)
		}
	}
	item := a.body["_embedded"].(map[string]any)["wabas"].([]any)[0].(map[string]any)
	want := fmt.Sprintf("map[account_review_status:Approved api_key:%s currency:EUR name:Umbrella 2 timezone_id:58 waba_id:%s]", vonageKey, ids[2])
	if fmt.Sprint(item) != want {
		t.Errorf("item %v, want %s", item, want)
	}
	if last := vonageDo(t, "GET", base+vonageWABAs+"?page=3&page_size=2", vonageKey, vonageSecret); last.body["_links"].(map[string]any)["next"] != nil {
		t.Error("the last page links to a next one")
	}
	if beyond := vonageDo(t, "GET", base+vonageWABAs+"?page=9", vonageKey, vonageSecret); beyond.status != 200 || len(beyond.body["_embedded"].(map[string]any)["wabas"].([]any)) != 0 {
		t.Errorf("a page beyond the last: %d %v", beyond.status, beyond.body)
	}
	other := vonageDo(t, "GET", base+vonageWABAs, "e5f6a7b8", "other-secret")
	if wabas := other.body["_embedded"].(map[string]any)["wabas"].([]any); len(wabas) != 1 || wabas[0].(map[string]any)["waba_id"] != vonageOther {
		t.Errorf("another key lists %v, want its one WABA", wabas)
	}
	if s := v.BusinessStats(vonageKey); s.ByOperation["wabas"] < 7 {
		t.Errorf("listing stats %+v", s)
	}
}

func TestVonageListingRefuses(t *testing.T) {
	_, base, _ := serveVonageKeys(t)
	for _, tc := range []struct {
		name, method, query, key, secret string
		status                           int
	}{
		{"no credentials", "GET", "", "", "", 401},
		{"wrong secret", "GET", "", vonageKey, "guess", 401},
		{"unknown key", "GET", "", "nobody", vonageSecret, 401},
		{"page 0", "GET", "?page=0", vonageKey, vonageSecret, 400},
		{"page size not a number", "GET", "?page_size=all", vonageKey, vonageSecret, 400},
		{"order sideways", "GET", "?order=sideways", vonageKey, vonageSecret, 400},
		{"POST", "POST", "", vonageKey, vonageSecret, 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := vonageDo(t, tc.method, base+vonageWABAs+tc.query, tc.key, tc.secret)
			if a.status != tc.status || a.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("status %d %s, want %d as an RFC 7807 problem", a.status, a.header.Get("Content-Type"), tc.status)
			}
		})
	}
}

func TestVonageListingFaults(t *testing.T) {
	for _, tc := range []struct {
		fault fakeapi.Fault
		check func(t *testing.T, a vonageAnswer)
	}{
		{fakeapi.Fault{Kind: fakeapi.RateLimit, RegainMinutes: 1}, func(t *testing.T, a vonageAnswer) {
			if a.status != 429 || a.header.Get("Retry-After") != "60" {
				t.Errorf("status %d Retry-After %q, want 429 60", a.status, a.header.Get("Retry-After"))
			}
		}},
		{fakeapi.Fault{Kind: fakeapi.ServerError}, func(t *testing.T, a vonageAnswer) {
			if a.status != 503 {
				t.Errorf("status %d, want 503", a.status)
			}
		}},
		{fakeapi.Fault{Kind: fakeapi.WrongTypes}, func(t *testing.T, a vonageAnswer) {
			item := a.body["_embedded"].(map[string]any)["wabas"].([]any)[0].(map[string]any)
			if _, isString := item["waba_id"].(string); a.status != 200 || isString {
				t.Errorf("status %d, item %v: want a waba_id that is not a string", a.status, item)
			}
		}},
		{fakeapi.Fault{Kind: fakeapi.EchoToken}, func(t *testing.T, a vonageAnswer) {
			if a.status != 400 || !strings.Contains(fmt.Sprint(a.body), vonageSecret) {
				t.Errorf("status %d %v, want a 400 quoting the secret", a.status, a.body)
			}
		}},
	} {
		t.Run(fmt.Sprint(tc.fault.Kind), func(t *testing.T) {
			v, base, _ := serveVonageKeys(t)
			f := tc.fault
			f.Times = 1
			v.Inject(vonageKey, f)
			tc.check(t, vonageDo(t, "GET", base+vonageWABAs, vonageKey, vonageSecret))
			if again := vonageDo(t, "GET", base+vonageWABAs, vonageKey, vonageSecret); again.status != 200 {
				t.Errorf("after a one-time fault: %d", again.status)
			}
		})
	}
}
