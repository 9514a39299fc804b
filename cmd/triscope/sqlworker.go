package main

import "github.com/triscope/triscope/query/adhoc"

// `triscope sql-worker` is the ad hoc SQL worker process (query/adhoc): the
// server starts it with a JSON configuration on stdin, under an address-space
// limit, and sends it planned queries. It is not a user command (hidden: it
// bypasses cobra and the configuration files): package adhoc's init serves
// it before main runs.
var _ = adhoc.WorkerArg
