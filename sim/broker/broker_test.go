package broker

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/pki"
	"github.com/c2clab/c2clab/sim/policy"
	"github.com/c2clab/c2clab/sim/wire"
)

// benv is a broker with tenants acme and beta, run in-process.
type benv struct {
	t     *testing.T
	dir   string
	cloud *pki.CA
	cas   map[string]*pki.CA
	addrs map[string]string
}

const adminToken = "t0ken"

func testPolicy(tenant string) policy.Config {
	return policy.Config{
		Tenant:          tenant,
		HostnameRegexes: []string{`.*\.example\.com`},
		Segments: []policy.Segment{
			{ID: "1", Name: "Workstations", Enabled: true, Domains: []string{"*.example.com"}, TCP: []policy.PortRange{{From: 3389, To: 3389}}},
			{ID: "2", Name: "Denied", Enabled: true, Domains: []string{"*.deny.example.com"}, TCP: []policy.PortRange{{From: 3389, To: 3389}}},
			{ID: "3", Name: "Intranet", Enabled: true, Domains: []string{"intranet.example.com"}, TCP: []policy.PortRange{{From: 443, To: 443}}, ServerGroups: []string{"sg1"}},
		},
		Rules: []policy.Rule{
			{ID: "r1", Name: "deny", Order: 1, Action: policy.Deny, Conditions: []policy.Condition{{Operands: []policy.Operand{{ObjectType: policy.ObjApp, RHS: "2"}}}}},
			{ID: "r2", Name: "intranet", Order: 2, Action: policy.Allow, Conditions: []policy.Condition{{Operands: []policy.Operand{{ObjectType: policy.ObjApp, RHS: "3"}}}}},
		},
	}
}

