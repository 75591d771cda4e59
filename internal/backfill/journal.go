package backfill

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/whatsapp-exporter/whatsapp_exporter/internal/analytics"
	"github.com/whatsapp-exporter/whatsapp_exporter/internal/scheduler"
	"github.com/whatsapp-exporter/whatsapp_exporter/provider"
)

// The state of a run is a directory beside the output: a journal of what
// was fetched, and the rendered part of each WABA done. The journal is
// appended to, one line per answer, and synced before the run goes on: the
// answers of a half year of a large fleet are gigabytes, which a state file
// rewritten (temp file and rename) after each request would copy again and
// again. A line is whole or it is the last one, cut by a crash; a resumed
// run drops such a tail, and so asks again only for what no whole line
// holds.

// header is the journal's first line: what the run was started with, so
// that a resumed run fetches and writes the same.
type header struct {
	Version int `json:"version"`
	// Fingerprint hashes the configuration and the flags that shape the
	// output.
	Fingerprint string `json:"fingerprint"`
	// Now is when the run started: the end of the window when no --end was
	// given, and what the APIs' history limits count back from.
	Now time.Time `json:"now"`
	End time.Time `json:"end"`
}

const journalVersion = 1

// record is one line after the header: one chunk's answer, or a WABA
// rendered.
type record struct {
	WABA   string `json:"waba"`
	Family string `json:"family,omitempty"`
	Gran   string `json:"granularity,omitempty"`
	From   int64  `json:"from,omitempty"`
	To     int64  `json:"to,omitempty"`
	// Series are the series of the answer: a measure and its dimensions,
	// in analytics.Dimensions' field order.
	Series []recordSeries `json:"series,omitempty"`
	// Buckets are [start, end, series index, value, series index,
	// value, ...].
	Buckets [][]float64 `json:"buckets,omitempty"`
	// Part is the WABA's rendered part, and Sections its families'
	// lengths in it, once the WABA is done.
	Part     string  `json:"part,omitempty"`
	Sections []int64 `json:"sections,omitempty"`
}

type recordSeries struct {
	Measure    analytics.Measure `json:"m"`
	Dimensions []string          `json:"d"`
}

// journal appends records to the state's journal.
type journal struct {
	mu   sync.Mutex
	file *os.File
	dir  string
}

// stateDir is the state directory of an output file.
func stateDir(output string) string { return output + ".state" }

// loaded is what a journal held.
type loaded struct {
	header header
	// chunks are the answers of the WABAs not yet rendered, by WABA.
	chunks map[string][]record
	// parts are the WABAs rendered.
	parts map[string]record
}

