package config

import "github.com/whatsapp-exporter/whatsapp_exporter/provider"

// Health configures the read of account health: the status, quality rating
// and messaging limit of the WABA's phone numbers and the status, category
// and quality of its message templates. It is not an analytics family: it
// has no buckets, only the state the API reports now.
type Health struct {
	// Enabled reads account health at all. On by default where the
	// provider can read it (Capabilities.AccountHealth).
	Enabled *bool `yaml:"enabled"`
	// Templates reads the templates' status, category and quality too:
	// about 18 series per template, which a WABA with thousands of
	// templates may not want. On by default.
	Templates *bool `yaml:"templates"`
}

// IsEnabled reports whether account health is read.
func (h *Health) IsEnabled() bool { return h.Enabled == nil || *h.Enabled }

// TemplatesEnabled reports whether the templates' health is read.
func (h *Health) TemplatesEnabled() bool {
	return h.IsEnabled() && (h.Templates == nil || *h.Templates)
}

// applyHealthDefaults turns account health off where the provider cannot
// read it, unless the config asked for it (which validation reports).
func (a *Account) applyHealthDefaults() {
	if a.Health.Enabled == nil && !a.Capabilities().AccountHealth {
		no := false
		a.Health.Enabled = &no
	}
}

// health rejects account health asked of a provider that cannot read it:
// a read that could only ever fail.
func (v *validator) health(a *Account, caps provider.Capabilities, at func(...any) []any) {
	if caps.Name != "" && !caps.AccountHealth && a.Health.IsEnabled() {
		v.fail(at("health", "enabled"), "provider %s cannot read the status and quality of a WABA's phone numbers and templates; remove enabled: true", a.Provider)
	}
}
