package scheduler

import (
	"strings"
	"time"

	"github.com/go-kit/log/level"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
)

// VersionWarning is how long before the configured API version stops being
// served the exporter warns about it, as the WhatsAppAPIVersionExpiring
// alert does: time enough to read the changelogs and move.
const VersionWarning = 90 * 24 * time.Hour

// apiVersion is the account's API version for its snapshot: the configured
// one, when it ends, and the one the API last answered in. nil for an API
// without versions.
func (p *poller) apiVersion() *analytics.APIVersion {
	if !p.caps.Versioned {
		return nil
	}
	v := &analytics.APIVersion{Configured: p.account.APIVersion, Served: p.tally.servedVersion()}
	if p.caps.VersionExpiry != nil {
		if expires, ok := p.caps.VersionExpiry(v.Configured); ok {
			v.Expires = expires
		}
	}
	return v
}

// checkVersion logs what is wrong with the account's API version when that
// changes, not on every refresh: the configured version ends within
// VersionWarning or has ended, or the API answered in another version (Meta
// answers a request for a version it no longer serves in the oldest one it
// still serves). An unknown end is said once, at the first refresh.
func (p *poller) checkVersion() {
	v := p.apiVersion()
	if v == nil {
		return
	}
	now := p.now()
	expiry := "known"
	switch {
	case v.Expires.IsZero():
		expiry = "unknown"
	case !now.Before(v.Expires):
		expiry = "ended"
	case v.Expires.Sub(now) < VersionWarning:
		expiry = "ending"
	}
	mismatch := v.Served != "" && !strings.EqualFold(v.Served, v.Configured)
	state := expiry
	if mismatch {
		state += " served " + v.Served
	}
	previous := p.versionState
	if state == previous {
		return
	}
	p.versionState = state
	keyvals := []any{"configured", v.Configured, "served", v.Served}
	if !v.Expires.IsZero() {
		keyvals = append(keyvals, "expires", v.Expires.Format(time.DateOnly))
	}
	switch {
	case mismatch:
		level.Warn(p.logger).Log(append([]any{"msg", "The API answered in another Graph API version than configured; set api_version to a version Meta serves"}, keyvals...)...)
	case expiry == "ended":
		level.Warn(p.logger).Log(append([]any{"msg", "The configured Graph API version is no longer served; set api_version to a newer one"}, keyvals...)...)
	case expiry == "ending":
		level.Warn(p.logger).Log(append([]any{"msg", "The configured Graph API version stops being served within 90 days; set api_version to a newer one"}, keyvals...)...)
	case expiry == "unknown" && previous == "":
		level.Info(p.logger).Log(append([]any{"msg", "When the configured Graph API version stops being served is not known; no warning will come before it"}, keyvals...)...)
	case warned(previous):
		level.Info(p.logger).Log(append([]any{"msg", "The Graph API version is fine again"}, keyvals...)...)
	}
}

// warned says whether checkVersion warned about a state.
func warned(state string) bool {
	return state == "ended" || state == "ending" || strings.Contains(state, " served ")
}
