package netlab

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/linkemu"
)

// emuRoleEnv makes the test binary a link emulator process (its JSON
// linkemu.Config in the variable), the way sim/lab starts the linkemu node.
const emuRoleEnv = "C2C_NETLAB_TEST_LINKEMU"

// runEmuRole runs the emulator until SIGTERM, printing "ready" once it
// forwards.
func runEmuRole(cfgJSON string) {
	var cfg linkemu.Config
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := linkemu.Run(ctx, cfg, func(map[string]string) { fmt.Println("ready") }); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// inProcess starts linkemu.Run on a goroutine (it opens its sockets in
// cfg.Netns); stop cancels it and waits. The test's cleanup stops it too.
func inProcess(t *testing.T) EmuStarter {
	return func(ctx context.Context, e Emu, cfg linkemu.Config) (func() error, error) {
		runCtx, cancel := context.WithCancel(context.Background())
		ready, done := make(chan struct{}), make(chan struct{})
		var runErr error // written before done closes
		go func() {
			defer close(done)
			runErr = linkemu.Run(runCtx, cfg, func(info map[string]string) {
				t.Logf("emulator %s: %v", e.NS, info)
				close(ready)
			})
		}()
		stop := func() error { cancel(); <-done; return runErr }
		t.Cleanup(func() { stop() })
		select {
		case <-ready:
			return stop, nil
		case <-done:
			return nil, runErr
		case <-ctx.Done():
			return stop, ctx.Err()
		}
	}
}

// asProcess starts the emulator as a process inside the emulator
// namespace, as sim/lab does; removing the namespace kills it.
func asProcess(t *testing.T, procs *[]*exec.Cmd) EmuStarter {
	return func(ctx context.Context, e Emu, cfg linkemu.Config) (func() error, error) {
		b, err := json.Marshal(cfg)
		if err != nil {
			return nil, err
		}
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		cmd := exec.Command("ip", "netns", "exec", e.NS, self)
		cmd.Env = append(os.Environ(), emuRoleEnv+"="+string(b))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		*procs = append(*procs, cmd)
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
			return nil, fmt.Errorf("emulator process: %q, %v", line, err)
		}
		return nil, nil
	}
}

