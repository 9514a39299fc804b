// Package flight serves ad hoc SQL over Arrow Flight SQL, for BI tools and
// notebooks (ADBC, JDBC/DBeaver, Python's flightsql clients). A client signs
// in with a Triscope username and password (basic auth on the handshake; an
// API token as the password works too) and gets a bearer token; it lists the
// relations its user may read and runs queries whose results stream back as
// Arrow record batches. Every query runs in the sandbox of query/adhoc as
// that user, with their data scope and their role's limits — the same
// checks as the console, the HTTP API and the command line.
//
// The RPCs: SqlInfo; statement query (GetFlightInfo, GetSchema, DoGet); the
// prepared statement set JDBC drivers use for every query (create, with the
// dataset schema; GetFlightInfo; DoGet; close); catalogs, schemas, tables
// (with include_schema), table types, XDBC type info. Writes (DoPut,
// transactions, Substrait) answer Unimplemented: ad hoc SQL is read-only.
// Statement handles and sessions expire when unused; result streams are
// capped (too many answer ResourceExhausted).
package flight

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql/schema_ref"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/query/adhoc"
)

// Catalog and schema the relations are listed under.
const (
	CatalogName = "triscope"
	SchemaName  = "main"
)

// Accounts signs users in (access.Store).
type Accounts interface {
	Authenticate(ctx context.Context, username, password string) (access.User, error)
	AuthenticateToken(ctx context.Context, secret string) (access.User, error)
}

// Options configure the server.
type Options struct {
	Sandbox  *adhoc.Sandbox
	Accounts Accounts
	Policy   adhoc.Policy
	// Addr is the listen address; without TLS it must be a loopback address.
	Addr             string
	TLSCert, TLSKey  string        // PEM files; both or neither
	MaxStreams       int           // result streams at once [4]
	MaxRows          int           // row cap of a query [10,000,000]
	HandleTTL        time.Duration // sessions and statement handles expire unused [10m]
	TimeZone         string        // of TIMESTAMPTZ columns [UTC]
	Version          string        // server version in SqlInfo
	Audit            func(user, action string, detail map[string]any)
	Logger           *slog.Logger
	Throttle         *access.Throttle // failed sign-ins [access.NewThrottle()]
	DescribeCacheTTL time.Duration    // how long a user's relation list is reused [30s]
}

// Server is a Flight SQL server over the sandbox.
type Server struct {
	flightsql.BaseServer
	opts Options
	log  *slog.Logger
	loc  *time.Location
	sem  chan struct{}

	mu       sync.Mutex
	sessions map[string]*session
	handles  map[string]*statement
	describe map[string]describeEntry

	grpc flight.Server
}

type session struct {
	user    access.User
	expires time.Time
}

type statement struct {
	owner   string
	sql     string
	columns []adhoc.Column
	schema  *arrow.Schema
	expires time.Time
}

type describeEntry struct {
	rels []adhoc.RelationInfo
	at   time.Time
}

