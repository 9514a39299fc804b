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
