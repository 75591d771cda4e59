// Package config reads and validates the exporter's YAML configuration.
//
// Decoding is strict: an unknown key is an error. Every error names the file,
// the line and the field, so that a typo in account 812 of a BSP's config is
// found without bisecting the file.
package config

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/alecthomas/units"
	"gopkg.in/yaml.v3"
)

// Config is the whole configuration file.
type Config struct {
	Global Global `yaml:"global"`
	// Defaults holds account keys that apply to every account that does not
	// set them itself.
	Defaults Account   `yaml:"defaults"`
	Accounts []Account `yaml:"accounts"`
	// Businesses are listed for their WABAs, each exported as an account;
	// an account listed under accounts wins over a discovered one with
	// the same WABA ID.
	Businesses []Business `yaml:"businesses"`
	// Webhooks, when present, turns on the endpoint for Meta's message
	// status webhooks (webhooks.go).
	Webhooks *Webhooks `yaml:"webhooks"`
}

// Global holds the process-wide limits. They protect the API budget that all
// accounts of one app share.
type Global struct {
	// RequestsPerSecond caps API requests of the whole process, pages and
	// discovery included.
	RequestsPerSecond float64 `yaml:"requests_per_second"`
	// Burst is how many requests may go out at once after a quiet spell.
	Burst int `yaml:"burst"`
	// MaxConcurrentRequests caps requests in flight to each API host, so
	// that a hung API holds a bounded number of connections.
	MaxConcurrentRequests int `yaml:"max_concurrent_requests"`
	// MaxRequestsPerHour caps the requests of the whole process in any
	// sliding hour; 0 (absent) sets no ceiling.
	MaxRequestsPerHour int `yaml:"max_requests_per_hour"`
	// MaxResponseBytesInFlight bounds the response bytes held at once by
	// all requests together, so that memory stays bounded whatever the
	// rate and the number of accounts.
	MaxResponseBytesInFlight Bytes `yaml:"max_response_bytes_in_flight"`
}

// Bytes is a size in bytes, written as a number of bytes or with a unit
// (128MiB, 1GiB; KB and KiB alike are 1024 bytes), as Prometheus writes
// sizes.
type Bytes int64

// UnmarshalYAML reads a size. Its error has yaml.v3's form, so that it is
// reported at its line and field like any other type mismatch.
func (b *Bytes) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		if v, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
			*b = Bytes(v)
			return nil
		}
		if v, err := units.ParseBase2Bytes(n.Value); err == nil {
			*b = Bytes(v)
			return nil
		}
	}
	value := ""
	if n.Kind == yaml.ScalarNode {
		value = " `" + n.Value + "`"
	}
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: cannot unmarshal %s%s into a size; want bytes or a size such as 128MiB", n.Line, n.ShortTag(), value)}}
}

func (b Bytes) String() string { return units.Base2Bytes(b).String() }

// Account is one WhatsApp Business Account to export.
type Account struct {
	WABAID string `yaml:"waba_id"`
	// Name is a human-readable name exported on whatsapp_exporter_account_info.
	Name string `yaml:"name"`
	// Provider names the API the analytics come from: one of
	// registry.Names(), meta by default.
	Provider string `yaml:"provider"`
	// APIURL is the API root, with the path prefix of a BSP that has one.
	APIURL     string `yaml:"api_url"`
	APIVersion string `yaml:"api_version"`

	// AccessToken authenticates to the Graph API (meta) or to a BSP's
	// Graph passthrough (its API key). Give it inline or in a file.
	AccessToken     Secret `yaml:"access_token"`
	AccessTokenFile string `yaml:"access_token_file"`
	// AppSecret, when set, adds appsecret_proof to every Graph request.
	AppSecret     Secret `yaml:"app_secret"`
	AppSecretFile string `yaml:"app_secret_file"`

	// APIKey and APISecret authenticate to Vonage's Channel Manager, as
	// HTTP Basic auth the way every Vonage API key/secret pair is used. The
	// key names the Vonage account and is not secret; the secret is given
	// inline or in a file.
	APIKey        string `yaml:"api_key"`
	APISecret     Secret `yaml:"api_secret"`
	APISecretFile string `yaml:"api_secret_file"`

	// Interval is the time between two refreshes of this account.
	Interval time.Duration `yaml:"interval"`
	// Timeout bounds one HTTP request.
	Timeout time.Duration `yaml:"timeout"`
	// MaxRequestsPerHour caps this account's requests in any sliding
	// hour; 0 (absent) sets no ceiling.
	MaxRequestsPerHour int `yaml:"max_requests_per_hour"`
	// MaxDataAge is how old a family's last successful refresh may be
	// before its values are dropped from /metrics rather than served as
	// current; four intervals, and at least an hour, by default.
	MaxDataAge time.Duration `yaml:"max_data_age"`
	// MaxSeries caps the analytics series (gauges and counters) the
	// account exports; the rest are dropped, with a metric and a log line.
	MaxSeries int `yaml:"max_series"`

	Messaging     Messaging     `yaml:"messaging"`
	Conversations Conversations `yaml:"conversations"`
	Pricing       Pricing       `yaml:"pricing"`
	Templates     Templates     `yaml:"templates"`
	Calls         Calls         `yaml:"calls"`
	// Health reads the status and quality of the WABA's phone numbers
	// and templates.
	Health Health `yaml:"health"`

	// line is where the account starts in the file, for errors found
	// after loading.
	line int
	// urlVersion is the Graph API version that api_url ended in, when it
	// was given as a full prefix (https://bsp.example.com/api/v25.0).
	urlVersion string
}

