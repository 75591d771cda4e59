package vonage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// The WABAs linked to the key, as GET /v1/channel-manager/whatsapp/wabas
// lists them: every page of _links.next, 50 a page, with Basic auth; an
// entry whose ID could not name a WABA (a path, nothing) is left out, one
// listed twice counts once, and a WABA whose currency and time zone are
// both listed needs no read of its own.
func TestListWABAs(t *testing.T) {
	c, a := newClient(t, "https://api.nexmo.com", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/channel-manager/whatsapp/wabas" {
			writeBody(w, 404, []byte(`{"title":"Not found"}`))
			return
		}
		switch r.URL.Query().Get("cursor") {
		case "":
			writeBody(w, 200, []byte(`{"_embedded":{"wabas":[
				{"waba_id":"345688589250625","name":"Retail","currency":"EUR","timezone_id":"12"},
				{"waba_id":"../1","name":"not an ID"},
				{"name":"no ID"}]},
				"_links":{"next":{"href":"https://api.nexmo.com/v1/channel-manager/whatsapp/wabas?page_size=50&cursor=p2"}}}`))
		case "p2":
			writeBody(w, 200, []byte(`{"_embedded":{"wabas":[
				{"waba_id":"104996122399160","name":"Support"},
				{"waba_id":"345688589250625","name":"listed twice"}]}}`))
		default:
			t.Errorf("unexpected request %s", r.URL)
		}
	})
	got, err := c.ListWABAs(context.Background(), provider.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || got[0].Location == nil || got[0].Location.String() != "Europe/Vienna" {
		t.Fatalf("listed %+v: want the first WABA in Meta's time zone 12, Europe/Vienna", got)
	}
	want := []provider.DiscoveredWABA{
		{ID: "345688589250625", Name: "Retail", Currency: "EUR", Location: got[0].Location, Ownership: provider.Owned, Complete: true},
		{ID: "104996122399160", Name: "Support", Ownership: provider.Owned},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("listed %+v\nwant %+v", got, want)
	}
	reqs := a.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2 pages", len(reqs))
	}
	if q := reqs[0].URL.Query(); q.Get("page_size") != fmt.Sprint(listPageSize) {
		t.Errorf("first page %s, want page_size=%d", reqs[0].URL, listPageSize)
	}
	for _, r := range reqs {
		if key, secret, ok := r.BasicAuth(); !ok || key != testKey || secret != testSecret {
			t.Errorf("request %s without the key's Basic auth", r.URL)
		}
	}
}

// A listing that fails is an error naming the listing, without the secret.
func TestListWABAsFails(t *testing.T) {
	c, _ := newClient(t, "https://api.nexmo.com", func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, 401, []byte(`{"title":"Unauthorized"}`))
	})
	_, err := c.ListWABAs(context.Background(), provider.ListQuery{})
	if err == nil {
		t.Fatal("a 401 listing succeeded")
	}
	var apiErr *provider.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 401 {
		t.Errorf("error %v, want the API's 401", err)
	}
	if msg := err.Error(); strings.Contains(msg, testSecret) {
		t.Errorf("error %q carries the secret", msg)
	}
}
