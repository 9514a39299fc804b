package synth

import (
	"cmp"
	"math"
	"slices"
)

var oppActKindW = []float64{22, 35, 16, 22, 5} // visit, call, meeting, email, event

type monthlyCt struct {
	ct         int32
	start, end int32
	tranche    int64 // smallest monthly tranche
	owner      int
	usd        bool
}

// emitCustomer writes the customer's simulated opportunities with their
// stage history, activities, expenses, contracts, schedules and payments.
func (g *generator) emitCustomer(c *custCtx) {
	w, r, ch := g.w, g.r, g.ch
	g.pays = g.pays[:0]
	g.acts = g.acts[:0]
	g.exps = g.exps[:0]
	g.monthly = g.monthly[:0]
	g.dead = g.dead[:0]
	for i := range g.sims {
		o := &g.sims[i]
		if o.parent >= 0 && slices.Contains(g.dead, o.parent) {
			// the contract it would renew was cancelled or terminated
			g.dead = append(g.dead, o.seq)
			continue
		}
		if o.legacy {
			g.contract(c, o, -1)
			continue
		}
		oi := int32(len(ch.opps))
		for k := 0; k < o.nst; k++ {
			ch.stages = append(ch.stages, stageRec{opp: oi, stage: o.st[k].stage, at: o.st[k].at})
		}
		lastStage := o.st[o.nst-1].at
		endAt := int64(w.end)*daySec + 18*3600 // office hours on End
		if o.status != statOpen {
			endAt = lastStage
		}
		// campaign response that produced the lead
		if o.campaign >= 0 {
			cp := &w.campaigns[o.campaign]
			lo := max(c.created, int64(cp.start)*daySec)
			at := o.created - 60
			if o.created-lo > 3600 {
				at = g.snap(lo+int64(r.Float64()*float64(o.created-lo)), lo)
				if at >= o.created {
					at = o.created - 60
				}
			}
			kind := uint8(akEmail)
			switch cp.channel {
			case "exhibition", "seminar", "webinar":
				kind = akEvent
			}
			g.acts = append(g.acts, actRec{cust: c.local, opp: -1, rep: -1, kind: kind, at: at, campaign: int16(o.campaign)})
			c.hasAct = true
		}
		// sales activities along the deal
		na := 1 + poisson(r, 0.8*float64(o.nst))
		if o.stalled {
			na = 1 + na/3
		}
		lastAct := int64(0)
		for k := 0; k < na; k++ {
			at := o.created + int64(r.Float64()*float64(endAt-o.created))
			at = g.snap(at, o.created)
			if at > endAt {
				at = max(o.created, endAt-int64(r.IntN(600)))
			}
			rp := w.seats[o.seat].repAt(int32(at / daySec))
			g.acts = append(g.acts, actRec{cust: c.local, opp: oi, rep: int32(rp), kind: uint8(pickW(r, oppActKindW)), at: at, campaign: -1})
			lastAct = max(lastAct, at)
			c.hasAct = true
		}
		updated := max(lastStage, lastAct)
		if o.status == statOpen && r.Float64() < 0.5 {
			// some other field edit since
			updated = g.snap(updated+int64(r.Float64()*20*daySec), updated)
		}
		if updated > w.endSec {
			updated = max(lastStage, lastAct)
		}
		// pursuit expenses
		rate := 1.0
		if c.usd {
			rate = w.rate(int32(o.created / daySec))
		}
		amtCNY := float64(o.amount) / 100 * rate
		ne := poisson(r, 0.3+0.25*float64(o.nst))
		for k := 0; k < ne; k++ {
			day := int32((o.created + int64(r.Float64()*float64(endAt-o.created))) / daySec)
			cat := uint8(pickW(r, []float64{35, 25, 30, 0, 0}))
			if o.campaign >= 0 && r.Float64() < 0.3 {
				cat = exMarketing
			}
			a := math.Max(150, amtCNY*0.0025*math.Exp(0.7*r.NormFloat64()))
			if cat == exPresales {
				a *= 2
			}
			if c.costly {
				a *= 3
			}
			a = math.Min(a, 200000)
			g.exps = append(g.exps, expRec{cust: c.local, opp: oi, contract: -1, day: day, amount: int64(math.Round(a)) * 100, cat: cat})
		}
		// the opportunity row
		or := oppRec{cust: c.local, owner: int32(o.owner), partner: int32(o.partner), product: int16(o.product),
			campaign: int16(o.campaign), amount: o.amount, usd: c.usd, status: uint8(o.status), source: uint8(o.source),
			reason: int8(o.reason), competitor: int8(o.comp), created: o.created, closed: o.closed, updated: updated}
		or.stage = o.st[o.nst-1].stage
		createdDay := int32(o.created / daySec)
		switch o.status {
		case statOpen:
			p := stageProb[or.stage] + r.IntN(21) - 10
			or.prob = int8(min(100, max(0, p)))
			plan := createdDay + int32(lognorm(r, 90, 0.4))
			if plan <= w.end && r.Float64() < 0.75 {
				plan = w.end + 5 + int32(r.IntN(115))
			}
			or.expClose = plan
		default:
			or.prob = int8(stageProb[or.stage])
			ec := o.closed + int32(15*r.NormFloat64())
			or.expClose = min(w.end, max(createdDay, ec))
		}
		if o.status == statOpen {
			c.hasOpen = true
		}
		ch.opps = append(ch.opps, or)
		if o.status == statWon {
			g.contract(c, o, oi)
		}
	}
	// occasional campaign response without a deal
	if len(g.sims) > 0 && r.Float64() < 0.2 {
		g.campaignResponse(c)
	}
	if c.declining {
		g.decline(c)
	}
	slices.SortStableFunc(g.pays, func(a, b payRec) int { return cmp.Compare(a.paid, b.paid) })
	for _, p := range g.pays {
		ct := &ch.contracts[p.contract]
		rate := 1.0
		if p.usd {
			rate = w.rate(p.paid)
		}
		mi := monthIndex(p.paid) - w.startMonth
		if mi >= 0 {
			g.agg.collections[ct.owner][mi] += int64(math.Round(float64(p.amount) * rate))
		}
	}
	ch.pays = append(ch.pays, g.pays...)
	slices.SortStableFunc(g.exps, func(a, b expRec) int { return cmp.Compare(a.day, b.day) })
	ch.exps = append(ch.exps, g.exps...)
	slices.SortStableFunc(g.acts, func(a, b actRec) int { return cmp.Compare(a.at, b.at) })
	ch.acts = append(ch.acts, g.acts...)
}

