package provider

import "time"

// window is an hourly ceiling on requests that holds in every sliding hour,
// not only on average: it keeps the send time of each request of the last
// hour, and lets a request go only while fewer than max went out in the hour
// before it. So no hour, wherever it starts, holds more than max requests. (A
// token bucket refilling max an hour would allow up to its burst more in
// some hours.) It keeps at most max times, and only those of the last hour.
type window struct {
	max   int
	times []time.Time // oldest first
}

// newWindow returns a ceiling of max an hour, or nil (no ceiling) for 0.
func newWindow(max int) *window {
	if max <= 0 {
		return nil
	}
	return &window{max: max}
}

// next is the earliest time, from now on, at which a request may go.
func (w *window) next(now time.Time) time.Time {
	if w == nil {
		return now
	}
	w.forget(now)
	if len(w.times) < w.max {
		return now
	}
	return w.times[0].Add(time.Hour)
}

// add records a request sent at now, which next allowed.
func (w *window) add(now time.Time) {
	if w == nil {
		return
	}
	w.forget(now)
	w.times = append(w.times, now)
}

// forget drops the times an hour old or older: they no longer count.
func (w *window) forget(now time.Time) {
	i := 0
	for i < len(w.times) && !now.Before(w.times[i].Add(time.Hour)) {
		i++
	}
	w.times = w.times[i:]
}
