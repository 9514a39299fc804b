package synth

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
)

// Rows of one chunk of customers. Cross references are chunk-local indexes;
// they become global IDs by adding the chunk's base offsets when formatted.

type custRec struct {
	name      string
	industry  uint8
	band      uint8
	source    uint8
	lifecycle uint8
	dept      int32
	branch    int32
	created   int64
	owner     int32
}

type oppRec struct {
	cust       int32
	owner      int32
	partner    int32
	product    int16
	campaign   int16
	amount     int64
	usd        bool
	stage      uint8
	status     uint8
	source     uint8
	prob       int8
	reason     int8
	competitor int8
	created    int64
	expClose   int32
	closed     int32
	updated    int64
}

type stageRec struct {
	opp   int32
	stage uint8
	at    int64
}

type contractRec struct {
	opp, cust, owner   int32
	signed, start, end int32
	amount             int64
	usd                bool
	status             uint8
}

type lineRec struct {
	contract int32
	no       int16
	product  int16
	qty      int64 // thousandths
	price    int64 // cents
}

type schedRec struct {
	contract int32
	due      int32
	amount   int64
}

type payRec struct {
	contract int32
	cust     int32
	paid     int32
	amount   int64
	usd      bool
	method   uint8
}

type expRec struct {
	cust, opp, contract int32
	day                 int32
	amount              int64
	cat                 uint8
}

type actRec struct {
	cust, opp, rep int32
	kind           uint8
	at             int64
	campaign       int16
}

type chunkData struct {
	custs     []custRec
	opps      []oppRec
	stages    []stageRec
	contracts []contractRec
	lines     []lineRec
	sched     []schedRec
	pays      []payRec
	exps      []expRec
	acts      []actRec
}

func (c *chunkData) reset() {
	c.custs = c.custs[:0]
	c.opps = c.opps[:0]
	c.stages = c.stages[:0]
	c.contracts = c.contracts[:0]
	c.lines = c.lines[:0]
	c.sched = c.sched[:0]
	c.pays = c.pays[:0]
	c.exps = c.exps[:0]
	c.acts = c.acts[:0]
}

func (c *chunkData) counts() (n [nEntities]int64) {
	n[eCustomers] = int64(len(c.custs))
	n[eOpportunities] = int64(len(c.opps))
	n[eOpportunityStages] = int64(len(c.stages))
	n[eContracts] = int64(len(c.contracts))
	n[eContractLines] = int64(len(c.lines))
	n[ePaymentSchedule] = int64(len(c.sched))
	n[ePayments] = int64(len(c.pays))
	n[eExpenses] = int64(len(c.exps))
	n[eActivities] = int64(len(c.acts))
	return n
}

// aggregates kept per worker for the targets (base currency cents).
type aggregates struct {
	bookings    [][]int64 // [rep][month - startMonth]
	collections [][]int64
}

func newAggregates(nReps, nMonths int) *aggregates {
	a := &aggregates{bookings: make([][]int64, nReps), collections: make([][]int64, nReps)}
	for i := range a.bookings {
		a.bookings[i] = make([]int64, nMonths)
		a.collections[i] = make([]int64, nMonths)
	}
	return a
}

// Simulation scratch of one opportunity.
type oppSim struct {
	created   int64
	product   int
	line      int
	partner   int
	source    int
	campaign  int
	seat      int
	owner     int
	amount    int64 // contract currency cents
	costC     int64 // product cost, CNY cents
	lines     [4]lineRec
	nLines    int
	term      int // months, for subscriptions and frame agreements
	billing   int
	st        [7]stageRec
	nst       int
	status    int
	closed    int32
	reason    int
	comp      int
	stalled   bool
	collision bool
	cancelled bool  // the contract of a won deal is cancelled after signing
	seq       int   // per-customer sequence number
	parent    int   // seq of the deal this one renews, -1 for new business
	legacy    bool  // a contract from before the window, without opportunity
	ctStart   int32 // subscription period of a won monthly-billed deal
	ctEnd     int32
}

// Billing models of a contract.
const (
	billProject      = iota // installments at milestones
	billSubscription        // subscription: monthly tranches
	billFrame               // frame supply agreement: several orders a month
)

