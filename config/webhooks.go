package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Webhooks configures the endpoint that receives Meta's message status
// webhooks and counts them (internal/webhook). The section's presence turns
// the endpoint on; its secrets are read from files, at start and again on
// every reload, so that a rotated secret takes effect without a restart.
type Webhooks struct {
	// Path is where the endpoint answers, on the exporter's listener or on
	// --webhooks.listen-address when that is given.
	Path string `yaml:"path"`
	// VerifyTokenFile holds the token that Meta sends as hub.verify_token in
	// the GET handshake when the endpoint is subscribed. Optional: behind a
	// forwarder that answers the handshake itself it is not needed, and
	// without it every GET is refused.
	VerifyTokenFile string `yaml:"verify_token_file"`
	// AppSecretFiles hold the app secrets with which Meta signs every POST
	// (X-Hub-Signature-256). A POST signed with any of them is accepted:
	// list the new secret beside the old one while the app's secret is
	// rotated.
	AppSecretFiles []string `yaml:"app_secret_files"`
	// DedupWindow is how many messages, the most recent ones, the endpoint
	// remembers, so that each (message, status) counts once although Meta
	// sends some statuses again; and so that the time from sent to
	// delivered and read can be measured.
	DedupWindow int `yaml:"dedup_window"`
	// MaxSeries caps the webhook series (statuses, failures, pricing,
	// latencies together); statuses that would add one beyond it are not
	// counted, and are counted as skipped.
	MaxSeries int `yaml:"max_series"`

	// VerifyToken and AppSecrets are what the files hold. A configuration
	// built in code (the demo's) sets them directly.
	VerifyToken Secret   `yaml:"-"`
	AppSecrets  []Secret `yaml:"-"`
}

// Webhook defaults. A dedup window entry takes about 60 bytes (measured:
// docs/webhooks.md), so the default window holds the last million messages
// in about 60 MB: hours of a busy BSP's traffic, days of most businesses'.
const (
	DefaultWebhookPath        = "/webhooks"
	DefaultWebhookDedupWindow = 1_000_000
	DefaultWebhookMaxSeries   = 20000
	// maxWebhookDedupWindow keeps a typo (an extra three zeros) from
	// reserving tens of gigabytes.
	maxWebhookDedupWindow = 100_000_000
)

var webhookPath = regexp.MustCompile(`^/[A-Za-z0-9._~/-]*$`)

func (w *Webhooks) applyDefaults() {
	if w == nil {
		return
	}
	if w.Path == "" {
		w.Path = DefaultWebhookPath
	}
	if w.DedupWindow == 0 {
		w.DedupWindow = DefaultWebhookDedupWindow
	}
	if w.MaxSeries == 0 {
		w.MaxSeries = DefaultWebhookMaxSeries
	}
}

// webhookZeros rejects a zero where leaving the key out means a default,
// as for every other key.
func (v *validator) webhookZeros(c *Config) {
	w := c.Webhooks
	if w == nil {
		return
	}
	v.zero(w.Path == "", []any{"webhooks", "path"}, "the default, "+DefaultWebhookPath)
	v.zero(w.DedupWindow == 0, []any{"webhooks", "dedup_window"}, fmt.Sprintf("the default, %d", DefaultWebhookDedupWindow))
	v.zero(w.MaxSeries == 0, []any{"webhooks", "max_series"}, fmt.Sprintf("the default, %d", DefaultWebhookMaxSeries))
}

// webhooks validates the section and reads its secret files.
func (v *validator) webhooks(c *Config) {
	w := c.Webhooks
	if w == nil {
		if n := lookup(v.doc, []any{"webhooks"}); n != nil && n.Tag == "!!null" {
			v.fail([]any{"webhooks"}, "is empty; it needs at least app_secret_files (or remove it to turn the endpoint off)")
		}
		return
	}
	at := func(rest ...any) []any { return append([]any{"webhooks"}, rest...) }
	switch {
	case !webhookPath.MatchString(w.Path):
		v.fail(at("path"), "%q is not a URL path; want one such as %s", w.Path, DefaultWebhookPath)
	case w.Path == "/":
		v.fail(at("path"), "/ would shadow the landing page; want a path of its own such as %s", DefaultWebhookPath)
	}
	if w.DedupWindow < 0 || w.DedupWindow > maxWebhookDedupWindow {
		v.fail(at("dedup_window"), "must be between 1 and %d messages", maxWebhookDedupWindow)
	}
	if w.MaxSeries < 0 {
		v.fail(at("max_series"), "must be positive")
	}
	if len(w.AppSecretFiles) > 0 {
		w.AppSecrets = nil
		for i, f := range w.AppSecretFiles {
			if s, ok := v.secretFile(f, at("app_secret_files", i)); ok {
				w.AppSecrets = append(w.AppSecrets, s)
			}
		}
	} else if len(w.AppSecrets) == 0 {
		v.fail(at(), "app_secret_files is required: the files of the app secret with which Meta signs the webhooks")
	}
	if w.VerifyTokenFile != "" {
		w.VerifyToken, _ = v.secretFile(w.VerifyTokenFile, at("verify_token_file"))
	}
}

// secretFile reads a credential from a file, relative to the configuration's
// directory, as the accounts' *_file keys are read.
func (v *validator) secretFile(file string, at []any) (Secret, bool) {
	path := file
	if !filepath.IsAbs(path) {
		path = filepath.Join(v.dir, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		v.fail(at, "%v", err)
		return "", false
	}
	switch s := strings.TrimSpace(string(data)); {
	case s == "":
		v.fail(at, "%s is empty", path)
	case !oneToken(s):
		v.fail(at, "%s %s", path, notOneToken)
	default:
		return Secret(s), true
	}
	return "", false
}