// New checks the options and builds the server (not yet listening).
func New(opts Options) (*Server, error) {
	if opts.Sandbox == nil || opts.Accounts == nil || opts.Policy == nil {
		return nil, errors.New("flight: Sandbox, Accounts and Policy are required")
	}
	if (opts.TLSCert == "") != (opts.TLSKey == "") {
		return nil, errors.New("flight: give both a TLS certificate and its key, or neither")
	}
	if opts.MaxStreams <= 0 {
		opts.MaxStreams = 4
	}
	if opts.MaxRows <= 0 {
		opts.MaxRows = 10_000_000
	}
	if opts.HandleTTL <= 0 {
		opts.HandleTTL = 10 * time.Minute
	}
	if opts.TimeZone == "" {
		opts.TimeZone = "UTC"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Throttle == nil {
		opts.Throttle = access.NewThrottle()
	}
	if opts.DescribeCacheTTL <= 0 {
		opts.DescribeCacheTTL = 30 * time.Second
	}
	loc, err := time.LoadLocation(opts.TimeZone)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, log: opts.Logger, loc: loc, sem: make(chan struct{}, opts.MaxStreams),
		sessions: map[string]*session{}, handles: map[string]*statement{}, describe: map[string]describeEntry{}}
	s.Alloc = memory.DefaultAllocator
	for k, v := range s.sqlInfo() {
		if err := s.RegisterSqlInfo(flightsql.SqlInfo(k), v); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Listen checks the address (plaintext only on loopback), opens it and
// prepares the gRPC server; Serve then serves until Shutdown.
func (s *Server) Listen() (net.Addr, error) {
	host, _, err := net.SplitHostPort(s.opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("flight address %q: %w", s.opts.Addr, err)
	}
	var grpcOpts []grpc.ServerOption
	if s.opts.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(s.opts.TLSCert, s.opts.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("flight TLS certificate: %w", err)
		}
		grpcOpts = append(grpcOpts, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})))
	} else if !loopback(host) {
		return nil, fmt.Errorf("flight address %s is not a loopback address: configure sql.flight.tls_cert and tls_key to serve it (plaintext only on 127.0.0.1 or ::1)", s.opts.Addr)
	}
	grpcOpts = append(grpcOpts, grpc.MaxRecvMsgSize(4<<20))
	mw := []flight.ServerMiddleware{flight.CreateServerBasicAuthMiddleware(s)}
	srv := flight.NewServerWithMiddleware(mw, grpcOpts...)
	srv.RegisterFlightService(flightsql.NewFlightServer(s))
	if err := srv.Init(s.opts.Addr); err != nil {
		return nil, fmt.Errorf("flight: listen on %s: %w", s.opts.Addr, err)
	}
	s.grpc = srv
	return srv.Addr(), nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Serve serves until ctx ends (then stops gracefully, streams cut after 10 s).
func (s *Server) Serve(ctx context.Context) error {
	if s.grpc == nil {
		return errors.New("flight: Listen first")
	}
	go s.expire(ctx)
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			stopped := make(chan struct{})
			go func() { s.grpc.Shutdown(); close(stopped) }()
			select {
			case <-stopped:
			case <-time.After(10 * time.Second):
			}
		case <-done:
		}
	}()
	err := s.grpc.Serve()
	close(done)
	return err
}

// expire drops sessions and handles unused for HandleTTL.
func (s *Server) expire(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.mu.Lock()
			for k, v := range s.sessions {
				if now.After(v.expires) {
					delete(s.sessions, k)
				}
			}
			for k, v := range s.handles {
				if now.After(v.expires) {
					delete(s.handles, k)
				}
			}
			s.mu.Unlock()
		}
	}
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) audit(user, action string, detail map[string]any) {
	if s.opts.Audit != nil {
		s.opts.Audit(user, action, detail)
	}
}

// Validate implements flight.BasicAuthValidator: a username and password
// (or "token" and an API token) for a bearer token.
func (s *Server) Validate(username, password string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const where = "flight"
	if ok, wait := s.opts.Throttle.Allowed(username, where); !ok {
		s.audit(username, "flight_login_throttled", nil)
		return "", status.Errorf(codes.Unauthenticated, "too many failed sign-ins: try again in %s", wait.Round(time.Second))
	}
	var u access.User
	var err error
	if strings.HasPrefix(password, access.TokenPrefix) {
		u, err = s.opts.Accounts.AuthenticateToken(ctx, password)
		if err == nil && username != "" && username != "token" && !strings.EqualFold(username, u.Username) {
			err = access.ErrBadCredentials
		}
	} else {
		u, err = s.opts.Accounts.Authenticate(ctx, username, password)
	}
	if err != nil {
		s.opts.Throttle.Failed(username, where)
		s.audit(username, "flight_login_failed", nil)
		return "", status.Error(codes.Unauthenticated, "unknown user or wrong password")
	}
	s.opts.Throttle.Succeeded(username, where)
	if !s.opts.Policy(u.Role).Enabled {
		s.audit(u.Username, "flight_login_refused", map[string]any{"role": u.Role})
		return "", status.Error(codes.PermissionDenied, adhoc.ErrDisabled(u.Role).Message)
	}
	token := randomToken()
	s.mu.Lock()
	s.sessions[token] = &session{user: u, expires: time.Now().Add(s.opts.HandleTTL)}
	s.mu.Unlock()
	s.audit(u.Username, "flight_login", nil)
	return token, nil
}

