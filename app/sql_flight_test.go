package app_test

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-adbc/go/adbc"
	adbcflight "github.com/apache/arrow-adbc/go/adbc/driver/flightsql"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// visibleRelations is what the user's console lists (the HTTP API's schema).
func visibleRelations(t *testing.T, user string) []string {
	t.Helper()
	o := viaAPI(t, user, "SELECT 1", time.Second) // make sure the token works
	if o.class != "" {
		t.Fatal(o)
	}
	br := signIn(t, user)
	resp := br.do(t, "GET", "/api/sql/schema", "")
	defer resp.Body.Close()
	var body struct {
		Relations []struct {
			Name string `json:"name"`
		} `json:"relations"`
	}
	if err := jsonDecode(resp, &body); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range body.Relations {
		out = append(out, r.Name)
	}
	sort.Strings(out)
	return out
}

// TestFlightSQLArrowGoClient: arrow-go's own Flight SQL client signs in with
// basic auth (a wrong password is refused), lists the tables (only the
// relations the user may read, with their schemas), runs a query and a
// prepared statement (JDBC's path, with the dataset schema), streams a
// million rows, and gets a refusal for a refused statement.
func TestFlightSQLArrowGoClient(t *testing.T) {
	setupSQL(t)
	if _, _, err := flightClient(t, "rep", "wrong-password"); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("a wrong password: %v", err)
	}
	if _, _, err := flightClient(t, "nobody", "x"); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("an unknown user: %v", err)
	}
	cl, ctx, err := flightClient(t, "rep", sqlEnv.password)
	if err != nil {
		t.Fatal(err)
	}
	// An API token as the password works too.
	if _, _, err := flightClient(t, "token", sqlEnv.tokens["analyst"]); err != nil {
		t.Fatalf("sign in with an API token: %v", err)
	}

	// SqlInfo, catalogs, schemas, table types, type info: what JDBC asks first.
	info, err := cl.GetSqlInfo(ctx, []flightsql.SqlInfo{flightsql.SqlInfoFlightSqlServerName, flightsql.SqlInfoFlightSqlServerReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	if rows, _, err := readFlight(ctx, cl, info.Endpoint[0].Ticket); err != nil || len(rows) != 2 {
		t.Fatalf("sql info: %v %v", rows, err)
	}
	for name, get := range map[string]func() (*flightInfo, error){
		"catalogs":    func() (*flightInfo, error) { return cl.GetCatalogs(ctx) },
		"schemas":     func() (*flightInfo, error) { return cl.GetDBSchemas(ctx, &flightsql.GetDBSchemasOpts{}) },
		"table types": func() (*flightInfo, error) { return cl.GetTableTypes(ctx) },
		"type info":   func() (*flightInfo, error) { return cl.GetXdbcTypeInfo(ctx, nil) },
	} {
		fi, err := get()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rows, _, err := readFlight(ctx, cl, fi.Endpoint[0].Ticket)
		if err != nil || len(rows) == 0 {
			t.Fatalf("%s: %v rows, %v", name, len(rows), err)
		}
	}

	// Tables: exactly the relations the rep may read, each with its schema.
	fi, err := cl.GetTables(ctx, &flightsql.GetTablesOpts{IncludeSchema: true})
	if err != nil {
		t.Fatal(err)
	}
	rdr, err := cl.DoGet(ctx, fi.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rdr.Next() {
		rec := rdr.RecordBatch()
		names := rec.Column(2).(*array.String)
		schemas := rec.Column(4).(*array.Binary)
		for i := 0; i < names.Len(); i++ {
			tables = append(tables, names.Value(i))
			if len(schemas.Value(i)) == 0 {
				t.Errorf("table %s has no schema", names.Value(i))
			}
		}
	}
	rdr.Release()
	sort.Strings(tables)
	want := visibleRelations(t, "rep")
	if !slices.Equal(tables, want) || !slices.Contains(tables, "customers") || slices.Contains(tables, "customer_facts") {
		t.Errorf("flight tables %v\nconsole relations %v", tables, want)
	}

	// A query: the rep's own customers, as the HTTP API gives them.
	q := "SELECT customer_id, name, created_at FROM customers"
	got := viaFlight(t, cl, ctx, q)
	if ref := viaAPI(t, "rep", q, 10*time.Second); got.class != "" || strings.Join(got.rows, "\n") != strings.Join(ref.rows, "\n") {
		t.Errorf("flight %v, api %v", got, ref)
	}

	// The prepared statement path (JDBC, DBeaver): the dataset schema comes
	// with the handle; it runs twice; closing it forgets it.
	ps, err := cl.Prepare(ctx, "SELECT count(*) AS n, sum(amount) AS total FROM contracts")
	if err != nil {
		t.Fatal(err)
	}
	if s := ps.DatasetSchema(); s == nil || s.NumFields() != 2 || s.Field(0).Type.ID() != arrow.INT64 {
		t.Fatalf("dataset schema: %v", ps.DatasetSchema())
	}
	for i := 0; i < 2; i++ {
		pfi, err := ps.Execute(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rows, _, err := readFlight(ctx, cl, pfi.Endpoint[0].Ticket)
		if err != nil || len(rows) != 1 {
			t.Fatalf("prepared run %d: %v %v", i, rows, err)
		}
	}
	if err := ps.Close(ctx); err != nil {
		t.Fatal(err)
	}

	// A refused statement is refused, with the guard's message.
	_, err = cl.Execute(ctx, "SELECT * FROM read_csv('/etc/passwd')")
	if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "read_csv is not allowed") {
		t.Errorf("a refused statement: %v", err)
	}
	if _, err := cl.Prepare(ctx, "DELETE FROM customers"); status.Code(err) != codes.PermissionDenied {
		t.Errorf("a DELETE prepared: %v", err)
	}
	if _, err := cl.ExecuteUpdate(ctx, "DELETE FROM customers"); err == nil {
		t.Error("an update was accepted")
	}

	// A million rows, streamed in batches (as the executive: a longer limit).
	big, bctx, err := flightClient(t, "ceo", sqlEnv.password)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	fi, err = big.Execute(bctx, "SELECT i, i * 2 AS j, 'row ' || i AS label FROM range(1000000) t(i)")
	if err != nil {
		t.Fatal(err)
	}
	rdr, err = big.DoGet(bctx, fi.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	var n, batches int64
	var sum int64
	for rdr.Next() {
		rec := rdr.RecordBatch()
		col := rec.Column(0).(*array.Int64)
		for i := 0; i < col.Len(); i++ {
			sum += col.Value(i)
		}
		n += rec.NumRows()
		batches++
	}
	if err := rdr.Err(); err != nil {
		t.Fatal(err)
	}
	rdr.Release()
	if n != 1_000_000 || sum != 999_999*1_000_000/2 || batches < 2 {
		t.Errorf("streamed %d rows in %d batches (sum %d)", n, batches, sum)
	}
	t.Logf("1M rows in %d batches, %v", batches, time.Since(start).Round(time.Millisecond))

	// A ticket is this user's: another user cannot redeem it.
	fi, err = cl.Execute(ctx, "SELECT customer_id FROM customers")
	if err != nil {
		t.Fatal(err)
	}
	other, octx, err := flightClient(t, "analyst", sqlEnv.password)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := readFlight(octx, other, fi.Endpoint[0].Ticket); status.Code(err) != codes.NotFound {
		t.Errorf("another user's ticket: %v", err)
	}
}

type flightInfo = flight.FlightInfo

// TestFlightSQLADBC: the ADBC Go Flight SQL driver (the statement path BI
// notebooks use) signs in, lists the objects (only visible relations), runs
// a query and streams a million rows; a wrong password and a refused
// statement are refused.
func TestFlightSQLADBC(t *testing.T) {
	setupSQL(t)
	ctx := context.Background()
	drv := adbcflight.NewDriver(memory.DefaultAllocator)
	open := func(user, password string) (adbc.Connection, error) {
		db, err := drv.NewDatabase(map[string]string{adbc.OptionKeyURI: "grpc://" + sqlEnv.flight,
			adbc.OptionKeyUsername: user, adbc.OptionKeyPassword: password})
		if err != nil {
			return nil, err
		}
		t.Cleanup(func() { db.Close() })
		return db.Open(ctx)
	}
	if c, err := open("manager", "wrong"); err == nil {
		// Some driver versions authenticate lazily: the first call fails.
		st, _ := c.NewStatement()
		st.SetSqlQuery("SELECT 1")
		if _, _, err := st.ExecuteQuery(ctx); err == nil {
			t.Fatal("a wrong password was accepted")
		}
		c.Close()
	}
	cnxn, err := open("manager", sqlEnv.password)
	if err != nil {
		t.Fatal(err)
	}
	defer cnxn.Close()

	objs, err := cnxn.GetObjects(ctx, adbc.ObjectDepthTables, nil, nil, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for objs.Next() {
		rec := objs.RecordBatch()
		schemasList := rec.Column(1).(*array.List)
		schemaStruct := schemasList.ListValues().(*array.Struct)
		tablesList := schemaStruct.Field(1).(*array.List)
		tableStruct := tablesList.ListValues().(*array.Struct)
		names := tableStruct.Field(0).(*array.String)
		for i := 0; i < names.Len(); i++ {
			tables = append(tables, names.Value(i))
		}
	}
	objs.Release()
	sort.Strings(tables)
	if want := visibleRelations(t, "manager"); !slices.Equal(tables, want) {
		t.Errorf("adbc objects %v\nconsole relations %v", tables, want)
	}

	run := func(q string) (int64, error) {
		st, err := cnxn.NewStatement()
		if err != nil {
			return 0, err
		}
		defer st.Close()
		if err := st.SetSqlQuery(q); err != nil {
			return 0, err
		}
		rdr, _, err := st.ExecuteQuery(ctx)
		if err != nil {
			return 0, err
		}
		defer rdr.Release()
		var n int64
		for rdr.Next() {
			n += rdr.RecordBatch().NumRows()
		}
		return n, rdr.Err()
	}
	n, err := run("SELECT customer_id FROM customers")
	if err != nil {
		t.Fatal(err)
	}
	if ref := viaAPI(t, "manager", "SELECT count(*) FROM customers", 10*time.Second); len(ref.rows) != 1 || ref.rows[0] != strings.TrimSpace(canon(float64(n))) {
		t.Errorf("adbc %d customers, api %v", n, ref)
	}
	start := time.Now()
	ceo, err := open("ceo", sqlEnv.password)
	if err != nil {
		t.Fatal(err)
	}
	defer ceo.Close()
	cnxn = ceo // run() uses cnxn
	if n, err := run("SELECT i, i * 2 AS j FROM range(1000000) t(i)"); err != nil || n != 1_000_000 {
		t.Errorf("a million rows: %d, %v", n, err)
	}
	t.Logf("adbc: 1M rows in %v", time.Since(start).Round(time.Millisecond))
	if _, err := run("SELECT * FROM duckdb_settings()"); err == nil || !strings.Contains(err.Error(), "not allowed") {
		t.Errorf("a refused statement: %v", err)
	}
}

// TestFlightSQLStreamsAreCapped: past max_streams (4) result streams at
// once, DoGet answers ResourceExhausted at once; the others run until the
// role's time limit stops them (DeadlineExceeded).
func TestFlightSQLStreamsAreCapped(t *testing.T) {
	setupSQL(t)
	type prepared struct {
		cl  *flightsql.Client
		ctx context.Context
		fi  *flight.FlightInfo
	}
	var ps []prepared
	for _, user := range []string{"rep", "manager", "analyst", "rep", "manager", "analyst"} {
		cl, ctx, err := flightClient(t, user, sqlEnv.password)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := cl.Execute(ctx, "SELECT count(*) FROM range(100000) a, range(100000) b, range(1000) c")
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, prepared{cl, ctx, fi})
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(ps))
	for _, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := readFlight(p.ctx, p.cl, p.fi.Endpoint[0].Ticket)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	got := map[codes.Code]int{}
	for err := range errs {
		got[status.Code(err)]++
	}
	if got[codes.ResourceExhausted] != 2 || got[codes.DeadlineExceeded] != 4 {
		t.Errorf("six slow streams at once: %v, want 2 refused (ResourceExhausted) and 4 stopped at the time limit", got)
	}
}
