package agent

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/policy"
	"github.com/vishvananda/netns"
	"golang.org/x/net/dns/dnsmessage"
)

// testNetns creates a namespace with loopback up and a local route for the
// synthetic range, the way the lab prepares an admin's machine, and
// removes it when the test ends. It skips when not root.
func testNetns(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("interception test: needs root (network namespace, iptables)")
	}
	for _, tool := range []string{"ip", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("interception test: needs %s", tool)
		}
	}
	// Not a lab run ID: lab sweeps never take it, nor it theirs.
	name := fmt.Sprintf("agenttest-%d", os.Getpid())
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	run(t, "ip", "netns", "add", name)
	run(t, "ip", "-n", name, "link", "set", "lo", "up")
	run(t, "ip", "-n", name, "route", "add", "local", SyntheticRange.String(), "dev", "lo")
	return name
}

// redirect adds the lab's REDIRECT rule for the synthetic range to port.
func redirect(t *testing.T, ns string, port string) {
	t.Helper()
	redirectRange(t, ns, SyntheticRange, port)
}

// redirectRange sends ns's TCP connections to dst to the listener on port,
// as the lab's rule does.
func redirectRange(t *testing.T, ns string, dst netip.Prefix, port string) {
	t.Helper()
	run(t, "ip", "netns", "exec", ns, "iptables", "-w", "5", "-t", "nat", "-A", "OUTPUT",
		"-d", dst.String(), "-p", "tcp", "-j", "REDIRECT", "--to-ports", port)
}

// interceptingAgent starts the source agent "src" in ns with only its DNS
// and intercept listeners, and returns their addresses and the intercept
// listener's port.
func (e *env) interceptingAgent(t *testing.T, ns string) (map[string]string, string) {
	t.Helper()
	cfg := e.agentConfig(deviceSpec{name: "src", hostname: "src", ip: "127.0.0.2"})
	cfg.SOCKS, cfg.Status, cfg.DNS, cfg.Intercept = "", "", "127.0.0.1:0", "127.0.0.1:0"
	// Run opens its listeners on the calling thread, so in ns; its other
	// goroutines (the broker session, the tunnels) run in the test's.
	addrs := start(t, func(ctx context.Context, ready func(map[string]string)) error {
		return inNetns(ns, func() error { return Run(ctx, cfg, ready) })
	})
	_, port, _ := net.SplitHostPort(addrs["intercept"])
	return addrs, port
}

func run(t *testing.T, cmd ...string) {
	t.Helper()
	if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd, err, out)
	}
}

