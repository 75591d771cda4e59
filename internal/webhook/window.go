package webhook

import "hash/maphash"

// window remembers the most recent messages, at most limit of them: which
// of their statuses were counted, when each happened, and whether their
// pricing was. It is what makes each (message, status) count once although
// Meta sends statuses again (it retries a delivery for up to 7 days), and
// what measures the time from sent to delivered and to read.
//
// A message is remembered under a 64-bit hash of its ID, seeded at random
// per process, rather than under the ID (about 60 bytes): the chance that
// two of a million remembered messages share a hash is about 3 in 10^8.
// When the window is full, the message remembered longest ago is
// forgotten: a status of it that arrives later counts as new, and the times
// of its other statuses are lost (docs/webhooks.md measures what that
// costs).
type window struct {
	seed    maphash.Seed
	limit   int
	ring    []uint64 // keys in the order they were remembered
	next    int      // where the next key goes once ring is full
	records map[uint64]record
	evicted uint64
}

// record is what the window keeps of one message.
type record struct {
	// Unix seconds of its sent, delivered and read statuses; 0 until seen.
	sent, delivered, read uint32
	seen                  uint8 // statusBit of each status counted
	priced                bool
}

// Bits of record.seen.
const (
	seenSent uint8 = 1 << iota
	seenDelivered
	seenRead
	seenFailed
	seenPlayed
	seenOther
)

func statusBit(status string) uint8 {
	switch status {
	case statusSent:
		return seenSent
	case statusDelivered:
		return seenDelivered
	case statusRead:
		return seenRead
	case statusFailed:
		return seenFailed
	case statusPlayed:
		return seenPlayed
	}
	return seenOther
}

func newWindow(limit int) *window {
	return &window{seed: maphash.MakeSeed(), limit: max(limit, 1), records: map[uint64]record{}}
}

// key is where a status of a message is remembered. Statuses Meta does not
// document are remembered apart, each under its own word, so that two of
// them are not taken for one.
func (w *window) key(s *Status) uint64 {
	if s.Status == statusOther {
		return maphash.String(w.seed, s.MessageID+"\x00"+s.Raw)
	}
	return maphash.String(w.seed, s.MessageID)
}

func (w *window) get(key uint64) (record, bool) {
	r, ok := w.records[key]
	return r, ok
}

// put stores a record, remembering the message if it is new, and
// forgetting the oldest one if that makes more than limit.
func (w *window) put(key uint64, r record) {
	if _, ok := w.records[key]; !ok {
		if len(w.ring) < w.limit {
			w.ring = append(w.ring, key)
		} else {
			delete(w.records, w.ring[w.next])
			w.evicted++
			w.ring[w.next] = key
			w.next = (w.next + 1) % w.limit
		}
	}
	w.records[key] = r
}

func (w *window) len() int { return len(w.records) }
