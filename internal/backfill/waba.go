package backfill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/scheduler"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider/bucket"
)

// How a WABA's requests keep to its budget, as the live exporter does
// (scheduler's poller.go): Graph's X-Business-Use-Case-Usage says what
// share of the WABA's hourly budget is used
// (https://developers.facebook.com/docs/graph-api/overview/rate-limiting/).
// Past half of it, each request waits used/left times the spacing at which
// Meta's smallest budget, 200 calls an hour, would last the hour; at
// pauseAbove the WABA pauses; when the API says how long until access
// returns (estimated_time_to_regain_access, or an 80007/80008 rate limit's
// wait), the WABA waits that long. The live exporter, which shares the
// budget, keeps its share.
const (
	slowAbove      = 50.0
	pauseAbove     = 90.0
	budgetSpacing  = time.Hour / 200
	pauseAtBudget  = 5 * time.Minute
	rateLimitWait  = time.Minute
	transientTries = 3
	rateLimitTries = 20
	transientWait  = 5 * time.Second
)

// queued is one chunk a WABA still has to fetch, and how often it failed
// transiently.
type queued struct {
	req   scheduler.HistoryRequest
	tries int
}

// waba fetches what one WABA's history still lacks, journaling each answer,
// and renders its part. It returns the requests it sent, and an error only
// for what stops the whole run (the journal cannot be written).
func (r *run) waba(ctx context.Context, t scheduler.Target) (float64, error) {
	id := t.Account.WABAID
	logger := log.With(r.logger, "waba_id", id)
	if rec, ok := r.loaded.parts[id]; ok {
		if _, err := os.Stat(filepath.Join(stateDir(r.opts.Output), rec.Part)); err == nil {
			r.mu.Lock()
			r.parts[id] = rec
			r.mu.Unlock()
			r.progress.wabaDone()
			return 0, nil
		}
	}
	h := scheduler.NewHistory(t, r.logger, r.opts.Now)
	for tries := 0; ; tries++ {
		err := h.Prepare(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return h.Requests(), nil
		}
		wait, again := retry(err, tries)
		if !again {
			r.fail(Failure{WABAID: id, Err: err})
			level.Warn(logger).Log("msg", "Cannot backfill the WABA", "err", err)
			r.progress.wabaDone()
			return h.Requests(), nil
		}
		if r.opts.Sleep(ctx, wait) != nil {
			return h.Requests(), nil
		}
	}
	st := newStore()
	for _, rec := range r.loaded.chunks[id] {
		buckets, err := rec.buckets()
		if err != nil {
			return h.Requests(), err
		}
		st.add(provider.Family(rec.Family), provider.Granularity(rec.Gran), time.Unix(rec.From, 0), time.Unix(rec.To, 0), buckets)
	}
	var plans []*familyPlan
	var queues [][]*queued
	for _, f := range h.Families() {
		fp := planFamily(h, f, r.window, r.gaugesAt, !r.opts.NoGauges, !r.opts.NoCounters, r.header.Now)
		plans = append(plans, fp)
		r.sayClamp(t.Account.Provider, fp)
		var q []*queued
		for _, n := range fp.needs {
			for _, m := range st.family(f).missing(n.spec.Granularity, n.interval) {
				for _, c := range bucket.Chunks(time.Unix(m.from, 0), time.Unix(m.to, 0), n.spec, h.ChunkLength(f, n.spec)) {
					q = append(q, &queued{req: scheduler.HistoryRequest{Family: f, Chunk: c, Spec: n.spec}})
				}
			}
		}
		queues = append(queues, q)
		r.progress.plan(len(q))
	}
	complete, err := r.fetch(ctx, logger, h, st, queues)
	if err != nil || ctx.Err() != nil {
		return h.Requests(), err
	}
	return h.Requests(), r.render(logger, t, h, plans, st, complete)
}

