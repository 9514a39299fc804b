package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/warehouse"
)

// triscope chaos disk-full: a load and a refresh on a full filesystem,
// directly and through a server. The filesystem is a small tmpfs the
// command mounts (root, or CAP_SYS_ADMIN); where mounting is impossible the
// children run under RLIMIT_FSIZE instead (a file may not grow past a
// limit: the same failure of a write, with EFBIG instead of ENOSPC). The
// output says which ran.
func newChaosDiskCmd() *cobra.Command {
	var o diskOptions
	cmd := &cobra.Command{
		Use:   "disk-full",
		Short: "A load and a refresh on a full disk: a clear error, the previous data intact, the server still serving",
		Long: `Put a copy of the demo company (or of --from) on a small filesystem, fill it, and run
a load and a refresh on it — directly, then through a server:

  - each fails with an error that names the disk and says it is full;
  - the warehouse then holds exactly the data it held before;
  - the server keeps answering /healthz, /readyz and the dashboards with the previous
    data, and once space is freed the same load commits through the same server,
    whose dashboards then show it.

The filesystem is a tmpfs mounted in the work directory (--method tmpfs; needs root);
--method fsize runs the operations under RLIMIT_FSIZE instead (no write past --free-kib
of any file); --method auto (the default) mounts when it can. Directly, the disk is filled
once the operation has started (its setup, which writes too, ran with room); through the
server, before the request.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.from = sourceWarehouse(cmd, o.from)
			e, err := newChaosEnv(o.work, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			defer e.close()
			bad, err := chaosDisk(cmd.Context(), e, o)
			if err != nil || bad > 0 {
				e.keep = true
			}
			if err == nil && bad > 0 {
				err = fmt.Errorf("%d broken promises", bad)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&o.method, "method", "auto", "how the disk is made full: auto, tmpfs, fsize")
	cmd.Flags().Int64Var(&o.freeKiB, "free-kib", 0, "space left free on the full disk (KiB)")
	cmd.Flags().StringVar(&o.from, "from", "", "start from a copy of this warehouse instead of the demo company (never written; --db FILE says the same)")
	cmd.Flags().StringVar(&o.size, "size", "small", "size of the demo company: small, default, large")
	cmd.Flags().StringVar(&o.work, "work", "", "work directory (default: a temporary one, removed unless a check fails)")
	return cmd
}

type diskOptions struct {
	method           string
	freeKiB          int64
	from, size, work string
}

// smallDisk is a directory whose filesystem the command can fill and free.
type smallDisk struct {
	dir     string
	method  string // "tmpfs" or "fsize"
	about   string // how, for the output
	freeB   int64
	full    bool
	limited []int // pids under RLIMIT_FSIZE (fsize)
}

func newSmallDisk(dir, method string, sizeB, freeB int64) (*smallDisk, error) {
	d := &smallDisk{dir: dir, freeB: freeB}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var mountErr error
	if method == "auto" || method == "tmpfs" {
		mb := (sizeB + (1<<20 - 1)) >> 20
		mountErr = unix.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%dm,mode=0700", mb))
		if mountErr == nil {
			d.method = "tmpfs"
			d.about = fmt.Sprintf("a %d MiB tmpfs mounted at %s, filled to %d KiB free", mb, dir, freeB>>10)
			return d, nil
		}
		if method == "tmpfs" {
			return nil, fmt.Errorf("mounting a tmpfs at %s: %w (run as root, or use --method fsize)", dir, mountErr)
		}
	}
	d.method = "fsize"
	d.about = fmt.Sprintf("RLIMIT_FSIZE of %d KiB on the processes while the disk is to be full (no write past that offset of any file)", freeB>>10)
	if mountErr != nil {
		d.about += fmt.Sprintf("; mounting a tmpfs failed: %v", mountErr)
	}
	return d, nil
}

func (d *smallDisk) close() {
	if d.method == "tmpfs" {
		if err := unix.Unmount(d.dir, 0); err != nil {
			unix.Unmount(d.dir, unix.MNT_DETACH)
		}
	}
}

// fill leaves freeB bytes free (tmpfs), or limits the growth of files of
// the processes started from now on and of pids (fsize).
func (d *smallDisk) fill(pids ...int) error {
	d.full = true
	if d.method == "fsize" {
		for _, pid := range pids {
			if err := d.limit(pid); err != nil {
				return err
			}
		}
		return nil
	}
	f, err := os.OpenFile(filepath.Join(d.dir, "filler"), os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	// Others may be writing meanwhile (the server publishes the ad hoc SQL
	// snapshot, a copy of the warehouse, when it starts and after a load):
	// measure again and fill again until the disk is as full as asked.
	for range 20 {
		var st unix.Statfs_t
		if err := unix.Statfs(d.dir, &st); err != nil {
			return err
		}
		avail := int64(st.Bavail) * int64(st.Bsize)
		if avail <= d.freeB {
			return nil
		}
		var cur int64
		if fi, err := f.Stat(); err == nil {
			cur = fi.Size()
		}
		// All of it, or as near as the filesystem allows.
		for _, less := range []int64{0, 4 << 10, 64 << 10} {
			if err = unix.Fallocate(int(f.Fd()), 0, cur, avail-d.freeB-less); err == nil {
				break
			}
		}
		if err != nil && !errors.Is(err, unix.ENOSPC) {
			return err
		}
		if err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("filling %s: the free space kept changing: %w", d.dir, err)
}

// free gives the space back.
func (d *smallDisk) free() error {
	d.full = false
	if d.method == "fsize" {
		for _, pid := range d.limited {
			unix.Prlimit(pid, unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}, nil)
		}
		d.limited = nil
		return nil
	}
	err := os.Remove(filepath.Join(d.dir, "filler"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// limit puts pid under RLIMIT_FSIZE: no write may reach past freeB bytes
// of a file, as if the disk had no room left (a warehouse file reuses its
// free blocks, and a commit of rows written there logs a few kilobytes: a
// disk is full for a load only when even those cannot be written).
func (d *smallDisk) limit(pid int) error {
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: uint64(d.freeB), Max: unix.RLIM_INFINITY}, nil); err != nil {
		return fmt.Errorf("RLIMIT_FSIZE on pid %d: %w", pid, err)
	}
	d.limited = append(d.limited, pid)
	return nil
}

// run runs `triscope args...` and returns its output and error. With
// fillOn, the disk is filled once the child has printed a line holding it
// (the operation has started: its setup ran with room to spare); else the
// child runs under whatever state the disk is in.
func (d *smallDisk) run(ctx context.Context, e *chaosEnv, fillOn string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, e.exe, args...)
	cmd.Dir, cmd.Env = e.dir, append(os.Environ(), "TRISCOPE_AUTH_DB=")
	var out strings.Builder
	var mu sync.Mutex
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return "", err
	}
	var fillErr error
	if d.full && d.method == "fsize" {
		fillErr = d.limit(cmd.Process.Pid)
	}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<16), 1<<20)
		for sc.Scan() {
			mu.Lock()
			out.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if fillOn != "" && !d.full && strings.Contains(sc.Text(), fillOn) {
				fillErr = d.fill(cmd.Process.Pid)
			}
		}
		io.Copy(io.Discard, pr)
	}()
	err := cmd.Wait()
	pw.Close()
	<-scanned
	if d.method == "fsize" {
		d.limited = slices.DeleteFunc(d.limited, func(pid int) bool { return pid == cmd.Process.Pid })
	}
	if fillErr != nil {
		return out.String(), fmt.Errorf("filling the disk: %w", fillErr)
	}
	if fillOn != "" && !d.full {
		return out.String(), fmt.Errorf("the operation never printed %q: the disk was not filled during it", fillOn)
	}
	return out.String(), err
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

func chaosDisk(ctx context.Context, e *chaosEnv, o diskOptions) (int, error) {
	out := e.out
	before := e.path("before.duckdb")
	if err := e.prepareCompany(ctx, o.from, o.size, before); err != nil {
		return 0, err
	}
	if _, err := e.run(ctx, "gen", "--size", o.size, "--seed", "2", "--out", e.path("company2")); err != nil {
		return 0, err
	}
	if err := padWarehouse(ctx, before); err != nil {
		return 0, err
	}
	stBefore, err := readWarehouseState(ctx, before)
	if err != nil {
		return 0, err
	}
	if len(stBefore.MartAsOf) != 1 {
		return 0, fmt.Errorf("the starting warehouse's marts have as_of %v, want one date", stBefore.MartAsOf)
	}
	a, _ := time.Parse(time.DateOnly, stBefore.MartAsOf[0])
	refreshAsOf := a.AddDate(0, -1, 0).Format(time.DateOnly)
	// Room for the warehouse, its application database and what a load
	// writes before it fills the rest.
	size := 2*(dirSize(e.dir)-dirSize(e.path("company1"))-dirSize(e.path("company2"))) + 64<<20
	disk, err := newSmallDisk(e.path("disk"), o.method, size, o.freeKiB<<10)
	if err != nil {
		return 0, err
	}
	defer disk.close()
	fmt.Fprintf(out, "method: %s\n", disk.about)

	bad := 0
	report := func(what string, problems []string) {
		if len(problems) == 0 {
			fmt.Fprintf(out, "  ok      %s\n", what)
			return
		}
		bad++
		fmt.Fprintf(out, "  BROKEN  %s: %s\n", what, strings.Join(problems, "; "))
	}
	// namesTheDisk checks that a failed operation's output says the disk
	// holding the warehouse is full and names it.
	namesTheDisk := func(output string, err error) []string {
		var p []string
		if err == nil {
			p = append(p, "the operation succeeded on a full disk")
		}
		says := strings.Contains(output, "the disk holding the warehouse is full: "+disk.dir)
		if disk.method == "fsize" {
			says = strings.Contains(output, "RLIMIT_FSIZE) on "+disk.dir)
		}
		if !says {
			p = append(p, "the error does not say that the disk holding "+disk.dir+" is full: "+lastLines(output, 3))
		} else if len(p) == 0 {
			// The error as the command line printed it.
			for _, line := range strings.Split(output, "\n") {
				if strings.HasPrefix(line, "error: ") && strings.Contains(line, disk.dir) {
					fmt.Fprintf(out, "          %s\n", cutLine(line, 400))
					break
				}
			}
		}
		return p
	}
	sameAsBefore := func(db string) []string {
		st, err := readWarehouseState(ctx, db)
		if err != nil {
			return []string{err.Error()}
		}
		if d := diffParts(st, stBefore); len(d) > 0 {
			return []string{"the warehouse changed: " + abbreviate(d, 6)}
		}
		return nil
	}
	load := []string{"load", "--db", "", e.path("company2")}
	refresh := []string{"refresh", "--db", "", "--as-of", refreshAsOf}
	with := func(args []string, db string) []string {
		c := append([]string(nil), args...)
		c[2] = db
		return c
	}

	// Directly: no server.
	fmt.Fprintln(out, "directly (no server):")
	db := filepath.Join(disk.dir, "direct.duckdb")
	if err := copyWarehouse(before, db); err != nil {
		return bad, err
	}
	for _, op := range []struct {
		name, started string
		args          []string
	}{{"a load", "loading into", with(load, db)}, {"a refresh", "refreshing the models of", with(refresh, db)}} {
		output, err := disk.run(ctx, e, op.started, op.args...)
		report(op.name+" on the full disk fails with an error naming the disk", namesTheDisk(output, err))
		if err := disk.free(); err != nil {
			return bad, err
		}
		report("after "+op.name+" failed, the warehouse holds the data it held before", sameAsBefore(db))
	}
	output, err := disk.run(ctx, e, "", with(load, db)...)
	var p []string
	if err != nil || !strings.Contains(output, " committed ") {
		p = append(p, fmt.Sprintf("%v: %s", err, lastLines(output, 3)))
	}
	report("once space is freed, the same load commits", p)
	os.Remove(db)
	os.Remove(db + ".wal")

	// Through a server.
	fmt.Fprintln(out, "through a server:")
	db = filepath.Join(disk.dir, "served.duckdb")
	if err := copyWarehouse(before, db); err != nil {
		return bad, err
	}
	password := access.RandomPassword()
	add := exec.CommandContext(ctx, e.exe, "users", "add", "chaos", "--db", db, "--role", "executive", "--password-stdin")
	add.Dir, add.Env, add.Stdin = e.dir, append(os.Environ(), "TRISCOPE_AUTH_DB="), strings.NewReader(password+"\n")
	if b, err := add.CombinedOutput(); err != nil {
		return bad, fmt.Errorf("users add: %v\n%s", err, b)
	}
	srv, base, stopServer, err := e.startServer(ctx, db, e.path("serve-disk.log"))
	if err != nil {
		return bad, err
	}
	defer stopServer()
	client, err := benchLogin(base, "chaos", password)
	if err != nil {
		return bad, fmt.Errorf("login: %w", err)
	}
	const chart = "/api/charts/magnifier.table?metric=collections&dim=org&period=l12m"
	const rows = "/api/charts/magnifier.table/rows?metric=collections&dim=org&period=l12m&size=20"
	get := func(path string) (int, []byte, error) {
		resp, err := client.Get(base + path)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	code, b, err := get(chart)
	if err != nil || code != 200 {
		return bad, fmt.Errorf("the chart before the disk is full: %d %v", code, err)
	}
	baseline, _, err := tableBars(b)
	if err != nil {
		return bad, err
	}
	serving := func(want map[string]float64) []string {
		var p []string
		for _, path := range []string{"/healthz", "/readyz", chart, rows} {
			code, b, err := get(path)
			if err != nil || code != http.StatusOK {
				p = append(p, fmt.Sprintf("GET %s: %d %v %s", path, code, err, firstLineOf(string(b))))
				continue
			}
			if path == chart {
				bars, state, err := tableBars(b)
				if err != nil {
					p = append(p, fmt.Sprintf("GET %s: state %s: %v", path, state, err))
				} else if want != nil && matchBars(bars, want, []float64{0}) != 0 {
					p = append(p, fmt.Sprintf("GET %s: the bars changed: %v, before %v", path, bars, want))
				}
			}
		}
		return p
	}
	report("the server serves before the disk is full", serving(baseline))
	for _, op := range []struct {
		name string
		args []string
	}{{"a load", with(load, db)}, {"a refresh", with(refresh, db)}} {
		if err := disk.fill(srv.Process.Pid); err != nil {
			return bad, err
		}
		output, err := disk.run(ctx, e, "", op.args...)
		p := namesTheDisk(output, err)
		if !strings.Contains(output, "through the server") {
			p = append(p, "it did not go through the server: "+lastLines(output, 3))
		}
		report(op.name+" through the server on the full disk fails with an error naming the disk", p)
		report("after "+op.name+" failed, the server still serves the previous data (healthz, readyz, a chart, its rows)", serving(baseline))
		if err := disk.free(); err != nil {
			return bad, err
		}
	}
	output, err = disk.run(ctx, e, "", with(load, db)...)
	p = nil
	if err != nil || !strings.Contains(output, " committed ") || !strings.Contains(output, "through the server") {
		p = append(p, fmt.Sprintf("%v: %s", err, lastLines(output, 3)))
	}
	report("once space is freed, the same load commits through the same server", p)
	p = nil
	changed := false
	for range 50 { // the server notices a new version within 250 ms
		code, b, err := get(chart)
		if err != nil || code != 200 {
			p = append(p, fmt.Sprintf("GET %s: %d %v", chart, code, err))
			break
		}
		if bars, _, err := tableBars(b); err == nil && matchBars(bars, baseline, []float64{0}) != 0 {
			changed = true
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !changed && len(p) == 0 {
		p = append(p, "the chart still shows the data before the load")
	}
	report("and its dashboards show the new data", p)
	if err := stopServer(); err != nil {
		report("the server stops cleanly", []string{err.Error()})
	} else {
		report("the server stops cleanly", nil)
	}
	fmt.Fprintf(out, "disk full (%s): %d broken\n", disk.method, bad)
	return bad, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// padWarehouse fills the free blocks inside a warehouse file with tables
// of its own (main.chaos_padding_N), so that an operation on it has to grow
// a file: a file with free blocks (a refresh replaced the marts) takes a
// load of the small company into them, and a full disk never shows. Each
// round writes a new table: appending to one rewrote its last row group at
// every checkpoint, freeing about as many blocks as it filled (the free
// count went 25, 19, 9, 24, 11, 23 … and the test failed after 30 rounds);
// new tables take the free blocks in a few rounds (25, 15, 8, 4, 2, 1, 0).
func padWarehouse(ctx context.Context, path string) error {
	w, err := warehouse.Open(ctx, warehouse.Options{Path: path, Threads: 2, Logger: discardLogger()})
	if err != nil {
		return err
	}
	defer w.Close()
	for round := range 30 {
		var free, size int64
		if err := w.DB().QueryRowContext(ctx, "SELECT free_blocks, block_size FROM pragma_database_size() WHERE database_name = current_database()").
			Scan(&free, &size); err != nil {
			return fmt.Errorf("the warehouse's free blocks: %w", err)
		}
		if free == 0 {
			return nil
		}
		// md5 text compresses to about its size: one row per 40 bytes.
		rows := max(1000, free*size/40)
		err := w.Write(ctx, func(ctx context.Context, conn *sql.Conn) error {
			for _, q := range []string{
				fmt.Sprintf("CREATE TABLE main.chaos_padding_%d AS SELECT md5(random()::VARCHAR) AS s FROM range(%d)", round, rows),
				"CHECKPOINT",
			} {
				if _, err := conn.ExecContext(ctx, q); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("padding the warehouse: %w", err)
		}
	}
	return errors.New("padding the warehouse: free blocks remain after 30 rounds")
}
