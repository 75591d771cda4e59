package provider

import (
	"context"
	"slices"
	"sync"
	"time"
)

// pool is the slots of one API host: the requests in flight to it at once.
// Each host has its own, so a hung API (a BSP that stopped answering) holds
// only its own slots and never those of another host.
//
// Within a host, a hung WABA holds its slot for the whole timeout of each
// request, and FIFO slots would let a few hung WABAs keep every slot while the
// healthy ones queue behind their retries. So a free slot goes to the waiting
// account that should have it, by these rules:
//
//   - No account holds more than its share: ceil(slots / accounts holding
//     or waiting for slots of the host).
//   - An account is trusted once its last request to the host got an answer.
//     Accounts that are not (new ones, and those whose last request got no
//     answer: hanging) leave a slot free for each trusted account, up to
//     half the slots (they may always hold one). So however many accounts
//     hang, there is room for those that get answers; a trusted account
//     mostly holds one slot, as it sends its requests one after another.
//     While no account is trusted yet, new ones may take every slot.
//   - Trusted accounts go first, then new ones, then hanging ones; among
//     equals, the one holding the fewest, then the one that asked first.
//
// What no rule can prevent: a trusted account's request that starts to hang
// holds its slot until its timeout, since a slot cannot be taken back; from
// then on its account is hanging. With a single slot, that blocks the host
// for the timeout.
//
// The fields are guarded by the Throttle's mutex.
type pool struct {
	slots, held int
	members     map[string]*member
	// trust is what the account's last request met; absent for a new
	// account.
	trust         map[string]bool
	trusted       int // accounts whose trust is true
	untrustedHeld int
	queue         []*waiter

	// sent numbers the requests sent to the host.
	sent uint64
	// The app-wide limit: while limited, no request goes out before
	// probeAt, and each that does pushes probeAt on. limitedAfter is the
	// number of the last request sent before the limit was known: only
	// an answer to a later one shows that access is back.
	limited      bool
	limitedAfter uint64
	probeAt      time.Time
	// wake is closed, and replaced, when the limit lifts.
	wake chan struct{}
}

// member is one account's use of the pool.
type member struct{ held, waiting int }

type waiter struct {
	account   string
	ready     chan struct{}
	granted   bool
	untrusted bool // as the account was when it got the slot
}

func newPool(slots int) *pool {
	return &pool{slots: slots, members: map[string]*member{}, trust: map[string]bool{}, wake: make(chan struct{})}
}

// take waits for a slot for account, and reports whether the account was
// untrusted when it got it (give needs to know).
func (p *pool) take(ctx context.Context, mu *sync.Mutex, account string) (untrusted bool, err error) {
	mu.Lock()
	w := &waiter{account: account, ready: make(chan struct{})}
	p.member(account).waiting++
	p.queue = append(p.queue, w)
	p.grant()
	mu.Unlock()

	select {
	case <-w.ready:
		return w.untrusted, nil
	case <-ctx.Done():
	}
	mu.Lock()
	defer mu.Unlock()
	if w.granted {
		p.give(account, w.untrusted)
	} else {
		p.queue = slices.DeleteFunc(p.queue, func(q *waiter) bool { return q == w })
		p.member(account).waiting--
		p.forget(account)
		// One account fewer shares the pool: the others' share may
		// have grown.
		p.grant()
	}
	return false, ctx.Err()
}

// give returns a slot taken by account.
func (p *pool) give(account string, untrusted bool) {
	p.held--
	p.member(account).held--
	if untrusted {
		p.untrustedHeld--
	}
	p.forget(account)
	p.grant()
}

// answered records, at now, what the request number seq of account met.
func (p *pool) answered(account string, o Outcome, seq uint64, now time.Time, defaultWait time.Duration) {
	if was := p.trust[account]; was != !o.NoAnswer {
		if was {
			p.trusted--
		} else {
			p.trusted++
		}
	}
	p.trust[account] = !o.NoAnswer
	switch {
	case o.AppLimited:
		wait := o.RegainAccess
		if wait <= 0 {
			wait = defaultWait
		}
		if !p.limited {
			p.limited, p.limitedAfter = true, p.sent
		}
		p.probeAt = later(p.probeAt, now.Add(wait))
	case p.limited && !o.NoAnswer && seq > p.limitedAfter:
		// A request sent under the limit got through: access is back.
		p.limited = false
		close(p.wake)
		p.wake = make(chan struct{})
	}
}

// grant hands free slots to the waiters that should have them.
func (p *pool) grant() {
	for p.held < p.slots {
		best := -1
		for i, w := range p.queue {
			if p.eligible(w) && (best < 0 || p.before(w, p.queue[best])) {
				best = i
			}
		}
		if best < 0 {
			return
		}
		w := p.queue[best]
		p.queue = slices.Delete(p.queue, best, best+1)
		w.granted, w.untrusted = true, !p.trust[w.account]
		m := p.member(w.account)
		m.waiting--
		m.held++
		p.held++
		if w.untrusted {
			p.untrustedHeld++
		}
		close(w.ready)
	}
}

func (p *pool) eligible(w *waiter) bool {
	share := (p.slots + len(p.members) - 1) / len(p.members)
	if p.members[w.account].held >= share {
		return false
	}
	// The slots kept for trusted accounts: one for each, up to half.
	kept := min(p.trusted, p.slots/2)
	return p.trust[w.account] || p.untrustedHeld < max(1, p.slots-kept)
}

// before reports whether a should get a slot before b; the queue order
// breaks ties, as grant keeps the first of equals.
func (p *pool) before(a, b *waiter) bool {
	if ra, rb := p.rank(a.account), p.rank(b.account); ra != rb {
		return ra < rb
	}
	return p.members[a.account].held < p.members[b.account].held
}

// rank orders trusted accounts (0) before new ones (1) and hanging ones (2).
func (p *pool) rank(account string) int {
	switch trusted, known := p.trust[account]; {
	case trusted:
		return 0
	case !known:
		return 1
	}
	return 2
}

func (p *pool) member(account string) *member {
	m, ok := p.members[account]
	if !ok {
		m = &member{}
		p.members[account] = m
	}
	return m
}

// forget drops an account that neither holds nor waits for a slot, so that
// it no longer divides the shares. Whether it is trusted is kept.
func (p *pool) forget(account string) {
	if m := p.members[account]; m != nil && m.held == 0 && m.waiting == 0 {
		delete(p.members, account)
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
