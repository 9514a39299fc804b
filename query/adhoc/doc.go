// Package adhoc runs analysts' SQL safely: one read-only query, over the
// relations the user's data scope allows, bounded in time, rows and memory,
// audited. The CLI, the HTTP API, the web console and Flight SQL (package
// sql/…) all run queries through a Sandbox; reports run saved queries
// through it too.
//
// # The guard (Check)
//
// The text is parsed by DuckDB itself (json_serialize_sql on a throwaway
// in-memory database, the SQL bound as a parameter): DuckDB serialises
// SELECT statements only and lists every statement, so a second statement
// ("SELECT 1; DELETE …") or a statement that is not a query is refused
// before anything runs. The tree is then walked with a deny-by-default
// walker: every node kind and every field of a node must be known (an
// unknown one is refused, so syntax added by a DuckDB upgrade fails closed),
// every table reference must be an unqualified name of the Catalog or a CTE
// visible at that point (a CTE may not take a relation's name), every
// function must be on the hand-written allowlist (functions.go), types may
// not name a catalog or a user type, DESCRIBE/SUMMARIZE only of a query,
// PIVOT only with an IN list. Refusals name what was refused ("function
// read_csv is not allowed", "relation main.customers: qualified names are
// not allowed; use customers").
//
// # The plan (NewPlan)
//
// Each relation the query reads is bound for the user's scope by a
// temporary view named _adhoc_<name> whose body is the Catalog's definition
// (e.g. SELECT * FROM scoped.customers(false, 'E', NULL)). The relation
// names in the user's text are replaced by the views' names at the
// positions the parse tree gives, the query is wrapped in the row cap
// (SELECT * FROM (…) AS _adhoc_q LIMIT n+1), and the result is parsed again
// and compared with the checked tree: what runs is exactly what was checked.
//
// The views are not named like the relations because DuckDB 1.5.6 binds a
// table macro's body in the caller's name space: a view customers over
// scoped.customers(…) finds itself when the macro reads customers (infinite
// recursion), and a table macro sees the caller's CTEs (WITH org_tree AS …
// would rewrite the scope inside the macro). A view's body is bound on its
// own and sees neither.
//
// # The worker and the snapshot
//
// Queries run in worker processes (`triscope sql-worker`, a re-exec of the
// binary), one query at a time each, under RLIMIT_AS: DuckDB's memory_limit
// is not a hard cap, the address-space limit is (an allocation past it is
// DuckDB's "Out of Memory Error", or the worker's death; the sandbox starts
// another). A worker opens a read-only snapshot of the warehouse as its only
// database, sets its hardening in order on one connection (spill directory
// and allowed_directories, then enable_external_access=false, then
// lock_configuration=true), reads every setting back from duckdb_settings()
// and refuses to serve on a mismatch. Each query gets a fresh connection
// (its views die with it), is checked once more to be one statement, and
// runs under a context deadline (DuckDB's interrupt); past the limit plus a
// grace the server kills the worker. A worker whose server is gone exits by
// itself (it watches its parent's process id), and any binary linking this
// package is a worker when started with WorkerArg (this package's init).
//
// Snapshots (Publish) are made by the server after each load and refresh:
// CHECKPOINT then a copy of the file on the write lane, renamed into place,
// CURRENT switched atomically; a file is deleted once no worker holds it.
//
// # Errors
//
// Every failure is an *Error with a Class (refused, syntax, data, timeout,
// too_many, memory, busy, internal). DuckDB's text can echo data values (a
// failed cast prints the value), so non-admins read a generic message per
// class and the position in their SQL; admins also get the raw text.
package adhoc
