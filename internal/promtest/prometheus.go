package promtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Prometheus is a Prometheus the test started, and a client of its HTTP API
// (https://prometheus.io/docs/prometheus/latest/querying/api/).
type Prometheus struct {
	*Process
}

// StartPrometheus runs bin with config (the content of its prometheus.yml)
// in dir, on addr (from FreeAddrs), and waits until it is ready. flags are
// the rest of its command line, which differs from test to test: at least
// --storage.tsdb.path, where a test may have backfilled blocks, and the
// retention that keeps them.
func StartPrometheus(t *testing.T, bin, dir, addr, config string, flags ...string) *Prometheus {
	t.Helper()
	// Without it, Prometheus would write its data into the working
	// directory: the package's source.
	if !slices.ContainsFunc(flags, func(f string) bool { return strings.HasPrefix(f, "--storage.tsdb.path=") }) {
		t.Fatal("StartPrometheus: no --storage.tsdb.path among the flags")
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--config.file=" + cfg, "--web.listen-address=" + addr}, flags...)
	p := &Prometheus{Start(t, dir, "prometheus", bin, args...)}
	p.WaitFor(t, 30*time.Second, "Prometheus ready", func() error {
		resp, err := http.Get(p.url("/-/ready"))
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/-/ready: %s", resp.Status)
		}
		return nil
	})
	return p
}

func (p *Prometheus) url(path string) string { return "http://" + p.Addr + path }

// WaitFor polls cond until it returns nil, or fails the test with its last
// error and the end of Prometheus' log.
func (p *Prometheus) WaitFor(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s: %v\n%s", timeout, what, err, p.Tail())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// API calls an endpoint of the HTTP API and decodes the data of its answer
// into data: by POST where it takes parameters (queries are long), else by
// GET. The API answers a bad query with 400 or 422 and a body that says
// why: that is the error.
func (p *Prometheus) API(path string, params url.Values, data any) error {
	var resp *http.Response
	var err error
	if params == nil {
		resp, err = http.Get(p.url(path))
	} else {
		resp, err = http.PostForm(p.url(path), params)
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	var body struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return fmt.Errorf("%s: %s: %v: %.200s", path, resp.Status, err, raw)
	}
	if body.Status != "success" {
		return fmt.Errorf("%s: %s", path, body.Error)
	}
	return json.Unmarshal(body.Data, data)
}

// Series is one series of an instant query's answer.
type Series struct {
	Metric map[string]string
	Value  float64
}

// Query runs an instant query at Prometheus' now.
func (p *Prometheus) Query(q string) ([]Series, error) {
	return p.query(url.Values{"query": {q}})
}

// QueryAt runs an instant query at a time.
func (p *Prometheus) QueryAt(q string, at time.Time) ([]Series, error) {
	return p.query(url.Values{"query": {q}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)}})
}

// instantSample is a series of an instant vector as the API writes it:
// its value is [unix time, "value"].
type instantSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// query decodes an instant vector, and a scalar as one series without
// labels. Anything else (a range vector, a string) is not what a panel or a
// rule may ask, and an error.
func (p *Prometheus) query(params url.Values) ([]Series, error) {
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := p.API("/api/v1/query", params, &data); err != nil {
		return nil, err
	}
	var answer []instantSample
	switch data.ResultType {
	case "vector":
		if err := json.Unmarshal(data.Result, &answer); err != nil {
			return nil, err
		}
	case "scalar":
		answer = []instantSample{{Metric: map[string]string{}}}
		if err := json.Unmarshal(data.Result, &answer[0].Value); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("result type %s, want an instant vector", data.ResultType)
	}
	res := make([]Series, len(answer))
	for i, a := range answer {
		s, _ := a.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("value %v: %v", a.Value, err)
		}
		res[i] = Series{Metric: a.Metric, Value: v}
	}
	return res, nil
}

// RuleGroup is a group of loaded rules, as /api/v1/rules lists them.
type RuleGroup struct {
	Rules []struct {
		Name           string    `json:"name"`
		Health         string    `json:"health"`
		LastError      string    `json:"lastError"`
		LastEvaluation time.Time `json:"lastEvaluation"`
	} `json:"rules"`
}

// Rules lists the loaded rule groups.
func (p *Prometheus) Rules() ([]RuleGroup, error) {
	var data struct {
		Groups []RuleGroup `json:"groups"`
	}
	err := p.API("/api/v1/rules", nil, &data)
	return data.Groups, err
}

// RulesEvaluatedSince reports an error unless every rule was evaluated
// after since.
func (p *Prometheus) RulesEvaluatedSince(since time.Time) error {
	groups, err := p.Rules()
	if err != nil {
		return err
	}
	if len(groups) == 0 {
		return fmt.Errorf("no rule groups loaded")
	}
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.LastEvaluation.Before(since) {
				return fmt.Errorf("rule %s last evaluated at %s", r.Name, r.LastEvaluation)
			}
		}
	}
	return nil
}

// Alert is an active (pending or firing) alert.
type Alert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

// Alerts lists the active alerts.
func (p *Prometheus) Alerts() ([]Alert, error) {
	var data struct {
		Alerts []Alert `json:"alerts"`
	}
	err := p.API("/api/v1/alerts", nil, &data)
	return data.Alerts, err
}