func newBenv(t *testing.T, tune func(*Config)) *benv {
	t.Helper()
	e := &benv{t: t, dir: t.TempDir(), cas: map[string]*pki.CA{}}
	var err error
	if e.cloud, err = pki.NewCA("cloud"); err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := e.cloud.Issue(pki.Identity{Name: "broker", Kind: pki.KindBroker}, true, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := pki.WriteFiles(e.dir, "broker", certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Control: "127.0.0.1:0", Data: "127.0.0.1:0", Admin: "127.0.0.1:0", AdminToken: adminToken,
		CertFile: cert, KeyFile: key, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if os.Getenv("C2CLAB_TEST_LOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	for _, id := range []string{"acme", "beta"} {
		if e.cas[id], err = pki.NewCA("tenant " + id); err != nil {
			t.Fatal(err)
		}
		caFile := filepath.Join(e.dir, id+"-ca.pem")
		os.WriteFile(caFile, e.cas[id].CertPEM(), 0o600)
		cfg.Tenants = append(cfg.Tenants, Tenant{ID: id, CAFile: caFile, Policy: testPolicy(id)})
	}
	if tune != nil {
		tune(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	readyc, errc := make(chan map[string]string, 1), make(chan error, 1)
	go func() { errc <- Run(ctx, cfg, func(a map[string]string) { readyc <- a }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(2 * time.Second):
			t.Error("broker did not stop within 2 s")
		}
	})
	select {
	case e.addrs = <-readyc:
	case err := <-errc:
		t.Fatalf("Run: %v", err)
	}
	return e
}

// dial opens a control channel with a certificate of id signed by ca.
func (e *benv) dial(ca *pki.CA, id pki.Identity) *wire.Conn {
	e.t.Helper()
	certPEM, keyPEM, err := ca.Issue(id, false)
	if err != nil {
		e.t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		e.t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(e.cloud.Cert())
	c, err := tls.Dial("tcp", e.addrs["control"], &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS13})
	if err != nil {
		e.t.Fatal(err)
	}
	wc := wire.NewConn(c)
	e.t.Cleanup(func() { wc.Close() })
	return wc
}

func recv(t *testing.T, c *wire.Conn) wire.Message {
	t.Helper()
	m, err := c.Recv(time.Now().Add(5 * time.Second))
	if err != nil {
		t.Fatalf("recv: %v", err)
	}
	return m
}

func send(t *testing.T, c *wire.Conn, m wire.Message) {
	t.Helper()
	if err := c.Send(m); err != nil {
		t.Fatalf("send %s: %v", m.Type(), err)
	}
}

// agent registers an agent of tenant acme named name reporting fqdn.
func (e *benv) agent(name, fqdn string) (*wire.Conn, *wire.Registered) {
	e.t.Helper()
	c := e.dial(e.cas["acme"], pki.Identity{Tenant: "acme", Name: name, Kind: pki.KindAgent})
	send(e.t, c, &wire.Hello{Versions: []string{"c2c/9", wire.Version}, Role: wire.RoleAgent})
	if w, ok := recv(e.t, c).(*wire.Welcome); !ok || w.Version != wire.Version || w.Tenant != "acme" || w.Name != name {
		e.t.Fatalf("welcome %+v", w)
	}
	send(e.t, c, &wire.Register{FQDN: fqdn, OS: "windows", ConnectorVersion: "4.2", JoinState: "ad", LoggedIn: true,
		PrivateAccess: true, User: name + "@example.com"})
	r, ok := recv(e.t, c).(*wire.Registered)
	if !ok {
		e.t.Fatalf("want registered, got %T", r)
	}
	return c, r
}

func (e *benv) get(path, token string, v any) int {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+e.addrs["admin"]+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			e.t.Fatal(err)
		}
	}
	return resp.StatusCode
}

func (e *benv) status(session string) UserStatus {
	e.t.Helper()
	var all []UserStatus
	e.get("/api/v1/userStatus", adminToken, &all)
	for _, s := range all {
		if s.SessionID == session {
			return s
		}
	}
	e.t.Fatalf("no user status for session %q in %+v", session, all)
	return UserStatus{}
}

func TestRegistrationCodes(t *testing.T) {
	e := newBenv(t, nil)
	tests := []struct {
		name, device, fqdn string
		want               code.Code
		registered         bool
	}{
		{"HV-2 match", "pc1", "pc1.example.com", code.FQDNMatch, true},
		{"HV-4 bare hostname", "pc2", "pc2", code.FQDNNoMatch, false},
		{"HV-4 empty", "pc3", "", code.FQDNEmpty, false},
		{"HV-6 duplicate keeps the first", "pc4", "pc1.example.com", code.FQDNDuplicate, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, r := e.agent(tc.device, tc.fqdn)
			if r.FQDNRegistered != tc.registered || r.FQDNRegisteredError != tc.want || len(r.Segments) != 3 {
				t.Fatalf("registered %+v, want %v %s and 3 segments", r, tc.registered, tc.want)
			}
			send(t, c, &wire.Keepalive{Seq: 9})
			if ack, ok := recv(t, c).(*wire.KeepaliveAck); !ok || ack.Seq != 9 {
				t.Fatalf("keepalive answer %+v", ack)
			}
			var all []UserStatus
			e.get("/api/v1/userStatus", adminToken, &all)
			s := all[len(all)-1]
			if s.Device != tc.device || s.FQDNRegisteredError != tc.want || s.ValidHostname != (tc.want == code.FQDNMatch) ||
				s.ClientToClientEnrolled != tc.registered || !s.Connected || s.Tenant != "acme" || len(s.Trace) == 0 {
				t.Fatalf("user status %+v", s)
			}
		})
	}
}