// Per customer behaviour.
type custCtx struct {
	local     int32
	band      int
	industry  int
	branch    int
	dept      int
	seat      int
	wallet    float64
	partner   int // the channel partner that carries the account, -1 direct
	usd       bool
	payType   int // 0 good, 1 slow, 2 bad payer
	costly    bool
	declining bool
	created   int64
	hasOpen   bool
	hasCt     bool
	hasActive bool
	hasAct    bool
}

// generator holds a worker's random source, scratch buffers and aggregates.
type generator struct {
	w       *world
	pcg     *rand.PCG
	r       *rand.Rand
	ch      *chunkData
	agg     *aggregates
	sims    []oppSim
	pays    []payRec
	acts    []actRec
	exps    []expRec
	monthly []monthlyCt
	plan    []tranche
	dead    []int // seqs of deals whose contract was cancelled or terminated
	// per-size parameters
	oppScale float64
}

var (
	bandAmt     = []float64{40000, 80000, 170000, 360000, 800000} // median deal (CNY) by size band
	bandOpps    = []float64{1.95, 3.6, 6.3, 11, 18.5}             // extra opportunities over 3 years
	bandEngaged = []float64{0.60, 0.68, 0.76, 0.84, 0.92}
	bandUSD     = []float64{0.003, 0.006, 0.015, 0.04, 0.08}
	bandWin     = []float64{1.12, 1.05, 1.0, 0.9, 0.82}
	srcWin      = []float64{1.5, 0.95, 1.2, 1.15, 0.75, 0.9}
	srcW        = []float64{12, 14, 0, 18, 30, 10} // partner-sourced is decided separately
	stageMedian = []float64{7, 12, 20, 25, 30}
	stageConv   = []float64{0.78, 0.78, 0.76, 0.72, 0.70}
	renewMedian = []float64{3, 6, 8, 10, 12}
	renewConv   = []float64{0.98, 0.97, 0.96, 0.94, 0.92}
	industryCum []float64
)

// lineMix tilts every industry's product-line affinity towards the
// subscription and hardware-supply business that dominates the company.
var lineMix = [nLines]float64{0.75, 1.6, 0.75, 1.4, 1.0, 0.8}

var industryLineCum [][]float64

func init() {
	w := make([]float64, len(industries))
	for i, d := range industries {
		w[i] = d.weight
		lw := make([]float64, nLines)
		for l := range nLines {
			lw[l] = d.lines[l] * lineMix[l]
		}
		industryLineCum = append(industryLineCum, cumOf(lw))
	}
	industryCum = cumOf(w)
}

func newGenerator(w *world, oppScale float64) *generator {
	g := &generator{w: w, pcg: rand.NewPCG(0, 0), oppScale: oppScale}
	g.r = rand.New(g.pcg)
	g.agg = newAggregates(len(w.reps), w.endMonth-w.startMonth+1)
	return g
}

// seedCustomer positions the random stream on customer ci: every customer has
// its own stream, so output does not depend on chunking or parallelism.
func (g *generator) seedCustomer(ci int64) {
	g.pcg.Seed(g.w.seed^0xA0761D6478BD642F, uint64(ci)*0x9E3779B97F4A7C15+0xE7037ED1A0B428DB)
}

func (g *generator) unif(lo, hi float64) float64 { return lo + (hi-lo)*g.r.Float64() }

// bizTime returns an instant during office hours on day d.
func (g *generator) bizTime(d int32) int64 {
	return int64(d)*daySec + 9*3600 + int64(g.r.IntN(9*3600+1800))
}

// snap moves an instant onto a working day during office hours, after prev.
func (g *generator) snap(t, prev int64) int64 {
	d := int32(floorDiv(t, daySec))
	if wd := weekday(d); (wd == 6 || wd == 0) && g.r.Float64() < 0.9 {
		d = bizDayFwd(d)
		t = g.bizTime(d)
	}
	tod := t - int64(d)*daySec
	if tod < 9*3600 || tod > 19*3600 {
		t = g.bizTime(d)
	}
	if t <= prev {
		t = prev + 60 + int64(g.r.IntN(3600))
	}
	return t
}

// growthTime samples an instant in [a, b] (seconds) with density growing
// exponentially at the company's growth rate.
func (g *generator) growthTime(a, b int64) int64 {
	if b <= a {
		return a
	}
	k := g.w.growth / daySec
	span := float64(b - a)
	u := g.r.Float64()
	x := math.Log1p(u*math.Expm1(k*span)) / k
	return a + int64(x)
}

