package agent

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/broker"
	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/device"
)

// pair starts a destination "dst" (interface 127.0.0.3) and a source "src"
// and returns the source's SOCKS and both status addresses.
func (e *env) pair() (socks, srcStatus, dstStatus string) {
	_, dstStatus = e.agent(deviceSpec{name: "dst", hostname: "dst", ip: "127.0.0.3"})
	socks, srcStatus = e.agent(deviceSpec{name: "src", hostname: "src", ip: "127.0.0.2"})
	return socks, srcStatus, dstStatus
}

func lastRecord(t *testing.T, status string) ConnRecord {
	t.Helper()
	st := agentStatus(t, status)
	if len(st.Connections) == 0 {
		t.Fatal("no connection records")
	}
	return st.Connections[len(st.Connections)-1]
}

func TestRelayEndToEnd(t *testing.T) {
	e := newEnv(t, testPolicy())
	socks, srcStatus, dstStatus := e.pair()
	port := serveCheck(t, "127.0.0.3:0")
	c, err := dialSOCKS(socks, "dst.example.com", port)
	if err != nil {
		t.Fatal(err)
	}
	size := int64(relayTestSize)
	if err := exchange(c, size, size); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "source record closed", func() bool { return lastRecord(t, srcStatus).EndUs != 0 })
	src := lastRecord(t, srcStatus)
	if src.Code != "" || src.Local || src.BytesUp != size+8 || src.BytesDown != size+32 || src.Peer != "dst" {
		t.Errorf("source record %+v, want no code, %d bytes up, %d down, peer dst", src, size+8, size+32)
	}
	waitFor(t, "destination record closed", func() bool { return lastRecord(t, dstStatus).EndUs != 0 })
	if dst := lastRecord(t, dstStatus); dst.ID != src.ID || dst.Role != RoleDestination || dst.BytesUp != size+32 {
		t.Errorf("destination record %+v, want conn %s, %d bytes up", dst, src.ID, size+32)
	}
	var act broker.Activity
	waitFor(t, "activity closed", func() bool {
		acts := e.activity()
		act = acts[len(acts)-1]
		return act.Status == broker.StatusClosed
	})
	// The broker counts TLS records: the application bytes plus overhead.
	if act.ID != src.ID || act.Code != code.MtClosedTerminated || act.AccessType != "Client to Client" ||
		act.BytesFromClient < size || act.BytesToClient < size || act.Source != "src" || act.Destination != "dst" ||
		act.Segment != "Workstations" || act.Action != "ALLOW" || act.EndUs < act.StartUs {
		t.Errorf("activity %+v", act)
	}
}

func TestConnectionCodes(t *testing.T) {
	e := newEnv(t, testPolicy())
	socks, srcStatus, _ := e.pair()
	e.agent(deviceSpec{name: "old", hostname: "old", ip: "127.0.0.4", profile: func(p *device.Profile) { p.ConnectorVersion = "3.8" }})
	good := serveCheck(t, "127.0.0.3:0")
	loopbackOnly := serveCheck(t, "127.0.0.1:0") // EP-1: the agent must not use 127.0.0.1
	tests := []struct {
		name  string
		fqdn  string
		port  uint16
		reply byte
		code  code.Code
		local bool
	}{
		{"POL-1 deny rule", "x.deny.example.com", 3389, 0x02, code.BrkRejectedByPolicy, false},
		{"SEG-5 disabled segment", "y.off.example.com", 3389, 0x02, code.BrkNoPolicyFound, false},
		{"no such client", "nobody.example.com", 3389, 0x04, code.C2CClientNotFound, false},
		{"DEV-1 old destination", "old.example.com", 3389, 0x04, code.C2CVersionUnsupported, false},
		{"not intercepted", "host.example.org", 3389, 0x04, code.BrkAppNotFound, true},
		{"SEG-4 port not in segment", "dst.example.com", 22, 0x02, code.CltPortNotInSegment, true},
		{"EP-1 service only on 127.0.0.1", "dst.example.com", loopbackOnly, 0x05, code.C2CMtunnelFailedForward, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(e.activity())
			_, err := dialSOCKS(socks, tc.fqdn, tc.port)
			var se socksError
			if !errors.As(err, &se) || byte(se) != tc.reply {
				t.Fatalf("dial %s:%d: %v, want SOCKS reply %#02x", tc.fqdn, tc.port, err, tc.reply)
			}
			rec := lastRecord(t, srcStatus)
			if rec.FQDN != tc.fqdn || rec.Code != tc.code || rec.Local != tc.local {
				t.Fatalf("record %+v, want code %s local %v", rec, tc.code, tc.local)
			}
			acts := e.activity()
			if tc.local {
				if len(acts) != before {
					t.Fatalf("a locally dropped connection reached the broker: %+v", acts[before:])
				}
				return
			}
			if len(acts) != before+1 || acts[before].Code != tc.code || acts[before].Status != broker.StatusClosed {
				t.Fatalf("activity %+v, want one Closed record with %s", acts[before:], tc.code)
			}
		})
	}
	// EP-1: the failure harmed nothing; the same destination still works.
	c, err := dialSOCKS(socks, "dst.example.com", good)
	if err != nil {
		t.Fatal(err)
	}
	if err := exchange(c, 1000, 1000); err != nil {
		t.Fatal(err)
	}
}

