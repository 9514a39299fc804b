package synth

import "strconv"

// ID formats (fixed widths, wide enough for the large size).
const (
	wOrg = 4
	wRep = 5
	wCus = 7
	wOpp = 7
	wCt  = 7
	wPay = 8
	wPrd = 3
	wPt  = 4
	wExp = 8
	wAct = 8
	wCmp = 3
)

func (w *world) writeOrgUnits(rw *rowWriter) error {
	for i, o := range w.orgs {
		rw.id("ORG-", int64(i+1), wOrg)
		if o.parent < 0 {
			rw.null()
		} else {
			rw.id("ORG-", int64(o.parent+1), wOrg)
		}
		rw.str(o.name)
		rw.str(o.level)
		if err := rw.end(); err != nil {
			return err
		}
	}
	return nil
}

func (w *world) writeReps(rw *rowWriter) error {
	for i, r := range w.reps {
		rw.id("REP-", int64(i+1), wRep)
		rw.str(r.name)
		rw.id("ORG-", int64(r.org+1), wOrg)
		if r.manager < 0 {
			rw.null()
		} else {
			rw.id("REP-", int64(r.manager+1), wRep)
		}
		rw.date(r.hired)
		rw.optDate(r.left)
		if err := rw.end(); err != nil {
			return err
		}
	}
	return nil
}

func (w *world) writeProducts(rw *rowWriter) error {
	for i, p := range w.products {
		rw.id("PRD-", int64(i+1), wPrd)
		rw.str(p.name[w.loc])
		rw.str(lineNames[p.line][w.loc])
		rw.money(p.listC)
		rw.money(p.costC)
		if err := rw.end(); err != nil {
			return err
		}
	}
	return nil
}

func (w *world) writePartners(rw *rowWriter) error {
	for i, p := range w.partners {
		rw.id("PT-", int64(i+1), wPt)
		rw.str(p.name)
		rw.str(partnerKinds[p.kind])
		rw.id("ORG-", int64(w.branches[p.branch].org+1), wOrg)
		if err := rw.end(); err != nil {
			return err
		}
	}
	return nil
}

func (w *world) writeCampaigns(rw *rowWriter) error {
	for i, c := range w.campaigns {
		rw.id("CMP-", int64(i+1), wCmp)
		rw.str(c.name)
		rw.str(c.channel)
		rw.date(c.start)
		rw.date(c.end)
		rw.money(c.cost)
		if err := rw.end(); err != nil {
			return err
		}
	}
	return nil
}

func writeStages(rw *rowWriter) error {
	for i, s := range stageNames {
		rw.str(s)
		rw.int(int64(i + 1))
		rw.int(int64(stageProb[i]))
		if i >= stWon {
			rw.str("true")
		} else {
			rw.str("false")
		}
		if err := rw.end(); err != nil {
			return err
		}
	}
	return nil
}

func (w *world) writeFX(rw *rowWriter) error {
	for i, x := range w.fx {
		rw.str("USD")
		rw.date(w.fxStart + int32(i))
		rw.arena = strconv.AppendFloat(rw.arena, x, 'f', 4, 64)
		rw.mark()
		if err := rw.end(); err != nil {
			return err
		}
	}
	return nil
}

func currencyOf(usd bool) string {
	if usd {
		return "USD"
	}
	return "CNY"
}

