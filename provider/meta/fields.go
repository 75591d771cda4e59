package meta

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// expansion builds a Graph field expansion such as
// conversation_analytics.start(1685602800).end(1688194800).granularity(MONTHLY).dimensions(["PHONE"])
// as Meta's Analytics page describes it (see the package comment). Optional
// filters are left out when empty, because an empty list means "all" to the
// API anyway and a shorter URL is easier to read in a proxy log.
type expansion struct {
	b strings.Builder
}

func newExpansion(field string, w provider.Window, granularity string) *expansion {
	e := &expansion{}
	e.b.WriteString(field)
	e.raw("start", strconv.FormatInt(w.Start.Unix(), 10))
	e.raw("end", strconv.FormatInt(w.End.Unix(), 10))
	e.raw("granularity", granularity)
	return e
}

func (e *expansion) raw(name, value string) *expansion {
	e.b.WriteByte('.')
	e.b.WriteString(name)
	e.b.WriteByte('(')
	e.b.WriteString(value)
	e.b.WriteByte(')')
	return e
}

// strings adds a list of strings, JSON-quoted as the documentation's examples
// quote them: .dimensions(["CONVERSATION_CATEGORY","PHONE"]).
func (e *expansion) strings(name string, values []string) *expansion {
	if len(values) == 0 {
		return e
	}
	encoded, _ := json.Marshal(values) // a []string always marshals
	return e.raw(name, string(encoded))
}

func (e *expansion) ints(name string, values []int) *expansion {
	if len(values) == 0 {
		return e
	}
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = strconv.Itoa(v)
	}
	return e.raw(name, "["+strings.Join(parts, ",")+"]")
}

func (e *expansion) String() string { return e.b.String() }

// The analytics fields spell their granularities differently (Meta's
// Analytics page): analytics takes DAY and MONTH, conversation_analytics and
// pricing_analytics take DAILY and MONTHLY. The v21 page lists DAY/MONTH for
// pricing_analytics too; Meta's OpenAPI description
// (https://github.com/facebook/openapi/blob/main/business-messaging-api_v23.0.yaml)
// and the other analytics field agree on DAILY/MONTHLY, which is what is
// sent.
func messagingGranularity(g provider.Granularity) string {
	switch g {
	case provider.Day:
		return "DAY"
	case provider.Month:
		return "MONTH"
	}
	return string(provider.HalfHour)
}

func analyticsGranularity(g provider.Granularity) string { return string(g) }

// unix formats a time for the template_analytics edge's query string.
func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
