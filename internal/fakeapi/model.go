package fakeapi

import (
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// model is what a WABA's traffic is computed from, prepared once per WABA:
// the seed, weight and price of every series (a phone number and country,
// and a breakdown value of each dimension). Answering a request is then
// arithmetic on numbers, with no hashing, string keys or maps in the loop
// over half hours, so that a fake serving thousands of WABAs on the same
// machine as the exporter under test is not what a load test measures.
//
// The data is defined per half hour and per series: every count is rounded
// to a whole number and every cost to its unit (cent/100 for conversations
// and pricing, cent/1000 for calls) in the half hour it belongs to, and a
// day or a month is the sum of its half hours. So a day bucket equals the
// sum of its half-hour buckets, for every breakdown cell, cost included:
// an exporter that reads settled days as DAILY buckets and recent time as
// half hours computes the same month to date as from half hours alone.
type model struct {
	pcs  []pcCell
	conv []convCell
	// pricing holds the cells before per-message pricing, then those from
	// it on (pricingEras says where each era's cells are).
	pricing    []pricingCell
	pricingEra [2][2]int
	calls      []callCell

	// loc is where the WABA's days begin (WABA.location), loaded once.
	loc *time.Location

	// mu guards selections, the rows of the queries asked so far.
	mu         sync.Mutex
	selections map[*family]map[string]*selection
}

// pcCell is a phone number's traffic to one country.
type pcCell struct {
	phone, country string
	// base is the messages sent in a busy half hour, before the time of
	// day and the noise.
	base        float64
	priceFactor float64
	seedSent    uint64
	seedDeliv   uint64
}

type convCell struct {
	pc            int
	cat, typ, dir string
	weight        float64 // share of the messages that open one
	price         float64 // per conversation, in the market's prices
	seed          uint64
}

// pricingCell is one pricing category and type of a phone number and
// country. before and after are the prices per message until 2026-10-01
// and from then on; zeroUntil and zeroFrom say the cell is empty before or
// from that date (service messages were free until then; utility templates
// in the service window are charged from then).
type pricingCell struct {
	pc                  int
	cat, typ, tier      string
	weight              float64
	before, after       float64
	zeroUntil, zeroFrom bool
	seed                uint64
}

type callCell struct {
	pc     int
	dir    string
	weight float64
	price  float64 // per minute, in the market's prices
	seed   uint64
}

// Cost units: the Graph API reports conversation and pricing cost to four
// decimals (0.0432 in the Analytics page's examples) and the fake reports
// calls to five.
const (
	costDigits     = 4
	callCostDigits = 5
	costUnit       = 1e4
	callCostUnit   = 1e5
)

// The instants of the pricing changes, as Unix seconds.
var (
	perMessageUnix = perMessagePricing.Unix()
	chargedUnix    = chargedServiceSince.Unix()
)

func newModel(a *WABA) *model {
	m := &model{loc: a.zone()}
	for _, p := range a.Phones {
		for _, c := range a.Countries {
			m.pcs = append(m.pcs, pcCell{
				phone: p.Number, country: c.Code,
				base:        a.Volume * p.Weight * c.Weight,
				priceFactor: c.PriceFactor,
				seedSent:    seed(a.WABAID, p.Number, c.Code, "sent"),
				seedDeliv:   seed(a.WABAID, p.Number, c.Code, "delivered"),
			})
		}
	}
	for i, pc := range m.pcs {
		for _, cat := range conversationCategories {
			for _, typ := range conversationTypes {
				for _, dir := range conversationDirections {
					m.conv = append(m.conv, convCell{
						pc: i, cat: cat.name, typ: typ.name, dir: dir.name,
						weight: 0.3 * cat.weight * typ.weight * dir.weight,
						price:  cat.price * typ.price * pc.priceFactor,
						seed:   seed(a.WABAID, pc.phone, pc.country, cat.name, typ.name, dir.name),
					})
				}
			}
		}
	}
	for era, cats := range [][]share{pricingCategories, append(slices.Clip(pricingCategories), perMessageCategories...)} {
		m.pricingEra[era][0] = len(m.pricing)
		for i, pc := range m.pcs {
			for _, cat := range cats {
				for _, typ := range pricingTypes {
					cell, ok := newPricingCell(a.WABAID, i, pc, cat, typ)
					if ok {
						m.pricing = append(m.pricing, cell)
					}
				}
			}
		}
		m.pricingEra[era][1] = len(m.pricing)
	}
	for i, pc := range m.pcs {
		for _, d := range callDirections {
			m.calls = append(m.calls, callCell{
				pc: i, dir: d.name, weight: 0.05 * d.weight, price: d.price * pc.priceFactor,
				seed: seed(a.WABAID, pc.phone, pc.country, d.name, "calls"),
			})
		}
	}
	return m
}

// newPricingCell follows Meta's pricing: the categories per-message pricing
// added are charged (MARKETING_LITE, AUTHENTICATION_INTERNATIONAL) or free
// entry points (REFERRAL_CONVERSION) only; service messages are charged
// from 2026-10-01 at the utility rate, and utility templates in the service
// window no longer free from then
// (https://developers.facebook.com/documentation/business-messaging/whatsapp/pricing).
func newPricingCell(wabaID string, pcIndex int, pc pcCell, cat, typ share) (pricingCell, bool) {
	weight := typ.weight
	switch cat.name {
	case "REFERRAL_CONVERSION":
		if typ.name != "FREE_ENTRY_POINT" {
			return pricingCell{}, false
		}
		weight = 1
	case "MARKETING_LITE", "AUTHENTICATION_INTERNATIONAL":
		if typ.name != "REGULAR" {
			return pricingCell{}, false
		}
		weight = 1
	}
	after := cat.price
	if cat.name == "SERVICE" {
		after = 0.004
	}
	return pricingCell{
		pc: pcIndex, cat: cat.name, typ: typ.name, tier: tier(cat, typ),
		weight:    cat.weight * weight,
		before:    cat.price * typ.price * pc.priceFactor,
		after:     after * typ.price * pc.priceFactor,
		zeroUntil: cat.name == "SERVICE" && typ.name == "REGULAR",
		zeroFrom:  cat.name == "UTILITY" && typ.name == "FREE_CUSTOMER_SERVICE",
		seed:      seed(wabaID, pc.phone, pc.country, cat.name, typ.name, "volume"),
	}, true
}

// model returns the WABA's model: the one the fake prepared, or a new one
// for a WABA it does not hold.
func (a *WABA) model() *model {
	if a.m != nil {
		return a.m
	}
	return newModel(a)
}

// bucketTraffic is what every phone number sent to every country in each
// half hour of a bucket, the base of every family's counts: sent and
// delivered of phone-and-country pc in the bucket's k-th half hour are at
// [pc*halfHours+k].
type bucketTraffic struct {
	start           int64 // Unix seconds
	halfHours       int
	sent, delivered []float64
}

// fill computes the traffic of the bucket starting at start, in place.
func (tr *bucketTraffic) fill(a *WABA, m *model, b span) {
	tr.start = b.start.Unix()
	tr.halfHours = int((b.end.Unix() - tr.start) / halfHourSeconds)
	n := tr.halfHours * len(m.pcs)
	tr.sent, tr.delivered = slices.Grow(tr.sent[:0], n)[:n], slices.Grow(tr.delivered[:0], n)[:n]
	drop := int64(math.MaxInt64)
	if !a.DropFrom.IsZero() {
		drop = a.DropFrom.Unix()
	}
	for k := range tr.halfHours {
		t := tr.start + int64(k)*halfHourSeconds
		day := diurnal(t)
		rate := a.DeliveryRate
		if t >= drop {
			rate = a.DroppedRate
		}
		for i := range m.pcs {
			pc := &m.pcs[i]
			sent := roundPos(pc.base * day * (0.85 + 0.3*unit(pc.seedSent, t)))
			jitter := 0.01 * (unit(pc.seedDeliv, t) - 0.5)
			tr.sent[i*tr.halfHours+k] = sent
			tr.delivered[i*tr.halfHours+k] = roundPos(sent * min(1, rate+jitter))
		}
	}
}

// index returns the half hour of the bucket that holds t, clamped to the
// bucket.
func (tr *bucketTraffic) index(t int64) int {
	return int(min(max((t-tr.start+halfHourSeconds-1)/halfHourSeconds, 0), int64(tr.halfHours)))
}

// sumCell adds up one cell over the half hours [from, to) of a bucket:
// per half hour, its share of base rounded to a whole count, and that
// count's cost rounded to the cost unit. A cell's share is its weight with
// a noise of its own for each UTC day: the mix of categories and types
// moves from day to day, while the traffic it splits moves by the half
// hour. (A noise per half hour would cost the fake three times the CPU.)
func sumCell(base []float64, start int64, from, to int, c *hotCell, price float64) (count float64, cost int64) {
	var n int64
	unitPrice := price * costUnit
	for from < to {
		t := start + int64(from)*halfHourSeconds
		day := t - ((t%86400)+86400)%86400
		until := min(to, from+int((day+86400-t+halfHourSeconds-1)/halfHourSeconds))
		share := c.weight * (0.8 + 0.4*unit(c.seed, day))
		for _, b := range base[from:until] {
			v := int64(b*share + 0.5)
			n += v
			cost += int64(float64(v)*unitPrice + 0.5)
		}
		from = until
	}
	return float64(n), cost
}

// roundPos rounds a count or cost that is never negative (nor above 2^62)
// to a whole number, faster than math.Round, which the compiler does not
// turn into one instruction.
func roundPos(v float64) float64 { return float64(int64(v + 0.5)) }

// diurnal makes traffic peak in the afternoon (UTC) and dip at night.
func diurnal(t int64) float64 {
	second := ((t % 86400) + 86400) % 86400
	if second%halfHourSeconds == 0 {
		return diurnalHalfHours[second/halfHourSeconds]
	}
	return diurnalAt(second)
}

func diurnalAt(second int64) float64 {
	return 1 + 0.6*math.Sin(2*math.Pi*(float64(second)/3600-9)/24)
}

// diurnalHalfHours is diurnal at the start of each half hour of a day.
var diurnalHalfHours = func() (d [48]float64) {
	for i := range d {
		d[i] = diurnalAt(int64(i) * halfHourSeconds)
	}
	return d
}()

// selection maps each cell of a family to the row of the answer it adds
// to (-1: filtered out), for one request's filters and dimensions.
type selection struct {
	slot []int
	// cells are the cells the filters keep, as the loop over half hours
	// reads them; for pricing, eras says which are before per-message
	// pricing and which from it on.
	cells []hotCell
	eras  [2][2]int
	// rows are the dimension values of each row, in the family's order,
	// and frags the same as the JSON members they add to a data point;
	// order is the rows in the answer's order (by their values).
	rows  [][]string
	frags [][]byte
	order []int32
}

// selector builds a selection from each cell's dimension values, nil for a
// cell the filters leave out. The values of the dimensions not asked for
// are "" (mask).
func selector(f *family, n int, values func(i int) []string) *selection {
	s := &selection{slot: make([]int, n)}
	keys := map[string]int{}
	var joined []string
	for i := range n {
		v := values(i)
		if v == nil {
			s.slot[i] = -1
			continue
		}
		k := strings.Join(v, "\x00")
		slot, ok := keys[k]
		if !ok {
			slot = len(s.rows)
			keys[k] = slot
			s.rows = append(s.rows, v)
			s.frags = append(s.frags, f.appendDims(nil, v))
			joined = append(joined, k)
		}
		s.slot[i] = slot
	}
	s.order = make([]int32, len(s.rows))
	for i := range s.order {
		s.order[i] = int32(i)
	}
	slices.SortFunc(s.order, func(x, y int32) int { return strings.Compare(joined[x], joined[y]) })
	return s
}

// hotCell is a cell of a selection, with only what the loop over half
// hours needs: a few numbers in a row of memory.
type hotCell struct {
	seed         uint64
	weight       float64
	price, after float64 // pricing: before 2026-10-01 (price) and from then on
	pc, slot     int32
	zeroUntil    bool
	zeroFrom     bool
}

// maxSelections bounds the selections a model keeps per family: an
// exporter asks a WABA the same few questions every refresh.
const maxSelections = 16

// selection returns the selection of a family for a query's filters and
// dimensions, built once per WABA and query shape.
func (m *model) selection(f *family, key string, n int, values func(i int) []string, hot func(s *selection)) *selection {
	m.mu.Lock()
	s, ok := m.selections[f][key]
	m.mu.Unlock()
	if ok {
		return s
	}
	s = selector(f, n, values)
	hot(s)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.selections == nil {
		m.selections = map[*family]map[string]*selection{}
	}
	if byKey := m.selections[f]; len(byKey) < maxSelections {
		if byKey == nil {
			byKey = map[string]*selection{}
			m.selections[f] = byKey
		}
		byKey[key] = s
	}
	return s
}

// selectionKey identifies a query's filters and dimensions.
func selectionKey(lists ...[]string) string {
	var b strings.Builder
	for _, l := range lists {
		for _, v := range l {
			b.WriteString(strings.ToUpper(v))
			b.WriteByte(',')
		}
		b.WriteByte(0)
	}
	return b.String()
}

// sums collects one bucket's counts and cost units per row.
type sums struct {
	count []float64
	cost  []int64
}

func newSums(rows int) sums {
	return sums{count: make([]float64, rows), cost: make([]int64, rows)}
}

// emit appends a data point per row with a count, in the selection's
// order, and clears the sums for the next bucket.
func (s sums) emit(out []point, sel *selection, b span, withCost bool) []point {
	for _, r := range sel.order {
		if s.count[r] != 0 {
			p := point{start: b.start.Unix(), end: b.end.Unix(), row: r, sel: sel}
			p.v[0] = s.count[r]
			p.costUnits, p.hasCost = s.cost[r], withCost
			out = append(out, p)
		}
		s.count[r], s.cost[r] = 0, 0
	}
	return out
}

// bucketsOf lists the WABA's complete buckets of a query's window.
func (a *WABA) bucketsOf(start, end, now time.Time, granularity string) []span {
	return buckets(start, end, now, granularity, a.location())
}

// pointsFor is room for the points of a few buckets: most rows of a small
// WABA's buckets are empty, and a long window's points grow as they come.
func pointsFor(buckets []span, rows int) []point {
	return make([]point, 0, min(len(buckets)*rows, 256))
}

func (a *WABA) messaging(q messagingQuery) []point {
	m := a.model()
	in := make([]bool, len(m.pcs))
	for i, pc := range m.pcs {
		in[i] = filter(q.phones, pc.phone) && filter(q.countries, pc.country)
	}
	var tr bucketTraffic
	var out []point
	for _, b := range a.bucketsOf(q.start, q.end, q.now, q.granularity) {
		tr.fill(a, m, b)
		var sent, delivered float64
		for i := range m.pcs {
			if in[i] {
				for k := range tr.halfHours {
					sent += tr.sent[i*tr.halfHours+k]
					delivered += tr.delivered[i*tr.halfHours+k]
				}
			}
		}
		if sent > 0 {
			out = append(out, point{start: b.start.Unix(), end: b.end.Unix(), v: [2]float64{sent, delivered}})
		}
	}
	return out
}

func (a *WABA) conversationPoints(q breakdownQuery) []point {
	m := a.model()
	key := selectionKey(q.phones, q.countries, q.categories, q.types, q.directions, q.dimensions)
	sel := m.selection(conversationFamily, key, len(m.conv), func(i int) []string {
		c, pc := m.conv[i], m.pcs[m.conv[i].pc]
		if !filter(q.phones, pc.phone) || !filter(q.countries, pc.country) ||
			!filter(q.categories, c.cat) || !filter(q.types, c.typ) || !filter(q.directions, c.dir) {
			return nil
		}
		return []string{mask(q.dimensions, "PHONE", pc.phone), mask(q.dimensions, "COUNTRY", pc.country),
			mask(q.dimensions, "CONVERSATION_CATEGORY", c.cat), mask(q.dimensions, "CONVERSATION_TYPE", c.typ),
			mask(q.dimensions, "CONVERSATION_DIRECTION", c.dir)}
	}, func(s *selection) {
		for i, c := range m.conv {
			if s.slot[i] >= 0 {
				s.cells = append(s.cells, hotCell{seed: c.seed, weight: c.weight, price: c.price, pc: int32(c.pc), slot: int32(s.slot[i])})
			}
		}
	})
	var tr bucketTraffic
	acc := newSums(len(sel.rows))
	buckets := a.bucketsOf(q.start, q.end, q.now, q.granularity)
	out := pointsFor(buckets, len(sel.rows))
	for _, b := range buckets {
		tr.fill(a, m, b)
		for i := range sel.cells {
			c := &sel.cells[i]
			base := tr.sent[int(c.pc)*tr.halfHours : int(c.pc+1)*tr.halfHours]
			n, cost := sumCell(base, tr.start, 0, tr.halfHours, c, c.price)
			acc.count[c.slot] += n
			acc.cost[c.slot] += cost
		}
		out = acc.emit(out, sel, b, q.cost)
	}
	return out
}

func (a *WABA) pricingPoints(q breakdownQuery) []point {
	m := a.model()
	key := selectionKey(q.phones, q.countries, q.categories, q.types, q.dimensions)
	sel := m.selection(pricingFamily, key, len(m.pricing), func(i int) []string {
		c, pc := m.pricing[i], m.pcs[m.pricing[i].pc]
		if !filter(q.phones, pc.phone) || !filter(q.countries, pc.country) || !filter(q.categories, c.cat) || !filter(q.types, c.typ) {
			return nil
		}
		return []string{mask(q.dimensions, "PHONE", pc.phone), mask(q.dimensions, "COUNTRY", pc.country),
			mask(q.dimensions, "PRICING_CATEGORY", c.cat), mask(q.dimensions, "PRICING_TYPE", c.typ),
			mask(q.dimensions, "TIER", c.tier)}
	}, func(s *selection) {
		for era := range m.pricingEra {
			s.eras[era][0] = len(s.cells)
			for i := m.pricingEra[era][0]; i < m.pricingEra[era][1]; i++ {
				if c := m.pricing[i]; s.slot[i] >= 0 {
					s.cells = append(s.cells, hotCell{seed: c.seed, weight: c.weight, price: c.before, after: c.after,
						pc: int32(c.pc), slot: int32(s.slot[i]), zeroUntil: c.zeroUntil, zeroFrom: c.zeroFrom})
				}
			}
			s.eras[era][1] = len(s.cells)
		}
	})
	var tr bucketTraffic
	acc := newSums(len(sel.rows))
	buckets := a.bucketsOf(q.start, q.end, q.now, q.granularity)
	out := pointsFor(buckets, len(sel.rows))
	for _, b := range buckets {
		tr.fill(a, m, b)
		// The half hours of each era's categories, and of each price:
		// [0, perMessage) and [perMessage, halfHours); [0, charged) and
		// [charged, halfHours).
		perMessage, charged := tr.index(perMessageUnix), tr.index(chargedUnix)
		for era, span := range [2][2]int{{0, perMessage}, {perMessage, tr.halfHours}} {
			if span[0] >= span[1] {
				continue
			}
			for i := sel.eras[era][0]; i < sel.eras[era][1]; i++ {
				c := &sel.cells[i]
				base := tr.delivered[int(c.pc)*tr.halfHours : int(c.pc+1)*tr.halfHours]
				if from, to := span[0], min(span[1], charged); from < to && !c.zeroUntil {
					n, cost := sumCell(base, tr.start, from, to, c, c.price)
					acc.count[c.slot] += n
					acc.cost[c.slot] += cost
				}
				if from, to := max(span[0], charged), span[1]; from < to && !c.zeroFrom {
					n, cost := sumCell(base, tr.start, from, to, c, c.after)
					acc.count[c.slot] += n
					acc.cost[c.slot] += cost
				}
			}
		}
		out = acc.emit(out, sel, b, q.cost)
	}
	return out
}

// callPoints follows "Call analytics": one data point per bucket with
// calls, with their count, mean length and (when asked for) cost. The
// fake's own figures: Meta's pages give the shape of call analytics, not
// typical values. Only business-initiated calls cost, by the minute.
func (a *WABA) callPoints(q callQuery) []point {
	m := a.model()
	in := make([]bool, len(m.calls))
	for i, c := range m.calls {
		pc := m.pcs[c.pc]
		in[i] = filter(q.phones, pc.phone) && filter(q.countries, pc.country) && filter(q.directions, c.dir)
	}
	var out []point
	for _, b := range a.bucketsOf(q.start, q.end, q.now, q.granularity) {
		var count, seconds float64
		var cost int64
		for t := b.start.Unix(); t < b.end.Unix(); t += halfHourSeconds {
			day := diurnal(t)
			for i := range m.calls {
				c := &m.calls[i]
				if !in[i] {
					continue
				}
				n := roundPos(m.pcs[c.pc].base * c.weight * day * (0.7 + 0.6*unit(c.seed, t)))
				s := roundPos(60 + 120*unit(c.seed+1, t))
				count += n
				seconds += n * s
				cost += int64(n*s/60*c.price*callCostUnit + 0.5)
			}
		}
		if count == 0 {
			continue
		}
		p := point{start: b.start.Unix(), end: b.end.Unix(), v: [2]float64{count, math.Round(seconds / count)}}
		p.costUnits, p.hasCost = cost, q.cost
		out = append(out, p)
	}
	return out
}

const halfHourSeconds = int64(halfHour / time.Second)