// formatEntity writes one chunk's rows of a per-customer entity; chunk-local
// indexes become global IDs by adding the chunk's base offsets (IDs are
// 1-based).
func formatEntity(w *world, e int, d *chunkData, base *[nEntities]int64, rw *rowWriter) error {
	bc := base[eCustomers] + 1
	bo := base[eOpportunities] + 1
	bct := base[eContracts] + 1
	switch e {
	case eCustomers:
		for i := range d.custs {
			c := &d.custs[i]
			rw.id("C-", bc+int64(i), wCus)
			rw.str(c.name)
			rw.str(industries[c.industry].code)
			rw.str(sizeBands[c.band])
			rw.id("ORG-", int64(w.depts[c.dept].org+1), wOrg)
			rw.str(w.branches[c.branch].city)
			rw.ts(c.created)
			rw.id("REP-", int64(c.owner+1), wRep)
			rw.str(sources[c.source])
			rw.str(lifecycleNames[c.lifecycle])
			if err := rw.end(); err != nil {
				return err
			}
		}
	case eOpportunities:
		for i := range d.opps {
			o := &d.opps[i]
			rw.id("OPP-", bo+int64(i), wOpp)
			rw.id("C-", bc+int64(o.cust), wCus)
			rw.id("REP-", int64(o.owner+1), wRep)
			if o.partner >= 0 {
				rw.id("PT-", int64(o.partner+1), wPt)
			} else {
				rw.null()
			}
			rw.id("PRD-", int64(o.product+1), wPrd)
			rw.money(o.amount)
			rw.str(currencyOf(o.usd))
			rw.str(stageNames[o.stage])
			rw.int(int64(o.prob))
			rw.str(sources[o.source])
			if o.campaign >= 0 {
				rw.id("CMP-", int64(o.campaign+1), wCmp)
			} else {
				rw.null()
			}
			rw.ts(o.created)
			rw.date(o.expClose)
			rw.optDate(o.closed)
			rw.str(statusNames[o.status])
			switch {
			case o.reason < 0:
				rw.null()
			case o.status == statWon:
				rw.str(wonReasons[o.reason][w.loc])
			default:
				rw.str(lostReasons[o.reason][w.loc])
			}
			if o.competitor >= 0 {
				rw.str(competitors[o.competitor][w.loc])
			} else {
				rw.null()
			}
			rw.ts(o.updated)
			if err := rw.end(); err != nil {
				return err
			}
		}
	case eOpportunityStages:
		for i := range d.stages {
			s := &d.stages[i]
			rw.id("OPP-", bo+int64(s.opp), wOpp)
			rw.str(stageNames[s.stage])
			rw.ts(s.at)
			if err := rw.end(); err != nil {
				return err
			}
		}
	case eContracts:
		for i := range d.contracts {
			c := &d.contracts[i]
			rw.id("CT-", bct+int64(i), wCt)
			if c.opp >= 0 {
				rw.id("OPP-", bo+int64(c.opp), wOpp)
			} else {
				rw.null()
			}
			rw.id("C-", bc+int64(c.cust), wCus)
			rw.id("REP-", int64(c.owner+1), wRep)
			rw.date(c.signed)
			rw.date(c.start)
			rw.date(c.end)
			rw.money(c.amount)
			rw.str(currencyOf(c.usd))
			rw.str(contractStatusNames[c.status])
			if err := rw.end(); err != nil {
				return err
			}
		}
	case eContractLines:
		for i := range d.lines {
			l := &d.lines[i]
			rw.id("CT-", bct+int64(l.contract), wCt)
			rw.int(int64(l.no))
			rw.id("PRD-", int64(l.product+1), wPrd)
			rw.milli(l.qty)
			rw.money(l.price)
			if err := rw.end(); err != nil {
				return err
			}
		}
	case ePaymentSchedule:
		for i := range d.sched {
			s := &d.sched[i]
			rw.id("CT-", bct+int64(s.contract), wCt)
			rw.date(s.due)
			rw.money(s.amount)
			if err := rw.end(); err != nil {
				return err
			}
		}
	case ePayments:
		bp := base[ePayments] + 1
		for i := range d.pays {
			p := &d.pays[i]
			rw.id("PAY-", bp+int64(i), wPay)
			rw.id("CT-", bct+int64(p.contract), wCt)
			rw.id("C-", bc+int64(p.cust), wCus)
			rw.date(p.paid)
			rw.money(p.amount)
			rw.str(currencyOf(p.usd))
			rw.str(methods[p.method])
			if err := rw.end(); err != nil {
				return err
			}
		}
	case eExpenses:
		be := base[eExpenses] + 1
		for i := range d.exps {
			x := &d.exps[i]
			rw.id("EXP-", be+int64(i), wExp)
			rw.id("C-", bc+int64(x.cust), wCus)
			if x.opp >= 0 {
				rw.id("OPP-", bo+int64(x.opp), wOpp)
			} else {
				rw.null()
			}
			if x.contract >= 0 {
				rw.id("CT-", bct+int64(x.contract), wCt)
			} else {
				rw.null()
			}
			rw.date(x.day)
			rw.money(x.amount)
			rw.str("CNY")
			rw.str(expenseCats[x.cat])
			if err := rw.end(); err != nil {
				return err
			}
		}
	case eActivities:
		ba := base[eActivities] + 1
		for i := range d.acts {
			a := &d.acts[i]
			rw.id("ACT-", ba+int64(i), wAct)
			rw.id("C-", bc+int64(a.cust), wCus)
			if a.opp >= 0 {
				rw.id("OPP-", bo+int64(a.opp), wOpp)
			} else {
				rw.null()
			}
			if a.rep >= 0 {
				rw.id("REP-", int64(a.rep+1), wRep)
			} else {
				rw.null()
			}
			rw.str(activityKinds[a.kind])
			rw.ts(a.at)
			if a.campaign >= 0 {
				rw.id("CMP-", int64(a.campaign+1), wCmp)
			} else {
				rw.null()
			}
			if err := rw.end(); err != nil {
				return err
			}
		}
	}
	return nil
}
