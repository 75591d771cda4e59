package main

import (
	"fmt"
	"net/http"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/collector"
	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/meta"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/vonage"
)

// newTargets builds the API client of every configured account. All clients
// share one HTTP transport and one throttle, so the process as a whole keeps
// to the configured request rate.
func newTargets(cfg *config.Config) ([]collector.Target, error) {
	g := cfg.Global
	throttle := provider.NewThrottle(g.RequestsPerSecond, g.Burst, g.MaxConcurrentRequests)
	client := &http.Client{
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: g.MaxConcurrentRequests,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
		},
		// A redirect could carry the request, and with it the credential,
		// somewhere else: treat it as the error it is for these APIs.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	targets := make([]collector.Target, 0, len(cfg.Accounts))
	for _, a := range cfg.Accounts {
		source, err := newSource(a, client, throttle)
		if err != nil {
			return nil, fmt.Errorf("account %s (config line %d): %w", a.WABAID, a.Line(), err)
		}
		targets = append(targets, collector.Target{Config: a, Source: source})
	}
	return targets, nil
}

// newSource builds the client of one account's provider. Nothing above this
// function knows which provider feeds an account: the collector sees a
// provider.Source, and the config has already turned off the families and the
// cost a provider cannot serve.
func newSource(a config.Account, client *http.Client, throttle *provider.Throttle) (provider.Source, error) {
	switch a.Provider {
	case config.ProviderMeta, config.ProviderGraphPassthrough:
		// A passthrough BSP serves the Graph paths under its own root
		// (api_url, e.g. https://api.splashifypro.com/api) with its API key
		// as the bearer token, and never returns cost.
		return meta.New(meta.Options{
			BaseURL:     a.APIURL,
			APIVersion:  a.APIVersion,
			AccessToken: string(a.AccessToken),
			AppSecret:   string(a.AppSecret),
			NoCost:      !config.ReportsCost(a.Provider),
			HTTP:        client,
			Throttle:    throttle,
			Timeout:     a.Timeout,
		})
	case config.ProviderVonage:
		return vonage.New(vonage.Options{
			BaseURL:   a.APIURL,
			APIKey:    a.APIKey,
			APISecret: string(a.APISecret),
			HTTP:      client,
			Throttle:  throttle,
			Timeout:   a.Timeout,
		})
	}
	return nil, fmt.Errorf("unknown provider %q", a.Provider)
}