// IsValid implements flight.BasicAuthValidator: the session of a bearer token.
func (s *Server) IsValid(token string) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[token]
	if !ok || time.Now().After(sess.expires) {
		delete(s.sessions, token)
		return nil, status.Error(codes.Unauthenticated, "the session expired or is unknown: sign in again")
	}
	sess.expires = time.Now().Add(s.opts.HandleTTL)
	return sess.user, nil
}

func userOf(ctx context.Context) (access.User, error) {
	u, ok := flight.AuthFromContext(ctx).(access.User)
	if !ok {
		return access.User{}, status.Error(codes.Unauthenticated, "sign in first")
	}
	return u, nil
}

// grpcError turns a sandbox error into a gRPC status with the message its
// user may read.
func grpcError(err error, admin bool) error {
	if _, ok := status.FromError(err); ok && !errors.As(err, new(*adhoc.Error)) {
		return err
	}
	var e *adhoc.Error
	if !errors.As(err, &e) {
		return status.Error(codes.Internal, "the query sandbox failed; the error was logged")
	}
	code := codes.Internal
	switch e.Class {
	case adhoc.Refused:
		code = codes.PermissionDenied
	case adhoc.Syntax:
		code = codes.InvalidArgument
	case adhoc.Data:
		code = codes.InvalidArgument
	case adhoc.Timeout:
		code = codes.DeadlineExceeded
	case adhoc.TooMany, adhoc.Memory, adhoc.Busy:
		code = codes.ResourceExhausted
	}
	return status.Error(code, e.For(admin))
}

func (s *Server) request(u access.User, sql, entry string) (adhoc.Request, error) {
	l := s.opts.Policy(u.Role)
	if !l.Enabled {
		return adhoc.Request{}, adhoc.ErrDisabled(u.Role)
	}
	req := adhoc.Request{User: u.Username, Admin: u.Role == access.RoleAdmin, Entry: entry,
		Scope: adhoc.Scope(access.ScopeFor(u)), SQL: sql, MaxRows: s.opts.MaxRows, Timeout: l.Timeout}
	return req, nil
}

// columnsSink keeps the columns of a schema-only run.
type columnsSink struct{ cols []adhoc.Column }

func (c *columnsSink) Columns(cols []adhoc.Column) error { c.cols = cols; return nil }
func (c *columnsSink) Rows([][]any) error                { return nil }

// prepare checks a query and binds it without running it: its columns and
// a handle for DoGet.
func (s *Server) prepare(ctx context.Context, u access.User, sql string) (string, *statement, error) {
	req, err := s.request(u, sql, "flight-schema")
	if err != nil {
		return "", nil, grpcError(err, false)
	}
	req.SchemaOnly = true
	var sink columnsSink
	if _, err := s.opts.Sandbox.Stream(ctx, req, &sink); err != nil {
		return "", nil, grpcError(err, req.Admin)
	}
	st := &statement{owner: u.Username, sql: sql, columns: sink.cols, schema: Schema(sink.cols, s.opts.TimeZone),
		expires: time.Now().Add(s.opts.HandleTTL)}
	h := randomToken()
	s.mu.Lock()
	s.handles[h] = st
	s.mu.Unlock()
	return h, st, nil
}

func (s *Server) handle(u access.User, h string) (*statement, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.handles[h]
	if !ok || st.owner != u.Username || time.Now().After(st.expires) {
		return nil, status.Error(codes.NotFound, "unknown or expired statement handle: prepare the query again")
	}
	st.expires = time.Now().Add(s.opts.HandleTTL)
	return st, nil
}

