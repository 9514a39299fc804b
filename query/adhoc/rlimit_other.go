//go:build !linux

package adhoc

import "errors"

func limitAddressSpace(int64) error {
	return errors.New("the SQL worker's memory limit needs Linux (RLIMIT_AS)")
}

func lowerPriority(int) error { return nil }