// prospectActivities: calls, emails and campaign responses on a prospect
// that never became an opportunity.
func (g *generator) prospectActivities(c *custCtx) {
	w, r := g.w, g.r
	lo := max(c.created, int64(w.start)*daySec)
	n := 1 + poisson(r, 1.5)
	for k := 0; k < n; k++ {
		at := g.snap(lo+int64(r.Float64()*float64(w.endSec-lo)), lo)
		if at > w.endSec {
			continue
		}
		day := int32(at / daySec)
		if r.Float64() < 0.3 {
			if cp := g.activeCampaign(day); cp >= 0 {
				kind := uint8(akEmail)
				if ch := w.campaigns[cp].channel; ch == "exhibition" || ch == "seminar" || ch == "webinar" {
					kind = akEvent
				}
				g.acts = append(g.acts, actRec{cust: c.local, opp: -1, rep: -1, kind: kind, at: at, campaign: int16(cp)})
				c.hasAct = true
				continue
			}
		}
		rp := w.seats[c.seat].repAt(day)
		kind := uint8(pickW(r, []float64{15, 45, 5, 35, 0}))
		g.acts = append(g.acts, actRec{cust: c.local, opp: -1, rep: int32(rp), kind: kind, at: at, campaign: -1})
		c.hasAct = true
	}
}

func (g *generator) campaignResponse(c *custCtx) {
	w, r := g.w, g.r
	lo := max(c.created, int64(w.start)*daySec)
	at := g.snap(lo+int64(r.Float64()*float64(w.endSec-lo)), lo)
	if at > w.endSec {
		return
	}
	cp := g.activeCampaign(int32(at / daySec))
	if cp < 0 {
		return
	}
	kind := uint8(akEmail)
	if ch := w.campaigns[cp].channel; ch == "exhibition" || ch == "seminar" || ch == "webinar" {
		kind = akEvent
	}
	g.acts = append(g.acts, actRec{cust: c.local, opp: -1, rep: -1, kind: kind, at: at, campaign: int16(cp)})
}

func (g *generator) activeCampaign(day int32) int {
	var cand [8]int
	n := 0
	for i := range g.w.campaigns {
		cp := &g.w.campaigns[i]
		if cp.start <= day && day <= cp.end+14 && n < len(cand) {
			cand[n] = i
			n++
		}
	}
	if n == 0 {
		return -1
	}
	return cand[g.r.IntN(n)]
}

