// Package synth generates the demo company: a deterministic, realistic
// Chinese national sales organisation written as one file per entity of the
// data contract (CSV, or Parquet converted by DuckDB), ready for the loader.
// Every distribution below was chosen so that the models (RFM, CLV, 7P, win
// rate, funnel, forecast, targets, collision, alerts) find the structure they
// look for, and so that the totals look like a real company's.
//
// Organisation. One company, 7 regions (华东 华北 华南 华中 西南 西北 东北),
// 46 branches in real cities weighted by economic size, 2–4 departments per
// branch (sales 1, sales 2, key accounts, channel sales); 600 reps in a
// manager tree (CEO → region VPs → branch heads → department heads → reps).
// 48 reps (8%) leave during the window; a successor hired shortly before
// inherits their territory, so no account is owned by someone who left.
// 600 channel partners (55% agents, 30% distributors, 15% resellers) per
// branch with Zipf-like productivity; ~26% of deals go through a partner
// (channel customers buy through "their" partner).
//
// Customers and money. Size bands micro/small/medium/large/enterprise
// (30/32/22/11/5%) scale the median deal (40k → 800k CNY) and the number of
// deals (2 → 19 over three years); a per-customer lognormal wallet (σ 0.48)
// and a per-deal lognormal (σ 0.75) give the heavy tail: the top 20% of
// paying customers hold ~80% of payments. The product mix is that of a
// software + hardware vendor: perpetual licences and projects paid by 1–4
// installments (100, 50/50, 30/60/10, 30/30/30/10 with a retention a year
// after acceptance), subscriptions paid monthly (12-month terms; 24/36-month
// terms invoiced yearly in advance) that come up for renewal (~80% renewed),
// and hardware frame agreements (30% deposit, then several purchase orders a
// month) — the repeat purchases RFM and CLV need. Installments are paid on
// time (~70%), late (~20%, lognormal days late, median 18), partially (~5%)
// or never (~4%; most such contracts get terminated); ~0.3% of payments are
// followed by a partial refund. Gross margin differs by line (software
// 85–95%, services ~55–70%, hardware ~60–70%). ~4.5% of customers are
// "costly" (deep discounts, heavy service expenses, poor payers): with the
// customers whose first contract is only starting to be paid they make ~7%
// of paying customers unprofitable (collected < product cost + expenses).
// ~4% of paying customers see their monthly purchases fall for the last four
// months (one subscription tapering off, everything else stopping).
// Lifecycle stages are derived from the data: service (an active contract),
// transaction (contracts), opportunity (an open deal, no contract),
// potential (activities, or lost deals only), target (nothing yet).
//
// Deals. New business grows ~15–18% a year (new accounts arriving at +17%
// a year on top of the installed base). Every deal starts as a lead and moves
// through qualified, needs analysis, proposal, negotiation with per-stage
// conversion 0.78/0.78/0.76/0.72/0.70, shifted on the odds scale by source,
// size band, rep skill and partner quality (so win rates differ by
// dimension); days in stage are lognormal (medians 7/12/20/25/30, σ 0.55);
// ~10% skip a stage and ~6.5% stall (4–10× the dwell, halved conversion
// odds), so ~10–15% of open deals are stalled. Renewals convert at ~80%, new
// business at ~25%: ~31% of closed deals are won. Closing dates are moved the
// way sales teams move them: second-month deals are pushed into the quarter
// end, first-month deals pulled back into the previous quarter end, November
// and January deals into December, and 30% of the deals due in the Chinese
// New Year month (real dates, e.g. 2024-02-10, 2025-01-29, 2026-02-17) slip
// into the next month — quarter-end months close ~1.8× the others, December
// most, the CNY month ~0.6× its neighbours. ~1.7% of deals get a duplicate
// registration (撞单) by another rep or a partner of the branch on the same
// product line within four weeks while the first is open, ruled a duplicate
// and closed lost (or still open); ~0.5% of customers are registered twice
// under a variant name (有限公司/股份有限公司/none, Co., Ltd./Co. Ltd/Ltd,
// full-width letters, spacing, case) by another rep who opens a deal on it.
//
// Window. Everything happens in the 3 years up to End, with two exceptions
// that keep the first months from ramping up from zero: deals still open at
// the start of the window (created up to 270 days earlier) are included with
// their history, and contracts signed before the window that still run in it
// are included with their schedule and payments, with opportunity_id NULL
// (migrated from the previous system). After End there are only open deals'
// expected closing dates, schedule due dates, contract end dates and the next
// 6 months of targets. Targets are set top-down from the trend of actuals,
// a little above it (see buildTargets).
//
// Determinism and scale. Static entities use fixed random streams; every
// customer has its own PCG stream (seed, customer number), so the output is
// byte-identical for (seed, size, locale, End) whatever the parallelism.
// Customers are generated in chunks by parallel workers and written in order
// through buffered writers (IDs are assigned from the row counts of earlier
// chunks): memory stays bounded at any size.
package synth

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