func TestCertificateChecks(t *testing.T) {
	e := newBenv(t, nil)
	stranger, _ := pki.NewCA("stranger")
	tests := []struct {
		name string
		ca   *pki.CA
		id   pki.Identity
	}{
		{"beta's CA, O=acme", e.cas["beta"], pki.Identity{Tenant: "acme", Name: "pc", Kind: pki.KindAgent}},
		{"acme's CA, O=beta", e.cas["acme"], pki.Identity{Tenant: "beta", Name: "pc", Kind: pki.KindAgent}},
		{"unknown CA", stranger, pki.Identity{Tenant: "acme", Name: "pc", Kind: pki.KindAgent}},
		{"tenant CA issued a broker", e.cas["acme"], pki.Identity{Name: "pc", Kind: pki.KindBroker}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := e.dial(tc.ca, tc.id)
			// TLS 1.3: the client learns of the refusal on its first read.
			c.Send(&wire.Hello{Versions: []string{wire.Version}, Role: wire.RoleAgent})
			if m, err := c.Recv(time.Now().Add(5 * time.Second)); err == nil {
				t.Fatalf("broker accepted the certificate and answered %s", m.Type())
			} else {
				t.Logf("refused: %v", err)
			}
		})
	}
	var all []UserStatus
	e.get("/api/v1/userStatus", adminToken, &all)
	if len(all) != 0 {
		t.Fatalf("refused clients have sessions: %+v", all)
	}
}

func TestAdminAPIAuth(t *testing.T) {
	e := newBenv(t, nil)
	for _, tc := range []struct {
		name, path, token string
		want              int
	}{
		{"status without token", "/api/v1/userStatus", "", 401},
		{"activity without token", "/api/v1/userActivity", "", 401},
		{"wrong token", "/api/v1/userStatus", "nope", 401},
		{"right token", "/api/v1/userActivity", adminToken, 200},
		{"healthz is open", "/healthz", "", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := e.get(tc.path, tc.token, nil); got != tc.want {
				t.Fatalf("GET %s = %d, want %d", tc.path, got, tc.want)
			}
		})
	}
}

func frame(body string) []byte {
	n := len(body)
	return append([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, body...)
}

func TestProtocolErrors(t *testing.T) {
	e := newBenv(t, nil)
	hello := frame(`{"type":"hello","versions":["c2c/1"],"role":"agent"}`)
	register := frame(`{"type":"register","fqdn":"pc.example.com","os":"windows"}`)
	tests := []struct {
		name string
		send [][]byte
		skip int // messages to read before the error
	}{
		{"not JSON", [][]byte{frame("hello")}, 0},
		{"register before hello", [][]byte{register}, 0},
		{"no common version", [][]byte{frame(`{"type":"hello","versions":["c2c/9"],"role":"agent"}`)}, 0},
		{"role differs from certificate", [][]byte{frame(`{"type":"hello","versions":["c2c/1"],"role":"connector"}`)}, 0},
		{"hello twice", [][]byte{hello, hello}, 1},
		{"welcome from a client", [][]byte{hello, register, frame(`{"type":"welcome","version":"c2c/1","sessionId":"x","keepaliveIntervalMs":1,"keepaliveTimeoutMs":2}`)}, 2},
		{"connect with port 0", [][]byte{hello, register, frame(`{"type":"connect","id":"1","fqdn":"a.example.com","port":0,"proto":"tcp"}`)}, 2},
		{"oversized frame", [][]byte{hello, register, {0x7f, 0, 0, 0}}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := e.dial(e.cas["acme"], pki.Identity{Tenant: "acme", Name: "pc", Kind: pki.KindAgent})
			for _, f := range tc.send {
				c.NetConn().Write(f)
			}
			for range tc.skip {
				recv(t, c)
			}
			m := recv(t, c)
			if em, ok := m.(*wire.Error); !ok || em.Code != code.BrkProtocolError {
				t.Fatalf("got %T %+v, want error BRK_PROTOCOL_ERROR", m, m)
			}
			if _, err := c.Recv(time.Now().Add(5 * time.Second)); !errors.Is(err, io.EOF) {
				t.Fatalf("after the error: %v, want EOF", err)
			}
		})
	}
}

// dataSide opens a data connection with tok and returns it with the
// pairing answer still unread.
func (e *benv) dataSide(tok wire.Token) *net.TCPConn {
	e.t.Helper()
	c, err := net.Dial("tcp", e.addrs["data"])
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := wire.WritePreamble(c, tok); err != nil {
		e.t.Fatal(err)
	}
	return c.(*net.TCPConn)
}

