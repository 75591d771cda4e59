package fakeapi

import (
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/bucket"
)

// span is one aggregation interval of an answer.
type span struct{ start, end time.Time }

// buckets lists the complete buckets of granularity g that start in
// [start, end), days and months beginning at midnight in loc. The fake
// knows a bucket only once it has ended: a real API fills buckets in late,
// and the exporter must cope with the newest ones missing. The Graph API's
// spellings (DAY, MONTH) are taken too.
func buckets(start, end, now time.Time, g string, loc *time.Location) []span {
	gran := granularity(g)
	var out []span
	for b := bucket.Start(start, gran, loc); b.Before(end); {
		next := bucket.Next(b, gran, loc)
		if next.After(now) {
			break
		}
		out = append(out, span{b, next})
		b = next
	}
	return out
}

func granularity(g string) provider.Granularity {
	switch g {
	case "DAY", "DAILY":
		return provider.Day
	case "MONTH", "MONTHLY":
		return provider.Month
	}
	return provider.HalfHour
}

// day is the UTC day that holds t.
func day(t time.Time) time.Time { return bucket.Start(t, provider.Day, time.UTC) }

// dataPoint is one entry of template_analytics' data_points. Keys a
// request did not ask for are left out, as the API leaves them out.
type dataPoint map[string]any

// mask keeps a breakdown value only when its dimension was asked for.
func mask(dims []string, dim, v string) string {
	if contains(dims, dim) {
		return v
	}
	return ""
}
