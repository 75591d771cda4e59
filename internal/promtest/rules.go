package promtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// RuleFiles returns the absolute paths of the rule files in dir (for the
// tests, ../examples/rules or examples/rules), without their promtool unit
// tests (*.test.yml): the files a Prometheus loads.
func RuleFiles(t *testing.T, dir string) []string {
	t.Helper()
	all, err := filepath.Glob(filepath.Join(dir, "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range all {
		if strings.HasSuffix(f, ".test.yml") {
			continue
		}
		abs, err := filepath.Abs(f)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, abs)
	}
	if len(files) == 0 {
		t.Fatalf("no rule files in %s", dir)
	}
	return files
}

// Rule is an alerting or a recording rule of a rule file.
type Rule struct {
	Alert  string `yaml:"alert"`
	Record string `yaml:"record"`
	Expr   string `yaml:"expr"`
}

// Name is the alert's or the recorded series' name, as Prometheus names
// the rule.
func (r Rule) Name() string { return r.Alert + r.Record }

// Rules returns the rules of the files, in their order.
func Rules(t *testing.T, files ...string) []Rule {
	t.Helper()
	var rules []Rule
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Groups []struct {
				Rules []Rule `yaml:"rules"`
			} `yaml:"groups"`
		}
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, g := range doc.Groups {
			rules = append(rules, g.Rules...)
		}
	}
	if len(rules) == 0 {
		t.Fatalf("no rules in %s", strings.Join(files, ", "))
	}
	return rules
}
