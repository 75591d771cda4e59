package scheduler

import (
	"errors"
	"time"

	"github.com/go-kit/log/level"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// withCostFallback asks for cost until the API says it has none for this
// account (a WABA billed through a partner: Meta's "Cost not available"),
// then says so once and asks for the counts alone, asking for cost again
// once a day: billing can change, and missing cost must not cost the user
// the counts meanwhile. Cost is asked for only where the provider can report
// it at all; the config turned it off elsewhere.
func withCostFallback[P any](p *poller, f provider.Family, wantCost bool, query func(cost bool) ([]P, error)) ([]P, error) {
	refused, known := p.noCost[f]
	cost := wantCost && p.caps.Cost && (!known || p.now().Sub(refused) >= costReprobe)
	points, err := query(cost)
	if cost && errors.Is(err, provider.ErrCostUnavailable) {
		p.noCost[f] = p.now()
		logger := level.Info(p.logger)
		if known {
			logger = level.Debug(p.logger) // asked again, a day on: still none
		}
		logger.Log("msg", "The API reports no cost for this account; exporting counts without cost, asking again in a day",
			"family", f, "reason", err)
		return query(false)
	}
	if cost && err == nil && known {
		delete(p.noCost, f)
		level.Info(p.logger).Log("msg", "The API reports cost for this account again", "family", f)
	}
	return points, err
}

// costReprobe is how long the exporter goes without asking for cost after
// the API refused it.
const costReprobe = 24 * time.Hour
