package config

import (
	"regexp"
	"slices"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/registry"
)

// DefaultListInterval is how often a business's WABAs are listed again:
// WABAs come and go a few times a day in the busiest fleets, and a listing
// of 10,000 WABAs is 100 requests.
const DefaultListInterval = time.Hour

// Business names a business whose WABAs are exported without listing each:
// the exporter lists them (Meta's business portfolio: its owned and client
// WhatsApp Business Accounts; a Vonage API key: the WABAs linked to it),
// keeps those the filters let through, and exports each as an account built
// from Defaults.
type Business struct {
	// BusinessID is the business portfolio's ID, for providers whose
	// listing names one (Meta, Graph passthrough BSPs).
	BusinessID string `yaml:"business_id"`
	// Name names the business in the exporter's own metrics and logs.
	Name string `yaml:"name"`

	// The connection the business is listed with, and which its WABAs
	// use unless Defaults say otherwise: as the account keys of the same
	// names. Listing the client WABAs of a business takes a system-user
	// token of that business.
	Provider        string `yaml:"provider"`
	APIURL          string `yaml:"api_url"`
	APIVersion      string `yaml:"api_version"`
	AccessToken     Secret `yaml:"access_token"`
	AccessTokenFile string `yaml:"access_token_file"`
	AppSecret       Secret `yaml:"app_secret"`
	AppSecretFile   string `yaml:"app_secret_file"`
	APIKey          string `yaml:"api_key"`
	APISecret       Secret `yaml:"api_secret"`
	APISecretFile   string `yaml:"api_secret_file"`

	// Ownership is which WABAs to list: owned (the business's own),
	// client (those it manages for its clients), or both, the default.
	Ownership []string `yaml:"ownership"`
	// IncludeWABAIDs, when given, keeps only these WABAs;
	// ExcludeWABAIDs leaves these out; NamePattern, a regular expression
	// (RE2), keeps the WABAs whose name it matches.
	IncludeWABAIDs []string `yaml:"include_waba_ids"`
	ExcludeWABAIDs []string `yaml:"exclude_waba_ids"`
	NamePattern    string   `yaml:"name_pattern"`
	// ListInterval is how often the WABAs are listed again.
	ListInterval time.Duration `yaml:"list_interval"`
	// Defaults holds account keys that every WABA of the business gets,
	// over the file's top-level defaults.
	Defaults Account `yaml:"defaults"`

	// template is what every discovered WABA's account starts from: the
	// top-level defaults, the business's connection, its defaults, with
	// the configuration's defaults applied and validated.
	template    Account
	namePattern *regexp.Regexp
	line        int
}

// Line is the line of the configuration file on which the business starts.
func (b *Business) Line() int { return b.line }

// Label names the business in metrics and logs: its ID, else its name,
// else its provider and API key.
func (b *Business) Label() string {
	switch {
	case b.BusinessID != "":
		return b.BusinessID
	case b.Name != "":
		return b.Name
	}
	return b.template.Provider + ":" + b.template.APIKey
}

// Ownerships are the kinds of WABA to list.
func (b *Business) Ownerships() []string { return b.Ownership }

// Connection is the account the business is listed with: its provider,
// API and credentials (the template's).
func (b *Business) Connection() Account { return b.template }

// Account returns the account of one of the business's WABAs.
func (b *Business) Account(wabaID string) Account {
	a := b.template
	a.WABAID = wabaID
	return a
}

// Wants reports whether the filters keep the WABA with this ID and name.
func (b *Business) Wants(wabaID, name string) bool {
	switch {
	case len(b.IncludeWABAIDs) > 0 && !slices.Contains(b.IncludeWABAIDs, wabaID):
		return false
	case slices.Contains(b.ExcludeWABAIDs, wabaID):
		return false
	case b.namePattern != nil && !b.namePattern.MatchString(name):
		return false
	}
	return true
}

// buildTemplate builds the account the business's WABAs start from:
// the top-level defaults, then the business's connection keys, then its own
// defaults.
func (b *Business) buildTemplate(defaults, node *yaml.Node) error {
	var a Account
	if defaults != nil {
		if err := defaults.Decode(&a); err != nil {
			return err
		}
	}
	b.connect(&a, true)
	if d := child(node, "defaults"); d != nil {
		if err := d.Decode(&a); err != nil {
			return err
		}
		a.overrideInherited(d)
	}
	a.line = node.Line
	b.template = a
	return nil
}

