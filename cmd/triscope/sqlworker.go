package main

import (
	"os"

	"github.com/triscope/triscope/query/adhoc"
)

// `triscope sql-worker` is the ad hoc SQL worker process (query/adhoc): the
// server starts it with a JSON configuration on stdin, under an address-space
// limit, and sends it planned queries. It is not a user command (hidden: it
// bypasses cobra and the configuration files), so it is handled before main.
func init() {
	if len(os.Args) == 2 && os.Args[1] == "sql-worker" {
		os.Exit(adhoc.WorkerMain())
	}
}
