package agent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/broker"
	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/pki"
	"github.com/c2clab/c2clab/sim/policy"
)

// env is a broker and its tenant's CA, run in-process on loopback.
type env struct {
	t      testing.TB
	dir    string
	cloud  *pki.CA
	tenant *pki.CA
	trust  string // cloud + tenant CA bundle
	broker map[string]string
	token  string

	brokerCfg  broker.Config
	stopBroker func()
	log        *slog.Logger
}

// testPolicy: one regex; a wildcard workstation segment; a disabled one;
// one that a DENY rule covers.
func testPolicy() policy.Config {
	return policy.Config{
		Tenant:          "acme",
		HostnameRegexes: []string{`.*\.example\.com`},
		Segments: []policy.Segment{
			{ID: "1", Name: "Workstations", Enabled: true, Domains: []string{"*.example.com"},
				TCP: []policy.PortRange{{From: 3389, To: 3389}, {From: 1024, To: 65535}}},
			{ID: "2", Name: "Disabled", Enabled: false, Domains: []string{"*.off.example.com"}, TCP: []policy.PortRange{{From: 3389, To: 3389}}},
			{ID: "3", Name: "Denied", Enabled: true, Domains: []string{"*.deny.example.com"}, TCP: []policy.PortRange{{From: 3389, To: 3389}}},
		},
		Rules: []policy.Rule{{ID: "r1", Name: "deny the denied", Order: 1, Action: policy.Deny,
			Conditions: []policy.Condition{{Operands: []policy.Operand{{ObjectType: policy.ObjApp, RHS: "3"}}}}}},
	}
}

// testLogger logs to the test only when -v or on failure, via t.Log.
func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("C2CLAB_TEST_LOG") == "" {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}

func newEnv(t testing.TB, pc policy.Config) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), token: "s3cret", log: testLogger(t)}
	var err error
	if e.cloud, err = pki.NewCA("cloud"); err != nil {
		t.Fatal(err)
	}
	if e.tenant, err = pki.NewCA("tenant acme"); err != nil {
		t.Fatal(err)
	}
	e.trust = e.write("trust.pem", append(e.cloud.CertPEM(), e.tenant.CertPEM()...))
	certPEM, keyPEM, err := e.cloud.Issue(pki.Identity{Name: "broker", Kind: pki.KindBroker}, true, "127.0.0.1", "broker")
	if err != nil {
		t.Fatal(err)
	}
	cert, key, _ := pki.WriteFiles(e.dir, "broker", certPEM, keyPEM)
	cfg := broker.Config{Control: "127.0.0.1:0", Data: "127.0.0.1:0", Admin: "127.0.0.1:0", AdminToken: e.token,
		CertFile: cert, KeyFile: key, Logger: e.log.With("node", "broker"),
		Tenants: []broker.Tenant{{ID: "acme", CAFile: e.write("acme-ca.pem", e.tenant.CertPEM()), Policy: pc}}}
	e.brokerCfg = cfg
	e.broker, e.stopBroker = startStoppable(t, func(ctx context.Context, ready func(map[string]string)) error { return broker.Run(ctx, cfg, ready) })
	return e
}

func (e *env) write(name string, data []byte) string {
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// start runs a node in a goroutine until the test ends and returns its
// ready addresses.
func start(t testing.TB, run func(context.Context, func(map[string]string)) error) map[string]string {
	t.Helper()
	addrs, _ := startStoppable(t, run)
	return addrs
}

// startStoppable is start plus a stop func (idempotent; cleanup calls it)
// that cancels the node and waits for Run to return.
func startStoppable(t testing.TB, run func(context.Context, func(map[string]string)) error) (map[string]string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	readyc := make(chan map[string]string, 1)
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, func(a map[string]string) { readyc <- a }) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-errc:
				if err != nil {
					t.Errorf("node: %v", err)
				}
			case <-time.After(2 * time.Second):
				t.Errorf("node did not stop within 2 s")
			}
		})
	}
	t.Cleanup(stop)
	select {
	case a := <-readyc:
		return a, stop
	case err := <-errc:
		t.Fatalf("node failed before ready: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("node not ready in 10 s")
	}
	return nil, stop
}

