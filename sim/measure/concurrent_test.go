package measure

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/endpoint"
)

func TestParallel(t *testing.T) {
	bulk, _ := services(t)
	for _, dir := range []Direction{Down, Up, Both} {
		t.Run(string(dir), func(t *testing.T) {
			cfg := ThroughputConfig{Direction: dir, Bytes: 4 * mib, Warmup: mib, Seed: 100}
			r, err := Parallel(testCtx(t), dialer(bulk), 3, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s", r)
			var sum int64
			for i, s := range r.Streams {
				checkSized(t, s, ThroughputConfig{Direction: dir, Bytes: cfg.Bytes, Seed: cfg.Seed + 2*uint64(i)}, cfg.Warmup)
				// The aggregate interval spans every stream's.
				if s.Interval > r.Interval {
					t.Fatalf("stream %d took %v, longer than all streams together (%v)", i, s.Interval, r.Interval)
				}
				sum += s.Bytes
			}
			if len(r.Streams) != 3 || r.Bytes != sum || r.Mbps() <= 0 {
				t.Fatalf("%d streams, %d bytes of %d, %.1f Mbit/s", len(r.Streams), r.Bytes, sum, r.Mbps())
			}
		})
	}
}

func TestParallelNamesFailedStream(t *testing.T) {
	bulk, _ := services(t)
	// The second connection the proxy accepts corrupts the data it carries.
	bad := func(i int) (hook, hook) {
		if i == 1 {
			return nil, flipAt(5000)
		}
		return nil, nil
	}
	r, err := Parallel(testCtx(t), dialer(proxy(t, bulk, bad)), 3, ThroughputConfig{Bytes: 64 * mib})
	var ce *endpoint.CorruptError
	if !errors.As(err, &ce) || ce.Offset != 5000 || len(r.Streams) != 3 {
		t.Fatalf("got %v; want one stream's byte 5000 wrong", err)
	}
	var corrupt int
	for i := range 3 {
		if strings.Contains(err.Error(), fmt.Sprintf("stream %d: throughput down: bulk data corrupted", i)) {
			corrupt++
		}
	}
	if corrupt != 1 {
		t.Fatalf("error %q: want exactly one stream named as corrupted", err)
	}
}

func TestParallelRejectsBadConfig(t *testing.T) {
	if _, err := Parallel(context.Background(), nil, 0, ThroughputConfig{}); err == nil {
		t.Error("0 streams: no error")
	}
	if _, err := Parallel(context.Background(), nil, 2, ThroughputConfig{Bytes: -1}); err == nil {
		t.Error("negative bytes: no error")
	}
}

func TestOpenLoopCounts(t *testing.T) {
	_, echo := services(t)
	var calls atomic.Int32
	everyThirdFails := func(ctx context.Context) (net.Conn, error) {
		if calls.Add(1)%3 == 0 {
			return nil, errors.New("refused")
		}
		return dialer(echo)(ctx)
	}
	for _, tc := range []struct {
		name       string
		dial       Dialer
		ok, failed int64
	}{
		{"all ok", dialer(echo), 50, 0},
		{"every third dial refused", everyThirdFails, 34, 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// 200/s for 250 ms: connections due at 0, 5, ..., 245 ms.
			r, err := OpenLoop(testCtx(t), tc.dial, OpenLoopConfig{Rate: 200, Duration: 250 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s", r)
			if r.Started != 50 || r.OK != tc.ok || r.Failed != tc.failed || r.Setup.Count != tc.ok {
				t.Fatalf("%s\nwant 50 started, %d ok, %d failed", r, tc.ok, tc.failed)
			}
			if want := min(int(tc.failed), maxErrors); len(r.Errors) != want {
				t.Fatalf("%d errors kept, want %d: %q", len(r.Errors), want, r.Errors)
			}
		})
	}
}

// TestOpenLoopBoundsOpenConnections dials a path that never answers: the
// first MaxOpen connections wait for their timeout, the rest fail at once
// instead of piling up.
func TestOpenLoopBoundsOpenConnections(t *testing.T) {
	stuck := func(ctx context.Context) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	cfg := OpenLoopConfig{Rate: 100, Duration: 100 * time.Millisecond, MaxOpen: 4, Timeout: time.Second}
	r, err := OpenLoop(testCtx(t), stuck, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", r)
	if r.Started != 10 || r.Failed != 10 || r.OK != 0 || !strings.Contains(strings.Join(r.Errors, "\n"), "MaxOpen") {
		t.Fatalf("%s\nwant 10 started, all failed, some for MaxOpen", r)
	}
}

func TestOpenLoopNamesFirstWrongByte(t *testing.T) {
	_, echo := services(t)
	flip := func(int) (hook, hook) { return flipAt(3), nil }
	r, err := OpenLoop(testCtx(t), dialer(proxy(t, echo, flip)), OpenLoopConfig{Rate: 100, Duration: 30 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed != r.Started || r.Started != 3 || !strings.Contains(r.Errors[0], "first wrong byte at offset 3") {
		t.Fatalf("%s\nwant every connection failed at byte 3", r)
	}
}
