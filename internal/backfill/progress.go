package backfill

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows how far a run is: WABAs, families' chunks of buckets,
// buckets and calls, and an estimate of the time left. On a terminal it is
// a progress bar; elsewhere (a log file, a pod's output) a log line every
// so often, which a bar's carriage returns would garble.
type progress struct {
	mu                 sync.Mutex
	wabas, wabasDone   int
	chunks, chunksDone int
	buckets            int
	calls              float64
	started            time.Time
	bar                *progressbar.ProgressBar
	w                  io.Writer
	logger             log.Logger
	stopped            chan struct{}
	done               sync.WaitGroup
}

// isTerminal says whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newProgress(w io.Writer, logger log.Logger, every time.Duration, wabas int) *progress {
	p := &progress{wabas: wabas, started: time.Now(), logger: logger, w: w, stopped: make(chan struct{})}
	if w != nil && isTerminal(w) {
		p.bar = progressbar.NewOptions(0,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("backfill"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	p.done.Add(1)
	go p.report(every)
	return p
}

// report logs the progress every so often where there is no bar.
func (p *progress) report(every time.Duration) {
	defer p.done.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stopped:
			return
		case <-t.C:
			if p.bar == nil {
				p.log()
			}
		}
	}
}

func (p *progress) log() {
	p.mu.Lock()
	defer p.mu.Unlock()
	level.Info(p.logger).Log("msg", "Backfill progress", "wabas_done", p.wabasDone, "wabas", p.wabas,
		"chunks_done", p.chunksDone, "chunks", p.chunks, "buckets", p.buckets, "calls", p.calls, "eta", p.eta())
}

// eta estimates the time left from the pace so far. Called with p.mu held.
func (p *progress) eta() string {
	if p.chunksDone == 0 || p.chunks == 0 {
		return "unknown"
	}
	elapsed := time.Since(p.started)
	left := time.Duration(float64(elapsed) / float64(p.chunksDone) * float64(p.chunks-p.chunksDone))
	return left.Round(time.Second).String()
}

func (p *progress) describe() {
	if p.bar == nil {
		return
	}
	p.bar.Describe(fmt.Sprintf("WABAs %d/%d, buckets %d, calls %.0f", p.wabasDone, p.wabas, p.buckets, p.calls))
}

// plan adds chunks to fetch.
func (p *progress) plan(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.chunks += n
	if p.bar != nil {
		p.bar.ChangeMax(p.chunks)
	}
}

// chunkDone counts a chunk fetched, with its buckets.
func (p *progress) chunkDone(buckets int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.chunksDone++
	p.buckets += buckets
	if p.bar != nil {
		p.describe()
		p.bar.Add(1)
	}
}

// sent counts API requests.
func (p *progress) sent(n float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls += n
}

// giveUp counts chunks that will not be fetched.
func (p *progress) giveUp(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.chunks -= n
	if p.bar != nil {
		p.bar.ChangeMax(p.chunks)
	}
}

func (p *progress) wabaDone() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.wabasDone++
	p.describe()
}

// stop ends the display, and logs where the run got to.
func (p *progress) stop() {
	close(p.stopped)
	p.done.Wait()
	if p.bar != nil {
		p.bar.Finish()
		fmt.Fprintln(p.w)
	}
	p.log()
}
