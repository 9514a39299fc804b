package flight

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/triscope/triscope/access"
	"github.com/triscope/triscope/query/adhoc"
)

type fakeAccounts struct{}

func (fakeAccounts) Authenticate(_ context.Context, u, p string) (access.User, error) {
	if u == "ann" && p == "secret-pw" {
		return access.User{Username: "ann", Role: access.RoleAnalyst, OrgUnit: "E"}, nil
	}
	if u == "rob" && p == "secret-pw" {
		return access.User{Username: "rob", Role: access.RoleRep, RepID: "R1"}, nil
	}
	return access.User{}, access.ErrBadCredentials
}

func (fakeAccounts) AuthenticateToken(context.Context, string) (access.User, error) {
	return access.User{}, access.ErrBadToken
}

func testServer(t *testing.T, addr, cert, key string) (*Server, error) {
	t.Helper()
	cat := adhoc.MustCatalog(adhoc.Relation{Name: "customers", Define: adhoc.ScopedMacro("customers")})
	sb, err := adhoc.New(adhoc.Options{Catalog: cat, Snapshots: adhoc.StaticSnapshot(filepath.Join(t.TempDir(), "none.duckdb")), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	policy := func(role string) adhoc.Limits { return adhoc.Limits{Enabled: role != access.RoleRep} }
	return New(Options{Sandbox: sb, Accounts: fakeAccounts{}, Policy: policy, Addr: addr, TLSCert: cert, TLSKey: key})
}

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "triscope test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	c, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(c)
	return certFile, keyFile, pool
}

// Plaintext only on loopback; TLS with a configured certificate: a client
// that trusts it signs in and reads the catalogs; a role turned off is
// refused at sign-in; a client without a session is refused.
func TestTLSAndLoopback(t *testing.T) {
	s, err := testServer(t, "0.0.0.0:0", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Listen(); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("plaintext on 0.0.0.0: %v", err)
	}
	if _, err := testServer(t, "127.0.0.1:0", "cert.pem", ""); err == nil {
		t.Fatal("a certificate without its key was accepted")
	}
	certFile, keyFile, pool := selfSigned(t)
	s, err = testServer(t, "127.0.0.1:0", certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Serve(ctx)
	cl, err := flightsql.NewClient(addr.String(), nil, nil,
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.GetCatalogs(ctx); status.Code(err) != codes.Unauthenticated {
		t.Errorf("without a session: %v", err)
	}
	if _, err := cl.Client.AuthenticateBasicToken(ctx, "rob", "secret-pw"); status.Code(err) != codes.PermissionDenied {
		t.Errorf("a role turned off: %v", err)
	}
	actx, err := cl.Client.AuthenticateBasicToken(ctx, "ann", "secret-pw")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := cl.GetCatalogs(actx)
	if err != nil {
		t.Fatal(err)
	}
	rdr, err := cl.DoGet(actx, fi.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	if !rdr.Next() || rdr.RecordBatch().Column(0).(*array.String).Value(0) != CatalogName {
		t.Errorf("catalogs over TLS: %v", rdr.Err())
	}
	// A plaintext client cannot talk to the TLS server.
	plain, _ := flightsql.NewClient(addr.String(), nil, nil, grpc.WithTransportCredentials(insecureCreds()))
	defer plain.Close()
	if _, err := plain.Client.AuthenticateBasicToken(ctx, "ann", "secret-pw"); err == nil {
		t.Error("a plaintext client signed in to the TLS server")
	}
}

func insecureCreds() credentials.TransportCredentials { return insecure.NewCredentials() }