func answer(t *testing.T, c net.Conn) code.Code {
	t.Helper()
	got, err := wire.ReadAnswer(c)
	if err != nil {
		t.Fatalf("pairing answer: %v", err)
	}
	return got
}

// setup runs connect -> incoming -> incoming_result -> connect_result.
func setup(t *testing.T, src, dst *wire.Conn, fqdn string, port uint16, result *wire.IncomingResult) (*wire.ConnectResult, *wire.Incoming) {
	t.Helper()
	send(t, src, &wire.Connect{ID: "1", FQDN: fqdn, Port: port, Proto: wire.ProtoTCP})
	var inc *wire.Incoming
	if dst != nil {
		inc = recv(t, dst).(*wire.Incoming)
		result.ConnID = inc.ConnID
		send(t, dst, result)
	}
	res := recv(t, src).(*wire.ConnectResult)
	return res, inc
}

func TestRelay(t *testing.T) {
	e := newBenv(t, nil)
	src, _ := e.agent("src", "src.example.com")
	dst, _ := e.agent("dst", "dst.example.com")
	res, inc := setup(t, src, dst, "dst.example.com", 3389, &wire.IncomingResult{OK: true})
	if !res.OK || res.Peer.Name != "dst" || res.Peer.Kind != "agent" || inc.Source.Name != "src" || inc.Port != 3389 || res.ConnID != inc.ConnID {
		t.Fatalf("connect_result %+v, incoming %+v", res, inc)
	}
	a, b := e.dataSide(res.Token), e.dataSide(inc.Token)
	// The source may send before the answer: the broker relays it after pairing.
	a.Write([]byte("early "))
	if answer(t, a) != "" || answer(t, b) != "" {
		t.Fatal("not paired")
	}
	a.Write([]byte("from source"))
	a.CloseWrite()
	got, _ := io.ReadAll(b)
	if string(got) != "early from source" {
		t.Fatalf("destination read %q", got)
	}
	b.Write(bytes.Repeat([]byte("x"), 100000))
	b.CloseWrite()
	if got, _ := io.ReadAll(a); len(got) != 100000 {
		t.Fatalf("source read %d bytes, want 100000", len(got))
	}
	var acts []Activity
	deadline := time.Now().Add(5 * time.Second)
	for {
		e.get("/api/v1/userActivity", adminToken, &acts)
		if len(acts) == 1 && acts[0].Status == StatusClosed || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(acts) != 1 || acts[0].Code != code.MtClosedTerminated || acts[0].BytesFromClient != 17 || acts[0].BytesToClient != 100000 ||
		acts[0].AccessType != string(policy.ClientToClient) || acts[0].Destination != "dst" || acts[0].SetupUs <= 0 {
		t.Fatalf("activity %+v", acts)
	}
	// Tokens are single use.
	if c := answer(t, e.dataSide(res.Token)); c != code.BrkMtSetupTimeout {
		t.Fatalf("reused token: %q", c)
	}
	if c := answer(t, e.dataSide(wire.Token{})); c != code.BrkMtSetupTimeout {
		t.Fatalf("unknown token: %q", c)
	}
	bad, _ := net.Dial("tcp", e.addrs["data"])
	defer bad.Close()
	bad.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	if c := answer(t, bad); c != code.BrkProtocolError {
		t.Fatalf("bad preamble: %q", c)
	}
}

func TestConnectRefusals(t *testing.T) {
	e := newBenv(t, func(c *Config) { c.KeepaliveInterval, c.KeepaliveTimeout = time.Second, 3*time.Second })
	src, _ := e.agent("src", "src.example.com")
	dst, _ := e.agent("dst", "dst.example.com")
	tests := []struct {
		name   string
		fqdn   string
		port   uint16
		dst    *wire.Conn
		result *wire.IncomingResult
		want   code.Code
	}{
		{"POL-1 deny", "x.deny.example.com", 3389, nil, nil, code.BrkRejectedByPolicy},
		{"no client", "nobody.example.com", 3389, nil, nil, code.C2CClientNotFound},
		{"broker checks ports too", "dst.example.com", 22, nil, nil, code.BrkPortNotInSegment},
		{"EP-1 forward failed", "dst.example.com", 3389, dst, &wire.IncomingResult{Code: code.C2CMtunnelFailedForward}, code.C2CMtunnelFailedForward},
		{"no App Connector", "intranet.example.com", 443, nil, nil, code.AstMtunnelFailedForward},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := setup(t, src, tc.dst, tc.fqdn, tc.port, tc.result)
			if res.OK || res.Code != tc.want {
				t.Fatalf("connect_result %+v, want %s", res, tc.want)
			}
			var acts []Activity
			e.get("/api/v1/userActivity", adminToken, &acts)
			if len(acts) != i+1 || acts[i].Code != tc.want || acts[i].Status != StatusClosed || acts[i].FQDN != tc.fqdn {
				t.Fatalf("activity %+v, want %d records, the last with %s (LOG-1)", acts, i+1, tc.want)
			}
		})
	}
	t.Run("destination lost during setup", func(t *testing.T) {
		send(t, src, &wire.Connect{ID: "9", FQDN: "dst.example.com", Port: 3389, Proto: wire.ProtoTCP})
		recv(t, dst) // incoming
		dst.Close()
		if res := recv(t, src).(*wire.ConnectResult); res.Code != code.C2CClientConnExpired {
			t.Fatalf("connect_result %+v, want C2C_CLIENT_CONN_EXPIRED", res)
		}
	})
}

