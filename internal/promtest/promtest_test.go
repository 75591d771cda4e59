package promtest

import (
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fakeQueryAPI answers every request with status and body, and keeps the
// form of the last one in asked.
func fakeQueryAPI(t *testing.T, status int, body string) (prom *Prometheus, asked *url.Values) {
	t.Helper()
	asked = &url.Values{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		*asked = r.PostForm
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return &Prometheus{&Process{Name: "prometheus", Addr: strings.TrimPrefix(srv.URL, "http://")}}, asked
}

// TestQueryDecodesInstantAnswers: the tests compare series and values, so
// a scalar must count as one series and an answer that is no instant vector
// must be an error, not an empty answer that a check could take for "no
// series".
func TestQueryDecodesInstantAnswers(t *testing.T) {
	for _, c := range []struct {
		name, body string
		status     int
		want       []Series
		wantErr    string
	}{
		{name: "vector", status: 200,
			body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"a"},"value":[1,"2.5"]},{"metric":{},"value":[1,"NaN"]}]}}`,
			want: []Series{{Metric: map[string]string{"job": "a"}, Value: 2.5}, {Metric: map[string]string{}, Value: math.NaN()}}},
		{name: "empty vector", status: 200,
			body: `{"status":"success","data":{"resultType":"vector","result":[]}}`,
			want: []Series{}},
		{name: "scalar", status: 200,
			body: `{"status":"success","data":{"resultType":"scalar","result":[1,"3"]}}`,
			want: []Series{{Metric: map[string]string{}, Value: 3}}},
		{name: "range vector", status: 200,
			body:    `{"status":"success","data":{"resultType":"matrix","result":[]}}`,
			wantErr: "result type matrix, want an instant vector"},
		{name: "bad query", status: 400,
			body:    `{"status":"error","errorType":"bad_data","error":"parse error: unexpected end of input"}`,
			wantErr: "/api/v1/query: parse error: unexpected end of input"},
		{name: "not ready", status: 503,
			body:    "Service Unavailable",
			wantErr: "503 Service Unavailable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			prom, _ := fakeQueryAPI(t, c.status, c.body)
			got, err := prom.Query("up")
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one with %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("%d series, want %d: %+v", len(got), len(c.want), got)
			}
			for i := range got {
				if !reflect.DeepEqual(got[i].Metric, c.want[i].Metric) || !sameFloat(got[i].Value, c.want[i].Value) {
					t.Errorf("series %d: %+v, want %+v", i, got[i], c.want[i])
				}
			}
		})
	}
}

func sameFloat(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

// TestQueryAtAsksAtTheTime: an instant is sent to the millisecond, and
// Query leaves the time to Prometheus.
func TestQueryAtAsksAtTheTime(t *testing.T) {
	const vector = `{"status":"success","data":{"resultType":"vector","result":[]}}`
	prom, asked := fakeQueryAPI(t, 200, vector)
	if _, err := prom.QueryAt("up", time.UnixMilli(1700000000123)); err != nil {
		t.Fatal(err)
	}
	if got := asked.Get("time"); got != "1700000000.123" {
		t.Errorf("time=%q, want 1700000000.123", got)
	}
	if _, err := prom.Query("up"); err != nil {
		t.Fatal(err)
	}
	if _, ok := (*asked)["time"]; ok || asked.Get("query") != "up" {
		t.Errorf("Query sent %v, want the query alone", *asked)
	}
}

// TestRuleFilesLeaveOutUnitTests: Prometheus loads the rule files, not
// promtool's unit tests beside them.
func TestRuleFilesLeaveOutUnitTests(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"a.yml":      "groups:\n  - name: a\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n",
		"b.yml":      "groups:\n  - name: b\n    rules:\n      - alert: Down\n        expr: up == 0\n",
		"a.test.yml": "rule_files: [a.yml]\ntests: []\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	files := RuleFiles(t, dir)
	if want := []string{filepath.Join(dir, "a.yml"), filepath.Join(dir, "b.yml")}; !reflect.DeepEqual(files, want) {
		t.Errorf("rule files %v, want %v", files, want)
	}
	want := []Rule{{Record: "job:up:sum", Expr: "sum by (job) (up)"}, {Alert: "Down", Expr: "up == 0"}}
	if got := Rules(t, files...); !reflect.DeepEqual(got, want) {
		t.Errorf("rules %+v, want %+v", got, want)
	}
	if got := want[0].Name() + " " + want[1].Name(); got != "job:up:sum Down" {
		t.Errorf("names %q", got)
	}
}
