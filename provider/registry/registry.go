// Package registry lists the providers the exporter can read from, each with
// its capabilities and a way to build its client. The config names a
// provider; everything else asks this package what that provider can do.
package registry

import (
	"net/http"
	"slices"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/meta"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/vonage"
)

// Connection is what a client needs to reach one account's API. Which
// credentials a provider reads follows from its Capabilities.Auth.
type Connection struct {
	BaseURL    string
	APIVersion string
	// Token is the bearer credential: a Graph access token, or a BSP's
	// API key. AppSecret, when set, signs Graph requests.
	Token     string
	AppSecret string
	// APIKey and APISecret are a key-and-secret pair (Vonage).
	APIKey, APISecret string

	HTTP     *http.Client
	Throttle *provider.AccountThrottle
	// Timeout bounds one request.
	Timeout time.Duration
}

// Provider is one source the config can name.
type Provider struct {
	provider.Capabilities
	// New builds a client for one account.
	New func(Connection) (provider.Source, error)
}

var providers = []Provider{
	{Capabilities: meta.Capabilities, New: newGraph},
	{Capabilities: meta.PassthroughCapabilities, New: newGraph},
	{Capabilities: vonage.Capabilities, New: newVonage},
}

// Lookup returns the provider the config calls name.
func Lookup(name string) (Provider, bool) {
	i := slices.IndexFunc(providers, func(p Provider) bool { return p.Name == name })
	if i < 0 {
		return Provider{}, false
	}
	return providers[i], true
}

// Names lists the providers' names, the default (meta) first.
func Names() []string {
	names := make([]string, len(providers))
	for i, p := range providers {
		names[i] = p.Name
	}
	return names
}

// newGraph serves Meta and Graph passthrough BSPs alike: a BSP serves the
// Graph paths under its own root with its API key as the bearer token.
func newGraph(c Connection) (provider.Source, error) {
	return meta.New(meta.Options{
		BaseURL: c.BaseURL, APIVersion: c.APIVersion,
		AccessToken: c.Token, AppSecret: c.AppSecret,
		HTTP: c.HTTP, Throttle: c.Throttle, Timeout: c.Timeout,
	})
}

func newVonage(c Connection) (provider.Source, error) {
	return vonage.New(vonage.Options{
		BaseURL: c.BaseURL, APIKey: c.APIKey, APISecret: c.APISecret,
		HTTP: c.HTTP, Throttle: c.Throttle, Timeout: c.Timeout,
	})
}