// customer generates one original customer (and possibly a duplicate record
// of it) with all their rows.
func (g *generator) customer(ci int64) {
	w, r, ch := g.w, g.r, g.ch
	g.seedCustomer(ci)
	c := custCtx{local: int32(len(ch.custs))}
	c.band = pickW(r, sizeBandW)
	c.industry = pickCum(r, industryCum)
	c.branch = pickCum(r, w.branchCum)
	b := &w.branches[c.branch]
	// large accounts go to the key-accounts department where there is one
	if c.band >= 3 && len(b.depts) >= 3 && r.Float64() < 0.6 {
		c.dept = b.depts[2]
	} else {
		c.dept = b.depts[r.IntN(len(b.depts))]
	}
	d := &w.depts[c.dept]
	c.seat = d.seats[pickCum(r, d.seatCum)]
	c.wallet = math.Exp(0.48 * r.NormFloat64())
	c.usd = r.Float64() < bandUSD[c.band]
	switch u := r.Float64(); {
	case u < 0.75:
		c.payType = 0
	case u < 0.95:
		c.payType = 1
	default:
		c.payType = 2
	}
	c.costly = r.Float64() < 0.045
	if c.costly && r.Float64() < 0.5 {
		c.payType = 2
	}
	c.declining = r.Float64() < 0.15
	c.partner = -1
	pp := 0.22
	if w.depts[c.dept].channel {
		pp = 0.6
	}
	if c.band <= 1 {
		pp += 0.06
	}
	if r.Float64() < pp {
		c.partner = b.partners[pickCum(r, b.partnerCum)]
	}
	engaged := r.Float64() < bandEngaged[c.band]
	potential := !engaged && r.Float64() < 0.45

	// account creation: two thirds of the accounts existed before the data window
	var created int64
	isNew := r.Float64() >= 0.67
	if isNew {
		created = g.growthTime(int64(w.warm)*daySec, int64(w.end-3)*daySec)
		created = g.snap(created, 0)
	} else {
		created = g.bizTime(w.warm - 1 - int32(r.Float64()*6*365))
	}
	c.created = created

	ch.custs = append(ch.custs, custRec{})
	cr := &ch.custs[c.local]
	*cr = custRec{industry: uint8(c.industry), band: uint8(c.band), dept: int32(c.dept),
		branch: int32(c.branch), created: created, owner: int32(w.seats[c.seat].current())}
	cr.source = uint8(pickW(r, srcW))
	g.sims = g.sims[:0]
	if engaged {
		g.simulateOpps(&c, isNew)
	}
	if len(g.sims) > 0 {
		ch.custs[c.local].source = uint8(g.sims[0].source)
	} else if potential {
		g.prospectActivities(&c)
	}
	g.emitCustomer(&c)
	cr = &ch.custs[c.local]
	en, zhn := brandName(g.brandIndex(ci))
	cr.name = g.companyName(&c, en, zhn)
	cr.lifecycle = lifecycleOf(&c)

	// ~0.5% of customers are registered twice under a variant name by another
	// rep who opens a deal on the duplicate record.
	if c.hasOpen && r.Float64() < 0.03 {
		g.duplicateCustomer(&c, cr.name)
	}
}

func lifecycleOf(c *custCtx) uint8 {
	switch {
	case c.hasActive:
		return 4
	case c.hasCt:
		return 3
	case c.hasOpen:
		return 2
	case c.hasAct:
		return 1
	}
	return 0
}

