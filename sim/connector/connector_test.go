package connector

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/agent"
	"github.com/c2clab/c2clab/sim/broker"
	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/peer"
	"github.com/c2clab/c2clab/sim/pki"
	"github.com/c2clab/c2clab/sim/policy"
)

func run(t *testing.T, f func(context.Context, func(map[string]string)) error) map[string]string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	readyc, errc := make(chan map[string]string, 1), make(chan error, 1)
	go func() { errc <- f(ctx, func(a map[string]string) { readyc <- a }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-errc:
		case <-time.After(2 * time.Second):
			t.Error("node did not stop within 2 s")
		}
	})
	select {
	case a := <-readyc:
		return a
	case err := <-errc:
		t.Fatalf("node: %v", err)
	}
	return nil
}

// socks connects through a SOCKS5 proxy and returns the reply code.
func socks(t *testing.T, proxy, host string, port uint16) (net.Conn, byte) {
	t.Helper()
	c, err := net.Dial("tcp", proxy)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	req := binary.BigEndian.AppendUint16(append([]byte{5, 1, 0, 5, 1, 0, 3, byte(len(host))}, host...), port)
	c.Write(req)
	r := make([]byte, 12)
	if _, err := io.ReadFull(c, r); err != nil {
		t.Fatal(err)
	}
	return c, r[3]
}

// TestClientToServer: a source agent reaches an application server through
// an App Connector (SEG-2: the client-to-client segments need none, but a
// server segment does).
func TestClientToServer(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cloud, _ := pki.NewCA("cloud")
	acme, _ := pki.NewCA("acme")
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o600)
		return p
	}
	issue := func(ca *pki.CA, id pki.Identity, hosts ...string) (string, string) {
		c, k, err := ca.Issue(id, len(hosts) > 0, hosts...)
		if err != nil {
			t.Fatal(err)
		}
		cf, kf, _ := pki.WriteFiles(dir, id.Name, c, k)
		return cf, kf
	}
	trust := write("trust.pem", append(cloud.CertPEM(), acme.CertPEM()...))
	app, err := net.Listen("tcp", "127.0.0.6:0")
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	go func() {
		for {
			c, err := app.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	port := uint16(app.Addr().(*net.TCPAddr).Port)

	bc, bk := issue(cloud, pki.Identity{Name: "broker", Kind: pki.KindBroker}, "127.0.0.1")
	pc := policy.Config{Tenant: "acme", HostnameRegexes: []string{`.*\.example\.com`},
		Segments: []policy.Segment{{ID: "apps", Name: "Apps", Enabled: true, Domains: []string{"*.apps.example.com"},
			TCP: []policy.PortRange{{From: 1024, To: 65535}}, ServerGroups: []string{"sg1"}}},
		Rules: []policy.Rule{{ID: "r1", Name: "apps", Order: 1, Action: policy.Allow,
			Conditions: []policy.Condition{{Operands: []policy.Operand{{ObjectType: policy.ObjApp, RHS: "apps"}}}}}}}
	b := run(t, func(ctx context.Context, ready func(map[string]string)) error {
		return broker.Run(ctx, broker.Config{Control: "127.0.0.1:0", Data: "127.0.0.1:0", Admin: "127.0.0.1:0", CertFile: bc, KeyFile: bk,
			Logger: log, Tenants: []broker.Tenant{{ID: "acme", CAFile: write("acme.pem", acme.CertPEM()), Policy: pc}}}, ready)
	})
	addrs := peer.BrokerAddrs{Control: b["control"], Data: b["data"], ServerName: "127.0.0.1"}

	cc, ck := issue(acme, pki.Identity{Tenant: "acme", Name: "ac1", Kind: pki.KindConnector})
	run(t, func(ctx context.Context, ready func(map[string]string)) error {
		return Run(ctx, Config{Name: "ac1", Broker: addrs, CAFile: trust, CertFile: cc, KeyFile: ck, ServerGroups: []string{"sg1"},
			Hosts: map[string]string{"wiki.apps.example.com": "127.0.0.6"}, Logger: log}, ready)
	})
	ac, ak := issue(acme, pki.Identity{Tenant: "acme", Name: "admin", Kind: pki.KindAgent})
	a := run(t, func(ctx context.Context, ready func(map[string]string)) error {
		return agent.Run(ctx, agent.Config{Name: "admin", Broker: addrs, CAFile: trust, CertFile: ac, KeyFile: ak,
			Profile: device.Profile{Hostname: "admin", PrimaryDNSSuffix: "example.com", OS: device.Windows, ConnectorVersion: "4.2",
				User: "admin@example.com", LoggedIn: true},
			InterfaceIP: "127.0.0.7", SOCKS: "127.0.0.1:0", Logger: log}, ready)
	})

	c, rep := socks(t, a["socks"], "wiki.apps.example.com", port)
	if rep != 0 {
		t.Fatalf("SOCKS reply %#02x, want success", rep)
	}
	c.Write([]byte("hello app"))
	c.(*net.TCPConn).CloseWrite()
	if got, _ := io.ReadAll(c); string(got) != "hello app" {
		t.Fatalf("echo %q", got)
	}
	if _, rep := socks(t, a["socks"], "unknown.apps.example.com", port); rep != 0x05 {
		t.Fatalf("unknown app server: SOCKS reply %#02x, want 0x05 (AST_MT_SETUP_ERR_OPEN_SERVER_ERROR)", rep)
	}
}
