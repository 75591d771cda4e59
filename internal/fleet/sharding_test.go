package fleet

import (
	"context"
	"fmt"
	"maps"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/whatsapp-exporter/whatsapp_exporter/collector"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/fakeapi"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/scheduler"
)

// withData lists the WABAs whose messaging a collector serves.
func withData(t testing.TB, c prometheus.Collector) map[string]bool {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, mf := range families {
		if mf.GetName() != "whatsapp_messages_sent_total" {
			continue
		}
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				if l.GetName() == "waba_id" {
					out[l.GetValue()] = true
				}
			}
		}
	}
	return out
}

// TestThreeReplicas runs three replicas of the exporter on loopback against
// one fake fleet, each through a listener of its own: each lists the whole
// business and keeps its shard. Together they export the whole fleet, no
// WABA twice, and the fake saw each WABA's requests come from one replica
// only.
func TestThreeReplicas(t *testing.T) {
	const n, replicas = 30, 3
	wabas, business := fakeapi.Fleet(n, fakeapi.FleetOptions{TemplatesPerWABA: 5})
	g := fakeapi.NewGraph(wabas, fakeapi.Options{})
	g.SetBusiness(business)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	type replica struct {
		host      string
		collector *collector.Collector
		fleet     *Fleet
	}
	var rs []replica
	for i := range replicas {
		srv := httptest.NewServer(g)
		t.Cleanup(srv.Close)
		u, _ := url.Parse(srv.URL)
		cfg := parse(t, fmt.Sprintf(`
global:
  requests_per_second: 500
  burst: 50
businesses:
  - business_id: %q
    api_url: %s
    access_token: %s
`, business.ID, srv.URL, fakeapi.DefaultFleetToken))
		c := collector.New(collector.Options{})
		s := scheduler.New(nil, c, scheduler.Options{})
		f := New(cfg, &scheduler.Connector{}, s.Apply, Options{Shard: Shard{Index: i, Count: replicas}})
		wg.Go(func() { s.Run(ctx) })
		wg.Go(func() { f.Run(ctx) })
		rs = append(rs, replica{host: u.Host, collector: c, fleet: f})
	}
	waitFor(t, "every replica's WABAs to have data", func() bool {
		total := 0
		for _, r := range rs {
			st := r.fleet.State()
			if st.Discovered == 0 || len(withData(t, r.collector)) != st.Discovered {
				return false
			}
			total += st.Discovered
		}
		return total == n
	})

	owner := map[string]int{}
	for i, r := range rs {
		exported := withData(t, r.collector)
		if len(exported) == 0 || len(exported) == n {
			t.Errorf("replica %d exports %d of %d WABAs: not a share", i, len(exported), n)
		}
		for id := range exported {
			if j, dup := owner[id]; dup {
				t.Errorf("WABA %s is exported by replicas %d and %d", id, j, i)
			}
			owner[id] = i
		}
		if got := g.BusinessStats(business.ID).ByHost[r.host]; got == 0 {
			t.Errorf("replica %d did not list the business", i)
		}
	}
	all := append(slices.Clone(business.Owned), business.Client...)
	if got := slices.Sorted(maps.Keys(owner)); !slices.Equal(got, slices.Sorted(slices.Values(all))) {
		t.Errorf("the replicas export %d WABAs, the fleet is %d", len(got), len(all))
	}
	for _, id := range all {
		hosts := g.Stats(id).ByHost
		if len(hosts) != 1 || hosts[rs[owner[id]].host] == 0 {
			t.Errorf("WABA %s (replica %d's) was asked from %v", id, owner[id], hosts)
		}
	}
}
