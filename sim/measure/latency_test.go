package measure

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/endpoint"
)

func TestLatencyBackToBack(t *testing.T) {
	_, echo := services(t)
	r, err := Latency(testCtx(t), dial(t, echo), LatencyConfig{Count: 300})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", r)
	d := r.RoundTrips
	switch {
	case r.Uncorrected != nil || r.Late != 0:
		t.Fatalf("back to back: %+v, want no correction and none late", r)
	case d.Count != 300 || r.Sent != 300:
		t.Fatalf("%d recorded of %d sent, want 300", d.Count, r.Sent)
	case !(0 < d.Min && d.Min <= d.P50 && d.P50 <= d.P90 && d.P90 <= d.P99 && d.P99 <= d.P999 && d.P999 <= d.Max):
		t.Fatalf("percentiles out of order: %s", d)
	case r.Elapsed < d.Min*300:
		t.Fatalf("300 round trips of at least %v in %v", d.Min, r.Elapsed)
	}
}

func TestLatencyForADuration(t *testing.T) {
	_, echo := services(t)
	const d = 50 * time.Millisecond
	r, err := Latency(testCtx(t), dial(t, echo), LatencyConfig{Duration: d, Interval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", r)
	if r.Sent == 0 || r.Elapsed < d || r.Uncorrected.Count != r.Sent {
		t.Fatalf("%+v: want round trips over at least %v", r, d)
	}
}

// TestLatencyCorrectsCoordinatedOmission paces round trips through a proxy
// that holds back one answer: the paced probe cannot send while it waits,
// so the requests it would have sent are missing from what it measured, and
// the corrected distribution must put them back.
func TestLatencyCorrectsCoordinatedOmission(t *testing.T) {
	_, echo := services(t)
	const count, interval, stall, size = 200, 2 * time.Millisecond, 200 * time.Millisecond, 64
	released := make(chan time.Time, 1)
	conn := dial(t, proxy(t, echo, only(nil, stallAt(100*size, stall, released))))
	r, err := Latency(testCtx(t), conn, LatencyConfig{Count: count, Interval: interval, Size: size, Warmup: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", r)
	c, u := r.RoundTrips, r.Uncorrected
	switch {
	case u == nil || u.Count != count || r.Sent != count:
		t.Fatalf("uncorrected %+v, sent %d: want %d as measured", u, r.Sent, count)
	case u.Max < stall || r.Late < 1:
		t.Fatalf("measured max %v with %d late, want the %v stall seen", u.Max, r.Late, stall)
	// The stalled answer stands for the stall/interval requests behind it.
	case c.Count < count+int64(stall/interval)-1:
		t.Fatalf("corrected count %d, want at least %d", c.Count, count+int64(stall/interval)-1)
	// Those requests' latencies run down from the stall in steps of the
	// interval: half of them are over stall/2, far more than 1%.
	case c.P99 < stall/2:
		t.Fatalf("corrected p99 %v, want at least %v", c.P99, stall/2)
	case c.P99 <= u.P99 || c.P90 < u.P90:
		t.Fatalf("corrected p90 %v, p99 %v; measured p90 %v, p99 %v: correction must raise the tail", c.P90, c.P99, u.P90, u.P99)
	}
}

func TestLatencyNamesFirstWrongByte(t *testing.T) {
	_, echo := services(t)
	for _, tc := range []struct {
		name     string
		c2s, s2c hook
		at       int64
	}{
		{"going, in the warm-up", flipAt(100), nil, 100},
		{"coming back", nil, flipAt(64*40 + 17), 64*40 + 17},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := dial(t, proxy(t, echo, only(tc.c2s, tc.s2c)))
			_, err := Latency(testCtx(t), conn, LatencyConfig{Count: 100, Size: 64})
			var ce *endpoint.CorruptError
			if !errors.As(err, &ce) || ce.Offset != tc.at {
				t.Fatalf("got %v, want the wrong byte at %d", err, tc.at)
			}
		})
	}
}

func TestLatencyShortAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // takes a 64-byte request, answers 10 bytes of it and closes
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		req := make([]byte, 64)
		io.ReadFull(c, req)
		c.Write(req[:10])
	}()
	_, err = Latency(testCtx(t), dial(t, ln.Addr().String()), LatencyConfig{Size: 64})
	if !errors.Is(err, endpoint.ErrShort) || !strings.Contains(err.Error(), "round trip 0") {
		t.Fatalf("got %v, want ErrShort at round trip 0", err)
	}
}

func TestLatencyRejectsBadConfig(t *testing.T) {
	for _, cfg := range []LatencyConfig{{Count: -1}, {Interval: -1}, {Interval: time.Nanosecond}, {Size: -1}, {Count: 5, Duration: time.Second}} {
		if _, err := Latency(context.Background(), nil, cfg); err == nil || !strings.HasPrefix(err.Error(), "latency: ") {
			t.Errorf("%+v: %v, want a latency: error", cfg, err)
		}
	}
}

// TestDistributionSurvivesJSON checks that a result written as JSON still
// gives its CDF, ending at the maximum.
func TestDistributionSurvivesJSON(t *testing.T) {
	_, echo := services(t)
	r, err := Latency(testCtx(t), dial(t, echo), LatencyConfig{Count: 200, Interval: 100 * time.Microsecond})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back LatencyResult
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	pts, err := back.RoundTrips.CDF()
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) < 2 {
		t.Fatalf("CDF %v: want several points", pts)
	}
	for i := 1; i < len(pts); i++ {
		if pts[i].Value < pts[i-1].Value || pts[i].Percentile < pts[i-1].Percentile {
			t.Fatalf("CDF not monotonic at %d: %v", i, pts)
		}
	}
	if last := pts[len(pts)-1]; last.Percentile != 100 || last.Value != r.RoundTrips.Max {
		t.Fatalf("CDF ends at %+v, want 100%% at the max %v", last, r.RoundTrips.Max)
	}
	if back.RoundTrips.P99 != r.RoundTrips.P99 || back.Uncorrected.Count != r.Uncorrected.Count {
		t.Fatalf("JSON round trip changed the result: %s", b)
	}
}

// BenchmarkLatency times back-to-back round trips over loopback and
// reports the probe's own percentiles.
func BenchmarkLatency(b *testing.B) {
	_, echo := services(b)
	conn := dial(b, echo)
	var r LatencyResult
	for b.Loop() {
		var err error
		if r, err = Latency(context.Background(), conn, LatencyConfig{Count: 1000}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(r.RoundTrips.P50.Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(r.RoundTrips.P99.Nanoseconds()), "p99-ns")
}