// inNetns runs fn on a thread in the namespace ns; the thread is never
// unlocked, so the runtime ends it instead of reusing it elsewhere.
// Sockets fn opens stay in ns wherever they are used later.
func inNetns(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		h, err := netns.GetFromName(ns)
		if err == nil {
			err = netns.Set(h)
			h.Close()
		}
		if err != nil {
			errc <- fmt.Errorf("enter netns %q: %w", ns, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// TestOriginalDst: a connection redirected from a synthetic address shows
// that address and port through SO_ORIGINAL_DST; one made to the listener
// directly shows the listener itself, which no pool maps to a name.
func TestOriginalDst(t *testing.T) {
	ns := testNetns(t)
	var l net.Listener
	if err := inNetns(ns, func() (err error) { l, err = net.Listen("tcp", "127.0.0.1:0"); return err }); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	redirect(t, ns, port)
	tests := []struct{ name, dial, want string }{
		{"redirected", "100.64.3.4:3389", "100.64.3.4:3389"},
		{"direct", l.Addr().String(), l.Addr().String()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c net.Conn
			if err := inNetns(ns, func() (err error) { c, err = net.DialTimeout("tcp", tc.dial, 5*time.Second); return err }); err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			s, err := l.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got, err := originalDst(s.(*net.TCPConn))
			if err != nil || got != netip.MustParseAddrPort(tc.want) {
				t.Fatalf("originalDst = %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}

// TestInterceptEndToEnd: an agent whose DNS and intercept listener live in
// a namespace like the admin's machine resolves a device's name to a
// synthetic address; a plain TCP connection to it, redirected by the
// lab's rule, crosses the broker to the device's service with every byte
// checked. An address the DNS never handed out is closed unanswered.
func TestInterceptEndToEnd(t *testing.T) {
	ns := testNetns(t)
	e := newEnv(t, testPolicy())
	_, dstStatus := e.agent(deviceSpec{name: "dst", hostname: "dst", ip: "127.0.0.3"})
	port := serveCheck(t, "127.0.0.3:0")
	addrs, iport := e.interceptingAgent(t, ns)
	redirect(t, ns, iport)

	var synth netip.Addr
	var c *net.TCPConn
	q := query(t, 1, "dst.example.com.", dnsmessage.TypeA, dnsmessage.ClassINET)
	err := inNetns(ns, func() error {
		d, err := net.Dial("udp", addrs["dns"])
		if err != nil {
			return err
		}
		defer d.Close()
		m, err := dnsRoundTrip(d, q)
		if err != nil {
			return err
		}
		if len(m.Answers) != 1 {
			return fmt.Errorf("dst.example.com: rcode %v, %d answers, want 1", m.RCode, len(m.Answers))
		}
		synth = netip.AddrFrom4(m.Answers[0].Body.(*dnsmessage.AResource).A)
		nc, err := net.Dial("tcp", netip.AddrPortFrom(synth, port).String())
		if err == nil {
			c = nc.(*net.TCPConn)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := exchange(c, 64<<10, 64<<10); err != nil {
		t.Fatalf("through %s:%d: %v", synth, port, err)
	}
	waitFor(t, "destination record", func() bool { return lastRecord(t, dstStatus).EndUs != 0 })
	if rec := lastRecord(t, dstStatus); rec.FQDN != "dst.example.com" || rec.Port != int(port) || rec.Code != "" {
		t.Errorf("destination record %+v, want dst.example.com:%d, no code", rec, port)
	}

	unknown := synth.Next()
	err = inNetns(ns, func() error {
		nc, err := net.Dial("tcp", netip.AddrPortFrom(unknown, port).String())
		if err != nil {
			return err
		}
		defer nc.Close()
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, err := nc.Read(make([]byte, 1)); err != io.EOF {
			return fmt.Errorf("read from %s: %d bytes, %v; want EOF (closed by the agent)", unknown, n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestInterceptClientIP is SEG-9 through the intercept listener: a plain
// TCP connection to a device's client IP (a c2cIpRanges range outside the
// synthetic one, routed and redirected as the lab does) is carried to
// that device by the segment whose CIDR covers it, every byte checked,
// with the address as the connection's name in the destination's record.
func TestInterceptClientIP(t *testing.T) {
	ns := testNetns(t)
	c2c := netip.MustParsePrefix("198.19.255.0/24")
	pc := testPolicy()
	pc.C2CIPRanges = []netip.Prefix{c2c}
	pc.Segments = append(pc.Segments, policy.Segment{ID: "ips", Name: "Client IPs", Enabled: true,
		Addrs: []netip.Prefix{c2c}, TCP: []policy.PortRange{{From: 1024, To: 65535}}})
	e := newEnv(t, pc)
	// The first device to register holds the lowest address of the range.
	_, dstStatus := e.agent(deviceSpec{name: "dst", hostname: "dst", ip: "127.0.0.3"})
	port := serveCheck(t, "127.0.0.3:0")
	_, iport := e.interceptingAgent(t, ns)
	run(t, "ip", "-n", ns, "route", "add", "local", c2c.String(), "dev", "lo")
	redirectRange(t, ns, c2c, iport)

	clientIP := netip.AddrPortFrom(c2c.Addr().Next(), port)
	var c *net.TCPConn
	if err := inNetns(ns, func() error {
		nc, err := net.DialTimeout("tcp", clientIP.String(), 5*time.Second)
		if err == nil {
			c = nc.(*net.TCPConn)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := exchange(c, 64<<10, 64<<10); err != nil {
		t.Fatalf("through %s: %v", clientIP, err)
	}
	waitFor(t, "destination record", func() bool { return lastRecord(t, dstStatus).EndUs != 0 })
	want := clientIP.Addr().String()
	if rec := lastRecord(t, dstStatus); rec.FQDN != want || rec.Port != int(port) || rec.Code != "" {
		t.Errorf("destination record %+v, want %s:%d, no code", rec, want, port)
	}
}
