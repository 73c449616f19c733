package netlab

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// roleEnv makes the test binary a tiny TCP server instead of running tests;
// the tests start it inside a host namespace with Host.Command.
const roleEnv = "C2C_NETLAB_TEST_LISTEN"

func TestMain(m *testing.M) {
	if cfg := os.Getenv(emuRoleEnv); cfg != "" {
		runEmuRole(cfg)
		return
	}
	if addr := os.Getenv(roleEnv); addr != "" {
		serve(addr)
		return
	}
	os.Exit(m.Run())
}

// serve greets every connection with "hello ADDR\n" until killed.
func serve(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("ready")
	for {
		c, err := ln.Accept()
		if err != nil {
			os.Exit(1)
		}
		fmt.Fprintf(c, "hello %s\n", addr)
		c.Close()
	}
}

// needRoot skips privileged tests with the reason.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("netlab: needs root (network namespaces, bridges)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("netlab: needs iproute2 `ip` for ip netns exec")
	}
}

// pluginDir builds the CNI plugins once per module version into a cache
// under the user's cache directory, which later runs reuse.
func pluginDir(t *testing.T) string {
	t.Helper()
	v, err := PluginsVersion()
	if err != nil {
		t.Fatal(err)
	}
	// Under the user's cache, not a predictable /tmp path another user
	// could create first: root runs these binaries.
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = t.TempDir()
	}
	dir := filepath.Join(cache, "c2clab", "cni-test-"+v)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	if err := BuildPlugins(ctx, dir); err != nil {
		t.Fatal(err)
	}
	t.Logf("BuildPlugins(%s): %v", dir, time.Since(start).Round(time.Millisecond))
	return dir
}

func testRunID(t *testing.T) string {
	t.Helper()
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "c2c" + hex.EncodeToString(b[:])
}

// newLab starts a lab whose leftovers are swept at the end of the test even
// when the test fails half-way.
func newLab(t *testing.T) *Lab {
	t.Helper()
	dir := pluginDir(t)
	id := testRunID(t)
	t.Cleanup(func() {
		if removed, err := Sweep(id); err != nil || len(removed) > 0 {
			t.Errorf("sweep after test: removed %v, err %v", removed, err)
		}
	})
	l, err := New(id, dir)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// listen starts the greeting server inside h on addr:port.
func listen(t *testing.T, ctx context.Context, h *Host, addr netip.AddrPort) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := h.Command(ctx, self)
	cmd.Env = append(os.Environ(), roleEnv+"="+addr.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("server in %s: %q, %v", h.NS, line, err)
	}
}

// greet dials addr (from whatever namespace the calling thread is in) and
// checks the greeting.
func greet(addr netip.AddrPort) error {
	c, err := net.DialTimeout("tcp", addr.String(), 500*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		return err
	}
	if want := "hello " + addr.String() + "\n"; string(b) != want {
		return fmt.Errorf("greeting %q, want %q", b, want)
	}
	return nil
}