// brandIndex maps a customer number to a unique trade-name index (an affine
// bijection, so neighbouring customers do not get neighbouring names).
func (g *generator) brandIndex(ci int64) int64 {
	n := g.w.nCustomers
	a := int64(7919)
	for gcd(a, n) != 1 {
		a += 2
	}
	return (a*ci + int64(g.w.seed%uint64(n))) % n
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func (g *generator) companyName(c *custCtx, brandEn, brandZh string) string {
	w, r := g.w, g.r
	ind := industries[c.industry]
	word := ind.words[r.IntN(len(ind.words))]
	suf := 0
	switch u := r.Float64(); {
	case c.band >= 3 && u < 0.3:
		suf = 2
	case u < 0.45:
		suf = 1
	}
	city := w.branches[c.branch].city
	if w.loc == zh {
		return city + brandZh + word[zh] + legalSuffix[suf][zh]
	}
	return city + " " + brandEn + " " + word[en] + " " + legalSuffix[suf][en]
}

// simulateOpps draws the customer's opportunities, simulates each through the
// stages, adds renewals of subscriptions and duplicate registrations, and
// sorts them by creation.
func (g *generator) simulateOpps(c *custCtx, isNew bool) {
	w, r := g.w, g.r
	lo := max(c.created, int64(w.warm)*daySec)
	hi := w.endSec - 3600
	frac := float64(hi-lo) / float64(hi-int64(w.warm)*daySec)
	n := 1 + poisson(r, bandOpps[c.band]*math.Sqrt(c.wallet)*frac*g.oppScale)
	seq := 0
	// the book of business signed before the CRM history starts: contracts
	// (no opportunity) still running at the start of the window
	if !isNew {
		nl := poisson(r, bandOpps[c.band]*math.Sqrt(c.wallet)*0.3*36/45)
		for k := 0; k < nl; k++ {
			signed := bizDayFwd(w.start - 1 - int32(r.IntN(3*365)))
			if int64(signed)*daySec < c.created+30*daySec {
				continue
			}
			g.sims = append(g.sims, oppSim{})
			o := &g.sims[len(g.sims)-1]
			o.seq, o.parent = seq, -1
			seq++
			g.legacy(c, o, signed)
			running := o.ctEnd >= w.start
			if o.billing == billProject {
				running = signed >= w.start-300
			}
			if !running || o.cancelled {
				g.sims = g.sims[:len(g.sims)-1]
			}
		}
	}
	for k := 0; k < n; k++ {
		var t int64
		if k == 0 && isNew {
			t = c.created + int64(r.Float64()*20*daySec)
		} else {
			t = lo + int64(r.Float64()*float64(hi-lo))
		}
		if t > hi {
			continue
		}
		t = g.snap(t, c.created)
		if t > w.endSec {
			continue
		}
		g.sims = append(g.sims, oppSim{})
		o := &g.sims[len(g.sims)-1]
		o.seq, o.parent = seq, -1
		seq++
		g.newOpp(c, o, t, -1)
		// keep deals open at the start of the window or created in it
		if o.status != statOpen && o.closed < w.start {
			g.sims = g.sims[:len(g.sims)-1]
		}
	}
	// renewals: a subscription coming to its end gets a renewal deal ~1–2
	// months before, which usually closes won and continues the contract.
	for i := 0; i < len(g.sims); i++ {
		p := g.sims[i]
		if p.status != statWon || p.term == 0 || p.cancelled {
			continue
		}
		d := p.ctEnd - 30 - int32(r.IntN(45))
		if d <= p.closed {
			d = p.closed + 1
		}
		if d > w.end {
			continue
		}
		t := g.snap(g.bizTime(d), p.st[p.nst-1].at)
		if t > w.endSec {
			continue
		}
		g.sims = append(g.sims, oppSim{})
		o := &g.sims[len(g.sims)-1]
		o.seq, o.parent = seq, p.seq
		seq++
		g.renewal(c, &p, o, t)
		if o.status != statOpen && o.closed < w.start {
			if o.status == statWon && !o.cancelled {
				o.legacy = true // renewed before the window: only the contract is known
			} else {
				g.sims = g.sims[:len(g.sims)-1]
			}
		}
	}
	// duplicate registrations (撞单): another rep or a partner registers a
	// deal on the same customer and product line while one is open.
	nOrig := len(g.sims)
	for i := 0; i < nOrig; i++ {
		if r.Float64() >= 0.017 || g.sims[i].parent >= 0 || g.sims[i].legacy {
			continue
		}
		orig := g.sims[i]
		t := orig.created + int64(g.unif(2, 28)*daySec)
		t = g.snap(t, orig.created)
		openUntil := w.endSec
		if orig.status != statOpen {
			openUntil = orig.st[orig.nst-1].at
		}
		if t >= openUntil || t > w.endSec {
			continue
		}
		g.sims = append(g.sims, oppSim{})
		o := &g.sims[len(g.sims)-1]
		o.seq, o.parent = seq, -1
		seq++
		g.newOpp(c, o, t, i)
		if o.status != statOpen && o.closed < w.start {
			g.sims = g.sims[:len(g.sims)-1]
		}
	}
	slices.SortStableFunc(g.sims, func(a, b oppSim) int { return cmp.Compare(a.created, b.created) })
}

// subscriptionPeriod: a subscription starts on the signing day, or on the
// first of next month when signed in the second half of a month.
func subscriptionPeriod(w *world, signed int32, term int) (int32, int32) {
	start := signed
	if _, _, dd := civil(int64(signed)); dd > 15 {
		if s := monthStart(monthIndex(signed) + 1); s <= w.end {
			start = s
		}
	}
	return start, addMonths(start, term) - 1
}

// renewal fills in the renewal deal o of the won subscription p.
func (g *generator) renewal(c *custCtx, p *oppSim, o *oppSim, t int64) {
	w, r := g.w, g.r
	o.created = t
	o.closed = noDay
	o.comp, o.reason = -1, -1
	o.seat, o.product, o.line, o.term = p.seat, p.product, p.line, p.term
	o.partner, o.source, o.campaign = p.partner, p.source, p.campaign
	// the main line is renewed: users change a little, prices go up a little
	o.billing = p.billing
	f := math.Exp(0.05 + 0.12*r.NormFloat64())
	years := float64(o.term) / 12
	l := p.lines[0]
	if w.products[l.product].monthly {
		units := math.Max(1, math.Round(float64(l.qty)/1000/years*f))
		l.qty = int64(math.Round(units * years * 1000))
		l.price = int64(math.Round(float64(l.price)/100*g.unif(1, 1.05))) * 100
	} else {
		l.price = int64(math.Round(float64(l.price)/100*f)) * 100
	}
	o.lines[0] = l
	o.nLines = 1
	o.amount = l.qty * l.price / 1000
	o.costC = l.qty * w.products[l.product].costC / 1000
	m := w.reps[w.seats[o.seat].repAt(int32(t/daySec))].skill
	if c.declining {
		m *= 0.3
	}
	g.walkStages(o, m, renewMedian, renewConv, 0.03)
	if o.status == statWon && p.ctEnd >= w.end {
		// agreed but not signed yet: renewals are signed close to the
		// renewal date, so the deal is still in negotiation at End
		o.nst--
		o.status = statOpen
		o.closed = noDay
	}
	o.owner = w.seats[o.seat].repAt(w.end)
	switch o.status {
	case statWon:
		o.owner = w.seats[o.seat].repAt(o.closed)
		o.reason = pickW(r, []float64{30, 20, 5, 40, 5, 0})
		g.afterWin(o)
		// the new period follows the old one
		o.ctStart = max(p.ctEnd+1, o.closed)
		o.ctEnd = addMonths(o.ctStart, o.term) - 1
	case statLost:
		o.owner = w.seats[o.seat].repAt(o.closed)
		o.reason = pickW(r, []float64{30, 35, 0, 35, 0, 0, 0, 0})
		if o.reason == lostCompetitor || r.Float64() < 0.3 {
			o.comp = pickW(r, competitorW)
		}
	}
}

// legacy fills in a contract signed before the data window, migrated from
// the previous system without its opportunity.
func (g *generator) legacy(c *custCtx, o *oppSim, signed int32) {
	w, r := g.w, g.r
	o.legacy = true
	o.created = g.bizTime(signed)
	o.closed = signed
	o.status = statWon
	o.campaign, o.partner, o.comp, o.reason = -1, -1, -1, -1
	o.seat = c.seat
	o.line = pickCum(r, industryLineCum[c.industry])
	o.product = w.lineProds[o.line][pickCum(r, w.lineProdCum[o.line])]
	o.source = pickW(r, srcW)
	g.buildLines(c, o)
	o.owner = w.seats[o.seat].repAt(w.start) // the owner when migrated
	o.st[0] = stageRec{stage: stWon, at: o.created}
	o.nst = 1
	g.afterWin(o)
}

// afterWin decides what happens to the contract of a won deal.
func (g *generator) afterWin(o *oppSim) {
	o.cancelled = g.r.Float64() < 0.01
	if o.term > 0 {
		o.ctStart, o.ctEnd = subscriptionPeriod(g.w, o.closed, o.term)
	}
}

// newOpp fills in an opportunity created at t; dupOf >= 0 makes it a
// duplicate registration of g.sims[dupOf].
func (g *generator) newOpp(c *custCtx, o *oppSim, t int64, dupOf int) {
	w, r := g.w, g.r
	o.created = t
	o.closed = noDay
	o.campaign = -1
	o.partner = -1
	o.comp = -1
	o.reason = -1
	b := &w.branches[c.branch]
	day := int32(t / daySec)
	if dupOf >= 0 {
		orig := &g.sims[dupOf]
		o.collision = true
		o.line = orig.line
		o.product = orig.product
		if r.Float64() < 0.5 {
			o.product = w.lineProds[o.line][pickCum(r, w.lineProdCum[o.line])]
		}
		// another rep of the branch (seats never share a rep)
		o.seat = b.seats[r.IntN(len(b.seats))]
		for o.seat == orig.seat {
			o.seat = b.seats[r.IntN(len(b.seats))]
		}
		if r.Float64() < 0.4 && len(b.partners) > 1 {
			for range 10 {
				o.partner = b.partners[pickCum(r, b.partnerCum)]
				if o.partner != orig.partner {
					break
				}
			}
		}
	} else {
		o.seat = c.seat
		o.line = pickCum(r, industryLineCum[c.industry])
		o.product = w.lineProds[o.line][pickCum(r, w.lineProdCum[o.line])]
		// channel customers buy through their partner, almost always
		if c.partner >= 0 && r.Float64() < 0.92 {
			o.partner = c.partner
		} else if c.partner < 0 && r.Float64() < 0.03 {
			o.partner = b.partners[pickCum(r, b.partnerCum)]
		}
	}
	if o.partner >= 0 {
		o.source = srcPartner
	} else {
		o.source = pickW(r, srcW)
		if o.source == srcCampaign || o.source == srcExhibition {
			o.campaign = g.pickCampaign(day, o.source == srcExhibition)
			if o.campaign < 0 {
				o.source = srcInbound
			}
		}
	}
	g.buildLines(c, o)

	// win propensity
	m := bandWin[c.band] * srcWin[o.source] * w.reps[w.seats[o.seat].repAt(day)].skill
	if o.partner >= 0 {
		m *= w.partners[o.partner].quality
	}
	if c.costly {
		m *= 1.1
	}
	if o.collision {
		g.simulateCollision(o)
	} else {
		g.walkStages(o, m, stageMedian, stageConv, 0.065)
	}
	ownerDay := w.end
	if o.status != statOpen {
		ownerDay = o.closed
	}
	o.owner = w.seats[o.seat].repAt(ownerDay)
	// reasons and competitors
	switch o.status {
	case statWon:
		g.afterWin(o)
		rw := wonReasonW
		if o.partner >= 0 && r.Float64() < 0.3 {
			o.reason = 5
		} else {
			o.reason = pickW(r, rw)
		}
		if r.Float64() < 0.5 {
			o.comp = pickW(r, competitorW)
		}
	case statLost:
		if o.reason < 0 {
			if o.stalled && r.Float64() < 0.6 {
				o.reason = lostNoDecision
			} else {
				o.reason = pickW(r, lostReasonW)
			}
		}
		if o.reason == lostCompetitor || (o.reason != lostDuplicate && r.Float64() < 0.4) {
			o.comp = pickW(r, competitorW)
		}
	default:
		if r.Float64() < 0.45 {
			o.comp = pickW(r, competitorW)
		}
	}
}

func (g *generator) pickCampaign(day int32, exhibition bool) int {
	var cand [8]int
	n := 0
	for i := range g.w.campaigns {
		cp := &g.w.campaigns[i]
		if cp.exhibition == exhibition && cp.start <= day && day <= cp.end+60 && n < len(cand) {
			cand[n] = i
			n++
		}
	}
	if n == 0 {
		return -1
	}
	return cand[g.r.IntN(n)]
}

// buildLines prices the deal: a main product plus typical add-ons, each line
// quantity × unit price, so the deal amount is exactly the sum of its lines.
func (g *generator) buildLines(c *custCtx, o *oppSim) {
	w, r := g.w, g.r
	target := bandAmt[c.band] * c.wallet * lineAmt[o.line] * industries[c.industry].amt *
		regionDefs[w.branches[c.branch].region].amtScale * math.Exp(0.75*r.NormFloat64())
	if target > 20e6 {
		target = 20e6 + (target-20e6)*0.2 // even the biggest accounts rarely sign more
	}
	rate := 1.0
	if c.usd {
		rate = w.rate(int32(o.created / daySec))
	}
	disc := g.unif(0, 0.18)
	if target > 500000 {
		disc += 0.06
	}
	if c.costly {
		disc += g.unif(0.2, 0.35)
	}
	main := &w.products[o.product]
	o.term = 0
	o.billing = billProject
	switch {
	case main.monthly && o.line == lineHardware:
		o.billing = billFrame
	case main.monthly:
		o.billing = billSubscription
	}
	switch {
	case o.billing == billFrame:
		o.term = 12
	case o.billing == billSubscription:
		switch u := r.Float64(); {
		case u < 0.78:
			o.term = 12
		case u < 0.92:
			o.term = 24
		default:
			o.term = 36
		}
	}
	type part struct {
		p     int
		share float64
	}
	var parts [4]part
	np := 0
	parts[np] = part{o.product, 1}
	np++
	switch o.line {
	case lineERP, lineAnalytics:
		if r.Float64() < 0.65 {
			parts[np] = part{prodImplementation, g.unif(0.15, 0.35)}
			np++
		}
		if r.Float64() < 0.35 {
			parts[np] = part{prodEndUserTrain + r.IntN(2), g.unif(0.02, 0.06)}
			np++
		}
		if o.billing == billProject && r.Float64() < 0.15 {
			parts[np] = part{prodRackServer, g.unif(0.05, 0.15)}
			np++
		}
	case lineCRM:
		if r.Float64() < 0.3 {
			parts[np] = part{prodImplementation, g.unif(0.08, 0.2)}
			np++
		}
	case lineHardware:
		if o.billing == billProject && r.Float64() < 0.25 {
			parts[np] = part{prodImplementation, g.unif(0.05, 0.15)}
			np++
		}
	case lineServices:
		if o.billing == billProject && r.Float64() < 0.2 {
			parts[np] = part{prodDataMigration, g.unif(0.1, 0.3)}
			np++
		}
	}
	var tot float64
	for i := 0; i < np; i++ {
		tot += parts[i].share
	}
	o.nLines = 0
	o.amount = 0
	o.costC = 0
	years := float64(o.term) / 12
	for i := 0; i < np; i++ {
		p := &w.products[parts[i].p]
		amt := target * parts[i].share / tot
		unit := math.Round(float64(p.list) * (1 - disc) / rate)
		if unit < 1 {
			unit = 1
		}
		var qm int64             // thousandths
		q := amt / (unit * rate) // amt is in CNY, unit in the deal's currency
		switch {
		case i == 0 && o.billing == billSubscription:
			// users (or instances) × years
			users := math.Max(1, math.Round(q/years))
			qm = int64(math.Round(users * years * 1000))
		case p.halfQty:
			qm = int64(math.Max(1, math.Round(q*2))) * 500
		default:
			qm = int64(math.Max(1, math.Round(q))) * 1000
		}
		priceC := int64(unit) * 100
		o.lines[o.nLines] = lineRec{no: int16(o.nLines + 1), product: int16(parts[i].p), qty: qm, price: priceC}
		o.nLines++
		o.amount += qm * priceC / 1000
		o.costC += qm * p.costC / 1000
	}
}

func oddsAdj(p, m float64) float64 { return p * m / (1 - p + p*m) }

// walkStages walks the deal through the funnel: lognormal days in stage, a
// conversion chance per stage, ~10% skip a stage, some stall somewhere.
func (g *generator) walkStages(o *oppSim, m float64, median, conv []float64, stallP float64) {
	w, r := g.w, g.r
	t := o.created
	o.st[0] = stageRec{stage: stLead, at: t}
	o.nst = 1
	s := stLead
	skipAt := -1
	if r.Float64() < 0.15 {
		skipAt = r.IntN(3)
	}
	stallAt := -1
	if r.Float64() < stallP {
		stallAt = r.IntN(5)
	}
	for {
		d := lognorm(r, median[s], 0.55)
		p := oddsAdj(conv[s], m)
		if s == stallAt {
			d *= g.unif(4, 10)
			p = oddsAdj(p, 0.5)
			o.stalled = true
		}
		adv := r.Float64() < p
		if !adv {
			d *= 1.2
		}
		next := g.snap(t+int64(d*daySec), t)
		if next > w.endSec {
			o.status = statOpen
			return
		}
		if !adv {
			o.st[o.nst] = stageRec{stage: stLost, at: next}
			o.nst++
			o.status = statLost
			break
		}
		ns := s + 1
		if s == skipAt {
			ns = s + 2
		}
		if s == stNegotiation {
			ns = stWon
		}
		o.st[o.nst] = stageRec{stage: uint8(ns), at: next}
		o.nst++
		t = next
		if ns == stWon {
			o.status = statWon
			break
		}
		s = ns
	}
	g.seasonal(o)
}

// simulateCollision: a duplicate registration is ruled on within weeks and
// closed lost as a duplicate (the first registrant keeps the deal).
func (g *generator) simulateCollision(o *oppSim) {
	w, r := g.w, g.r
	o.st[0] = stageRec{stage: stLead, at: o.created}
	o.nst = 1
	t := o.created
	if r.Float64() < 0.4 {
		q := g.snap(t+int64(g.unif(1, 7)*daySec), t)
		if q <= w.endSec {
			o.st[1] = stageRec{stage: stQualified, at: q}
			o.nst = 2
			t = q
		}
	}
	end := g.snap(t+int64(g.unif(5, 40)*daySec), t)
	if end > w.endSec {
		o.status = statOpen
		return
	}
	o.st[o.nst] = stageRec{stage: stLost, at: end}
	o.nst++
	o.status = statLost
	o.reason = lostDuplicate
	o.closed = int32(end / daySec)
}

// seasonal moves closing dates the way sales teams do: deals are pushed or
// pulled into quarter-end months (December most), and deals that would close
// in the Chinese New Year month slip into the next month.
func (g *generator) seasonal(o *oppSim) {
	w, r := g.w, g.r
	last := o.st[o.nst-1].at
	closeDay := int32(last / daySec)
	createdDay := int32(o.created / daySec)
	k := 1.0
	if o.status == statLost {
		k = 0.5
	}
	y, m, _ := civil(int64(closeDay))
	mi := y*12 + m - 1
	nd := closeDay
	moved := false
	cnyMonth := m == w.cnyMonth[y]
	if cnyMonth && r.Float64() < 0.3*k {
		nd = monthStart(mi+1) + int32(r.IntN(12))
		moved = true
	}
	if !moved && !cnyMonth {
		u := r.Float64()
		switch (m - 1) % 3 {
		case 0: // first month of a quarter: pulled back into the last quarter's close
			p := 0.12
			switch m {
			case 1:
				p = 0.3 // year-end: January deals are pulled into December
			case 10:
				// October: the year-end push wins over the Q3 pull-back
				p = 0.08
				if u >= p*k && u < (p+0.15)*k {
					nd = monthEnd(mi+2) - int32(15*r.Float64()*r.Float64())
					moved = true
				}
			}
			if u < p*k {
				nd = monthEnd(mi-1) - int32(10*r.Float64()*r.Float64())
				moved = true
			}
		case 1: // second month: pushed to the quarter-end month
			p := 0.2
			switch m {
			case 2:
				p = 0.15
			case 11:
				p = 0.55 // year-end push
			}
			if u < p*k {
				nd = monthEnd(mi+1) - int32(15*r.Float64()*r.Float64())
				moved = true
			}
		}
	}
	if moved {
		switch weekday(nd) {
		case 6:
			nd--
		case 0:
			nd -= 2
		}
	}
	if nd > w.end || nd <= createdDay {
		nd = closeDay
	}
	newClose := last
	if nd != closeDay {
		newClose = g.bizTime(nd)
		// rescale the stage history between creation and the new close
		f := float64(newClose-o.created) / float64(last-o.created)
		prev := o.created
		for i := 1; i < o.nst-1; i++ {
			at := o.created + int64(float64(o.st[i].at-o.created)*f)
			// back into office hours: squeeze the day into 09:00-19:00
			day := floorDiv(at, daySec)
			at = day*daySec + 9*3600 + (at-day*daySec)*10/24
			if at <= prev {
				at = prev + 1
			}
			o.st[i].at = at
			prev = at
		}
		if newClose <= prev {
			newClose = prev + 1
		}
		o.st[o.nst-1].at = newClose
	}
	o.closed = int32(newClose / daySec)
}