func TestRegistrationStatus(t *testing.T) {
	e := newEnv(t, testPolicy())
	off := false
	tests := []struct {
		name      string
		spec      deviceSpec
		fqdn      string
		code      code.Code
		connected bool
	}{
		{"HV-2 match", deviceSpec{name: "pc1", hostname: "pc1"}, "pc1.example.com", code.FQDNMatch, true},
		{"HV-4 no DNS suffix", deviceSpec{name: "pc2", hostname: "pc2", profile: func(p *device.Profile) { p.PrimaryDNSSuffix = "" }},
			"pc2", code.FQDNNoMatch, true},
		{"HV-5 hostname not collected", deviceSpec{name: "pc3", hostname: "pc3", profile: func(p *device.Profile) { p.CollectHostname = &off }},
			"", code.FQDNEmpty, true},
		{"DEV-5 Private Access off", deviceSpec{name: "pc4", hostname: "pc4", profile: func(p *device.Profile) { p.PrivateAccess = &off }},
			"pc4.example.com", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.ip = "127.0.0.5"
			socks, status := e.agent(tc.spec)
			st := agentStatus(t, status)
			wantClient := ""
			if tc.code == code.FQDNMatch {
				wantClient = tc.fqdn
			}
			if st.FQDN != tc.fqdn || st.Connected != tc.connected || st.FQDNRegisteredError != tc.code || st.Client != wantClient {
				t.Fatalf("status %+v, want fqdn %q connected %v %s client %q", st, tc.fqdn, tc.connected, tc.code, wantClient)
			}
			var us []broker.UserStatus
			getJSON(t, "http://"+e.broker["admin"]+"/api/v1/userStatus", e.token, &us)
			i := slices.IndexFunc(us, func(u broker.UserStatus) bool { return u.Device == tc.spec.name })
			if !tc.connected {
				if i >= 0 || st.PrivateAccess != "OFF" {
					t.Fatalf("Private Access off: session %+v, status %q", us[i], st.PrivateAccess)
				}
				_, err := dialSOCKS(socks, "pc1.example.com", 3389)
				if se := (socksError(0)); !errors.As(err, &se) || se != 0x04 {
					t.Fatalf("dial with Private Access off: %v, want reply 0x04", err)
				}
				if rec := lastRecord(t, status); rec.Code != code.CltPrivateAccessDisabled || !rec.Local {
					t.Fatalf("record %+v", rec)
				}
				return
			}
			if i < 0 || us[i].FQDNRegisteredError != tc.code || us[i].ValidHostname != (tc.code == code.FQDNMatch) || !us[i].Connected {
				t.Fatalf("user status %+v", us)
			}
		})
	}
}

// TestSetupTime measures connection setup through SOCKS (request to
// tunnel ready, end-to-end TLS included) on loopback and logs it; with
// C2CLAB_PERF=1 it also asserts a loose bound.
func TestSetupTime(t *testing.T) {
	e := newEnv(t, testPolicy())
	socks, _, _ := e.pair()
	port := serveCheck(t, "127.0.0.3:0")
	n := 200
	if testing.Short() || raceEnabled {
		n = 30
	}
	d := setupTimes(t, socks, port, n)
	p50, p99 := d[len(d)/2], d[len(d)*99/100]
	t.Logf("setup through SOCKS on loopback: n=%d p50=%v p99=%v", n, p50, p99)
	// Timed assertions only in perf runs (STYLE.md): a loaded CI machine
	// must not fail the suite.
	if os.Getenv("C2CLAB_PERF") == "" || raceEnabled {
		return
	}
	if limit := 50 * time.Millisecond; p50 > limit {
		t.Errorf("setup p50 %v, want <= %v (loose: the netns target is 2 ms)", p50, limit)
	}
}

