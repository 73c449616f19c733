package linkemu

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/linkemu/emuline"
)

// TestForwarderCarriesTraffic is the fast default check: without the
// forwarder A cannot reach B; with it (5 ms each way) UDP round trips take
// at least the configured 10 ms and a TCP stream arrives complete. Only
// lower bounds are asserted, so load cannot make it flaky.
func TestForwarderCarriesTraffic(t *testing.T) {
	l := newLine(t)
	c := udpEcho(t, l)
	if got := rtts(c, 2, 200*time.Millisecond); len(got) != 0 {
		t.Fatalf("A reached B with no forwarder (%d answers): the line is not isolated", len(got))
	}
	e := startEmu(t, l, "delay=5ms", "delay=5ms")
	got := rtts(c, 20, time.Second)
	if len(got) < 18 {
		t.Fatalf("%d of 20 pings answered through the forwarder, want >= 18", len(got))
	}
	t.Logf("median RTT with 5ms each way: %v (min %v)", median(got), got[0])
	// The emulator releases a frame up to releaseSlack before it is due
	// (Go timers wake late, so it wakes early and sends what is nearly
	// due), so each way may be that much short of 5 ms.
	if floor := 2 * (5*time.Millisecond - releaseSlack); got[0] < floor {
		t.Errorf("min RTT %v, want >= %v (5 ms each way, less the release slack)", got[0], floor)
	}
	send, recv := tcpPair(t, l)
	const size = 8 << 20
	go func() {
		send.Write(make([]byte, size))
		send.Close()
	}()
	recv.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := io.Copy(io.Discard, recv)
	if err != nil || n != size {
		t.Fatalf("TCP through forwarder: got %d bytes, err %v; want %d", n, err, size)
	}
	st := e.stop(t)
	t.Logf("stats atob %+v btoa %+v", st[0], st[1])
}

// TestRun drives the exported entry point: bad configs fail naming the
// field, a missing interface fails naming it, and a good one reports ready
// with the seed and stops cleanly when its context ends.
func TestRun(t *testing.T) {
	if err := Run(t.Context(), Config{IfaceA: "a0"}, nil); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "ifaceB") {
		t.Errorf("Run without ifaceB: %v, want ErrConfig naming ifaceB", err)
	}
	l := newLine(t)
	err := Run(t.Context(), Config{IfaceA: "a0", IfaceB: "nosuch0", Netns: emuline.Path(l.Emu)}, nil)
	if err == nil || !strings.Contains(err.Error(), `"nosuch0"`) {
		t.Errorf("Run with a missing interface: %v, want an error naming it", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	infos := make(chan map[string]string, 1)
	done := make(chan error, 1)
	cfg := Config{IfaceA: emuline.IfaceA, IfaceB: emuline.IfaceB, Netns: emuline.Path(l.Emu)}
	go func() { done <- Run(ctx, cfg, func(m map[string]string) { infos <- m }) }()
	select {
	case info := <-infos:
		t.Logf("ready: %v", info)
		if info["seed"] == "" || info["seed"] == "0" {
			t.Errorf("ready info %v: no seed in use", info)
		}
	case err := <-done:
		t.Fatalf("Run returned before ready: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of cancel")
	}
}
