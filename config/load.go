package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads, decodes and validates the configuration file at path. Relative
// *_file paths inside it are relative to the file's own directory.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes and validates a configuration; filename is used in error
// messages and to resolve relative *_file paths.
func Parse(data []byte, filename string) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(filename, nil, err)
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("%s: the configuration is empty; it needs at least one entry under accounts", filename)
	}
	doc := root.Content[0]

	// Strict decoding catches unknown keys and wrong types, with lines.
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(filename, doc, err)
	}

	// Each account is decoded a second time, over the defaults: what an
	// account sets wins, what it leaves out comes from defaults.
	defaultsNode := child(doc, "defaults")
	accountsNode := child(doc, "accounts")
	if accountsNode != nil && accountsNode.Kind == yaml.SequenceNode {
		for i, n := range accountsNode.Content {
			var a Account
			if defaultsNode != nil {
				if err := defaultsNode.Decode(&a); err != nil {
					return nil, yamlError(filename, doc, err)
				}
			}
			if err := n.Decode(&a); err != nil {
				return nil, yamlError(filename, doc, err)
			}
			a.overrideInherited(n)
			a.line = n.Line
			cfg.Accounts[i] = a
		}
	}

	if businessesNode := child(doc, "businesses"); businessesNode != nil && businessesNode.Kind == yaml.SequenceNode {
		for i, n := range businessesNode.Content {
			if err := cfg.Businesses[i].buildTemplate(defaultsNode, n); err != nil {
				return nil, yamlError(filename, doc, err)
			}
		}
	}

	v := validator{file: filename, doc: doc, dir: filepath.Dir(filename)}
	v.zeros(&cfg)
	cfg.applyDefaults()
	v.validate(&cfg)
	if len(v.errs) > 0 {
		return nil, v.err()
	}
	return &cfg, nil
}

// overrideInherited drops a credential inherited from defaults when the
// account gives the same credential the other way: an account-level
// access_token_file replaces a default access_token instead of clashing with it.
func (a *Account) overrideInherited(n *yaml.Node) {
	for _, pair := range []struct {
		inline, file string
		clearInline  func()
		clearFile    func()
	}{
		{"access_token", "access_token_file", func() { a.AccessToken = "" }, func() { a.AccessTokenFile = "" }},
		{"app_secret", "app_secret_file", func() { a.AppSecret = "" }, func() { a.AppSecretFile = "" }},
		{"api_secret", "api_secret_file", func() { a.APISecret = "" }, func() { a.APISecretFile = "" }},
	} {
		hasInline, hasFile := child(n, pair.inline) != nil, child(n, pair.file) != nil
		switch {
		case hasFile && !hasInline:
			pair.clearInline()
		case hasInline && !hasFile:
			pair.clearFile()
		}
	}
}

// yamlLine matches the "line N: " that yaml.v3 puts in front of its messages.
var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

var unknownField = regexp.MustCompile(`^field (\S+) not found in type \S+$`)

// yamlError rewrites yaml.v3's errors as file:line: field: message.
func yamlError(filename string, doc *yaml.Node, err error) error {
	var lines []string
	var typeErr *yaml.TypeError
	if errors.As(err, &typeErr) {
		lines = typeErr.Errors
	} else {
		lines = []string{err.Error()}
	}
	var out []error
	for _, l := range lines {
		m := yamlLine.FindStringSubmatch(l)
		if m == nil {
			out = append(out, fmt.Errorf("%s: %s", filename, strings.TrimPrefix(l, "yaml: ")))
			continue
		}
		line, msg := m[1], m[2]
		field := errorPath(doc, atoi(line), msg)
		if u := unknownField.FindStringSubmatch(msg); u != nil {
			msg = fmt.Sprintf("unknown key %q", u[1])
		}
		if field != "" {
			out = append(out, fmt.Errorf("%s:%s: %s: %s", filename, line, field, msg))
		} else {
			out = append(out, fmt.Errorf("%s:%s: %s", filename, line, msg))
		}
	}
	return errors.Join(out...)
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// child returns the value node of key in a mapping node.
func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// lookup follows a path of keys (string) and indexes (int) from n.
func lookup(n *yaml.Node, path []any) *yaml.Node {
	for _, p := range path {
		if n == nil {
			return nil
		}
		switch p := p.(type) {
		case string:
			n = child(n, p)
		case int:
			if n.Kind != yaml.SequenceNode || p >= len(n.Content) {
				return nil
			}
			n = n.Content[p]
		}
	}
	return n
}

// typeMismatch matches yaml.v3's "cannot unmarshal !!str `5x` into
// time.Duration"; it cuts values longer than 10 bytes to 7 and "...".
var typeMismatch = regexp.MustCompile("^cannot unmarshal (!!\\w+)(?: `(.*)`)? into ")

// errorPath names the field a yaml.v3 error is about. The error gives only a
// line, and one line can hold several nodes: a block mapping starts on the
// line of its first key, a flow list holds all its items. So the node the
// message describes (the unknown key, the value of the wrong kind) is looked
// for first, and the deepest key on the line is the fallback.
func errorPath(doc *yaml.Node, line int, msg string) string {
	var match func(key, value *yaml.Node) bool
	if u := unknownField.FindStringSubmatch(msg); u != nil {
		match = func(key, _ *yaml.Node) bool { return key != nil && key.Line == line && key.Value == u[1] }
	} else if m := typeMismatch.FindStringSubmatch(msg); m != nil {
		tag, value := m[1], m[2]
		match = func(_, v *yaml.Node) bool {
			if v.Line != line || v.ShortTag() != tag {
				return false
			}
			if prefix, cut := strings.CutSuffix(value, "..."); cut {
				return strings.HasPrefix(v.Value, prefix)
			}
			return value == "" || v.Value == value
		}
	}
	if match != nil {
		if p, ok := findPath(doc, "", match); ok {
			return p
		}
	}
	return pathAtLine(doc, line)
}

// findPath returns the path of the last node, in document order, that match
// accepts: the deepest, since a block list or mapping starts on the line of
// its first item, which may be the one in error.
func findPath(n *yaml.Node, path string, match func(key, value *yaml.Node) bool) (found string, ok bool) {
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := joinPath(path, k.Value)
				if match(k, v) {
					found, ok = p, true
				}
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, item := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				if match(nil, item) {
					found, ok = p, true
				}
				walk(item, p)
			}
		}
	}
	if n != nil {
		walk(n, path)
	}
	return found, ok
}

// pathAtLine names the deepest key that sits on line, such as
// "accounts[2].messaging.granularity".
func pathAtLine(n *yaml.Node, line int) string {
	var best string
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := joinPath(path, k.Value)
				if k.Line == line {
					best = p
				}
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, item := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				if item.Line == line && item.Kind == yaml.ScalarNode {
					best = p
				}
				walk(item, p)
			}
		}
	}
	if n != nil {
		walk(n, "")
	}
	return best
}

func joinPath(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func formatPath(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch p := p.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(p)
		case int:
			fmt.Fprintf(&b, "[%d]", p)
		}
	}
	return b.String()
}

// Finish applies to a configuration built in code (the demo's, a test's) the
// defaults and validation that Parse applies to a file.
func Finish(c *Config) error {
	for i := range c.Businesses {
		c.Businesses[i].finish()
	}
	c.applyDefaults()
	v := validator{file: "(built-in config)", dir: "."}
	v.validate(c)
	if len(v.errs) > 0 {
		return v.err()
	}
	return nil
}