// restartBroker stops the broker and starts a new one on the same
// addresses, as a broker crash and restart would look to the agents.
func (e *env) restartBroker() {
	e.t.Helper()
	e.stopBroker()
	cfg := e.brokerCfg
	cfg.Control, cfg.Data, cfg.Admin = e.broker["control"], e.broker["data"], e.broker["admin"]
	e.broker, e.stopBroker = startStoppable(e.t, func(ctx context.Context, ready func(map[string]string)) error { return broker.Run(ctx, cfg, ready) })
}

// device describes an agent to start.
type deviceSpec struct {
	name, hostname, ip string
	profile            func(p *device.Profile)
	forwards           []Forward
}

func (e *env) agent(d deviceSpec) (socks, status string) {
	a := e.agentAddrs(d)
	return a["socks"], a["status"]
}

// agentAddrs starts an agent and returns its ready addresses.
func (e *env) agentAddrs(d deviceSpec) map[string]string {
	a, _ := e.agentStoppable(d)
	return a
}

// agentStoppable starts an agent and returns its addresses and stop func.
func (e *env) agentStoppable(d deviceSpec) (map[string]string, func()) {
	e.t.Helper()
	cfg := e.agentConfig(d)
	return startStoppable(e.t, func(ctx context.Context, ready func(map[string]string)) error { return Run(ctx, cfg, ready) })
}

// agentConfig issues d's certificate and returns its agent config.
func (e *env) agentConfig(d deviceSpec) Config {
	e.t.Helper()
	certPEM, keyPEM, err := e.tenant.Issue(pki.Identity{Tenant: "acme", Name: d.name, Kind: pki.KindAgent}, false)
	if err != nil {
		e.t.Fatal(err)
	}
	cert, key, _ := pki.WriteFiles(e.dir, d.name, certPEM, keyPEM)
	p := device.Profile{Name: d.name, Hostname: d.hostname, PrimaryDNSSuffix: "example.com", OS: device.Windows,
		ConnectorVersion: "4.2.0.1", JoinState: device.JoinAD, LoggedIn: true, User: d.name + "@example.com"}
	if d.profile != nil {
		d.profile(&p)
	}
	cfg := Config{Name: d.name, CAFile: e.trust, CertFile: cert, KeyFile: key, Profile: p, InterfaceIP: d.ip,
		SOCKS: "127.0.0.1:0", Status: "127.0.0.1:0", Forwards: d.forwards, Logger: e.log.With("node", d.name)}
	cfg.Broker.Control, cfg.Broker.Data, cfg.Broker.ServerName = e.broker["control"], e.broker["data"], "broker"
	return cfg
}

func getJSON(t testing.TB, url, token string, v any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func agentStatus(t testing.TB, addr string) Status {
	var st Status
	getJSON(t, "http://"+addr+"/status", "", &st)
	return st
}

func (e *env) activity() []broker.Activity {
	var out []broker.Activity
	getJSON(e.t, "http://"+e.broker["admin"]+"/api/v1/userActivity", e.token, &out)
	return out
}

// waitFor polls cond, for state that settles asynchronously after the
// event the test caused (records closed after the sockets close).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// socksError is a SOCKS5 refusal.
type socksError byte

func (e socksError) Error() string { return fmt.Sprintf("socks5 reply %#02x", byte(e)) }

// dialSOCKS connects through the agent's SOCKS5 listener to host:port.
func dialSOCKS(proxy, host string, port uint16) (*net.TCPConn, error) {
	c, err := net.Dial("tcp", proxy)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(15 * time.Second))
	req := []byte{5, 1, 0, 5, 1, 0, 3, byte(len(host))}
	req = binary.BigEndian.AppendUint16(append(req, host...), port)
	if _, err := c.Write(req); err != nil {
		c.Close()
		return nil, err
	}
	var r [12]byte // method selection (2) + reply with IPv4 (10)
	if _, err := io.ReadFull(c, r[:2]); err != nil {
		c.Close()
		return nil, err
	}
	if _, err := io.ReadFull(c, r[2:4]); err != nil {
		c.Close()
		return nil, err
	}
	if r[3] != 0 {
		c.Close()
		return nil, socksError(r[3])
	}
	if _, err := io.ReadFull(c, r[4:12]); err != nil {
		c.Close()
		return nil, err
	}
	c.SetDeadline(time.Time{})
	return c.(*net.TCPConn), nil
}