// eventually retries f for up to 3 s: links take a moment after coming up.
func eventually(f func() error) error {
	deadline := time.Now().Add(3 * time.Second)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestTwoHostsPartitionClose(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l := newLab(t)
	lan, err := l.AddNetwork(ctx, "lan", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !labRange.Contains(lan.Subnet.Addr()) || !lan.Subnet.Contains(lan.Gateway) || lan.Bridge == "" {
		t.Fatalf("network = %+v", lan)
	}
	a, err := l.AddHost(ctx, "a", "lan")
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.AddHost(ctx, "b", "lan")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("network %+v; a %v; b %v", *lan, a.Addrs, b.Addrs)
	srv := netip.AddrPortFrom(a.Addrs["lan"], 7001)
	listen(t, ctx, a, srv)
	fromB := func() error { return b.Do(func() error { return greet(srv) }) }
	fromRoot := func() error { return greet(srv) }

	checks := []struct {
		name  string
		up    bool
		reach bool
	}{
		{name: "connected", up: true, reach: true},
		{name: "partitioned", up: false, reach: false},
		{name: "healed", up: true, reach: true},
	}
	for _, c := range checks {
		if err := l.SetLinkUp("a", "lan", c.up); err != nil {
			t.Fatal(err)
		}
		for _, from := range []struct {
			name string
			dial func() error
		}{{"host b", fromB}, {"root namespace", fromRoot}} {
			err := from.dial()
			if c.reach {
				err = eventually(from.dial)
			}
			if (err == nil) != c.reach {
				t.Errorf("%s: from %s: reach=%t, err=%v", c.name, from.name, c.reach, err)
			}
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	assertGone(t, l.RunID(), lan.Bridge)
	if _, err := os.Stat(l.StateDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state dir %s still there: %v", l.StateDir(), err)
	}
}

// assertGone checks that no namespace, link or firewall rule of runID is
// left, by the system's own tools.
func assertGone(t *testing.T, runID string, names ...string) {
	t.Helper()
	marks := append([]string{runID}, names...)
	// Namespace teardown is asynchronous; veths vanish shortly after.
	err := eventually(func() error {
		for _, args := range [][]string{{"netns", "list"}, {"-o", "link", "show"}} {
			out, err := exec.Command("ip", args...).CombinedOutput()
			if err != nil {
				return fmt.Errorf("ip %v: %w", args, err)
			}
			for _, m := range marks {
				if strings.Contains(string(out), m) {
					return fmt.Errorf("ip %v still shows %q:\n%s", args, m, out)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	if out, err := exec.Command("iptables", "-w", "-S", "FORWARD").Output(); err == nil && strings.Contains(string(out), runID) {
		t.Errorf("iptables FORWARD still has a rule of %s:\n%s", runID, out)
	}
}

func TestCrashedRunIsSwept(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l := newLab(t)
	lan, err := l.AddNetwork(ctx, "lan", nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := l.AddHost(ctx, "a", "lan")
	if err != nil {
		t.Fatal(err)
	}
	listen(t, ctx, a, netip.AddrPortFrom(a.Addrs["lan"], 7002)) // a process still in the namespace
	// The run "crashes": no Close. Sweep finds it all by the run ID.
	removed, err := Sweep(l.RunID())
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(removed)
	t.Logf("swept %v", removed)
	for _, want := range []string{"netns " + a.NS, "link " + lan.Bridge, "state " + l.StateDir()} {
		if !slices.Contains(removed, want) {
			t.Errorf("sweep did not report %q", want)
		}
	}
	assertGone(t, l.RunID(), lan.Bridge)
	if _, err := os.Stat(l.StateDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state dir %s still there: %v", l.StateDir(), err)
	}
}

func TestTwoLabsAtOnce(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	labs := []*Lab{newLab(t), newLab(t)}
	var subnets []netip.Prefix
	for i, l := range labs {
		n, err := l.AddNetwork(ctx, "lan", nil)
		if err != nil {
			t.Fatal(err)
		}
		subnets = append(subnets, n.Subnet)
		hosts := make([]*Host, 2)
		for j := range hosts {
			if hosts[j], err = l.AddHost(ctx, fmt.Sprintf("h%d", j), "lan"); err != nil {
				t.Fatal(err)
			}
		}
		srv := netip.AddrPortFrom(hosts[0].Addrs["lan"], 7003)
		listen(t, ctx, hosts[0], srv)
		if err := hosts[1].Do(func() error { return greet(srv) }); err != nil {
			t.Errorf("lab %d: %v", i, err)
		}
	}
	if subnets[0].Overlaps(subnets[1]) {
		t.Errorf("labs share subnets %v", subnets)
	}
	for _, l := range labs {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
		assertGone(t, l.RunID())
	}
}

func TestAddHostRollsBack(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l := newLab(t)
	defer l.Close()
	broken := `{"cniVersion":"1.0.0","plugins":[{"type":"bridge","isGateway":true,
		"ipam":{"type":"host-local","subnet":"198.19.254.0/24"}},{"type":"no-such-plugin"}]}`
	if _, err := l.AddNetwork(ctx, "broken", []byte(broken)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		networks []string
		wantErr  error
	}{
		{name: "unknown network", networks: []string{"nope"}, wantErr: ErrUnknownNetwork},
		{name: "plugin fails", networks: []string{"broken"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := l.AddHost(ctx, "x", tt.networks...)
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("AddHost err = %v, want %v", err, tt.wantErr)
			}
			if _, err := os.Stat(filepath.Join(netnsDir, nsName(l.RunID(), "x"))); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("namespace left after failed AddHost: %v", err)
			}
		})
	}
	if _, err := l.AddNetwork(ctx, "outside", []byte(`{"cniVersion":"1.0.0","plugins":[{"type":"bridge","ipam":{"type":"host-local","subnet":"10.9.0.0/24"}}]}`)); !errors.Is(err, ErrAddressRange) {
		t.Errorf("AddNetwork outside lab range: err = %v, want %v", err, ErrAddressRange)
	}
}

func TestAddHostTime(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l := newLab(t)
	if _, err := l.AddNetwork(ctx, "lan", nil); err != nil {
		t.Fatal(err)
	}
	var took []time.Duration
	seen := map[netip.Addr]bool{}
	for i := range 10 {
		start := time.Now()
		h, err := l.AddHost(ctx, fmt.Sprintf("h%d", i), "lan")
		if err != nil {
			t.Fatal(err)
		}
		took = append(took, time.Since(start))
		if a := h.Addrs["lan"]; seen[a] || !labRange.Contains(a) {
			t.Errorf("host %d address %v repeated or outside %s", i, a, labRange)
		} else {
			seen[a] = true
		}
	}
	slices.Sort(took)
	t.Logf("AddHost over %d hosts: min %v median %v max %v", len(took), took[0], took[len(took)/2], took[len(took)-1])
	start := time.Now()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Close of 10 hosts: %v", time.Since(start))
	assertGone(t, l.RunID())
}
