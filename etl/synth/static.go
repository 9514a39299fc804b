package synth

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
)

const (
	lineERP = iota
	lineCRM
	lineAnalytics
	lineHardware
	lineServices
	lineTraining
	nLines
)

var lineNames = [nLines]l2{
	{"ERP Suite", "ERP套件"}, {"CRM Cloud", "CRM云"}, {"Analytics", "数据分析"},
	{"Hardware", "硬件"}, {"Services", "服务"}, {"Training", "培训"},
}

// amount factor of a deal whose main product is in the line
var lineAmt = [nLines]float64{1.5, 0.75, 1.15, 0.85, 0.6, 0.22}

type productDef struct {
	name    l2
	line    int
	list    int64   // list price, whole CNY
	cost    float64 // unit cost as a share of list price
	monthly bool    // billed monthly (subscriptions, managed services, frame supply)
	halfQty bool    // quantity in half units (man-days)
}

var productDefs = []productDef{
	{l2{"ERP Cloud (tenant-year)", "ERP云(租户·年)"}, lineERP, 45000, 0.13, true, false},
	{l2{"ERP Standard Edition", "ERP标准版"}, lineERP, 68000, 0.08, false, false},
	{l2{"ERP Professional Edition", "ERP专业版"}, lineERP, 168000, 0.07, false, false},
	{l2{"ERP Enterprise Edition", "ERP企业版"}, lineERP, 480000, 0.06, false, false},
	{l2{"Finance Module", "财务模块"}, lineERP, 36000, 0.07, false, false},
	{l2{"Supply Chain Module", "供应链模块"}, lineERP, 52000, 0.07, false, false},
	{l2{"Manufacturing (MES) Module", "生产制造(MES)模块"}, lineERP, 88000, 0.08, false, false},
	{l2{"HR & Payroll Module", "人力资源模块"}, lineERP, 28000, 0.07, false, false},
	{l2{"Asset Management Module", "资产管理模块"}, lineERP, 24000, 0.08, false, false},
	{l2{"CRM Cloud Basic (user-year)", "CRM云基础版(用户·年)"}, lineCRM, 1200, 0.14, true, false},
	{l2{"CRM Cloud Professional (user-year)", "CRM云专业版(用户·年)"}, lineCRM, 2400, 0.13, true, false},
	{l2{"CRM Cloud Enterprise (user-year)", "CRM云企业版(用户·年)"}, lineCRM, 4800, 0.12, true, false},
	{l2{"Marketing Automation (user-year)", "营销自动化(用户·年)"}, lineCRM, 3600, 0.14, true, false},
	{l2{"Service Cloud (user-year)", "服务云(用户·年)"}, lineCRM, 3000, 0.14, true, false},
	{l2{"Partner Portal (user-year)", "渠道门户(用户·年)"}, lineCRM, 1800, 0.16, true, false},
	{l2{"Analytics Cloud (tenant-year)", "数据分析云(租户·年)"}, lineAnalytics, 36000, 0.14, true, false},
	{l2{"BI Platform", "BI分析平台"}, lineAnalytics, 120000, 0.11, false, false},
	{l2{"Data Warehouse", "数据仓库"}, lineAnalytics, 260000, 0.14, false, false},
	{l2{"Reporting Studio", "报表工作室"}, lineAnalytics, 45000, 0.10, false, false},
	{l2{"AI Forecasting", "AI智能预测"}, lineAnalytics, 150000, 0.15, false, false},
	{l2{"Dashboard Pack", "驾驶舱套件"}, lineAnalytics, 30000, 0.10, false, false},
	{l2{"Data Integration Platform", "数据集成平台"}, lineAnalytics, 80000, 0.14, false, false},
	{l2{"Data Governance", "数据治理"}, lineAnalytics, 90000, 0.17, false, false},
	{l2{"Smart POS Terminal", "智能POS终端"}, lineHardware, 3800, 0.29, true, false},
	{l2{"Rack Server", "机架式服务器"}, lineHardware, 42000, 0.38, false, false},
	{l2{"Industrial Tablet", "工业平板"}, lineHardware, 6800, 0.31, true, false},
	{l2{"Storage Array", "存储阵列"}, lineHardware, 95000, 0.37, false, false},
	{l2{"Barcode Scanner", "条码扫描枪"}, lineHardware, 1200, 0.28, true, false},
	{l2{"Network Switch", "网络交换机"}, lineHardware, 8600, 0.36, false, false},
	{l2{"Edge Gateway", "边缘网关"}, lineHardware, 5200, 0.29, true, false},
	{l2{"Thin Client", "瘦客户机"}, lineHardware, 2600, 0.31, true, false},
	{l2{"Implementation (man-day)", "实施服务(人天)"}, lineServices, 2000, 0.41, false, true},
	{l2{"Annual Support (year)", "年度运维支持(年)"}, lineServices, 50000, 0.26, true, false},
	{l2{"Custom Development (man-day)", "定制开发(人天)"}, lineServices, 2500, 0.43, false, true},
	{l2{"Managed Services (month)", "托管服务(月)"}, lineServices, 15000, 0.38, true, false},
	{l2{"Data Migration", "数据迁移"}, lineServices, 30000, 0.38, false, false},
	{l2{"Consulting (man-day)", "咨询服务(人天)"}, lineServices, 4000, 0.34, false, true},
	{l2{"Online Academy (user-year)", "在线学院(用户·年)"}, lineTraining, 600, 0.28, true, false},
	{l2{"End-user Training (seat)", "用户培训(人次)"}, lineTraining, 800, 0.32, false, false},
	{l2{"Administrator Certification", "管理员认证"}, lineTraining, 5000, 0.36, false, false},
	{l2{"Executive Workshop", "高管工作坊"}, lineTraining, 30000, 0.40, false, false},
	{l2{"On-site Training (day)", "现场培训(天)"}, lineTraining, 6000, 0.40, false, true},
}