// twoHosts builds a lab with hosts a and b on network lan.
func twoHosts(t *testing.T, ctx context.Context) (*Lab, *Network, *Host, *Host) {
	t.Helper()
	l := newLab(t)
	lan, err := l.AddNetwork(ctx, "lan", nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := l.AddHost(ctx, "a", "lan")
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.AddHost(ctx, "b", "lan")
	if err != nil {
		t.Fatal(err)
	}
	return l, lan, a, b
}

func mustParse(t *testing.T, s string) linkemu.Impairments {
	t.Helper()
	im, err := linkemu.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

// udpEcho echoes datagrams from a socket in h; the returned conn, opened in
// from, is connected to it.
func udpEcho(t *testing.T, h, from *Host) *net.UDPConn {
	t.Helper()
	var srv, c *net.UDPConn
	err := h.Do(func() (err error) {
		srv, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(h.Addrs["lan"], 0)))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	go func() {
		buf := make([]byte, 64)
		for {
			n, addr, err := srv.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			srv.WriteToUDPAddrPort(buf[:n], addr)
		}
	}()
	err = from.Do(func() (err error) {
		c, err = net.DialUDP("udp4", nil, srv.LocalAddr().(*net.UDPAddr))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rtts pings n times through an echo conn and returns the answered round
// trips; replies to older pings are skipped by sequence number.
func rtts(c *net.UDPConn, n int) []time.Duration {
	var out []time.Duration
	buf := make([]byte, 64)
	for i := range n {
		start := time.Now()
		if _, err := c.Write(binary.BigEndian.AppendUint64(nil, uint64(i))); err != nil {
			continue
		}
		c.SetReadDeadline(start.Add(time.Second))
		for {
			k, err := c.Read(buf)
			if err != nil {
				break
			}
			if k == 8 && binary.BigEndian.Uint64(buf) == uint64(i) {
				out = append(out, time.Since(start))
				break
			}
		}
	}
	return out
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestImpairDelayVisible is the default functional test: the emulator sits
// in the path (delay shows), TCP still connects, and Close leaves nothing.
func TestImpairDelayVisible(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l, lan, a, b := twoHosts(t, ctx)
	srv := netip.AddrPortFrom(b.Addrs["lan"], 7010)
	listen(t, ctx, b, srv)
	echo := udpEcho(t, b, a)
	before := median(rtts(echo, 20))
	d := mustParse(t, "delay=20ms")
	e, err := l.Impair(ctx, "a", "lan", Impairment{ToHost: d, FromHost: d, PerPacket: true}, inProcess(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("emulator %+v", *e)
	got := rtts(echo, 20)
	after := median(got)
	t.Logf("delay=20ms each way: median RTT %v before, %v after (%d of 20 answered), added %v", before, after, len(got), after-before)
	if len(got) < 18 || after-before < 30*time.Millisecond || after-before > 80*time.Millisecond {
		t.Errorf("added RTT %v over %d answers, want about 40ms over >= 18", after-before, len(got))
	}
	if err := a.Do(func() error { return eventually(func() error { return greet(srv) }) }); err != nil {
		t.Errorf("TCP a->b through the emulator: %v", err)
	}
	if _, err := l.Impair(ctx, "a", "lan", Impairment{}, inProcess(t)); !errors.Is(err, ErrImpaired) {
		t.Errorf("second Impair: err = %v, want %v", err, ErrImpaired)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, l.RunID(), lan.Bridge, e.Port, e.NS)
}

// TestImpairRollsBack: a failing Impair leaves the attachment working as
// before, with no emulator namespace or port.
func TestImpairRollsBack(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l, _, a, b := twoHosts(t, ctx)
	defer l.Close()
	srv := netip.AddrPortFrom(b.Addrs["lan"], 7011)
	listen(t, ctx, b, srv)
	failStart := func(context.Context, Emu, linkemu.Config) (func() error, error) {
		return nil, errors.New("no emulator today")
	}
	tests := []struct {
		name          string
		host, network string
		start         EmuStarter
		wantErr       error
	}{
		{name: "unknown host", host: "nope", network: "lan", start: failStart, wantErr: ErrUnknownHost},
		{name: "unknown network", host: "a", network: "nope", start: failStart, wantErr: ErrUnknownNetwork},
		{name: "starter fails", host: "a", network: "lan", start: failStart},
		{name: "bad config", host: "a", network: "lan", start: func(ctx context.Context, e Emu, cfg linkemu.Config) (func() error, error) {
			cfg.IfaceB = "nosuch0"
			return inProcess(t)(ctx, e, cfg)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := l.Impair(ctx, tt.host, tt.network, Impairment{PerPacket: true}, tt.start)
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("Impair err = %v, want %v", err, tt.wantErr)
			}
			t.Logf("Impair: %v", err)
			if _, err := os.Stat(netnsPath(emuNSName(l.RunID(), tt.host, tt.network))); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("emulator namespace left after failed Impair: %v", err)
			}
			if err := a.Do(func() error { return eventually(func() error { return greet(srv) }) }); err != nil {
				t.Errorf("a->b after failed Impair: %v", err)
			}
		})
	}
	if n := len(l.Emus()); n != 0 {
		t.Errorf("%d emulators recorded after failures", n)
	}
}

func netnsPath(name string) string { return netnsDir + "/" + name }

// TestImpairCrashSwept: an emulator process in its namespace and a run that
// never closes; Sweep removes the emulator namespace, port and process.
func TestImpairCrashSwept(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l, lan, a, b := twoHosts(t, ctx)
	srv := netip.AddrPortFrom(b.Addrs["lan"], 7012)
	listen(t, ctx, b, srv)
	var procs []*exec.Cmd
	e, err := l.Impair(ctx, "a", "lan", Impairment{ToHost: mustParse(t, "delay=1ms")}, asProcess(t, &procs))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Do(func() error { return eventually(func() error { return greet(srv) }) }); err != nil {
		t.Fatalf("TCP a->b through the emulator process: %v", err)
	}
	removed, err := Sweep(l.RunID())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("swept %v", removed)
	for _, want := range []string{"netns " + e.NS, "netns " + a.NS, "link " + lan.Bridge} {
		if !slices.Contains(removed, want) {
			t.Errorf("sweep did not report %q", want)
		}
	}
	assertGone(t, l.RunID(), lan.Bridge, e.Port, e.NS)
	done := make(chan error, 1)
	go func() { done <- procs[0].Wait() }()
	select {
	case err := <-done:
		t.Logf("emulator process ended: %v", err)
	case <-time.After(3 * time.Second):
		t.Errorf("emulator process %d still running after sweep", procs[0].Process.Pid)
	}
}

// needMeasure gates the measurement tests: they take about 10 s and need a
// machine that is not overloaded.
func needMeasure(t *testing.T) {
	t.Helper()
	needRoot(t)
	if os.Getenv("C2CLAB_NETEM_TESTS") != "1" {
		t.Skip("skipped: measurement test; set C2CLAB_NETEM_TESTS=1")
	}
}

// TestImpairMeasureDelay: 20 ms each way adds 40 ms +- 10% to the median
// UDP round trip over 60 pings.
func TestImpairMeasureDelay(t *testing.T) {
	needMeasure(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l, _, a, b := twoHosts(t, ctx)
	defer l.Close()
	echo := udpEcho(t, b, a)
	base := rtts(echo, 60)
	d := mustParse(t, "delay=20ms")
	if _, err := l.Impair(ctx, "a", "lan", Impairment{ToHost: d, FromHost: d}, inProcess(t)); err != nil {
		t.Fatal(err)
	}
	got := rtts(echo, 60)
	added := median(got) - median(base)
	t.Logf("delay=20ms each way: median RTT %v (%d answers), before %v (%d answers), added %v (want 40ms +- 4ms)",
		median(got), len(got), median(base), len(base), added)
	if len(got) < 55 || added < 36*time.Millisecond || added > 44*time.Millisecond {
		t.Errorf("added round trip %v over %d answers, want 40ms +- 10%% over >= 55", added, len(got))
	}
}

// TestImpairMeasureRate: rate=50mbit from a measures within 10% of 50
// Mbit/s as TCP goodput at b over 2 s after 0.5 s of warm-up. The rate
// counts headers (about 4% at MTU 1500), so goodput near 48 is expected.
func TestImpairMeasureRate(t *testing.T) {
	needMeasure(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l, _, a, b := twoHosts(t, ctx)
	defer l.Close()
	imp := Impairment{FromHost: mustParse(t, "rate=50mbit"), PerPacket: true}
	if _, err := l.Impair(ctx, "a", "lan", imp, inProcess(t)); err != nil {
		t.Fatal(err)
	}
	mbit := bulk(t, a, b, 500*time.Millisecond, 2*time.Second)
	t.Logf("rate=50mbit: TCP goodput a->b %.1f Mbit/s (want 45..55)", mbit)
	if mbit < 45 || mbit > 55 {
		t.Errorf("goodput %.1f Mbit/s, want 50 +- 10%%", mbit)
	}
}

// bulk sends TCP from a to b for warm+span and returns the goodput b
// received during span, in Mbit/s.
func bulk(t *testing.T, a, b *Host, warm, span time.Duration) float64 {
	t.Helper()
	var ln net.Listener
	if err := b.Do(func() (err error) {
		ln, err = net.Listen("tcp4", netip.AddrPortFrom(b.Addrs["lan"], 0).String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan float64, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- 0
			return
		}
		defer c.Close()
		buf := make([]byte, 256<<10)
		var start time.Time
		var n int64
		for {
			k, err := c.Read(buf)
			now := time.Now()
			switch {
			case start.IsZero():
				start = now.Add(warm)
			case now.After(start.Add(span)):
				got <- float64(n) * 8 / span.Seconds() / 1e6
				return
			case now.After(start):
				n += int64(k)
			}
			if err != nil {
				got <- 0
				return
			}
		}
	}()
	var c net.Conn
	if err := a.Do(func() (err error) { c, err = net.Dial("tcp4", ln.Addr().String()); return err }); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetWriteDeadline(time.Now().Add(warm + span + 2*time.Second))
	go io.Copy(c, zeros{}) // ends when c closes
	return <-got
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestImpairMeasureLoss: loss=1% from a measures between 0.5% and 2% over
// 10,000 UDP datagrams; 2,000 unimpaired first show the count loses none.
func TestImpairMeasureLoss(t *testing.T) {
	needMeasure(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l, _, a, b := twoHosts(t, ctx)
	defer l.Close()
	send, recv := udpPair(t, a, b)
	if lost := blast(t, send, recv, 2000); lost != 0 {
		t.Fatalf("unimpaired: %d of 2000 datagrams lost, want 0 (the count is unreliable)", lost)
	}
	imp := Impairment{FromHost: mustParse(t, "loss=1%"), PerPacket: true}
	if _, err := l.Impair(ctx, "a", "lan", imp, inProcess(t)); err != nil {
		t.Fatal(err)
	}
	const n = 10000
	lost := blast(t, send, recv, n)
	ratio := float64(lost) / n
	t.Logf("loss=1%%: %d of %d lost = %.2f%% (want 0.5%%..2%%)", lost, n, ratio*100)
	if ratio < 0.005 || ratio > 0.02 {
		t.Errorf("measured loss %.2f%%, want between 0.5%% and 2%%", ratio*100)
	}
}

func udpPair(t *testing.T, a, b *Host) (send, recv *net.UDPConn) {
	t.Helper()
	err := b.Do(func() (err error) {
		recv, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(b.Addrs["lan"], 0)))
		if err == nil {
			err = recv.SetReadBuffer(8 << 20)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { recv.Close() })
	if err := a.Do(func() (err error) {
		send, err = net.DialUDP("udp4", nil, recv.LocalAddr().(*net.UDPAddr))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { send.Close() })
	return send, recv
}

// blast sends n numbered datagrams, paced at about 50 per ms, and returns
// how many of this round did not arrive.
func blast(t *testing.T, send, recv *net.UDPConn, n int) int {
	t.Helper()
	base := uint64(time.Now().UnixNano())
	got := make(chan int, 1)
	go func() {
		buf, seen := make([]byte, 64), 0
		for {
			recv.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			k, err := recv.Read(buf)
			if err != nil {
				break
			}
			if v := binary.BigEndian.Uint64(buf); k == 8 && v >= base && v < base+uint64(n) {
				seen++
			}
		}
		got <- seen
	}()
	for i := range n {
		if _, err := send.Write(binary.BigEndian.AppendUint64(nil, base+uint64(i))); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if i%50 == 49 {
			time.Sleep(time.Millisecond)
		}
	}
	return n - <-got
}