func splitAmount(total int64, shares []float64, out []int64) []int64 {
	out = out[:0]
	var sum int64
	for i, s := range shares {
		var a int64
		if i == len(shares)-1 {
			a = total - sum
		} else {
			// whole yuan (or dollars), the last part takes the cents
			a = int64(math.Round(float64(total)*s/100)) * 100
			if a > total-sum {
				a = total - sum
			}
		}
		out = append(out, a)
		sum += a
	}
	return out
}

var projectTemplates = [][]float64{
	{1}, {0.5, 0.5}, {0.7, 0.3}, {0.9, 0.1}, {0.3, 0.6, 0.1}, {0.3, 0.4, 0.3}, {0.4, 0.5, 0.1},
	{0.3, 0.3, 0.3, 0.1}, {0.2, 0.3, 0.4, 0.1},
}

type tranche struct {
	day    int32
	amount int64
}

// installment outcome: 0 on time, 1 late, 2 partial, 3 never paid.
func (g *generator) outcome(c *custCtx) int {
	u := g.r.Float64()
	var p [3]float64
	switch c.payType {
	case 0:
		p = [3]float64{0.86, 0.96, 0.99}
	case 1:
		p = [3]float64{0.45, 0.86, 0.955}
	default:
		p = [3]float64{0.28, 0.58, 0.80}
	}
	switch {
	case u < p[0]:
		return 0
	case u < p[1]:
		return 1
	case u < p[2]:
		return 2
	}
	return 3
}