func TestClientToServer(t *testing.T) {
	e := newBenv(t, nil)
	src, _ := e.agent("src", "src.example.com")
	conn := e.dial(e.cas["acme"], pki.Identity{Tenant: "acme", Name: "ac1", Kind: pki.KindConnector})
	send(t, conn, &wire.Hello{Versions: []string{wire.Version}, Role: wire.RoleConnector})
	recv(t, conn)
	send(t, conn, &wire.Register{ServerGroups: []string{"sg1"}})
	recv(t, conn)
	res, inc := setup(t, src, conn, "intranet.example.com", 443, &wire.IncomingResult{OK: true})
	if !res.OK || res.Peer.Kind != "connector" || res.Peer.Name != "ac1" || inc.FQDN != "intranet.example.com" {
		t.Fatalf("connect_result %+v, incoming %+v", res, inc)
	}
}

func TestKeepaliveTimeout(t *testing.T) {
	e := newBenv(t, func(c *Config) { c.KeepaliveInterval, c.KeepaliveTimeout = 50*time.Millisecond, 200*time.Millisecond })
	c, _ := e.agent("pc", "pc.example.com")
	start := time.Now()
	if _, err := c.Recv(time.Now().Add(5 * time.Second)); !errors.Is(err, io.EOF) {
		t.Fatalf("silent session: %v, want EOF after the keepalive timeout", err)
	}
	if el := time.Since(start); el < 150*time.Millisecond || el > 2*time.Second {
		t.Errorf("dropped after %v, want about 200 ms (tolerance 150 ms to 2 s)", el)
	}
	var all []UserStatus
	e.get("/api/v1/userStatus", adminToken, &all)
	if len(all) != 1 || all[0].Connected || all[0].DisconnectedAt.IsZero() {
		t.Fatalf("user status %+v", all)
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	http.DefaultClient.CloseIdleConnections()
	base := runtime.NumGoroutine()
	t.Run("broker", func(t *testing.T) {
		e := newBenv(t, nil)
		src, _ := e.agent("src", "src.example.com")
		dst, _ := e.agent("dst", "dst.example.com")
		res, inc := setup(t, src, dst, "dst.example.com", 3389, &wire.IncomingResult{OK: true})
		e.dataSide(res.Token)
		e.dataSide(inc.Token) // paired and left open: shutdown must end the relay
		send(t, src, &wire.Connect{ID: "2", FQDN: "dst.example.com", Port: 3389, Proto: wire.ProtoTCP})
		recv(t, dst) // a setup left waiting for incoming_result
	})
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines after Run returned, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}