// Line is the line of the configuration file on which the account starts.
func (a *Account) Line() int { return a.line }

// FamilySettings holds the keys every analytics family's block has.
type FamilySettings struct {
	Enabled *bool `yaml:"enabled"`
	// Granularity is the bucket size asked for: HALF_HOUR, DAILY (or DAY)
	// or MONTHLY (or MONTH).
	Granularity string `yaml:"granularity"`
	// Lookback is how far before the newest eligible bucket the exporter
	// looks for data, and for label sets to report as 0.
	Lookback time.Duration `yaml:"lookback"`
	// Delay holds back buckets that ended less than Delay ago, because the
	// API fills them in late.
	Delay *time.Duration `yaml:"delay"`
}

// IsEnabled reports whether the family is fetched at all.
func (f *FamilySettings) IsEnabled() bool { return f.Enabled == nil || *f.Enabled }

// DelayOrZero is the configured delay.
func (f *FamilySettings) DelayOrZero() time.Duration {
	if f.Delay == nil {
		return 0
	}
	return *f.Delay
}

// Messaging configures messages sent and delivered (the Graph analytics field).
type Messaging struct {
	FamilySettings `yaml:",inline"`
	PhoneNumbers   []string `yaml:"phone_numbers"`
	CountryCodes   []string `yaml:"country_codes"`
	ProductTypes   []int    `yaml:"product_types"`
	// SplitBy makes one request per phone number (PHONE) and/or per country
	// code (COUNTRY), because the messaging API has no breakdowns.
	SplitBy []string `yaml:"split_by"`
}

// Conversations configures conversation counts and cost.
type Conversations struct {
	FamilySettings         `yaml:",inline"`
	PhoneNumbers           []string `yaml:"phone_numbers"`
	CountryCodes           []string `yaml:"country_codes"`
	ConversationCategories []string `yaml:"conversation_categories"`
	ConversationTypes      []string `yaml:"conversation_types"`
	ConversationDirections []string `yaml:"conversation_directions"`
	Dimensions             []string `yaml:"dimensions"`
	Cost                   *bool    `yaml:"cost"`
}

// Pricing configures per-message pricing volume and cost.
type Pricing struct {
	FamilySettings    `yaml:",inline"`
	PhoneNumbers      []string `yaml:"phone_numbers"`
	CountryCodes      []string `yaml:"country_codes"`
	PricingCategories []string `yaml:"pricing_categories"`
	PricingTypes      []string `yaml:"pricing_types"`
	Dimensions        []string `yaml:"dimensions"`
	Cost              *bool    `yaml:"cost"`
}

// Templates configures template analytics.
type Templates struct {
	FamilySettings `yaml:",inline"`
	// TemplateIDs to report; empty means every template of the WABA,
	// discovered from its message_templates edge on each refresh.
	TemplateIDs []string `yaml:"template_ids"`
	Cost        *bool    `yaml:"cost"`
}

// Calls configures call analytics (WhatsApp Business Calling; the Graph
// call_analytics field).
type Calls struct {
	FamilySettings `yaml:",inline"`
	PhoneNumbers   []string `yaml:"phone_numbers"`
	CountryCodes   []string `yaml:"country_codes"`
	// Directions filters by who placed the calls: USER_INITIATED,
	// BUSINESS_INITIATED.
	Directions []string `yaml:"directions"`
	// SplitBy makes one request per phone number (PHONE), country code
	// (COUNTRY) and/or direction (DIRECTION), because the call analytics
	// document no breakdown in their answers.
	SplitBy []string `yaml:"split_by"`
	Cost    *bool    `yaml:"cost"`
}

// CallDirections are the directions a DIRECTION split asks for when
// calls.directions lists none (Meta's Analytics page).
var CallDirections = []string{"USER_INITIATED", "BUSINESS_INITIATED"}

// WantCost reports whether cost is asked for (the default).
func WantCost(cost *bool) bool { return cost == nil || *cost }

// Secret is a credential. It prints as <secret> so that a config dumped to a
// log or an error message cannot leak it.
type Secret string

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "<secret>"
}

// GoString keeps %#v from printing the credential.
func (s Secret) GoString() string { return `config.Secret("` + s.String() + `")` }

// MarshalYAML keeps a re-encoded config from carrying the credential.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// MarshalJSON does the same for JSON, the other way a config gets dumped.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// Equivalent reports whether two accounts ask for the same: the same fields,
// wherever in the file they stand.
func (a Account) Equivalent(b Account) bool {
	a.line, b.line = 0, 0
	return reflect.DeepEqual(a, b)
}

// WithoutCredentials returns a copy of the account without its credentials,
// for the parts of the exporter that plan and report but never send a
// request themselves.
func (a Account) WithoutCredentials() Account {
	a.AccessToken, a.AppSecret, a.APISecret = "", "", ""
	return a
}
