package collector

import (
	"bufio"
	"bytes"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// The series of an account are written out once, when its snapshot is
// published, as the sample lines /metrics serves: a scrape copies them
// rather than encoding each series again, as kube-state-metrics does with
// each object's metrics. Each line is written exactly as client_golang's
// expfmt would write the same const metric, label values escaped alike and
// labels in the same (name) order. They are kept in OpenMetrics, which
// Prometheus asks for first; the text format differs in its sample lines
// only in the value, where OpenMetrics adds ".0" to a value that has
// neither a point nor an exponent, so a text scrape drops it again.

// account is one account as published: its sample lines, grouped by
// family, and what a scrape needs to measure the age of each family's data.
// It is never changed once stored: Publish replaces it whole.
type account struct {
	// snapshot is what the lines were rendered from, kept for Collect.
	// Its values are the scheduler's, which keeps them anyway: the
	// collector adds no copy of them.
	snapshot *analytics.Snapshot
	maxAge   time.Duration
	// lines are the account's sample lines in OpenMetrics, sorted by
	// family, and within a family by group; chunks tell them apart.
	lines  []byte
	chunks []chunk
	// successes are the families with data, each with the start of its
	// data age line (all of it but the value), within lines' array.
	successes []success
}

// chunk is the lines of one family and one group of an account: from the
// previous chunk's end to its own.
type chunk struct {
	end    uint32
	family uint16 // index in allFamilies
	group  int8   // provider.Families index, or always
}

type success struct {
	familySuccess
	ageLine []byte
}

func init() {
	// The groups of an account's data that a scrape holds back are a
	// bit set.
	if len(provider.Families) > 64 {
		panic("collector: more than 64 families")
	}
}

// prerenderer is the emitter that writes an account's sample lines. Its
// buffers are reused from one Publish to the next.
type prerenderer struct {
	buf   []byte
	lines []span
	// for the sort of lines
	starts []int32
	sorted []span
}

type span struct {
	family     uint16
	group      int8
	start, end uint32
}

var prerenderers = sync.Pool{New: func() any { return new(prerenderer) }}

func (p *prerenderer) series(f *family, group int, value float64, labelValues []string) {
	start := len(p.buf)
	p.buf = appendSeries(p.buf, f, labelValues)
	p.buf = appendFloat(p.buf, value, openMetricsFormat)
	p.buf = append(p.buf, '\n')
	p.lines = append(p.lines, span{family: uint16(f.index), group: int8(group), start: uint32(start), end: uint32(len(p.buf))})
}

// prerender renders a snapshot into an account.
func prerender(s *analytics.Snapshot) *account {
	p := prerenderers.Get().(*prerenderer)
	defer prerenderers.Put(p)
	p.buf, p.lines = p.buf[:0], p.lines[:0]
	walk(s, p)
	successes := lastSuccesses(s)
	ages := len(p.buf) // the data age lines' start, then each one's end
	ageEnds := make([]int, len(successes))
	for i, l := range successes {
		p.buf = appendSeries(p.buf, dataAge, []string{validUTF8(s.WABAID), string(provider.Families[l.group])})
		ageEnds[i] = len(p.buf)
	}

	a := &account{snapshot: s, maxAge: s.MaxDataAge, lines: make([]byte, 0, len(p.buf))}
	// The lines in order of family, then group, each in walk's order
	// within: a counting sort, on a key that orders them so.
	groups := len(provider.Families) + 1
	key := func(l span) int { return int(l.family)*groups + int(l.group) + 1 }
	p.starts = slices.Grow(p.starts[:0], len(allFamilies)*groups+1)[:len(allFamilies)*groups+1]
	clear(p.starts)
	chunks := 0
	for _, l := range p.lines {
		if p.starts[key(l)+1]++; p.starts[key(l)+1] == 1 {
			chunks++
		}
	}
	for k := 1; k < len(p.starts); k++ {
		p.starts[k] += p.starts[k-1]
	}
	p.sorted = append(p.sorted[:0], p.lines...)
	for _, l := range p.lines {
		p.sorted[p.starts[key(l)]] = l
		p.starts[key(l)]++
	}
	a.chunks = make([]chunk, 0, chunks)
	for _, l := range p.sorted {
		a.lines = append(a.lines, p.buf[l.start:l.end]...)
		end := uint32(len(a.lines))
		if n := len(a.chunks); n > 0 && a.chunks[n-1].family == l.family && a.chunks[n-1].group == l.group {
			a.chunks[n-1].end = end
		} else {
			a.chunks = append(a.chunks, chunk{end: end, family: l.family, group: l.group})
		}
	}
	// The data age lines go after the samples, outside every chunk. The
	// samples filled buf up to them: they keep their offsets.
	a.lines = append(a.lines, p.buf[ages:]...)
	a.successes = make([]success, len(successes))
	for i, l := range successes {
		a.successes[i] = success{familySuccess: l, ageLine: a.lines[ages:ageEnds[i]:ageEnds[i]]}
		ages = ageEnds[i]
	}
	return a
}

// appendSeries appends a sample's name and labels and the space before
// its value, as expfmt writes them for a legacy name: labels sorted by
// name, values escaped (backslash, double quote, line feed), every label
// written even when empty.
func appendSeries(b []byte, f *family, labelValues []string) []byte {
	if len(labelValues) != len(f.labels) {
		panic("collector: " + f.name + ": " + strconv.Itoa(len(labelValues)) + " label values for " + strconv.Itoa(len(f.labels)) + " labels")
	}
	b = append(b, f.name...)
	for k, i := range f.byName {
		if k == 0 {
			b = append(b, '{')
		} else {
			b = append(b, ',')
		}
		b = append(b, f.labels[i]...)
		b = append(b, '=', '"')
		b = appendEscaped(b, labelValues[i])
		b = append(b, '"')
	}
	if len(f.byName) > 0 {
		b = append(b, '}')
	}
	return append(b, ' ')
}

func appendEscaped(b []byte, s string) []byte {
	from := 0
	for i := 0; i < len(s); i++ {
		var escaped byte
		switch s[i] {
		case '\\':
			escaped = '\\'
		case '"':
			escaped = '"'
		case '\n':
			escaped = 'n'
		default:
			continue
		}
		b = append(append(b, s[from:i]...), '\\', escaped)
		from = i + 1
	}
	return append(b, s[from:]...)
}

// appendFloat appends a sample value as expfmt writes it: Go's shortest
// representation ('g'), NaN, +Inf and -Inf; in OpenMetrics, ".0" after a
// value with neither a point nor an exponent (so 1.0, and 0.0 for -0 too).
func appendFloat(b []byte, v float64, format int) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, +1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case v == 0:
		v = 0 // -0 is written 0
	}
	start := len(b)
	b = strconv.AppendFloat(b, v, 'g', -1, 64)
	if format == openMetricsFormat && !bytes.ContainsAny(b[start:], ".e") {
		b = append(b, '.', '0')
	}
	return b
}

