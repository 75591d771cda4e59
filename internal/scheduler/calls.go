package scheduler

import (
	"context"
	"fmt"
	"slices"

	"github.com/whatsapp-exporter/whatsapp_exporter/config"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// callsQuerier is the calls family's query: like messaging, the call
// analytics answer totals, so a per-phone, per-country or per-direction
// figure takes one query filtered to it. The phone numbers to split by are
// looked up once per refresh.
func (p *poller) callsQuerier(ctx context.Context) (querier, error) {
	c := p.account.Calls
	phones := []string{""}
	if slices.Contains(c.SplitBy, "PHONE") {
		phones = c.PhoneNumbers
		if len(phones) == 0 {
			var err error
			if phones, err = p.source.PhoneNumbers(ctx, p.account.WABAID); err != nil {
				return nil, fmt.Errorf("list phone numbers: %w", err)
			}
		}
	}
	countries := []string{""}
	if slices.Contains(c.SplitBy, "COUNTRY") {
		countries = c.CountryCodes
	}
	directions := []string{""}
	if slices.Contains(c.SplitBy, "DIRECTION") {
		directions = c.Directions
		if len(directions) == 0 {
			directions = config.CallDirections
		}
	}
	return func(w provider.Window) ([]sample, error) {
		var out []sample
		for _, phone := range phones {
			for _, country := range countries {
				for _, direction := range directions {
					q := provider.CallQuery{
						WABAID: p.account.WABAID, Window: w,
						PhoneNumbers: c.PhoneNumbers, CountryCodes: c.CountryCodes, Directions: c.Directions,
					}
					if phone != "" {
						q.PhoneNumbers = []string{phone}
					}
					if country != "" {
						q.CountryCodes = []string{country}
					}
					if direction != "" {
						q.Directions = []string{direction}
					}
					points, err := withCostFallback(p, provider.Calls, config.WantCost(c.Cost), func(cost bool) ([]provider.CallPoint, error) {
						q.Cost = cost
						return p.source.Calls(ctx, q)
					})
					if err != nil {
						return nil, err
					}
					out = callSamples(out, points, analytics.Dimensions{PhoneNumber: clean(phone), Country: clean(country), Direction: clean(direction)})
				}
			}
		}
		return out, nil
	}, nil
}

func callSamples(out []sample, points []provider.CallPoint, d analytics.Dimensions) []sample {
	for _, p := range points {
		out = add(out, analytics.Calls, p.Start, p.End, p.Count, d)
		out = add(out, analytics.CallCost, p.Start, p.End, p.Cost, d)
		out = add(out, analytics.CallAverageDuration, p.Start, p.End, p.AverageDuration, d)
	}
	return out
}