// connect puts the business's connection keys on a: over what a has where
// override, else only where a has none.
func (b *Business) connect(a *Account, override bool) {
	for _, k := range []struct {
		value *string
		set   string
	}{{&a.Provider, b.Provider}, {&a.APIURL, b.APIURL}, {&a.APIVersion, b.APIVersion}, {&a.APIKey, b.APIKey}} {
		if k.set != "" && (override || *k.value == "") {
			*k.value = k.set
		}
	}
	// A credential given one way replaces one inherited the other way.
	for _, c := range []struct {
		inline    *Secret
		file      *string
		setInline Secret
		setFile   string
	}{
		{&a.AccessToken, &a.AccessTokenFile, b.AccessToken, b.AccessTokenFile},
		{&a.AppSecret, &a.AppSecretFile, b.AppSecret, b.AppSecretFile},
		{&a.APISecret, &a.APISecretFile, b.APISecret, b.APISecretFile},
	} {
		if (c.setInline != "" || c.setFile != "") && (override || *c.inline == "" && *c.file == "") {
			*c.inline, *c.file = c.setInline, c.setFile
		}
	}
}

// finish builds the template of a business configured in code (the demo's,
// a test's): its Defaults, with its connection where they leave it out.
func (b *Business) finish() {
	b.template = b.Defaults
	b.connect(&b.template, false)
}

// connectionKeys are the account keys a business sets at its own level;
// the others belong in its defaults.
var connectionKeys = []string{"provider", "api_url", "api_version", "access_token", "access_token_file",
	"app_secret", "app_secret_file", "api_key", "api_secret", "api_secret_file"}

func (b *Business) applyDefaults() {
	if b.ListInterval == 0 {
		b.ListInterval = DefaultListInterval
	}
	b.template.applyDefaults()
	caps := b.template.Capabilities()
	if len(b.Ownership) == 0 && caps.DiscoveryByBusiness {
		b.Ownership = []string{provider.Owned, provider.Client}
	}
}

// validateBusinesses checks each business and the account its WABAs get.
func (v *validator) validateBusinesses(c *Config) {
	seen := map[string]int{}
	for i := range c.Businesses {
		b := &c.Businesses[i]
		at := func(rest ...any) []any { return append([]any{"businesses", i}, rest...) }
		// The account keys of the template: the connection's at the
		// business's level, the rest in its defaults.
		accountAt := func(rest ...any) []any {
			if len(rest) > 0 && slices.Contains(connectionKeys, rest[0].(string)) {
				return at(rest...)
			}
			return at(append([]any{"defaults"}, rest...)...)
		}
		t := &b.template
		name := t.Provider
		p, known := registry.Lookup(name)
		switch {
		case !known:
			// reported with the template below
		case !p.Discovery:
			v.fail(at("provider"), "provider %s cannot list WABAs; list its WABAs under accounts", name)
		case p.DiscoveryByBusiness && b.BusinessID == "":
			v.fail(at(), "business_id is required for provider %s: the business portfolio whose WABAs to list", name)
		case p.DiscoveryByBusiness && !digitsOnly.MatchString(b.BusinessID):
			v.fail(at("business_id"), "%q is not a business ID; want digits only", b.BusinessID)
		case !p.DiscoveryByBusiness && b.BusinessID != "":
			v.fail(at("business_id"), "not used by provider %s: its API key names the account whose WABAs are listed", name)
		case !p.DiscoveryByBusiness && len(b.Ownership) > 0:
			v.fail(at("ownership"), "not used by provider %s: it lists every WABA linked to the API key", name)
		}
		if b.BusinessID != "" {
			if first, dup := seen[b.BusinessID]; dup {
				v.fail(at("business_id"), "business %s is already configured at businesses[%d]", b.BusinessID, first)
			}
			seen[b.BusinessID] = i
		}
		v.enum(b.Ownership, at("ownership"), []string{provider.Owned, provider.Client})
		v.each(b.IncludeWABAIDs, at("include_waba_ids"), digitsOnly, "a WABA ID in digits only")
		v.each(b.ExcludeWABAIDs, at("exclude_waba_ids"), digitsOnly, "a WABA ID in digits only")
		if b.NamePattern != "" {
			re, err := regexp.Compile(b.NamePattern)
			if err != nil {
				v.fail(at("name_pattern"), "not a regular expression: %v", err)
			}
			b.namePattern = re
		}
		if b.ListInterval < 0 {
			v.fail(at("list_interval"), "must be positive")
		}
		// The template is validated as an account, with a WABA ID of
		// its own for the while.
		t.WABAID = "0"
		v.account(t, accountAt)
		t.WABAID = ""
	}
}