// product indexes used as add-ons (set in init)
var prodImplementation, prodDataMigration, prodEndUserTrain, prodRackServer int

func init() {
	for i, p := range productDefs {
		switch p.name[en] {
		case "Implementation (man-day)":
			prodImplementation = i
		case "Data Migration":
			prodDataMigration = i
		case "End-user Training (seat)":
			prodEndUserTrain = i
		case "Rack Server":
			prodRackServer = i
		}
	}
}

type orgUnit struct {
	parent int
	name   string
	level  string
}

type branch struct {
	org, region int
	city        string
	weight      float64
	depts       []int // indexes into world.depts
	seats       []int // all seats of the branch
	partners    []int
	partnerCum  []float64
}

type dept struct {
	org, branch int
	head        int // rep index
	seats       []int
	seatCum     []float64
	channel     bool
}

type rep struct {
	name    string
	org     int
	manager int
	hired   int32
	left    int32
	skill   float64
	owner   bool // owns customers (sales reps and department heads)
}

// seat is a sales territory owned by one rep, or by a rep who left and the
// successor who took over on switchDay.
type seat struct {
	dept      int
	rep, succ int
	switchDay int32
}

func (s *seat) repAt(t int32) int {
	if s.succ >= 0 && t >= s.switchDay {
		return s.succ
	}
	return s.rep
}

func (s *seat) current() int {
	if s.succ >= 0 {
		return s.succ
	}
	return s.rep
}

type partner struct {
	name    string
	kind    int
	branch  int
	quality float64
}

type campaign struct {
	name       string
	channel    string
	start, end int32
	cost       int64 // cents
	exhibition bool  // generates exhibition-sourced leads
}

type product struct {
	productDef
	listC, costC int64 // cents
}

// world is everything that is not per customer: generated once, read-only.
type world struct {
	cfg         Config
	loc         int
	seed        uint64
	end         int32 // last day of history
	start       int32 // first day of the 3-year window
	warm        int32 // open pipeline at start reaches back to here
	endSec      int64 // last second of End
	startMonth  int   // month index of start
	endMonth    int   // month index of end
	orgs        []orgUnit
	regions     []int
	branches    []branch
	branchCum   []float64
	depts       []dept
	reps        []rep
	seats       []seat
	partners    []partner
	campaigns   []campaign
	products    []product
	lineProds   [nLines][]int
	lineProdCum [nLines][]float64
	fxStart     int32
	fx          []float64 // USD→CNY by day from fxStart
	cnyMonth    map[int]int
	growth      float64 // per day
	nCustomers  int64
}