// fetch asks for the queued chunks, the k-th chunk of every family in one
// round (and one request where the API takes several fields at once),
// until every queue is empty or has failed. It reports whether nothing
// failed.
func (r *run) fetch(ctx context.Context, logger log.Logger, h *scheduler.History, st *store, queues [][]*queued) (bool, error) {
	id := h.WABAID()
	complete := true
	wait := time.Duration(0)
	rateLimited := 0
	for {
		var reqs []scheduler.HistoryRequest
		var from []int
		for i, q := range queues {
			if len(q) > 0 {
				reqs = append(reqs, q[0].req)
				from = append(from, i)
			}
		}
		if len(reqs) == 0 {
			return complete, nil
		}
		if ctx.Err() != nil {
			return false, nil
		}
		if wait > 0 {
			if r.opts.Sleep(ctx, wait) != nil {
				return false, nil
			}
		}
		wait = 0
		sent := h.Requests()
		results := h.Fetch(ctx, reqs)
		r.progress.sent(h.Requests() - sent)
		limited := false
		for k, res := range results {
			i := from[k]
			head := queues[i][0]
			req := head.req
			if res.Err == nil {
				rec := chunkRecord(id, req.Family, req.Spec.Granularity, req.Chunk.From, req.Chunk.To, res.Buckets)
				if err := r.journal.add(rec); err != nil {
					return false, fmt.Errorf("write the state: %w", err)
				}
				st.add(req.Family, req.Spec.Granularity, req.Chunk.From, req.Chunk.To, res.Buckets)
				queues[i] = queues[i][1:]
				r.progress.chunkDone(len(res.Buckets))
				continue
			}
			if ctx.Err() != nil {
				// Interrupted: the answers of this round that came are
				// kept; the rest are asked for by the next run.
				complete = false
				continue
			}
			var apiErr *provider.APIError
			errors.As(res.Err, &apiErr)
			var unavailable *provider.Unavailable
			switch {
			case errors.As(res.Err, &unavailable):
				// The API does not serve the family for this WABA (template
				// insights never enabled, a region without them): the live
				// exporter shows none of it either.
				r.logOnce(id+"/"+string(req.Family), level.Info(logger), "msg", "The API does not serve this family for this WABA; it has no history",
					"family", req.Family, "reason", unavailable.Reason)
				r.progress.giveUp(len(queues[i]))
				queues[i] = nil
			case errors.Is(res.Err, scheduler.ErrNotAsked) || apiErr != nil && apiErr.RateLimited:
				// The API said to slow down: the chunk waits, as does
				// everything of the WABA.
				limited = true
				if apiErr != nil && !errors.Is(res.Err, scheduler.ErrNotAsked) {
					wait = max(wait, apiErr.RetryAfter)
				}
			case apiErr != nil && (apiErr.Code == provider.CodeTooManyPages || apiErr.Code == provider.CodeResponseTooLarge):
				// An answer too long for one request: ask for each half.
				if a, b, ok := bucket.Halve(req.Chunk, req.Spec); ok {
					queues[i] = append([]*queued{{req: with(req, a)}, {req: with(req, b)}}, queues[i][1:]...)
					r.progress.plan(1)
					continue
				}
				complete = false
				r.giveUp(logger, id, queues, i, res.Err)
			case apiErr != nil && apiErr.Transient && head.tries+1 < transientTries:
				head.tries++
				wait = max(wait, transientWait<<(head.tries-1))
			default:
				complete = false
				r.giveUp(logger, id, queues, i, res.Err)
			}
		}
		if r.opts.afterRound != nil {
			r.opts.afterRound(id)
		}
		pressure, regain := h.Usage()
		switch {
		case limited:
			rateLimited++
			wait = max(wait, regain, min(rateLimitWait<<min(rateLimited-1, 6), time.Hour))
		case regain > 0:
			rateLimited = 0
			wait = max(wait, regain)
		case pressure >= pauseAbove:
			rateLimited = 0
			wait = max(wait, pauseAtBudget)
		case pressure >= slowAbove:
			rateLimited = 0
			used := min(pressure, 99)
			wait = max(wait, time.Duration(used/(100-used)*float64(budgetSpacing)))
		default:
			rateLimited = 0
		}
		wait = min(wait, provider.MaxUpstreamWait)
		if wait >= time.Minute {
			level.Info(logger).Log("msg", "The API says this WABA nears or reached its rate limit; pausing its requests", "usage_percent", pressure, "for", wait.Round(time.Second))
		}
	}
}

