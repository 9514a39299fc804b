package adhoc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/triscope/triscope/warehouse"
)

// SnapshotSource gives the workers the file they read. Acquire returns the
// current file and a release function; the file stays on disk until every
// holder has released it.
type SnapshotSource interface {
	Acquire() (path string, release func(), err error)
}

// StaticSnapshot is one file that never changes (the CLI reading a warehouse
// file that no server owns, tests).
type StaticSnapshot string

// Acquire implements SnapshotSource.
func (s StaticSnapshot) Acquire() (string, func(), error) {
	if _, err := os.Stat(string(s)); err != nil {
		return "", nil, err
	}
	return string(s), func() {}, nil
}

// Snapshots is a directory of read-only copies of the warehouse that the
// server publishes after each load and refresh. The workers read the current
// one; an older one is deleted once no worker holds it. The current file's
// name is in CURRENT (replaced atomically), so a restarted server finds it,
// with the stamp of the warehouse file it was copied from: a publication
// that finds the warehouse as it was then keeps it instead of copying the
// file again (a restart copied the whole warehouse, 8-14 GB on the large
// demo company, and pushed the pages' data out of the page cache).
type Snapshots struct {
	dir string

	mu      sync.Mutex
	current string         // file name in dir
	source  string         // fileStamp of the warehouse the current file was copied from ("": unknown)
	refs    map[string]int // holders per file name
}

const currentFile = "CURRENT"

// OpenSnapshots opens (or creates) a snapshot directory and deletes the
// files CURRENT does not name (left by an earlier process).
func OpenSnapshots(dir string) (*Snapshots, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s := &Snapshots{dir: dir, refs: map[string]int{}}
	if b, err := os.ReadFile(filepath.Join(dir, currentFile)); err == nil {
		first, rest, _ := strings.Cut(string(b), "\n")
		name := strings.TrimSpace(first)
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil && name != "" && name == filepath.Base(name) {
			s.current = name
			s.source, _ = strings.CutPrefix(strings.TrimSpace(rest), "source ")
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if n := e.Name(); n != currentFile && n != s.current {
			os.RemoveAll(filepath.Join(dir, n))
		}
	}
	return s, nil
}

// Current is the path of the current snapshot ("" when none was published).
func (s *Snapshots) Current() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current == "" {
		return ""
	}
	return filepath.Join(s.dir, s.current)
}

// Acquire implements SnapshotSource.
func (s *Snapshots) Acquire() (string, func(), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current == "" {
		return "", nil, errors.New("no snapshot of the warehouse has been published yet")
	}
	name := s.current
	s.refs[name]++
	var once sync.Once
	return filepath.Join(s.dir, name), func() { once.Do(func() { s.release(name) }) }, nil
}

func (s *Snapshots) release(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refs[name]--
	if s.refs[name] <= 0 {
		delete(s.refs, name)
		if name != s.current {
			os.Remove(filepath.Join(s.dir, name))
		}
	}
}

// PublishStats says what a publication cost.
type PublishStats struct {
	Path    string
	Bytes   int64
	Lane    time.Duration // the write lane was held this long (checkpoint and copy)
	Total   time.Duration
	Reflink bool // the copy shared blocks with the warehouse (copy-on-write file system)
	// Kept: the warehouse file was as the current snapshot's copy found it
	// (nothing committed since), so it stays current and nothing is copied.
	Kept     bool
	Previous string
}