// openJournal opens the state of output, or starts one with h. A state
// written with another fingerprint is an error: it belongs to another run.
func openJournal(output string, h header) (*journal, *loaded, error) {
	dir := stateDir(output)
	path := filepath.Join(dir, "journal")
	l := &loaded{header: h, chunks: map[string][]record{}, parts: map[string]record{}}
	raw, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(filepath.Join(dir, "parts"), 0o755); err != nil {
			return nil, nil, err
		}
		line, _ := json.Marshal(h)
		if err := writeSynced(path, append(line, '\n')); err != nil {
			return nil, nil, err
		}
	case err != nil:
		return nil, nil, err
	default:
		valid, err := l.read(raw, h.Fingerprint, path)
		if err != nil {
			return nil, nil, err
		}
		if err := os.Truncate(path, int64(valid)); err != nil {
			return nil, nil, err
		}
		if err := os.MkdirAll(filepath.Join(dir, "parts"), 0o755); err != nil {
			return nil, nil, err
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	return &journal{file: f, dir: dir}, l, nil
}

// read loads a journal's lines, and returns how many of its bytes are whole
// lines.
func (l *loaded) read(raw []byte, fingerprint, path string) (int, error) {
	first, rest, ok := bytes.Cut(raw, []byte("\n"))
	if !ok || json.Unmarshal(first, &l.header) != nil || l.header.Version != journalVersion {
		return 0, fmt.Errorf("%s is not a backfill state this version wrote; remove %s to start afresh", path, filepath.Dir(path))
	}
	if l.header.Fingerprint != fingerprint {
		return 0, fmt.Errorf("%s was written for another configuration or other flags; run with the same ones to resume, or remove %s to start afresh", path, filepath.Dir(path))
	}
	valid := len(first) + 1
	sc := bufio.NewScanner(bytes.NewReader(rest))
	sc.Buffer(nil, len(rest)+1)
	for sc.Scan() {
		line := sc.Bytes()
		if valid+len(line)+1 > len(raw) {
			break // no newline: a line cut short
		}
		var r record
		if json.Unmarshal(line, &r) != nil {
			break
		}
		valid += len(line) + 1
		if r.Part != "" {
			l.parts[r.WABA] = r
			delete(l.chunks, r.WABA)
			continue
		}
		l.chunks[r.WABA] = append(l.chunks[r.WABA], r)
	}
	return valid, nil
}

// add appends a record, and syncs it.
func (j *journal) add(r record) error {
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.file.Write(append(line, '\n')); err != nil {
		return err
	}
	return j.file.Sync()
}

func (j *journal) close() error { return j.file.Close() }

// chunkRecord is the record of one chunk's answer.
func chunkRecord(waba string, f provider.Family, g provider.Granularity, from, to time.Time, buckets []scheduler.HistoryBucket) record {
	r := record{WABA: waba, Family: string(f), Gran: string(g), From: from.Unix(), To: to.Unix()}
	index := map[seriesKey]int{}
	for _, b := range buckets {
		row := []float64{float64(b.Start.Unix()), float64(b.End.Unix())}
		for _, v := range b.Values {
			k := seriesKey{v.Measure, v.Dimensions}
			i, ok := index[k]
			if !ok {
				i = len(r.Series)
				index[k] = i
				d := make([]string, dimensionFields)
				for f := range d {
					d[f] = dimension(&v.Dimensions, f)
				}
				r.Series = append(r.Series, recordSeries{v.Measure, d})
			}
			row = append(row, float64(i), v.Value)
		}
		r.Buckets = append(r.Buckets, row)
	}
	return r
}

// buckets reads a chunk record's buckets back.
func (r record) buckets() ([]scheduler.HistoryBucket, error) {
	series := make([]analytics.Value, len(r.Series))
	for i, s := range r.Series {
		if len(s.Dimensions) != dimensionFields {
			return nil, fmt.Errorf("journal: a series of WABA %s has %d dimensions", r.WABA, len(s.Dimensions))
		}
		series[i].Measure = s.Measure
		setDimensions(&series[i].Dimensions, s.Dimensions)
	}
	out := make([]scheduler.HistoryBucket, 0, len(r.Buckets))
	for _, row := range r.Buckets {
		if len(row) < 2 || len(row)%2 != 0 {
			return nil, fmt.Errorf("journal: a bucket of WABA %s is malformed", r.WABA)
		}
		b := scheduler.HistoryBucket{Start: time.Unix(int64(row[0]), 0).UTC(), End: time.Unix(int64(row[1]), 0).UTC()}
		for k := 2; k < len(row); k += 2 {
			i := int(row[k])
			if i < 0 || i >= len(series) {
				return nil, fmt.Errorf("journal: a bucket of WABA %s names no series", r.WABA)
			}
			v := series[i]
			v.Value = row[k+1]
			b.Values = append(b.Values, v)
		}
		out = append(out, b)
	}
	return out, nil
}

// writeSynced writes a file whole, or not at all: a temporary file, synced,
// renamed over path.
func writeSynced(path string, data []byte) error {
	return replaceFile(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// replaceFile writes path through fill, atomically: into a temporary file
// beside it, synced, then renamed over it.
func replaceFile(path string, fill func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := fill(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