// serveCheck is the test's local service: a client sends an 8-byte count n
// and any number of bytes; the service streams n bytes of ChaCha8(seed n)
// back while hashing what it reads, and after EOF sends the SHA-256.
func serveCheck(t testing.TB, addr string) uint16 {
	t.Helper()
	return serveConns(t, addr, func(c net.Conn) { checkConn(c.(*net.TCPConn)) })
}

// serveConns accepts on addr until the test ends, handling each connection
// with handle and closing it after; cleanup closes the listener and every
// open connection, and waits for the handlers.
func serveConns(t testing.TB, addr string, handle func(net.Conn)) uint16 {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				handle(c)
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
			})
		}
	})
	return uint16(l.Addr().(*net.TCPAddr).Port)
}

func checkConn(c *net.TCPConn) {
	var hdr [8]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return
	}
	n := binary.BigEndian.Uint64(hdr[:])
	sent := make(chan error, 1)
	go func() {
		_, err := io.CopyN(c, stream(n), int64(n))
		sent <- err
	}()
	h := sha256.New()
	if _, err := io.Copy(h, c); err != nil {
		return
	}
	if err := <-sent; err != nil {
		return
	}
	c.Write(h.Sum(nil))
	c.CloseWrite()
}

func stream(seed uint64) io.Reader {
	var s [32]byte
	binary.BigEndian.PutUint64(s[:], seed)
	return rand.NewChaCha8(s)
}

// exchange sends up bytes and asks for down bytes over c, checking both
// with SHA-256 (the service hashes what it got).
func exchange(c *net.TCPConn, up, down int64) error {
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Minute))
	var hdr [8]byte
	binary.BigEndian.PutUint64(hdr[:], uint64(down))
	if _, err := c.Write(hdr[:]); err != nil {
		return err
	}
	upHash := sha256.New()
	wrote := make(chan error, 1)
	go func() {
		_, err := io.CopyN(io.MultiWriter(c, upHash), stream(uint64(up)+1), up)
		if err == nil {
			err = c.CloseWrite()
		}
		wrote <- err
	}()
	if err := compareStream(c, stream(uint64(down)), down); err != nil {
		return err
	}
	if err := <-wrote; err != nil {
		return fmt.Errorf("write: %w", err)
	}
	digest := make([]byte, sha256.Size)
	if _, err := io.ReadFull(c, digest); err != nil {
		return fmt.Errorf("read digest: %w", err)
	}
	if string(digest) != string(upHash.Sum(nil)) {
		return errors.New("upstream bytes differ")
	}
	if n, _ := c.Read(make([]byte, 1)); n != 0 {
		return errors.New("bytes after the digest")
	}
	return nil
}

// compareStream reads n bytes from r and checks each against want: a
// byte-for-byte check, cheaper than hashing both sides.
func compareStream(r io.Reader, want io.Reader, n int64) error {
	got, exp := make([]byte, 256<<10), make([]byte, 256<<10)
	for off := int64(0); off < n; {
		k, err := r.Read(got[:min(int64(len(got)), n-off)])
		if k > 0 {
			io.ReadFull(want, exp[:k])
			if !bytes.Equal(got[:k], exp[:k]) {
				return fmt.Errorf("downstream bytes differ in [%d, %d)", off, off+int64(k))
			}
			off += int64(k)
		}
		if err != nil && off < n {
			return fmt.Errorf("read %d of %d bytes: %w", off, n, err)
		}
	}
	return nil
}

func hasPrefix(s []string, p string) bool {
	for _, x := range s {
		if strings.HasPrefix(x, p) {
			return true
		}
	}
	return false
}
