package scheduler

import (
	"container/heap"
	"time"
)

// dueQueue holds the accounts waiting for their next refresh, ordered by
// when it falls due and, among accounts due at once, by the order they were
// added in. Each poller knows its place (index), so that a reload can take
// it out or move it up without a search. It is guarded by the scheduler's
// mutex.
type dueQueue struct{ items []*poller }

func (q *dueQueue) Len() int { return len(q.items) }

func (q *dueQueue) Less(i, j int) bool {
	a, b := q.items[i], q.items[j]
	if !a.at.Equal(b.at) {
		return a.at.Before(b.at)
	}
	return a.seq < b.seq
}

func (q *dueQueue) Swap(i, j int) {
	q.items[i], q.items[j] = q.items[j], q.items[i]
	q.items[i].index, q.items[j].index = i, j
}

func (q *dueQueue) Push(x any) {
	p := x.(*poller)
	p.index = len(q.items)
	q.items = append(q.items, p)
}

func (q *dueQueue) Pop() any {
	n := len(q.items) - 1
	p := q.items[n]
	q.items[n] = nil
	q.items = q.items[:n]
	p.index = -1
	return p
}

func (q *dueQueue) push(p *poller) {
	if q.contains(p) {
		heap.Fix(q, p.index)
		return
	}
	heap.Push(q, p)
}

func (q *dueQueue) peek() *poller { return q.items[0] }

func (q *dueQueue) pop() *poller { return heap.Pop(q).(*poller) }

func (q *dueQueue) contains(p *poller) bool {
	return p.index >= 0 && p.index < len(q.items) && q.items[p.index] == p
}

func (q *dueQueue) remove(p *poller) {
	if q.contains(p) {
		heap.Remove(q, p.index)
	}
}

// firstAnswering is the account due soonest whose last refresh got
// answers; nil when there is none. A linear search: it runs only while the
// accounts not known to answer fill their places.
func (q *dueQueue) firstAnswering() *poller {
	var best *poller
	for _, p := range q.items {
		if !p.trusted() {
			continue
		}
		if best == nil || p.at.Before(best.at) || p.at.Equal(best.at) && p.seq < best.seq {
			best = p
		}
	}
	return best
}

// waiting counts the accounts due by now that wait for a place.
func (q *dueQueue) waiting(now time.Time) int {
	n := 0
	for _, p := range q.items {
		if !p.at.After(now) {
			n++
		}
	}
	return n
}
