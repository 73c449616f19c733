package steps

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"slices"
	"time"

	"github.com/c2clab/c2clab/sim/tenant"
)

// measuresRoundTrip opens a connection through the admin's agent to an echo
// service and times n small request/response round trips; the median goes
// into the world under the target's name.
func measuresRoundTrip(ctx context.Context, from, target string, n int) error {
	w := getWorld(ctx)
	d, err := w.device(from)
	if err != nil {
		return err
	}
	host, port, err := tenant.ParseTarget(target)
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	c, err := d.Dial(ctx, host, port)
	if err != nil {
		return fmt.Errorf("connect %s to %s: %w", from, target, err)
	}
	defer c.Close()
	if n < 1 {
		return fmt.Errorf("round trips to %s: want at least 1 echo", target)
	}
	rtts, err := roundTrips(c, n)
	if err != nil {
		return fmt.Errorf("round trips to %s: %w", target, err)
	}
	slices.Sort(rtts)
	if w.rtts == nil {
		w.rtts = map[string]time.Duration{}
	}
	// The minimum, not the median: load on the machine only ever adds
	// delay, so the fastest round trip is the path's own.
	w.rtts[target] = rtts[0]
	fmt.Printf("    round trip to %s through the relay: min %s, median %s, max %s over %d echoes\n", target, rtts[0], rtts[len(rtts)/2], rtts[len(rtts)-1], n)
	return nil
}

// roundTrips times n 64-byte echoes on c, one at a time.
func roundTrips(c net.Conn, n int) ([]time.Duration, error) {
	c.SetDeadline(time.Now().Add(60 * time.Second))
	msg, back := make([]byte, 64), make([]byte, 64)
	out := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		binary.BigEndian.PutUint64(msg, uint64(i))
		start := time.Now()
		if _, err := c.Write(msg); err != nil {
			return nil, err
		}
		if _, err := io.ReadFull(c, back); err != nil {
			return nil, err
		}
		if !bytes.Equal(back, msg) {
			return nil, fmt.Errorf("echo %d came back altered", i)
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

// roundTripExceeds compares two measured minimum round trips against an expected
// difference with an explicit tolerance, printing what was measured.
func roundTripExceeds(ctx context.Context, a, b string, wantMs, tolPct int) error {
	w := getWorld(ctx)
	ra, okA := w.rtts[a]
	rb, okB := w.rtts[b]
	if !okA || !okB {
		return fmt.Errorf("measure the round trips to %q and %q first", a, b)
	}
	diff := ra - rb
	want := time.Duration(wantMs) * time.Millisecond
	tol := want * time.Duration(tolPct) / 100
	fmt.Printf("    added round trip: %s (want %s +- %s)\n", diff, want, tol)
	if diff < want-tol || diff > want+tol {
		return fmt.Errorf("round trip to %s is %s longer than to %s, want %s +- %d%%", a, diff, b, want, tolPct)
	}
	return nil
}

// goodputShare is the part of an Ethernet frame a full-size TCP segment
// carries as payload: a link rate counts whole frames, as tbf does.
const goodputShare = 1448.0 / 1514.0

// sentArriveAtRate streams n MiB through the open connection to a bulk
// service (every byte checked) and compares the rate with the goodput the
// link's rate allows.
func sentArriveAtRate(ctx context.Context, n, mbit, tolPct int) error {
	a, res, err := sendBulk(ctx, n)
	if err != nil {
		return err
	}
	got := mbits(res)
	want := float64(mbit) * goodputShare
	lo, hi := want*(1-float64(tolPct)/100), want*(1+float64(tolPct)/100)
	fmt.Printf("    %d MiB intact in %s: %.1f Mbit/s of goodput (a %d Mbit/s link allows %.1f; want +- %d%%)\n", n, res.Duration.Round(time.Millisecond), got, mbit, want, tolPct)
	if got < lo || got > hi {
		return fmt.Errorf("measured %.1f Mbit/s, want %.1f to %.1f", got, lo, hi)
	}
	return a.closeConn()
}
