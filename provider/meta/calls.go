package meta

import (
	"context"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/internal/wire"
)

// Calls reads the call_analytics field, as the current Analytics page
// specifies it
// (https://developers.facebook.com/documentation/business-messaging/whatsapp/analytics/;
// reference:
// https://developers.facebook.com/docs/graph-api/reference/whats-app-business-account/call_analytics/):
// start, end and granularity (HALF_HOUR, DAILY, MONTHLY), the phone_numbers,
// country_codes and directions filters, and metric_types COUNT, COST and
// AVERAGE_DURATION. Its answer, like the analytics field's, has its
// data_points without a data wrapper. The page names dimensions too, but
// shows no answer broken down by them; the scheduler splits by filter
// instead, as for messaging.
func (c *Client) Calls(ctx context.Context, q provider.CallQuery) ([]provider.CallPoint, error) {
	raw, err := fetchPages[callWire](ctx, c, "call_analytics", c.nodeURL(q.WABAID, callFields(q)))
	return convert(raw, callWire.point), err
}

func callFields(q provider.CallQuery) string {
	metrics := []string{"COUNT", "AVERAGE_DURATION"}
	if q.Cost {
		metrics = append(metrics, "COST")
	}
	return newExpansion("call_analytics", q.Window, analyticsGranularity(q.Window.Granularity)).
		strings("phone_numbers", q.PhoneNumbers).
		strings("country_codes", q.CountryCodes).
		strings("directions", q.Directions).
		strings("metric_types", metrics).String()
}

// callWire is one data point of call_analytics; a value left out is unknown.
type callWire struct {
	Start           wire.Time `json:"start"`
	End             wire.Time `json:"end"`
	Count           *float64  `json:"count"`
	Cost            *float64  `json:"cost"`
	AverageDuration *float64  `json:"average_duration"`
}

func (w callWire) point() provider.CallPoint {
	return provider.CallPoint{Start: w.Start.Time, End: w.End.Time, Count: w.Count, Cost: w.Cost, AverageDuration: w.AverageDuration}
}