func newRand(seed uint64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed^0x9E3779B97F4A7C15, stream*0xD1B54A32D192ED03+0x632BE59BD9B4E019))
}

func pickW(r *rand.Rand, w []float64) int {
	var t float64
	for _, x := range w {
		t += x
	}
	u := r.Float64() * t
	for i, x := range w {
		u -= x
		if u < 0 {
			return i
		}
	}
	return len(w) - 1
}

func pickCum(r *rand.Rand, cum []float64) int {
	u := r.Float64() * cum[len(cum)-1]
	i, _ := slices.BinarySearch(cum, u)
	if i >= len(cum) {
		i = len(cum) - 1
	}
	// BinarySearch finds the first cum >= u; ties at u exactly are fine
	for i < len(cum)-1 && cum[i] <= u {
		i++
	}
	return i
}

func cumOf(w []float64) []float64 {
	c := make([]float64, len(w))
	var t float64
	for i, x := range w {
		t += x
		c[i] = t
	}
	return c
}

func lognorm(r *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*r.NormFloat64())
}

func poisson(r *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		n := int(math.Round(lambda + math.Sqrt(lambda)*r.NormFloat64()))
		if n < 0 {
			n = 0
		}
		return n
	}
	l := math.Exp(-lambda)
	k := 0
	p := 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// Real Chinese New Year dates.
var cnyDates = map[int][2]int{
	2015: {2, 19}, 2016: {2, 8}, 2017: {1, 28}, 2018: {2, 16}, 2019: {2, 5}, 2020: {1, 25},
	2021: {2, 12}, 2022: {2, 1}, 2023: {1, 22}, 2024: {2, 10}, 2025: {1, 29}, 2026: {2, 17},
	2027: {2, 6}, 2028: {1, 26}, 2029: {2, 13}, 2030: {2, 3}, 2031: {1, 23}, 2032: {2, 11},
	2033: {1, 31}, 2034: {2, 19}, 2035: {2, 8}, 2036: {1, 28}, 2037: {2, 15}, 2038: {2, 4},
	2039: {1, 24}, 2040: {2, 12},
}

// cnyMonthOf returns the month (1 or 2) of Chinese New Year in year y.
func cnyMonthOf(y int) int {
	if d, ok := cnyDates[y]; ok {
		return d[0]
	}
	return 2
}

func buildWorld(cfg Config) *world {
	w := &world{cfg: cfg, seed: uint64(cfg.Seed)}
	if cfg.Locale == "zh" {
		w.loc = zh
	}
	ey, em, ed := cfg.End.Date()
	w.end = dayOf(ey, int(em), ed)
	w.start = dayOf(ey-3, int(em), ed) + 1
	w.warm = w.start - 270
	w.endSec = int64(w.end)*daySec + daySec - 1
	w.startMonth = monthIndex(w.start)
	w.endMonth = monthIndex(w.end)
	w.growth = math.Log(1.17) / 365.25
	w.cnyMonth = map[int]int{}
	for y := ey - 5; y <= ey+1; y++ {
		w.cnyMonth[y] = cnyMonthOf(y)
	}
	w.buildOrg()
	w.buildProducts()
	w.buildPartners()
	w.buildCampaigns()
	w.buildFX()
	return w
}

