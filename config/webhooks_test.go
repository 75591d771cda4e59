package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const webhookAccount = "accounts:\n  - waba_id: \"1\"\n    access_token: x\n" // lines 1-3

// parseWebhookConfig parses src beside the secret files the tests name.
func parseWebhookConfig(t *testing.T, src string) (*Config, error) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"app_secret": "current-secret\n", "old_app_secret": "  old-secret  \n", "verify_token": "verify-me\n",
		"empty": "\n", "two_words": "two words\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return Parse([]byte(src), filepath.Join(dir, "webhooks.yml"))
}

func TestWebhooksDefaults(t *testing.T) {
	cfg, err := parseWebhookConfig(t, webhookAccount+"webhooks:\n  app_secret_files: [app_secret]\n")
	if err != nil {
		t.Fatal(err)
	}
	w := cfg.Webhooks
	if w.Path != DefaultWebhookPath || w.DedupWindow != DefaultWebhookDedupWindow || w.MaxSeries != DefaultWebhookMaxSeries {
		t.Errorf("defaults: %+v", w)
	}
	if !slices.Equal(w.AppSecrets, []Secret{"current-secret"}) || w.VerifyToken != "" {
		t.Errorf("secrets %q, token %q", w.AppSecrets, w.VerifyToken)
	}

	cfg, err = parseWebhookConfig(t, webhookAccount+`webhooks:
  path: /whatsapp/hooks
  verify_token_file: verify_token
  app_secret_files: [app_secret, old_app_secret]
  dedup_window: 5000
  max_series: 100
`)
	if err != nil {
		t.Fatal(err)
	}
	w = cfg.Webhooks
	if w.Path != "/whatsapp/hooks" || w.DedupWindow != 5000 || w.MaxSeries != 100 {
		t.Errorf("settings: %+v", w)
	}
	// Both secrets, in order, trimmed: the rotation's old and new.
	if !slices.Equal(w.AppSecrets, []Secret{"current-secret", "old-secret"}) || w.VerifyToken != "verify-me" {
		t.Errorf("secrets %q, token %q", w.AppSecrets, w.VerifyToken)
	}

	cfg, err = parseWebhookConfig(t, webhookAccount)
	if err != nil || cfg.Webhooks != nil {
		t.Errorf("without the section: %+v, %v; want the endpoint off", cfg.Webhooks, err)
	}
}

func TestWebhooksErrors(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		want      []string // each a line of the error, without the directory
	}{
		{"no secret", "webhooks:\n  path: /hooks\n",
			[]string{"webhooks.yml:5: webhooks: app_secret_files is required"}},
		{"an empty section", "webhooks:\n",
			[]string{"webhooks.yml:4: webhooks: is empty; it needs at least app_secret_files"}},
		{"missing and bad secret files", "webhooks:\n  app_secret_files: [app_secret, nope, empty, two_words]\n  verify_token_file: empty\n", []string{
			"webhooks.yml:5: webhooks.app_secret_files[1]: open ",
			"webhooks.yml:5: webhooks.app_secret_files[2]: ",
			"webhooks.yml:5: webhooks.app_secret_files[3]: ",
			"webhooks.yml:6: webhooks.verify_token_file: ",
		}},
		{"zeros", "webhooks:\n  app_secret_files: [app_secret]\n  dedup_window: 0\n  max_series: 0\n  path: \"\"\n", []string{
			"webhooks.yml:6: webhooks.dedup_window: must be positive; leave it out for the default, 1000000",
			"webhooks.yml:7: webhooks.max_series: must be positive; leave it out for the default, 20000",
			"webhooks.yml:8: webhooks.path: must not be empty; leave it out for the default, /webhooks",
		}},
		{"bad values", "webhooks:\n  app_secret_files: [app_secret]\n  dedup_window: 1000000000\n  max_series: -1\n  path: hooks?x=1\n", []string{
			"webhooks.yml:6: webhooks.dedup_window: must be between 1 and 100000000 messages",
			"webhooks.yml:7: webhooks.max_series: must be positive",
			`webhooks.yml:8: webhooks.path: "hooks?x=1" is not a URL path; want one such as /webhooks`,
		}},
		{"the root path", "webhooks:\n  app_secret_files: [app_secret]\n  path: /\n",
			[]string{"webhooks.yml:6: webhooks.path: / would shadow the landing page"}},
		{"unknown key", "webhooks:\n  app_secret_file: app_secret\n",
			[]string{`webhooks.yml:5: webhooks.app_secret_file: unknown key "app_secret_file"`}},
		{"a wrong type", "webhooks:\n  app_secret_files: app_secret\n",
			[]string{"webhooks.yml:5: webhooks.app_secret_files: cannot unmarshal !!str `app_secret` into []string"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseWebhookConfig(t, webhookAccount+tt.src)
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			var got []string
			for _, line := range strings.Split(err.Error(), "\n") {
				_, rest, _ := strings.Cut(line, "webhooks.yml")
				got = append(got, "webhooks.yml"+rest)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("errors:\n%s\nwant %d:\n%s", strings.Join(got, "\n"), len(tt.want), strings.Join(tt.want, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("error %d is %q, want it to start with %q", i, got[i], tt.want[i])
				}
			}
			// A secret file's content is never quoted, only its path.
			if strings.Contains(err.Error(), "two words") {
				t.Errorf("the error quotes a secret: %v", err)
			}
		})
	}
}

// A configuration built in code (the demo's) gives its secrets directly.
func TestWebhooksFinish(t *testing.T) {
	cfg := &Config{
		Accounts: []Account{{WABAID: "1", AccessToken: "x"}},
		Webhooks: &Webhooks{AppSecrets: []Secret{"s"}},
	}
	if err := Finish(cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Webhooks.Path != DefaultWebhookPath || cfg.Webhooks.AppSecrets[0] != "s" {
		t.Errorf("%+v", cfg.Webhooks)
	}
	cfg.Webhooks = &Webhooks{}
	if err := Finish(cfg); err == nil || !strings.Contains(err.Error(), "app_secret_files is required") {
		t.Errorf("no secret: %v", err)
	}
}
