package adhoc

import (
	"fmt"
	"syscall"
)

// limitAddressSpace sets RLIMIT_AS (soft and hard) on this process: an
// allocation past it fails (DuckDB reports "Out of Memory Error"; the Go
// runtime dies, and the server starts another worker).
func limitAddressSpace(bytes int64) error {
	lim := &syscall.Rlimit{Cur: uint64(bytes), Max: uint64(bytes)}
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, lim); err != nil {
		return fmt.Errorf("setrlimit RLIMIT_AS=%d: %w", bytes, err)
	}
	return nil
}

// lowerPriority renices this process (and the threads DuckDB starts later):
// ad hoc queries yield the CPU to the dashboards.
func lowerPriority(nice int) error {
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, 0, nice); err != nil {
		return fmt.Errorf("setpriority %d: %w", nice, err)
	}
	return nil
}