func (w *world) buildOrg() {
	r := newRand(w.seed, 1)
	loc := w.loc
	w.orgs = append(w.orgs, orgUnit{-1, companyName[loc], "company"})
	for _, rd := range regionDefs {
		w.regions = append(w.regions, len(w.orgs))
		w.orgs = append(w.orgs, orgUnit{0, rd.name[loc], "region"})
	}
	for ri, rd := range regionDefs {
		for _, bd := range rd.branches {
			name := bd.city[loc] + " Branch"
			if loc == zh {
				name = bd.city[loc] + "分公司"
			}
			w.branches = append(w.branches, branch{org: len(w.orgs), region: ri, city: bd.city[loc], weight: bd.weight})
			w.orgs = append(w.orgs, orgUnit{w.regions[ri], name, "branch"})
		}
	}
	bw := make([]float64, len(w.branches))
	for bi := range w.branches {
		b := &w.branches[bi]
		bw[bi] = b.weight
		nd := 2
		switch {
		case b.weight >= 5:
			nd = 4
		case b.weight >= 2.5:
			nd = 3
		}
		for k := 0; k < nd; k++ {
			dn := deptNames[k]
			name := b.city + " " + dn[loc]
			if loc == zh {
				name = b.city + dn[loc]
			}
			b.depts = append(b.depts, len(w.depts))
			w.depts = append(w.depts, dept{org: len(w.orgs), branch: bi, channel: k == 3})
			w.orgs = append(w.orgs, orgUnit{b.org, name, "department"})
		}
	}
	w.branchCum = cumOf(bw)

	// People: CEO, region VPs, branch heads, department heads, sales reps,
	// then the successors of the reps who left.
	const totalReps = 600
	const leavers = 48
	used := map[string]bool{}
	newRep := func(org, manager int, hired int32, owner bool) int {
		var name string
		for {
			sur := pickSurname(r)
			g1, g2 := r.IntN(len(givenChars)), r.IntN(len(givenChars))
			name = personName(sur, g1, g2, r.Float64() < 0.7, loc)
			if !used[name] {
				break
			}
		}
		used[name] = true
		w.reps = append(w.reps, rep{name: name, org: org, manager: manager, hired: hired, left: noDay,
			skill: math.Exp(0.25 * r.NormFloat64()), owner: owner})
		return len(w.reps) - 1
	}
	// everybody except the successors of leavers was hired before the
	// earliest opportunity (the warm-up period before the window)
	yearsBefore := func(lo, hi float64) int32 {
		d := w.warm - 30 - int32((lo+(hi-lo)*r.Float64())*365)
		return bizDayFwd(d)
	}
	ceo := newRep(0, -1, yearsBefore(8, 12), false)
	vps := make([]int, len(w.regions))
	for i, o := range w.regions {
		vps[i] = newRep(o, ceo, yearsBefore(3, 10), false)
	}
	bheads := make([]int, len(w.branches))
	for i := range w.branches {
		bheads[i] = newRep(w.branches[i].org, vps[w.branches[i].region], yearsBefore(2, 8), false)
	}
	for i := range w.depts {
		d := &w.depts[i]
		d.head = newRep(d.org, bheads[d.branch], yearsBefore(1, 6), true)
	}
	// sales reps: allocate by branch weight per department, at least one each
	nSales := totalReps - len(w.reps) - leavers
	weights := make([]float64, len(w.depts))
	var tw float64
	for i, d := range w.depts {
		b := w.branches[d.branch]
		weights[i] = b.weight / float64(len(b.depts))
		tw += weights[i]
	}
	alloc := make([]int, len(w.depts))
	rem := nSales
	for i := range alloc {
		alloc[i] = 1
		rem--
	}
	type fr struct {
		i int
		f float64
	}
	var frs []fr
	assigned := 0
	for i := range alloc {
		x := weights[i] / tw * float64(rem)
		alloc[i] += int(x)
		assigned += int(x)
		frs = append(frs, fr{i, x - math.Floor(x)})
	}
	slices.SortStableFunc(frs, func(a, b fr) int {
		if a.f > b.f {
			return -1
		}
		if a.f < b.f {
			return 1
		}
		return 0
	})
	for k := 0; k < rem-assigned; k++ {
		alloc[frs[k].i]++
	}
	var icSeats []int
	for i := range w.depts {
		d := &w.depts[i]
		// the department head also keeps a few key accounts
		d.seats = append(d.seats, len(w.seats))
		w.seats = append(w.seats, seat{dept: i, rep: d.head, succ: -1})
		for k := 0; k < alloc[i]; k++ {
			ri := newRep(d.org, d.head, yearsBefore(0.1, 6), true)
			icSeats = append(icSeats, len(w.seats))
			d.seats = append(d.seats, len(w.seats))
			w.seats = append(w.seats, seat{dept: i, rep: ri, succ: -1})
		}
	}
	// leavers: random sales reps leave during the window; a successor hired
	// shortly before takes over their customers.
	perm := r.Perm(len(icSeats))
	for k := 0; k < leavers; k++ {
		s := &w.seats[icSeats[perm[k]]]
		old := &w.reps[s.rep]
		lo := max(w.start+60, old.hired+120)
		hi := w.end - 30
		if lo >= hi {
			lo = hi - 1
		}
		left := lo + int32(r.Float64()*float64(hi-lo))
		d := w.depts[s.dept]
		succHired := bizDayFwd(left - int32(r.IntN(45)))
		succ := newRep(d.org, d.head, succHired, true)
		w.reps[s.rep].left = left
		s.succ = succ
		s.switchDay = left
	}
	// seat weights (territory size)
	for i := range w.depts {
		d := &w.depts[i]
		sw := make([]float64, len(d.seats))
		for k, si := range d.seats {
			if w.seats[si].rep == d.head {
				sw[k] = 0.5
			} else {
				sw[k] = math.Exp(0.35 * r.NormFloat64())
			}
		}
		d.seatCum = cumOf(sw)
		w.branches[d.branch].seats = append(w.branches[d.branch].seats, d.seats...)
	}
}