// contract turns a won deal into a contract with lines, a settlement plan and
// the payments actually received up to End.
func (g *generator) contract(c *custCtx, o *oppSim, oi int32) {
	w, r, ch := g.w, g.r, g.ch
	ci := int32(len(ch.contracts))
	c.hasCt = true
	signed := o.closed
	ct := contractRec{opp: oi, cust: c.local, owner: int32(o.owner), signed: signed, amount: o.amount, usd: c.usd}
	for k := 0; k < o.nLines; k++ {
		l := o.lines[k]
		l.contract = ci
		ch.lines = append(ch.lines, l)
	}
	rateS := 1.0
	if c.usd {
		rateS = w.rate(signed)
	}
	if mi := monthIndex(signed) - w.startMonth; mi >= 0 {
		g.agg.bookings[o.owner][mi] += int64(math.Round(float64(o.amount) * rateS))
	}
	cancelled := o.cancelled
	var monthlyTranche int64
	var dues [4]int32
	var amts [4]int64
	var planIdx [5]int
	g.plan = g.plan[:0]
	n := 0
	monthly := o.billing != billProject
	if monthly {
		start := o.ctStart
		ct.start = start
		ct.end = o.ctEnd
		var shares [4]float64
		switch {
		case o.billing == billSubscription && o.term > 12:
			// multi-year subscriptions are invoiced a year in advance
			n = o.term / 12
			for k := 0; k < n; k++ {
				shares[k] = 1 / float64(n)
			}
			a := splitAmount(o.amount, shares[:n], amts[:0])
			for k := 0; k < n; k++ {
				due := bizDayFwd(addMonths(start, 12*k) + 30)
				dues[k] = due
				planIdx[k] = len(g.plan)
				g.plan = append(g.plan, tranche{max(signed, due-int32(r.IntN(25))), a[k]})
			}
			monthly = false
		default:
			// monthly tranches (subscriptions) or purchase orders (frame
			// agreements, after a 30% deposit) over quarterly installments
			n = 4
			first := 0
			if o.billing == billFrame {
				shares[0] = 0.3
				for k := 1; k < 4; k++ {
					shares[k] = 0.7 / 3
				}
				first = 1
			} else {
				for k := 0; k < 4; k++ {
					shares[k] = 0.25
				}
			}
			a := splitAmount(o.amount, shares[:n], amts[:0])
			P := 12 / (n - first)
			minTr := int64(math.MaxInt64)
			var trShares [12]float64
			var trA [12]int64
			if first == 1 {
				dues[0] = bizDayFwd(signed + 10)
				planIdx[0] = len(g.plan)
				g.plan = append(g.plan, tranche{signed + int32(r.IntN(10)), a[0]})
			}
			for k := first; k < n; k++ {
				kk := k - first
				dues[k] = addMonths(start, (kk+1)*P) - 1
				planIdx[k] = len(g.plan)
				for j := 0; j < P; j++ {
					trShares[j] = 1 / float64(P)
				}
				ta := splitAmount(a[k], trShares[:P], trA[:0])
				for j := 0; j < P; j++ {
					ms := addMonths(start, kk*P+j)
					y, m, _ := civil(int64(ms))
					minTr = min(minTr, ta[j])
					if o.billing == billFrame {
						// bigger agreements order more often
						lam := math.Min(3.5, math.Max(0.2, float64(ta[j])/100*rateS/8000))
						no := min(7, 1+poisson(r, lam))
						var ws [7]float64
						var wsum float64
						for q := 0; q < no; q++ {
							ws[q] = math.Exp(0.5 * r.NormFloat64())
							wsum += ws[q]
						}
						for q := 0; q < no; q++ {
							ws[q] /= wsum
						}
						var oa [7]int64
						d0 := 2 + r.IntN(8)
						for q, x := range splitAmount(ta[j], ws[:no], oa[:0]) {
							day := bizDayFwd(dayOf(y, m, min(28, d0+q*(26-d0)/no+r.IntN(3))))
							g.plan = append(g.plan, tranche{day, x})
						}
					} else {
						day := bizDayFwd(dayOf(y, m, 5+r.IntN(20)))
						g.plan = append(g.plan, tranche{day, ta[j]})
					}
				}
			}
			monthlyTranche = minTr
		}
		planIdx[n] = len(g.plan)
	} else {
		start := min(w.end, signed+int32(r.IntN(15)))
		ct.start = start
		var dur float64
		switch o.line {
		case lineERP:
			dur = g.unif(120, 300)
		case lineAnalytics:
			dur = g.unif(60, 180)
		case lineHardware:
			dur = g.unif(14, 60)
		case lineServices:
			dur = g.unif(30, 120)
		default:
			dur = g.unif(7, 45)
		}
		var ti int
		amtCNY := float64(o.amount) / 100 * rateS
		switch {
		case amtCNY < 50000:
			ti = []int{0, 0, 0, 1}[r.IntN(4)]
		case amtCNY < 500000:
			ti = []int{1, 2, 3, 4, 5}[r.IntN(5)]
		default:
			ti = []int{4, 6, 7, 8}[r.IntN(4)]
		}
		tpl := projectTemplates[ti]
		n = len(tpl)
		a := splitAmount(o.amount, tpl, amts[:0])
		accept := start + int32(dur)
		retention := n >= 3 && tpl[n-1] == 0.1
		for k := 0; k < n; k++ {
			var due int32
			switch {
			case k == 0:
				due = signed + 7 + int32(r.IntN(24))
			case retention && k == n-1:
				due = accept + 365
			default:
				last := n - 1
				if retention {
					last = n - 2
				}
				due = signed + int32(float64(accept-signed)*float64(k)/float64(max(1, last)))
			}
			due = bizDayFwd(due)
			if k > 0 && due <= dues[k-1] {
				due = dues[k-1] + 1
			}
			dues[k] = due
			planIdx[k] = len(g.plan)
			if r.Float64() < 0.5 && a[k] > 5000000 {
				// paid in two or three bank acceptance bills
				parts := 2 + r.IntN(2)
				var sh [3]float64
				for j := 0; j < parts; j++ {
					sh[j] = 1 / float64(parts)
				}
				var pa [3]int64
				for j, x := range splitAmount(a[k], sh[:parts], pa[:0]) {
					g.plan = append(g.plan, tranche{due - int32(r.IntN(8)) + int32(j), x})
				}
			} else {
				g.plan = append(g.plan, tranche{due - int32(r.IntN(10)), a[k]})
			}
		}
		planIdx[n] = len(g.plan)
		ct.end = max(accept, dues[n-1])
	}
	for k := 0; k < n; k++ {
		ch.sched = append(ch.sched, schedRec{contract: ci, due: dues[k], amount: amts[k]})
	}
	if cancelled {
		g.dead = append(g.dead, o.seq)
		ct.status = ctCancelled
		ct.end = ct.start + 3 + int32(r.IntN(28))
		ch.contracts = append(ch.contracts, ct)
		return
	}
	// payments per installment
	term := noDay
	p0 := len(g.pays)
	for k := 0; k < n; k++ {
		if term != noDay && dues[k] > term {
			break
		}
		oc := g.outcome(c)
		pl := g.plan[planIdx[k]:planIdx[k+1]]
		switch oc {
		case 1: // late
			delay := int32(math.Max(1, lognorm(r, 18, 0.8)))
			if monthly {
				for j := range pl {
					pl[j].day += delay / 2
				}
				pl[len(pl)-1].day = max(pl[len(pl)-1].day, dues[k]+delay)
			} else {
				for j := range pl {
					pl[j].day = dues[k] + delay + int32(j)
				}
			}
		case 2: // partial
			f := g.unif(0.3, 0.9)
			left := int64(float64(amts[k]) * f)
			var kept []tranche = pl[:0]
			for _, t := range pl {
				if left <= 0 {
					break
				}
				if t.amount > left {
					t.amount = left
				}
				left -= t.amount
				kept = append(kept, t)
			}
			pl = kept
		case 3: // never
			pl = pl[:0]
			if term == noDay && r.Float64() < 0.6 {
				td := dues[k] + 60 + int32(r.IntN(90))
				if td <= w.end {
					term = td
				}
			}
		}
		for _, t := range pl {
			day := bizDayFwd(max(t.day, signed))
			if day > w.end || (term != noDay && day > term) {
				continue
			}
			g.pays = append(g.pays, payRec{contract: ci, cust: c.local, paid: day, amount: t.amount, usd: c.usd,
				method: uint8(g.method(monthly, float64(t.amount)/100*rateS))})
		}
	}
	if term != noDay {
		// drop anything after the termination (late payments of earlier installments)
		kept := g.pays[:p0]
		for _, p := range g.pays[p0:] {
			if p.paid <= term {
				kept = append(kept, p)
			}
		}
		g.pays = kept
		g.dead = append(g.dead, o.seq)
		ct.status = ctTerminated
		ct.end = max(term, ct.start)
	} else if ct.end < w.end {
		ct.status = ctCompleted
	} else {
		ct.status = ctActive
		c.hasActive = true
		if monthly {
			g.monthly = append(g.monthly, monthlyCt{ct: ci, start: ct.start, end: ct.end, tranche: monthlyTranche, owner: o.owner, usd: c.usd})
		}
	}
	// refunds (~0.3% of payments): part of a payment returned
	p1 := len(g.pays)
	for i := p0; i < p1; i++ {
		p := g.pays[i]
		if r.Float64() < 0.003 {
			day := bizDayFwd(p.paid + 5 + int32(r.IntN(55)))
			if day <= w.end {
				amt := int64(float64(p.amount) * g.unif(0.1, 1))
				g.pays = append(g.pays, payRec{contract: ci, cust: c.local, paid: day, amount: -max(1, amt), usd: c.usd, method: p.method})
			}
		}
	}
	ch.contracts = append(ch.contracts, ct)

	// delivery and service: expenses and visits while the contract runs
	svcEnd := min(ct.end, w.end)
	if svcEnd > ct.start {
		months := float64(svcEnd-ct.start) / 30
		ne := min(10, 1+poisson(r, months/5))
		amtCNY := float64(o.amount) / 100 * rateS
		for k := 0; k < ne; k++ {
			day := ct.start + int32(r.Float64()*float64(svcEnd-ct.start))
			a := math.Max(200, amtCNY*0.006*math.Exp(0.6*r.NormFloat64()))
			cat := uint8(exService)
			if r.Float64() < 0.2 {
				cat = exTravel
			}
			if c.costly {
				a *= g.unif(12, 24)
			}
			g.exps = append(g.exps, expRec{cust: c.local, opp: -1, contract: ci, day: day, amount: int64(math.Round(a)) * 100, cat: cat})
		}
		nv := min(8, poisson(r, months/4))
		for k := 0; k < nv; k++ {
			at := g.snap((int64(ct.start)+int64(r.Float64()*float64(svcEnd-ct.start)))*daySec, 0)
			if at > w.endSec {
				continue
			}
			rp := w.seats[o.seat].repAt(int32(at / daySec))
			if w.reps[rp].hired > int32(at/daySec) {
				continue // before the account's rep joined (contracts from before the window)
			}
			g.acts = append(g.acts, actRec{cust: c.local, opp: -1, rep: int32(rp), kind: uint8(pickW(r, []float64{45, 30, 25, 0, 0})), at: at, campaign: -1})
		}
	}
}