func (s *Server) info(desc *flight.FlightDescriptor, ticket []byte, schema *arrow.Schema) *flight.FlightInfo {
	return &flight.FlightInfo{
		Endpoint:         []*flight.FlightEndpoint{{Ticket: &flight.Ticket{Ticket: ticket}}},
		FlightDescriptor: desc,
		Schema:           flight.SerializeSchema(schema, s.Alloc),
		TotalRecords:     -1,
		TotalBytes:       -1,
	}
}

// GetFlightInfoStatement checks the query, binds it and answers its schema
// and a ticket (a handle of this user) for DoGet.
func (s *Server) GetFlightInfoStatement(ctx context.Context, cmd flightsql.StatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	u, err := userOf(ctx)
	if err != nil {
		return nil, err
	}
	h, st, err := s.prepare(ctx, u, cmd.GetQuery())
	if err != nil {
		return nil, err
	}
	tkt, err := flightsql.CreateStatementQueryTicket([]byte(h))
	if err != nil {
		return nil, err
	}
	return s.info(desc, tkt, st.schema), nil
}

// GetSchemaStatement answers the schema of a query without running it.
func (s *Server) GetSchemaStatement(ctx context.Context, cmd flightsql.StatementQuery, _ *flight.FlightDescriptor) (*flight.SchemaResult, error) {
	u, err := userOf(ctx)
	if err != nil {
		return nil, err
	}
	_, st, err := s.prepare(ctx, u, cmd.GetQuery())
	if err != nil {
		return nil, err
	}
	return &flight.SchemaResult{Schema: flight.SerializeSchema(st.schema, s.Alloc)}, nil
}

// DoGetStatement runs the query of a ticket and streams its batches.
func (s *Server) DoGetStatement(ctx context.Context, cmd flightsql.StatementQueryTicket) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	u, err := userOf(ctx)
	if err != nil {
		return nil, nil, err
	}
	st, err := s.handle(u, string(cmd.GetStatementHandle()))
	if err != nil {
		return nil, nil, err
	}
	// A statement ticket is used once.
	s.mu.Lock()
	delete(s.handles, string(cmd.GetStatementHandle()))
	s.mu.Unlock()
	return s.stream(ctx, u, st)
}

// CreatePreparedStatement binds a query (JDBC prepares every query) and
// answers its dataset schema. Parameters are not supported.
func (s *Server) CreatePreparedStatement(ctx context.Context, req flightsql.ActionCreatePreparedStatementRequest) (flightsql.ActionCreatePreparedStatementResult, error) {
	var res flightsql.ActionCreatePreparedStatementResult
	u, err := userOf(ctx)
	if err != nil {
		return res, err
	}
	if len(req.GetTransactionId()) > 0 {
		return res, status.Error(codes.Unimplemented, "transactions are not supported: ad hoc SQL is read-only")
	}
	h, st, err := s.prepare(ctx, u, req.GetQuery())
	if err != nil {
		return res, err
	}
	res.Handle = []byte(h)
	res.DatasetSchema = st.schema
	res.ParameterSchema = arrow.NewSchema(nil, nil)
	return res, nil
}

// ClosePreparedStatement forgets a handle.
func (s *Server) ClosePreparedStatement(ctx context.Context, req flightsql.ActionClosePreparedStatementRequest) error {
	u, err := userOf(ctx)
	if err != nil {
		return err
	}
	h := string(req.GetPreparedStatementHandle())
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.handles[h]; ok && st.owner == u.Username {
		delete(s.handles, h)
	}
	return nil
}

// GetFlightInfoPreparedStatement answers the schema and a ticket of a
// prepared statement.
func (s *Server) GetFlightInfoPreparedStatement(ctx context.Context, cmd flightsql.PreparedStatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	u, err := userOf(ctx)
	if err != nil {
		return nil, err
	}
	st, err := s.handle(u, string(cmd.GetPreparedStatementHandle()))
	if err != nil {
		return nil, err
	}
	return s.info(desc, desc.Cmd, st.schema), nil
}