// Publish makes a read-only snapshot of the warehouse and switches the
// workers to it: on the write lane (no load or refresh commits meanwhile)
// it checkpoints, so the file holds every commit and the WAL is empty, and
// copies the file (a reflink where the file system can, else
// copy_file_range). The copy is synced and renamed into place, then CURRENT
// is replaced; queries running on the previous snapshot finish on it. When
// the checkpointed file is the one the current snapshot was copied from
// (same stamp: nothing was written since), the current snapshot is kept.
func (s *Snapshots) Publish(ctx context.Context, w *warehouse.Warehouse) (PublishStats, error) {
	start := time.Now()
	var st PublishStats
	src := w.Path()
	if src == "" {
		return st, errors.New("publish: the warehouse is in memory")
	}
	name := fmt.Sprintf("snap-%s.duckdb", time.Now().UTC().Format("20060102T150405.000000000"))
	tmp := filepath.Join(s.dir, ".tmp-"+name)
	final := filepath.Join(s.dir, name)
	var stamp string
	err := w.Write(ctx, func(ctx context.Context, conn *sql.Conn) error {
		laneStart := time.Now()
		defer func() { st.Lane = time.Since(laneStart) }()
		if _, err := conn.ExecContext(ctx, "CHECKPOINT"); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		fi, err := os.Stat(src)
		if err != nil {
			return err
		}
		// The file system's clock ticks every few milliseconds: a write in
		// the tick of the stamp's times would leave them as they are. Hold
		// the lane until that tick is past, so that any later commit's
		// checkpoint writes at a later time.
		if wait := stampTick - time.Since(fi.ModTime()); wait > 0 {
			time.Sleep(wait)
		}
		if stamp = fileStamp(fi); stamp != "" && s.keeps(stamp, fi.Size()) {
			st.Kept, st.Bytes = true, fi.Size()
			return nil
		}
		n, reflink, err := copyFile(src, tmp)
		st.Bytes, st.Reflink = n, reflink
		return err
	})
	if err != nil {
		os.Remove(tmp)
		return st, fmt.Errorf("publish snapshot: %w", err)
	}
	if st.Kept {
		st.Path, st.Total = s.Current(), time.Since(start)
		return st, nil
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return st, err
	}
	current := name + "\n"
	if stamp != "" {
		current += "source " + stamp + "\n"
	}
	if err := writeFileAtomic(filepath.Join(s.dir, currentFile), []byte(current)); err != nil {
		os.Remove(final)
		return st, err
	}
	syncDir(s.dir)
	s.mu.Lock()
	prev := s.current
	s.current, s.source = name, stamp
	if prev != "" && s.refs[prev] == 0 {
		os.Remove(filepath.Join(s.dir, prev))
	}
	s.mu.Unlock()
	st.Path, st.Previous, st.Total = final, prev, time.Since(start)
	return st, nil
}

// stampTick bounds the granularity of the file system's times (the
// kernel's coarse clock: 1/HZ, 4 ms at HZ=250, 10 ms at HZ=100).
const stampTick = 20 * time.Millisecond

// keeps says whether the current snapshot is a copy of the warehouse file
// whose stamp is stamp (and is still whole: its size is the file's).
func (s *Snapshots) keeps(stamp string, size int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current == "" || s.source != stamp {
		return false
	}
	fi, err := os.Stat(filepath.Join(s.dir, s.current))
	return err == nil && fi.Size() == size
}

// copyFile copies src to a new file dst, synced: a reflink (FICLONE) when
// the file system shares blocks, otherwise io.Copy (copy_file_range on
// Linux).
func copyFile(src, dst string) (int64, bool, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, false, err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, false, err
	}
	reflink := ficlone(out, in) == nil
	var n int64
	if reflink {
		fi, err := in.Stat()
		if err != nil {
			out.Close()
			return 0, false, err
		}
		n = fi.Size()
	} else {
		n, err = io.Copy(out, in)
		if err != nil {
			out.Close()
			return n, false, err
		}
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return n, reflink, err
	}
	return n, reflink, out.Close()
}

func ficlone(dst, src *os.File) error {
	const ficlone = 0x40049409 // _IOW(0x94, 9, int)
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, dst.Fd(), ficlone, src.Fd())
	if errno != 0 {
		return errno
	}
	return nil
}

// writeFileAtomic writes a private temp file and renames it over path (a
// file written in place keeps its old mode and follows symlinks).
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// files lists the snapshot files in the directory (tests, diagnostics).
func (s *Snapshots) files() []string {
	entries, _ := os.ReadDir(s.dir)
	var out []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".duckdb") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}