// writeText writes OpenMetrics sample lines in the text format: each
// value's ".0", which only OpenMetrics adds ('g' never ends in it), goes.
func writeText(w *bufio.Writer, lines []byte) {
	from := 0
	for i := 0; i < len(lines); {
		end := i + bytes.IndexByte(lines[i:], '\n')
		if end-i >= 2 && lines[end-2] == '.' && lines[end-1] == '0' {
			w.Write(lines[from : end-2])
			from = end
		}
		i = end + 1
	}
	w.Write(lines[from:])
}

// writeFamilies writes the families of the accounts, in allFamilies'
// order, each one block (its header once, then every account's lines in
// the order of accounts) and only if it has a sample. It leaves out the
// data of the families older than their account's max data age, and the
// families keep says no to (nil: none). Errors stay in w.
func writeFamilies(w *bufio.Writer, accounts []*account, now time.Time, format int, keep func(name string) bool) {
	type cursor struct {
		next  int
		start uint32
		// hidden are the groups whose data is too old.
		hidden uint64
	}
	cursors := make([]cursor, len(accounts))
	for i, a := range accounts {
		for _, s := range a.successes {
			if tooOld(now.Sub(s.at), a.maxAge) {
				cursors[i].hidden |= 1 << s.group
			}
		}
	}
	var value []byte
	for _, f := range allFamilies {
		if keep != nil && !keep(f.name) {
			continue // the cursors skip its chunks on the next family
		}
		started := false
		start := func() {
			if !started {
				w.Write(f.header[format])
				started = true
			}
		}
		if f == dataAge {
			for _, a := range accounts {
				for _, s := range a.successes {
					start()
					w.Write(s.ageLine)
					value = appendFloat(value[:0], max(now.Sub(s.at).Seconds(), 0), format)
					value = append(value, '\n')
					w.Write(value)
				}
			}
			continue
		}
		for i, a := range accounts {
			c := &cursors[i]
			for ; c.next < len(a.chunks) && int(a.chunks[c.next].family) <= f.index; c.next++ {
				ch := a.chunks[c.next]
				if int(ch.family) == f.index && (ch.group == always || c.hidden&(1<<ch.group) == 0) {
					start()
					if format == openMetricsFormat {
						w.Write(a.lines[c.start:ch.end])
					} else {
						writeText(w, a.lines[c.start:ch.end])
					}
				}
				c.start = ch.end
			}
		}
	}
}