// GetSchemaPreparedStatement answers a prepared statement's schema.
func (s *Server) GetSchemaPreparedStatement(ctx context.Context, cmd flightsql.PreparedStatementQuery, _ *flight.FlightDescriptor) (*flight.SchemaResult, error) {
	u, err := userOf(ctx)
	if err != nil {
		return nil, err
	}
	st, err := s.handle(u, string(cmd.GetPreparedStatementHandle()))
	if err != nil {
		return nil, err
	}
	return &flight.SchemaResult{Schema: flight.SerializeSchema(st.schema, s.Alloc)}, nil
}

// DoGetPreparedStatement runs a prepared statement (it may run again).
func (s *Server) DoGetPreparedStatement(ctx context.Context, cmd flightsql.PreparedStatementQuery) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	u, err := userOf(ctx)
	if err != nil {
		return nil, nil, err
	}
	st, err := s.handle(u, string(cmd.GetPreparedStatementHandle()))
	if err != nil {
		return nil, nil, err
	}
	return s.stream(ctx, u, st)
}

// DoPutPreparedStatementQuery would bind parameters: none are supported.
func (s *Server) DoPutPreparedStatementQuery(ctx context.Context, cmd flightsql.PreparedStatementQuery, rdr flight.MessageReader, _ flight.MetadataWriter) ([]byte, error) {
	if _, err := userOf(ctx); err != nil {
		return nil, err
	}
	for rdr.Next() {
		if rec := rdr.RecordBatch(); rec != nil && rec.NumCols() > 0 && rec.NumRows() > 0 {
			return nil, status.Error(codes.Unimplemented, "query parameters are not supported over Flight SQL: write the values in the SQL")
		}
	}
	return cmd.GetPreparedStatementHandle(), nil
}

// streamSink converts the worker's batches to Arrow and sends them.
type streamSink struct {
	ctx context.Context
	bt  *batcher
	ch  chan<- flight.StreamChunk
}

func (k *streamSink) Columns([]adhoc.Column) error { return nil }

func (k *streamSink) Rows(rows [][]any) error {
	for _, r := range rows {
		if err := k.bt.add(r); err != nil {
			return err
		}
		if k.bt.full() {
			if err := k.send(k.bt.flush()); err != nil {
				return err
			}
		}
	}
	return nil
}

func (k *streamSink) send(rec arrow.RecordBatch) error {
	if rec == nil {
		return nil
	}
	select {
	case k.ch <- flight.StreamChunk{Data: rec}:
		return nil
	case <-k.ctx.Done():
		rec.Release()
		return k.ctx.Err()
	}
}

// stream runs a bound statement in the sandbox and streams it as Arrow,
// within the cap of concurrent streams.
func (s *Server) stream(ctx context.Context, u access.User, st *statement) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	select {
	case s.sem <- struct{}{}:
	default:
		return nil, nil, status.Errorf(codes.ResourceExhausted, "%d result streams are running: try again in a moment", s.opts.MaxStreams)
	}
	req, err := s.request(u, st.sql, "flight")
	if err != nil {
		<-s.sem
		return nil, nil, grpcError(err, false)
	}
	ch := make(chan flight.StreamChunk, 2)
	go func() {
		defer func() { <-s.sem }()
		defer close(ch)
		bt := newBatcher(s.Alloc, st.schema, s.loc)
		defer bt.release()
		sink := &streamSink{ctx: ctx, bt: bt, ch: ch}
		_, err := s.opts.Sandbox.Stream(ctx, req, sink)
		if err == nil {
			err = sink.send(bt.flush())
		}
		if err != nil && ctx.Err() == nil {
			select {
			case ch <- flight.StreamChunk{Err: grpcError(err, req.Admin)}:
			case <-ctx.Done():
			}
		}
	}()
	return st.schema, ch, nil
}

