package provider

import (
	"context"
	"time"
)

// Observer receives what a provider sees on the wire, so that the exporter can
// report its own health without the provider knowing about Prometheus. The
// scheduler binds one Observer to each WABA and family and passes it down in
// the request context, the way net/http/httptrace does.
type Observer interface {
	// ObserveResponse is called once per HTTP request with its status code,
	// or with "none" when no response arrived.
	ObserveResponse(code string)
	// ObserveError is called once per failed request with the failure's
	// error code (see APIError.Code).
	ObserveError(code string)
	// ObserveUsage is called for each rate-limit usage report the API sends.
	ObserveUsage(u Usage)
}

// NoResponse is the code ObserveResponse receives when a request got no
// HTTP response at all.
const NoResponse = "none"

// Usage is one rate-limit usage report, such as one entry of Graph's
// X-Business-Use-Case-Usage header.
type Usage struct {
	// Type names the budget: a Graph business use case type such as
	// "whatsapp_business_management", or "app" for X-App-Usage.
	Type string
	// Object is the ID of the object whose budget it is (a WABA's, a
	// business's), where the API says; empty for the app's own budget.
	Object string
	// CallCount, TotalCPUTime and TotalTime are the share of the budget used,
	// as a percentage (100 = the limit); negative when not reported.
	CallCount, TotalCPUTime, TotalTime float64
	// RegainAccess is how long until requests are allowed again, when the API
	// says so; zero otherwise.
	RegainAccess time.Duration
}

type observerKey struct{}

// WithObserver returns a context whose requests report to o.
func WithObserver(ctx context.Context, o Observer) context.Context {
	return context.WithValue(ctx, observerKey{}, o)
}

// ObserverFrom returns the context's Observer, or one that discards everything.
func ObserverFrom(ctx context.Context) Observer {
	if o, ok := ctx.Value(observerKey{}).(Observer); ok && o != nil {
		return o
	}
	return discard{}
}

type discard struct{}

func (discard) ObserveResponse(string) {}
func (discard) ObserveError(string)    {}
func (discard) ObserveUsage(Usage)     {}
