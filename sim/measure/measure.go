// Package measure probes a network path as the relay's users meet it:
// byte-checked bulk throughput, request/response round trips, connection
// setup, and these under concurrency. Each probe drives one of a device's
// fake services (sim/endpoint's bulk and echo) over a connection or a dial
// function it is given, so that a relayed path, a direct one and any other
// relay are measured alike; results are bytes and intervals, or latency
// distributions in HDR histograms, from which rates are derived.
//
// Far sides: Throughput and Parallel need the bulk service (they use its
// timed sink mode for the up direction), Latency, Setup and OpenLoop the
// echo service. Every byte a probe moves is compared with the data it
// expects, so a relay that is fast but wrong fails; a wrong byte gives an
// *endpoint.CorruptError (errors.Is endpoint.ErrCorrupt) naming the offset
// of the first wrong byte in the stream.
package measure

import (
	"context"
	"math/rand/v2"
	"net"
	"time"
)

// Dialer opens a new connection to the service a probe drives: through an
// agent's SOCKS5 port or forward, straight to the service, or through any
// other relay.
type Dialer func(ctx context.Context) (net.Conn, error)

// aLongTimeAgo is a deadline in the past: setting it makes pending I/O on a
// connection return at once.
var aLongTimeAgo = time.Unix(1, 0)

// watch makes blocking I/O on c return when ctx ends, by moving c's deadline
// into the past; c is then spent. Call stop when done.
func watch(ctx context.Context, c net.Conn) (stop func() bool) {
	return context.AfterFunc(ctx, func() { c.SetDeadline(aLongTimeAgo) })
}

// ctxErr returns ctx's cause when ctx has ended (the I/O error is then only
// its consequence), otherwise err.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return err
}

// sleepUntil waits until t or until ctx ends.
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// payload returns the n bytes of message i for seed: each message differs,
// so an echo that returns an earlier one, or another connection's, fails.
func payload(seed, i uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, i))
	b := make([]byte, n)
	for k := 0; k < n; k += 8 {
		v := rng.Uint64()
		for j := k; j < min(k+8, n); j++ {
			b[j] = byte(v)
			v >>= 8
		}
	}
	return b
}

// firstDiff is the index of the first byte where a and b differ, or -1.
func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}