// relations lists what the user may read (cached briefly per user).
func (s *Server) relations(ctx context.Context, u access.User) ([]adhoc.RelationInfo, error) {
	key := u.Username + "\x00" + access.ScopeFor(u).Key()
	s.mu.Lock()
	if e, ok := s.describe[key]; ok && time.Since(e.at) < s.opts.DescribeCacheTTL {
		s.mu.Unlock()
		return e.rels, nil
	}
	s.mu.Unlock()
	if !s.opts.Policy(u.Role).Enabled {
		return nil, grpcError(adhoc.ErrDisabled(u.Role), false)
	}
	rels, err := s.opts.Sandbox.Describe(ctx, u.Username, adhoc.Scope(access.ScopeFor(u)))
	if err != nil {
		return nil, grpcError(err, u.Role == access.RoleAdmin)
	}
	s.mu.Lock()
	s.describe[key] = describeEntry{rels: rels, at: time.Now()}
	s.mu.Unlock()
	return rels, nil
}

// likeRE compiles a SQL LIKE pattern (% and _, backslash escapes).
func likeRE(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("(?is)^")
	esc := false
	for _, r := range p {
		switch {
		case esc:
			b.WriteString(regexp.QuoteMeta(string(r)))
			esc = false
		case r == '\\':
			esc = true
		case r == '%':
			b.WriteString(".*")
		case r == '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func matches(pattern *string, s string) bool {
	return pattern == nil || likeRE(*pattern).MatchString(s)
}

func oneBatch(schema *arrow.Schema, rec arrow.RecordBatch) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	ch := make(chan flight.StreamChunk, 1)
	ch <- flight.StreamChunk{Data: rec}
	close(ch)
	return schema, ch, nil
}

func (s *Server) GetFlightInfoCatalogs(_ context.Context, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.info(desc, desc.Cmd, schema_ref.Catalogs), nil
}

func (s *Server) DoGetCatalogs(ctx context.Context) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	if _, err := userOf(ctx); err != nil {
		return nil, nil, err
	}
	b := array.NewRecordBuilder(s.Alloc, schema_ref.Catalogs)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).Append(CatalogName)
	return oneBatch(schema_ref.Catalogs, b.NewRecordBatch())
}

func (s *Server) GetFlightInfoSchemas(_ context.Context, _ flightsql.GetDBSchemas, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.info(desc, desc.Cmd, schema_ref.DBSchemas), nil
}

func (s *Server) DoGetDBSchemas(ctx context.Context, cmd flightsql.GetDBSchemas) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	if _, err := userOf(ctx); err != nil {
		return nil, nil, err
	}
	b := array.NewRecordBuilder(s.Alloc, schema_ref.DBSchemas)
	defer b.Release()
	if (cmd.GetCatalog() == nil || *cmd.GetCatalog() == CatalogName) && matches(cmd.GetDBSchemaFilterPattern(), SchemaName) {
		b.Field(0).(*array.StringBuilder).Append(CatalogName)
		b.Field(1).(*array.StringBuilder).Append(SchemaName)
	}
	return oneBatch(schema_ref.DBSchemas, b.NewRecordBatch())
}

func (s *Server) GetFlightInfoTables(_ context.Context, cmd flightsql.GetTables, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	schema := schema_ref.Tables
	if cmd.GetIncludeSchema() {
		schema = schema_ref.TablesWithIncludedSchema
	}
	return s.info(desc, desc.Cmd, schema), nil
}