// retry says whether a request that failed with err is worth sending again
// (the API said to wait, or the failure may pass), and after how long.
func retry(err error, tries int) (time.Duration, bool) {
	var apiErr *provider.APIError
	switch {
	case !errors.As(err, &apiErr):
		return 0, false
	case apiErr.RateLimited:
		return min(max(apiErr.RetryAfter, rateLimitWait<<min(tries, 6)), provider.MaxUpstreamWait), tries < rateLimitTries
	case apiErr.Transient:
		return transientWait << tries, tries+1 < transientTries
	}
	return 0, false
}

func with(req scheduler.HistoryRequest, c bucket.Chunk) scheduler.HistoryRequest {
	req.Chunk = c
	return req
}

// giveUp fails the rest of a family's queue: whatever failed it would fail
// the next chunks the same way.
func (r *run) giveUp(logger log.Logger, id string, queues [][]*queued, i int, err error) {
	q := queues[i]
	f := q[0].req.Family
	level.Warn(logger).Log("msg", "Fetching the family's history failed; leaving out the samples that need it", "family", f,
		"from", q[0].req.Chunk.From.UTC().Format(time.RFC3339), "err", err)
	r.fail(Failure{WABAID: id, Family: f, From: q[0].req.Chunk.From, To: q[len(q)-1].req.Chunk.To, Err: err})
	r.progress.giveUp(len(q))
	queues[i] = nil
}

// render writes the WABA's part, and journals it as done when nothing of it
// failed.
func (r *run) render(logger log.Logger, t scheduler.Target, h *scheduler.History, plans []*familyPlan, st *store, complete bool) error {
	r.renders <- struct{}{}
	defer func() { <-r.renders }()
	id := t.Account.WABAID
	rd := newRenderer(r.sch, accountLabels{wabaID: id, name: h.Name(), provider: h.Provider(), currency: h.Currency()}, r.window, r.extra, st.keys)
	rd.account()
	for _, fp := range plans {
		rd.family(fp, st.families[fp.f])
	}
	name := fmt.Sprintf("parts/%s.om", id)
	var sections []int64
	err := replaceFile(filepath.Join(stateDir(r.opts.Output), name), func(w io.Writer) error {
		var err error
		sections, err = rd.write(w)
		return err
	})
	if err != nil {
		return fmt.Errorf("write the state: %w", err)
	}
	rec := record{WABA: id, Part: name, Sections: sections}
	if complete {
		if err := r.journal.add(rec); err != nil {
			return fmt.Errorf("write the state: %w", err)
		}
	}
	r.mu.Lock()
	r.parts[id] = rec
	r.mu.Unlock()
	r.progress.wabaDone()
	level.Debug(logger).Log("msg", "WABA backfilled", "complete", complete)
	return nil
}

// sayClamp says, once per provider and family, where the API's history
// cut the window.
func (r *run) sayClamp(providerName string, fp *familyPlan) {
	if !fp.clamped {
		return
	}
	keyvals := []any{"msg", "The API keeps less history than the window: this family's samples start later", "provider", providerName, "family", fp.f}
	if !fp.gauges.empty() {
		keyvals = append(keyvals, "gauges_from", time.Unix(fp.gauges.first, 0).UTC().Format(time.RFC3339))
	}
	if !fp.counters.empty() {
		keyvals = append(keyvals, "counters_from", time.Unix(fp.counters.first, 0).UTC().Format(time.RFC3339))
	}
	r.logOnce(providerName+"/"+string(fp.f), level.Warn(r.logger), keyvals...)
}