// Config selects what to generate.
type Config struct {
	Size   string    // "small" | "default" | "large"
	Seed   int64     // the same seed gives the same files
	Locale string    // "en" | "zh"
	Format string    // "csv" | "parquet"
	End    time.Time // last day of history (zero = DefaultEnd); data covers 3 years up to End
}

// DefaultEnd is the last day of history when Config.End is zero.
var DefaultEnd = time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC)

// File is one written file.
type File struct {
	Entity string
	Path   string
	Rows   int64
	Bytes  int64
}

// Result lists the written files.
type Result struct {
	Files   []File
	Elapsed time.Duration
}

// Customers per size (original customers; ~0.5% duplicate records come on top).
var sizeCustomers = map[string]int64{"small": 2000, "default": 60000, "large": 1600000}

func (c *Config) normalise() error {
	if c.Size == "" {
		c.Size = "default"
	}
	if _, ok := sizeCustomers[c.Size]; !ok {
		return fmt.Errorf("synth: unknown size %q (small, default or large)", c.Size)
	}
	if c.Locale == "" {
		c.Locale = "en"
	}
	if c.Locale != "en" && c.Locale != "zh" {
		return fmt.Errorf("synth: unknown locale %q (en or zh)", c.Locale)
	}
	if c.Format == "" {
		c.Format = "csv"
	}
	if c.Format != "csv" && c.Format != "parquet" {
		return fmt.Errorf("synth: unknown format %q (csv or parquet)", c.Format)
	}
	if c.End.IsZero() {
		c.End = DefaultEnd
	}
	y, m, d := c.End.Date()
	c.End = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return nil
}

// Generate writes all 17 entities of the demo company into outDir as
// <entity>.csv or <entity>.parquet. progress, if not nil, is called from one
// goroutine with the number of rows written so far per entity.
func Generate(ctx context.Context, cfg Config, outDir string, progress func(entity string, rows int64)) (Result, error) {
	t0 := time.Now()
	if err := cfg.normalise(); err != nil {
		return Result{}, err
	}
	if progress == nil {
		progress = func(string, int64) {}
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return Result{}, err
	}
	csvDir := outDir
	if cfg.Format == "parquet" {
		tmp, err := os.MkdirTemp(outDir, ".synth-csv-")
		if err != nil {
			return Result{}, err
		}
		defer os.RemoveAll(tmp)
		csvDir = tmp
	}
	rows, err := generateCSV(ctx, cfg, csvDir, progress)
	if err != nil {
		return Result{}, err
	}
	var res Result
	var conv *sql.DB
	if cfg.Format == "parquet" {
		if conv, err = openConverter(ctx); err != nil {
			return Result{}, fmt.Errorf("synth: parquet: %w", err)
		}
		defer conv.Close()
	}
	for e := range entities {
		name := entities[e].name
		path := filepath.Join(outDir, name+"."+cfg.Format)
		if cfg.Format == "parquet" {
			if err := ctx.Err(); err != nil {
				return Result{}, err
			}
			if err := toParquet(ctx, conv, &entities[e], filepath.Join(csvDir, name+".csv"), path); err != nil {
				return Result{}, err
			}
		}
		st, err := os.Stat(path)
		if err != nil {
			return Result{}, err
		}
		res.Files = append(res.Files, File{Entity: name, Path: path, Rows: rows[e], Bytes: st.Size()})
	}
	res.Elapsed = time.Since(t0)
	return res, nil
}