// DoGetTables lists the relations the user may read (as tables of
// triscope.main), with their Arrow schemas when asked.
func (s *Server) DoGetTables(ctx context.Context, cmd flightsql.GetTables) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	u, err := userOf(ctx)
	if err != nil {
		return nil, nil, err
	}
	schema := schema_ref.Tables
	if cmd.GetIncludeSchema() {
		schema = schema_ref.TablesWithIncludedSchema
	}
	b := array.NewRecordBuilder(s.Alloc, schema)
	defer b.Release()
	types := cmd.GetTableTypes()
	ok := (cmd.GetCatalog() == nil || *cmd.GetCatalog() == CatalogName || *cmd.GetCatalog() == "") &&
		matches(cmd.GetDBSchemaFilterPattern(), SchemaName) && (len(types) == 0 || slices.ContainsFunc(types, func(t string) bool { return strings.EqualFold(t, "TABLE") }))
	if ok {
		rels, err := s.relations(ctx, u)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range rels {
			if !matches(cmd.GetTableNameFilterPattern(), r.Name) {
				continue
			}
			b.Field(0).(*array.StringBuilder).Append(CatalogName)
			b.Field(1).(*array.StringBuilder).Append(SchemaName)
			b.Field(2).(*array.StringBuilder).Append(r.Name)
			b.Field(3).(*array.StringBuilder).Append("TABLE")
			if cmd.GetIncludeSchema() {
				fields := make([]arrow.Field, len(r.Columns))
				for i, c := range r.Columns {
					md := flightsql.NewColumnMetadataBuilder().CatalogName(CatalogName).SchemaName(SchemaName).TableName(r.Name).TypeName(c.Type).Build()
					fields[i] = arrow.Field{Name: c.Name, Type: arrowType(c.Type, s.opts.TimeZone), Nullable: true, Metadata: *md.Data}
				}
				b.Field(4).(*array.BinaryBuilder).Append(flight.SerializeSchema(arrow.NewSchema(fields, nil), s.Alloc))
			}
		}
	}
	return oneBatch(schema, b.NewRecordBatch())
}

func (s *Server) GetFlightInfoTableTypes(_ context.Context, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.info(desc, desc.Cmd, schema_ref.TableTypes), nil
}

func (s *Server) DoGetTableTypes(ctx context.Context) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	if _, err := userOf(ctx); err != nil {
		return nil, nil, err
	}
	b := array.NewRecordBuilder(s.Alloc, schema_ref.TableTypes)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).Append("TABLE")
	return oneBatch(schema_ref.TableTypes, b.NewRecordBatch())
}

// Primary and foreign keys: none are declared to analysts (empty lists, so
// JDBC tools that ask get an answer rather than an error).
func (s *Server) GetFlightInfoPrimaryKeys(_ context.Context, _ flightsql.TableRef, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.info(desc, desc.Cmd, schema_ref.PrimaryKeys), nil
}

func (s *Server) DoGetPrimaryKeys(ctx context.Context, _ flightsql.TableRef) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return s.empty(ctx, schema_ref.PrimaryKeys)
}

func (s *Server) GetFlightInfoImportedKeys(_ context.Context, _ flightsql.TableRef, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.info(desc, desc.Cmd, schema_ref.ImportedKeys), nil
}

func (s *Server) DoGetImportedKeys(ctx context.Context, _ flightsql.TableRef) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return s.empty(ctx, schema_ref.ImportedKeys)
}

func (s *Server) GetFlightInfoExportedKeys(_ context.Context, _ flightsql.TableRef, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.info(desc, desc.Cmd, schema_ref.ExportedKeys), nil
}

func (s *Server) DoGetExportedKeys(ctx context.Context, _ flightsql.TableRef) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return s.empty(ctx, schema_ref.ExportedKeys)
}

func (s *Server) empty(ctx context.Context, schema *arrow.Schema) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	if _, err := userOf(ctx); err != nil {
		return nil, nil, err
	}
	b := array.NewRecordBuilder(s.Alloc, schema)
	defer b.Release()
	return oneBatch(schema, b.NewRecordBatch())
}

func (s *Server) GetFlightInfoXdbcTypeInfo(_ context.Context, _ flightsql.GetXdbcTypeInfo, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.info(desc, desc.Cmd, schema_ref.XdbcTypeInfo), nil
}

func (s *Server) DoGetXdbcTypeInfo(ctx context.Context, cmd flightsql.GetXdbcTypeInfo) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	if _, err := userOf(ctx); err != nil {
		return nil, nil, err
	}
	rec, err := typeInfo(s.Alloc, cmd.GetDataType())
	if err != nil {
		return nil, nil, err
	}
	return oneBatch(schema_ref.XdbcTypeInfo, rec)
}