func pickSurname(r *rand.Rand) int {
	// Zipf-like frequency of surnames
	n := len(surnames)
	for {
		i := int(math.Floor(math.Exp(r.Float64()*math.Log(float64(n)+8)))) - 8
		if i >= 0 && i < n {
			return i
		}
	}
}

// bizDayFwd moves a Saturday or Sunday to the next Monday.
func bizDayFwd(d int32) int32 {
	switch weekday(d) {
	case 6:
		return d + 2
	case 0:
		return d + 1
	}
	return d
}

func (w *world) buildProducts() {
	for i, pd := range productDefs {
		p := product{productDef: pd, listC: pd.list * 100}
		p.costC = int64(math.Round(float64(pd.list)*pd.cost)) * 100
		w.products = append(w.products, p)
		w.lineProds[pd.line] = append(w.lineProds[pd.line], i)
	}
	for l := range nLines {
		ws := make([]float64, len(w.lineProds[l]))
		for k := range ws {
			ws[k] = 1 / (1 + 0.35*float64(k)) // the first products of a line sell most
		}
		w.lineProdCum[l] = cumOf(ws)
	}
}

func (w *world) buildPartners() {
	r := newRand(w.seed, 2)
	const n = 600
	kindW := []float64{55, 30, 15}
	// at least 4 per branch, the rest by branch weight
	counts := make([]int, len(w.branches))
	rest := n - 4*len(w.branches)
	var tw float64
	for _, b := range w.branches {
		tw += b.weight
	}
	given := 0
	for i, b := range w.branches {
		counts[i] = 4 + int(b.weight/tw*float64(rest))
		given += counts[i]
	}
	for i := 0; given < n; i = (i + 1) % len(counts) {
		counts[i]++
		given++
	}
	used := map[string]bool{}
	for bi := range w.branches {
		b := &w.branches[bi]
		var pw []float64
		for k := 0; k < counts[bi]; k++ {
			kind := pickW(r, kindW)
			var name string
			for {
				u := int64(r.IntN(15000)) + 1
				if u%25 == 0 {
					u++
				}
				bEn, bZh := brandName(u)
				wd := partnerWords[r.IntN(len(partnerWords))]
				if w.loc == zh {
					name = b.city + bZh + wd[zh] + "有限公司"
				} else {
					name = b.city + " " + bEn + " " + wd[en] + " Co., Ltd."
				}
				if !used[name] {
					break
				}
			}
			used[name] = true
			b.partners = append(b.partners, len(w.partners))
			q := math.Exp(0.3 * r.NormFloat64())
			w.partners = append(w.partners, partner{name: name, kind: kind, branch: bi, quality: q})
			pw = append(pw, 1/math.Pow(float64(k)+1, 0.9))
		}
		b.partnerCum = cumOf(pw)
	}
}