func (g *generator) method(monthly bool, amtCNY float64) int {
	r := g.r
	if monthly {
		return pickW(r, []float64{55, 0, 0, 0, 10, 35})
	}
	if amtCNY < 20000 {
		return pickW(r, []float64{70, 0, 5, 8, 7, 10})
	}
	return pickW(r, []float64{66, 26, 6, 0, 1, 1})
}

// decline makes the customer's monthly purchases fall for the last four
// months: one subscription keeps being paid, less each month, everything else
// stops (those installments become overdue).
func (g *generator) decline(c *custCtx) {
	w, r := g.w, g.r
	e := w.endMonth
	var mc *monthlyCt
	for i := range g.monthly {
		m := &g.monthly[i]
		if m.start <= monthStart(e-4) && m.end >= w.end {
			mc = m
			break
		}
	}
	if mc == nil {
		return
	}
	// month e-4 must hold at least one tranche of the chosen contract
	var base int64
	from := monthStart(e - 3)
	for _, p := range g.pays {
		if p.contract == mc.ct && monthIndex(p.paid) == e-4 {
			base += p.amount
		}
	}
	if base < mc.tranche {
		return
	}
	kept := g.pays[:0]
	for _, p := range g.pays {
		if p.paid < from {
			kept = append(kept, p)
		}
	}
	g.pays = kept
	f := []float64{0.8, 0.6, 0.42, 0.28}
	for k := 0; k < 4; k++ {
		y, m, _ := civil(int64(monthStart(e - 3 + k)))
		day := min(w.end, bizDayFwd(dayOf(y, m, 5+r.IntN(20))))
		if monthIndex(day) != e-3+k {
			day = monthStart(e - 3 + k)
		}
		amt := int64(float64(mc.tranche) * f[k] * g.unif(0.97, 1))
		g.pays = append(g.pays, payRec{contract: mc.ct, cust: c.local, paid: day, amount: amt, usd: mc.usd,
			method: uint8(g.method(true, 0))})
	}
}