// TestThroughput relays 1 GiB each way (hashed); set C2CLAB_PERF=1.
func TestThroughput(t *testing.T) {
	if os.Getenv("C2CLAB_PERF") == "" {
		t.Skip("perf run: set C2CLAB_PERF=1")
	}
	e := newEnv(t, testPolicy())
	socks, _, _ := e.pair()
	port := serveCheck(t, "127.0.0.3:0")
	size := int64(1 << 30)
	if s, err := strconv.ParseInt(os.Getenv("C2CLAB_PERF_BYTES"), 10, 64); err == nil {
		size = s
	}
	for _, dir := range []struct {
		name     string
		up, down int64
		direct   bool
	}{{"down", 0, size, false}, {"up", size, 0, false}, {"down direct (no relay, same checks)", 0, size, true}} {
		c, err := dialSOCKS(socks, "dst.example.com", port)
		if dir.direct {
			c.Close()
			var nc net.Conn
			nc, err = net.Dial("tcp", net.JoinHostPort("127.0.0.3", strconv.Itoa(int(port))))
			c, _ = nc.(*net.TCPConn)
		}
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		cpu0, _ := processCPU()
		if err := exchange(c, dir.up, dir.down); err != nil {
			t.Fatal(err)
		}
		el := time.Since(start)
		cpu := "CPU n/a"
		if cpu1, ok := processCPU(); ok { // the whole chain runs in this process
			cpu = fmt.Sprintf("%.2f CPU-s/GiB", (cpu1-cpu0).Seconds()/(float64(size)/(1<<30)))
		}
		t.Logf("relayed %s %d MiB in %v: %.0f MB/s (%.2f Gbit/s), %s, every byte checked",
			dir.name, size>>20, el, float64(size)/el.Seconds()/1e6, float64(size)*8/el.Seconds()/1e9, cpu)
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	http.DefaultClient.CloseIdleConnections()
	base := runtime.NumGoroutine()
	t.Run("lab", func(t *testing.T) {
		e := newEnv(t, testPolicy())
		socks, _, _ := e.pair()
		port := serveCheck(t, "127.0.0.3:0")
		c, err := dialSOCKS(socks, "dst.example.com", port)
		if err != nil {
			t.Fatal(err)
		}
		if err := exchange(c, 1<<20, 1<<20); err != nil {
			t.Fatal(err)
		}
		// Leave one connection open: shutdown must close it.
		if _, err := dialSOCKS(socks, "dst.example.com", port); err != nil {
			t.Fatal(err)
		}
	})
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > base+1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base+1 {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines after shutdown, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

// TestSOCKSRefusesAddresses: the agent intercepts names only.
func TestSOCKSRefusesAddresses(t *testing.T) {
	e := newEnv(t, testPolicy())
	socks, _ := e.agent(deviceSpec{name: "src", hostname: "src", ip: "127.0.0.2"})
	c, err := net.Dial("tcp", socks)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte{5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 3, 0x0d, 0x3d})
	r := make([]byte, 12)
	if _, err := c.Read(r[:2]); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Read(r[2:]); n < 2 || r[3] != 0x08 {
		t.Fatalf("reply %x, want address type not supported (0x08)", r[2:])
	}
}

// TestReconnect: the agent notices the broker going away, backs off,
// registers again with the restarted broker, and connections work again.
func TestReconnect(t *testing.T) {
	e := newEnv(t, testPolicy())
	socks, srcStatus, dstStatus := e.pair()
	port := serveCheck(t, "127.0.0.3:0")
	first := agentStatus(t, srcStatus).SessionID
	e.restartBroker()
	for _, status := range []string{srcStatus, dstStatus} {
		waitFor(t, "agent registered again", func() bool {
			st := agentStatus(t, status)
			return st.Connected && st.SessionID != first && st.FQDNRegistered
		})
	}
	c, err := dialSOCKS(socks, "dst.example.com", port)
	if err != nil {
		t.Fatal(err)
	}
	if err := exchange(c, 1000, 1000); err != nil {
		t.Fatal(err)
	}
}

// TestForward: a fixed local listener tunnels to its FQDN:port.
func TestForward(t *testing.T) {
	e := newEnv(t, testPolicy())
	e.agent(deviceSpec{name: "dst", hostname: "dst", ip: "127.0.0.3"})
	port := serveCheck(t, "127.0.0.3:0")
	to := "dst.example.com:" + strconv.Itoa(int(port))
	addrs := e.agentAddrs(deviceSpec{name: "src", hostname: "src", ip: "127.0.0.2",
		forwards: []Forward{{Listen: "127.0.0.1:0", To: to}}})
	l, ok := addrs["forward:"+to]
	if !ok {
		t.Fatalf("ready addresses %v lack forward:%s", addrs, to)
	}
	c, err := net.Dial("tcp", l)
	if err != nil {
		t.Fatal(err)
	}
	if err := exchange(c.(*net.TCPConn), 5000, 7000); err != nil {
		t.Fatal(err)
	}
}

// TestStopDestinationWithOpenConnection: a destination agent stopped with a
// relayed connection open stops within 2 s and the source's client sees
// the connection end.
func TestStopDestinationWithOpenConnection(t *testing.T) {
	e := newEnv(t, testPolicy())
	_, stopDst := e.agentStoppable(deviceSpec{name: "dst", hostname: "dst", ip: "127.0.0.3"})
	socks, _ := e.agent(deviceSpec{name: "src", hostname: "src", ip: "127.0.0.2"})
	port := serveCheck(t, "127.0.0.3:0")
	c, err := dialSOCKS(socks, "dst.example.com", port)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Ask for 100 bytes and read them: both agents are now relaying.
	c.Write([]byte{0, 0, 0, 0, 0, 0, 0, 100})
	if err := compareStream(c, stream(100), 100); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	stopDst() // fails the test if Run takes over 2 s
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("read a byte from a connection whose destination stopped")
	}
	t.Logf("destination stopped and the source saw the end after %v", time.Since(start))
}