var campaignChannels = []string{"exhibition", "seminar", "webinar", "online_ads", "email", "wechat"}

func (w *world) buildCampaigns() {
	r := newRand(w.seed, 3)
	// three campaigns per quarter from the warm-up period to End
	q0 := (monthIndex(w.warm) / 3) * 3
	q1 := (w.endMonth / 3) * 3
	k := 0
	for q := q0; q <= q1; q += 3 {
		y := q / 12
		qn := q%12/3 + 1
		for j := 0; j < 3; j++ {
			ch := campaignChannels[(k*5+j*2+qn)%len(campaignChannels)]
			if j == 0 && qn%2 == 0 {
				ch = "exhibition"
			}
			k++
			mi := q + j
			st := monthStart(mi) + int32(r.IntN(20))
			var dur int32
			var cost float64
			var nm l2
			city := w.branches[pickCum(r, w.branchCum)].city
			line := lineNames[r.IntN(nLines)]
			ys := strconv.Itoa(y)
			qs := strconv.Itoa(qn)
			switch ch {
			case "exhibition":
				dur, cost = 2+int32(r.IntN(3)), lognorm(r, 600000, 0.4)
				nm = l2{ys + " " + city + " Digital Industry Expo", ys + city + "数字产业博览会"}
			case "seminar":
				dur, cost = 0, lognorm(r, 80000, 0.4)
				nm = l2{ys + " " + city + " " + line[en] + " Seminar", ys + city + line[zh] + "研讨会"}
			case "webinar":
				dur, cost = 0, lognorm(r, 25000, 0.4)
				nm = l2{line[en] + " Launch Webinar Q" + qs + " " + ys, line[zh] + "新品发布直播 " + ys + "年Q" + qs}
			case "online_ads":
				dur, cost = 30+int32(r.IntN(60)), lognorm(r, 250000, 0.4)
				nm = l2{"Search Ads " + ys + " Q" + qs, ys + "年Q" + qs + "搜索引擎推广"}
			case "email":
				dur, cost = 14+int32(r.IntN(30)), lognorm(r, 15000, 0.4)
				nm = l2{line[en] + " Trial Email Campaign " + ys + " Q" + qs, line[zh] + "试用邮件营销 " + ys + "年Q" + qs}
			default:
				dur, cost = 20+int32(r.IntN(40)), lognorm(r, 60000, 0.4)
				nm = l2{"WeChat Campaign " + ys + " Q" + qs + ": " + line[en], ys + "年Q" + qs + "微信推广：" + line[zh]}
			}
			en := st + dur
			if en > w.end {
				en = w.end
			}
			if st > w.end {
				continue
			}
			w.campaigns = append(w.campaigns, campaign{name: nm[w.loc], channel: ch, start: st, end: en,
				cost: int64(math.Round(cost/100)) * 10000, exhibition: ch == "exhibition"})
		}
	}
}

func (w *world) buildFX() {
	r := newRand(w.seed, 4)
	w.fxStart = w.start - 3*366 - 31 // contracts from before the window are as old as 3 years
	n := int(w.end-w.fxStart) + 1
	w.fx = make([]float64, n)
	x := 7.18
	for i := range n {
		x += 0.0055 * r.NormFloat64()
		x += (7.15 - x) * 0.004 // weak mean reversion
		if x < 7.0 {
			x = 7.0 + (7.0 - x)
		}
		if x > 7.3 {
			x = 7.3 - (x - 7.3)
		}
		w.fx[i] = math.Round(x*10000) / 10000
	}
}

func (w *world) rate(d int32) float64 {
	i := int(d - w.fxStart)
	if i < 0 {
		i = 0
	}
	if i >= len(w.fx) {
		i = len(w.fx) - 1
	}
	return w.fx[i]
}