// duplicateCustomer registers the customer a second time under a variant of
// its name, by a rep of another seat, with an open deal of the same product
// line as one of the original's open deals.
func (g *generator) duplicateCustomer(orig *custCtx, name string) {
	w, r, ch := g.w, g.r, g.ch
	var oo *oppRec
	var oidx int
	for i := len(ch.opps) - 1; i >= 0 && ch.opps[i].cust == orig.local; i-- {
		if ch.opps[i].status == statOpen {
			oo = &ch.opps[i]
			oidx = i
		}
	}
	if oo == nil {
		return
	}
	_ = oidx
	t := g.snap(oo.created+int64(g.unif(3, 30)*daySec), oo.created)
	if t > w.endSec-2*3600 {
		return
	}
	b := &w.branches[orig.branch]
	seat := b.seats[r.IntN(len(b.seats))]
	for seat == orig.seat {
		seat = b.seats[r.IntN(len(b.seats))]
	}
	c := custCtx{local: int32(len(ch.custs)), band: orig.band, industry: orig.industry, branch: orig.branch,
		dept: w.seats[seat].dept, seat: seat, wallet: orig.wallet, usd: orig.usd, created: t}
	ch.custs = append(ch.custs, custRec{name: nameVariant(name, w.branches[orig.branch].city, w.loc, r.IntN(20)), industry: uint8(c.industry),
		band: uint8(c.band), dept: int32(c.dept), branch: int32(c.branch), created: t,
		owner: int32(w.seats[seat].current()), source: uint8(pickW(r, []float64{0, 0, 0, 1, 2, 0}))})
	g.sims = g.sims[:1]
	o := &g.sims[0]
	*o = oppSim{}
	o.created = min(w.endSec-3600, t+int64(r.Float64()*2*3600))
	o.closed = noDay
	o.campaign, o.partner, o.comp, o.reason = -1, -1, -1, -1
	o.seat = seat
	o.product = int(oo.product)
	o.line = w.products[o.product].line
	o.source = srcOutbound
	if r.Float64() < 0.4 {
		o.source = srcInbound
	}
	g.buildLines(&c, o)
	o.st[0] = stageRec{stage: stLead, at: o.created}
	o.nst = 1
	if q := g.snap(o.created+int64(g.unif(1, 10)*daySec), o.created); q <= w.endSec && r.Float64() < 0.5 {
		o.st[1] = stageRec{stage: stQualified, at: q}
		o.nst = 2
	}
	o.status = statOpen
	o.owner = w.seats[seat].repAt(w.end)
	if r.Float64() < 0.45 {
		o.comp = pickW(r, competitorW)
	}
	g.emitCustomer(&c)
	cr := &ch.custs[c.local]
	cr.source = uint8(o.source)
	cr.lifecycle = lifecycleOf(&c)
}