// outFile is one CSV being written.
type outFile struct {
	f  *os.File
	bw *bufio.Writer
}

func createCSV(dir string, e int) (*outFile, error) {
	f, err := os.Create(filepath.Join(dir, entities[e].name+".csv"))
	if err != nil {
		return nil, err
	}
	of := &outFile{f: f, bw: bufio.NewWriterSize(f, 1<<20)}
	var hb bytes.Buffer
	rw := newRowWriter(&hb)
	if err := rw.header(entities[e].header()); err != nil {
		return nil, err
	}
	if err := rw.flush(); err != nil {
		return nil, err
	}
	if _, err := of.bw.Write(hb.Bytes()); err != nil {
		return nil, err
	}
	return of, nil
}

// write appends a chunk; big chunks go straight to the file.
func (of *outFile) write(p []byte) error {
	if len(p) < 1<<16 {
		_, err := of.bw.Write(p)
		return err
	}
	if err := of.bw.Flush(); err != nil {
		return err
	}
	_, err := of.f.Write(p)
	return err
}

func (of *outFile) close() error {
	err := of.bw.Flush()
	if cerr := of.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeWhole writes a small entity in one go.
func writeWhole(dir string, e int, fill func(rw *rowWriter) error) (int64, error) {
	of, err := createCSV(dir, e)
	if err != nil {
		return 0, err
	}
	var buf bytes.Buffer
	rw := newRowWriter(&buf)
	if err := fill(rw); err != nil {
		of.close()
		return 0, err
	}
	if err := rw.flush(); err != nil {
		of.close()
		return 0, err
	}
	if _, err := of.bw.Write(buf.Bytes()); err != nil {
		of.close()
		return 0, err
	}
	return rw.rows, of.close()
}

var perCustomer = []int{eCustomers, eOpportunities, eOpportunityStages, eContracts, eContractLines,
	ePaymentSchedule, ePayments, eExpenses, eActivities}

type chunkJob struct {
	lo, hi    int64
	prev      *chunkJob
	counts    [nEntities]int64
	base      [nEntities]int64
	baseReady chan struct{}
	out       [nEntities]*bytes.Buffer
	done      chan struct{}
	err       error
}

func generateCSV(ctx context.Context, cfg Config, dir string, progress func(string, int64)) ([nEntities]int64, error) {
	var rows [nEntities]int64
	w := buildWorld(cfg)
	w.nCustomers = sizeCustomers[cfg.Size]

	// static entities
	static := []struct {
		e    int
		fill func(*rowWriter) error
	}{
		{eOrgUnits, w.writeOrgUnits}, {eReps, w.writeReps}, {eProducts, w.writeProducts},
		{ePartners, w.writePartners}, {eCampaigns, w.writeCampaigns}, {eStages, writeStages},
		{eFXRates, w.writeFX},
	}
	for _, s := range static {
		n, err := writeWhole(dir, s.e, s.fill)
		if err != nil {
			return rows, err
		}
		rows[s.e] = n
		progress(entities[s.e].name, n)
	}

	// per-customer entities, in parallel chunks written in order
	files := map[int]*outFile{}
	closeAll := func() error {
		var first error
		for _, e := range perCustomer {
			if of := files[e]; of != nil {
				if err := of.close(); err != nil && first == nil {
					first = err
				}
			}
		}
		return first
	}
	for _, e := range perCustomer {
		of, err := createCSV(dir, e)
		if err != nil {
			closeAll()
			return rows, err
		}
		files[e] = of
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	nWorkers := max(1, runtime.GOMAXPROCS(0))
	n := w.nCustomers
	chunk := min(int64(1000), max(int64(100), n/int64(8*nWorkers)))
	jobs := make(chan *chunkJob, nWorkers)
	ordered := make(chan *chunkJob, 2*nWorkers+1)
	bufPool := sync.Pool{New: func() any { return new(bytes.Buffer) }}
	dataPool := sync.Pool{New: func() any { return new(chunkData) }}

	// dispatcher
	go func() {
		defer close(jobs)
		defer close(ordered)
		first := &chunkJob{baseReady: make(chan struct{}), done: make(chan struct{})}
		close(first.baseReady)
		close(first.done)
		prev := first
		for lo := int64(0); lo < n; lo += chunk {
			j := &chunkJob{lo: lo, hi: min(n, lo+chunk), prev: prev, baseReady: make(chan struct{}), done: make(chan struct{})}
			prev = j
			select {
			case ordered <- j:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
	}()

	gens := make([]*generator, nWorkers)
	var wg sync.WaitGroup
	for i := range nWorkers {
		g := newGenerator(w, 1)
		gens[i] = g
		rws := map[int]*rowWriter{}
		for _, e := range perCustomer {
			rws[e] = newRowWriter(nil)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.err = runChunk(ctx, g, j, rws, &dataPool, &bufPool)
				if j.err != nil {
					cancel()
				}
				close(j.done)
			}
		}()
	}

	// ordered writer
	var werr error
	for j := range ordered {
		select {
		case <-j.done:
		case <-ctx.Done():
		}
		if werr == nil {
			select {
			case <-j.done:
				werr = j.err
			default:
				werr = ctx.Err()
			}
		}
		if werr != nil {
			cancel()
			continue
		}
		for _, e := range perCustomer {
			b := j.out[e]
			if err := files[e].write(b.Bytes()); err != nil && werr == nil {
				werr = err
				cancel()
			}
			b.Reset()
			bufPool.Put(b)
			j.out[e] = nil
			rows[e] += j.counts[e]
			progress(entities[e].name, rows[e])
		}
		j.prev = nil
	}
	wg.Wait()
	if err := closeAll(); err != nil && werr == nil {
		werr = err
	}
	if werr == nil {
		werr = ctx.Err()
	}
	if werr != nil {
		return rows, werr
	}

	// targets from the aggregated actuals
	agg := gens[0].agg
	for _, g := range gens[1:] {
		for ri := range agg.bookings {
			for m := range agg.bookings[ri] {
				agg.bookings[ri][m] += g.agg.bookings[ri][m]
				agg.collections[ri][m] += g.agg.collections[ri][m]
			}
		}
	}
	trows := buildTargets(w, agg)
	nt, err := writeWhole(dir, eTargets, func(rw *rowWriter) error {
		for _, t := range trows {
			rw.str(t.scope)
			rw.str(t.scopeID)
			rw.date(monthStart(t.month))
			rw.date(monthEnd(t.month))
			rw.str(t.metric)
			rw.money(t.amount)
			if err := rw.end(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return rows, err
	}
	rows[eTargets] = nt
	progress(entities[eTargets].name, nt)
	return rows, nil
}

// runChunk generates the customers of one chunk, waits for the row offsets
// of the chunks before it, and formats the rows.
func runChunk(ctx context.Context, g *generator, j *chunkJob, rws map[int]*rowWriter, dataPool, bufPool *sync.Pool) error {
	data := dataPool.Get().(*chunkData)
	defer dataPool.Put(data)
	data.reset()
	g.ch = data
	for ci := j.lo; ci < j.hi; ci++ {
		if ci&127 == 0 && ctx.Err() != nil {
			close(j.baseReady)
			return ctx.Err()
		}
		g.customer(ci)
	}
	j.counts = data.counts()
	select {
	case <-j.prev.baseReady:
	case <-ctx.Done():
		close(j.baseReady)
		return ctx.Err()
	}
	for e := range j.base {
		j.base[e] = j.prev.base[e] + j.prev.counts[e]
	}
	close(j.baseReady)
	for _, e := range perCustomer {
		b := bufPool.Get().(*bytes.Buffer)
		rw := rws[e]
		rw.out = b
		if err := formatEntity(g.w, e, data, &j.base, rw); err != nil {
			return err
		}
		if err := rw.flush(); err != nil {
			return err
		}
		rw.out = nil
		j.out[e] = b
	}
	return nil
}
