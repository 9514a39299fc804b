package warehouse

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// A full disk, found by `triscope chaos disk-full` (issue 18). DuckDB 1.5.6
// reports it in two ways:
//
//   - a write that fails inside a transaction ("TransactionContext Error:
//     Failed to commit: Could not write file …wal: No space left on device"):
//     the transaction rolls back and the instance stays usable;
//   - a checkpoint that fails after a commit ("FATAL Error: Failed to create
//     checkpoint because of error: Could not write file …: No space left on
//     device"): the commit is not kept, and the instance is invalidated —
//     every later query fails with "database has been invalidated because of
//     a previous fatal error. The database must be restarted". A server was
//     left answering 500 to every page until it was restarted.
//
// So an error that says the disk is full names the disk (explain), and an
// invalidated instance is closed and opened again in the same process
// (reopen): the file holds the last commit, as after a restart.

// IsInvalidated reports whether err says the DuckDB instance was
// invalidated by a fatal error (it must be opened again to be used).
func IsInvalidated(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "database has been invalidated") || strings.Contains(msg, "FATAL Error")
}

// reopen closes the invalidated DuckDB instance and opens the file again,
// once no write and no query is running (it takes the write lane and the
// commit gate, and waits for the connections in use to come back). It does
// nothing when the instance answers (another caller reopened it already).
func (w *Warehouse) reopen(ctx context.Context) error {
	if w.opts.Path == "" {
		return errors.New("an in-memory warehouse cannot be reopened")
	}
	w.reopening.Lock()
	defer w.reopening.Unlock()
	select {
	case w.lane <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-w.lane }()
	w.gate.Lock()
	defer w.gate.Unlock()
	if _, err := w.write.Load().ExecContext(ctx, "SELECT 1"); !IsInvalidated(err) {
		return nil // it works (reopened meanwhile), or fails for another reason
	}
	// Rows a reader has not closed yet hold a connection of the old
	// instance; a second instance must not open the file while the first
	// lives.
	deadline := time.Now().Add(30 * time.Second)
	for w.read.Load().Stats().InUse+w.write.Load().Stats().InUse > 0 {
		if time.Now().After(deadline) {
			return errors.New("reopening the warehouse: connections of the invalidated instance are still in use after 30 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	if err := w.closeInstance(); err != nil {
		w.log.Warn("closing the invalidated warehouse instance", "err", err)
	}
	if err := w.connect(); err != nil {
		return fmt.Errorf("reopening the warehouse: %w", err)
	}
	if err := w.applySettings(ctx); err != nil {
		return fmt.Errorf("reopening the warehouse: %w", err)
	}
	w.log.Warn("the warehouse was invalidated by a fatal DuckDB error and has been reopened: it holds the last commit",
		"path", w.opts.Path, "seconds", time.Since(start).Seconds())
	return nil
}

// Ping runs a query through the gated read pool: a DuckDB connection
// answers a ping even when its instance has been invalidated, a query does
// not (and reopens it, see Reader).
func (w *Warehouse) Ping(ctx context.Context) error {
	var one int
	return w.Reader().QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// explain adds to an error that says the disk is full (or a file reached
// the process's size limit) which disk, and how much room it has.
func (w *Warehouse) explain(err error) error {
	if err == nil || w.opts.Path == "" {
		return err
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "No space left on device") || strings.Contains(msg, "Disk quota exceeded"):
		return fmt.Errorf("the disk holding the warehouse is full: %s; free space there and try again: %w", DiskOf(w.opts.Path), err)
	case strings.Contains(msg, "File too large"):
		return fmt.Errorf("a file of the warehouse reached the largest file size this process may write (ulimit -f, RLIMIT_FSIZE) on %s: %w", DiskOf(w.opts.Path), err)
	}
	return err
}

// DiskOf describes the filesystem holding path: its directory, the mount
// point and device, and the space free, for messages.
func DiskOf(path string) string {
	dir := filepath.Dir(path)
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	s := dir
	if mnt, dev, fstype := mountOf(dir); mnt != "" {
		s += fmt.Sprintf(" (%s on %s, %s)", dev, mnt, fstype)
	}
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) == nil {
		bs := uint64(st.Bsize)
		s += fmt.Sprintf(", %s free of %s", bytesText(st.Bavail*bs), bytesText(st.Blocks*bs))
	}
	return s
}

// mountOf finds the mount point of dir in /proc/self/mounts (the longest
// that contains it).
func mountOf(dir string) (mnt, dev, fstype string) {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return "", "", ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			continue
		}
		m := strings.ReplaceAll(fields[1], `\040`, " ")
		if (dir == m || strings.HasPrefix(dir, strings.TrimSuffix(m, "/")+"/")) && len(m) >= len(mnt) {
			mnt, dev, fstype = m, fields[0], fields[2]
		}
	}
	return mnt, dev, fstype
}

func bytesText(n uint64) string {
	switch {
	case n >= 10<<30:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 10<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 10<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
