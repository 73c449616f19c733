package measure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/endpoint"
)

const mib = 1 << 20

func TestThroughputIntact(t *testing.T) {
	bulk, _ := services(t)
	for _, dir := range []Direction{Down, Up, Both} {
		for _, warm := range []int64{0, -1} {
			t.Run(fmt.Sprintf("%s/warmup %d", dir, warm), func(t *testing.T) {
				cfg := ThroughputConfig{Direction: dir, Bytes: 8*mib + 3, Warmup: warm, Seed: 11}
				wantWarm := max(0, warm)
				if warm == 0 {
					wantWarm = DefaultWarmup
				}
				conn := dial(t, bulk)
				// Two runs on one connection: a sized run leaves it clean.
				for run := range 2 {
					r, err := Throughput(testCtx(t), conn, cfg)
					if err != nil {
						t.Fatalf("run %d: %v", run, err)
					}
					t.Logf("run %d: %s", run, r)
					checkSized(t, r, cfg, wantWarm)
				}
			})
		}
	}
}

// checkSized checks the bytes of a sized run: all of them measured or
// warm-up, the warm-up at least as configured (at most one read more).
func checkSized(t *testing.T, r ThroughputResult, cfg ThroughputConfig, warm int64) {
	t.Helper()
	timedBy := "probe"
	if cfg.Direction == Up {
		timedBy = "service"
	}
	switch {
	case r.WarmupBytes+r.Bytes != warm+cfg.Bytes:
		t.Fatalf("%d warm-up + %d measured bytes, want %d in all", r.WarmupBytes, r.Bytes, warm+cfg.Bytes)
	case r.WarmupBytes < warm || r.WarmupBytes > warm+chunkSize:
		t.Fatalf("warm-up %d bytes, want %d to %d", r.WarmupBytes, warm, warm+chunkSize)
	case cfg.Direction == Up && r.WarmupBytes != warm:
		t.Fatalf("up: warm-up %d bytes, want exactly %d (its own transfer)", r.WarmupBytes, warm)
	case r.Interval <= 0 || r.Mbps() <= 0:
		t.Fatalf("interval %v, %.1f Mbit/s: want a positive interval", r.Interval, r.Mbps())
	case r.TimedBy != timedBy || r.Direction != cfg.Direction || r.Seed != cfg.Seed:
		t.Fatalf("result %+v, want %s timed by %s with seed %d", r, cfg.Direction, timedBy, cfg.Seed)
	}
}

func TestThroughputForADuration(t *testing.T) {
	bulk, _ := services(t)
	const d = 100 * time.Millisecond
	for _, dir := range []Direction{Down, Up, Both} {
		t.Run(string(dir), func(t *testing.T) {
			r, err := Throughput(testCtx(t), dial(t, bulk), ThroughputConfig{Direction: dir, Duration: d, Warmup: mib})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s", r)
			if r.Bytes <= 0 || r.WarmupBytes < mib {
				t.Fatalf("%s: want bytes measured after a 1 MiB warm-up", r)
			}
			// The probe stops at the first read at or after the duration.
			if r.TimedBy == "probe" && r.Interval < d {
				t.Fatalf("probe timed %v, want at least %v", r.Interval, d)
			}
		})
	}
}

func TestThroughputNamesFirstWrongByte(t *testing.T) {
	bulk, _ := services(t)
	const w, n = 2 * mib, 6 * mib
	sized := ThroughputConfig{Bytes: n, Warmup: w}
	timed := ThroughputConfig{Duration: time.Minute, Warmup: w}
	with := func(c ThroughputConfig, d Direction) ThroughputConfig { c.Direction = d; return c }
	hdr := int64(endpoint.BulkHeaderLen)
	for _, tc := range []struct {
		name     string
		cfg      ThroughputConfig
		c2s, s2c hook
		at       int64 // offset of the wrong byte in the stream
		side     string
	}{
		{"down, measured part", with(sized, Down), nil, flipAt(w + 12345), w + 12345, "probe"},
		{"down, warm-up", with(sized, Down), nil, flipAt(777), 777, "probe"},
		{"down for a duration", with(timed, Down), nil, flipAt(w + 99), w + 99, "probe"},
		{"up, warm-up", with(sized, Up), flipAt(hdr + 4321), nil, 4321, "service"},
		// The measured transfer has its own header after the warm-up.
		{"up, measured part", with(sized, Up), flipAt(hdr + w + hdr + 5), nil, w + 5, "service"},
		{"up, no warm-up", ThroughputConfig{Direction: Up, Bytes: n, Warmup: -1}, flipAt(hdr + 3_000_001), nil, 3_000_001, "service"},
		{"up for a duration", with(timed, Up), flipAt(hdr + w + hdr + 64), nil, w + 64, "service"},
		{"both, going", with(sized, Both), flipAt(hdr + w + 1), nil, w + 1, "probe"},
		{"both, coming back", with(sized, Both), nil, flipAt(42), 42, "probe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := dial(t, proxy(t, bulk, only(tc.c2s, tc.s2c)))
			r, err := Throughput(testCtx(t), conn, tc.cfg)
			var ce *endpoint.CorruptError
			if !errors.Is(err, endpoint.ErrCorrupt) || !errors.As(err, &ce) || ce.Offset != tc.at || ce.Side != tc.side {
				t.Fatalf("got %s, %v; want the wrong byte at %d found by the %s", r, err, tc.at, tc.side)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("offset %d", tc.at)) {
				t.Fatalf("error %q does not name offset %d", err, tc.at)
			}
		})
	}
}

// inFlight bounds the bytes that loopback TCP can hold between a writer and
// a reader that does not read: the largest send and receive buffers the
// kernel grows to, from /proc (64 MiB where they cannot be read).
func inFlight(t *testing.T) int64 {
	var sum int64
	for _, f := range []string{"/proc/sys/net/ipv4/tcp_wmem", "/proc/sys/net/ipv4/tcp_rmem"} {
		b, err := os.ReadFile(f)
		fields := strings.Fields(string(b))
		if err != nil || len(fields) != 3 {
			return 64 * mib
		}
		v, err := strconv.ParseInt(fields[2], 10, 64)
		if err != nil {
			t.Fatalf("%s: %q", f, b)
		}
		sum += v
	}
	return sum
}

// TestThroughputLeavesOutWarmup stalls the data inside the warm-up and
// checks that the stall is in the warm-up's interval and not in the
// measured one. The stall comes after more bytes than the path can hold,
// so the receiver has read the transfer's header before it begins.
func TestThroughputLeavesOutWarmup(t *testing.T) {
	bulk, _ := services(t)
	const n, stall = 8 * mib, 300 * time.Millisecond
	at := inFlight(t)
	w := at + 4*mib
	hdr := int64(endpoint.BulkHeaderLen)
	for _, tc := range []struct {
		dir Direction
		c2s bool // the data goes from the probe to the service
	}{{Down, false}, {Up, true}, {Both, true}} {
		for _, warm := range []int64{w, -1} {
			t.Run(fmt.Sprintf("%s/warmup %d", tc.dir, warm), func(t *testing.T) {
				released := make(chan time.Time, 1)
				hooks := only(nil, stallAt(at, stall, released))
				if tc.c2s {
					hooks = only(stallAt(hdr+at, stall, released), nil)
				}
				cfg := ThroughputConfig{Direction: tc.dir, Bytes: n, Warmup: warm}
				if warm < 0 {
					cfg.Bytes += w // the stall in the measured part
				}
				r, err := Throughput(testCtx(t), dial(t, proxy(t, bulk, hooks)), cfg)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%s", r)
				let := <-released
				if warm < 0 {
					if r.Interval < stall {
						t.Fatalf("no warm-up: interval %v, want at least the %v stall", r.Interval, stall)
					}
					return
				}
				if r.WarmupInterval < stall {
					t.Fatalf("warm-up interval %v, want at least the %v stall", r.WarmupInterval, stall)
				}
				// The measured part starts after the stall ended and ends
				// when the probe has the last byte or the service's answer.
				if after := r.to.Sub(let); r.Interval > after {
					t.Fatalf("interval %v, but only %v passed from the stall's end to the last byte: the stall was counted", r.Interval, after)
				}
			})
		}
	}
}

func TestThroughputRejectsBadConfig(t *testing.T) {
	for _, cfg := range []ThroughputConfig{
		{Direction: "sideways"},
		{Bytes: -1},
		{Duration: -time.Second},
		{Bytes: 10, Duration: time.Second},
	} {
		if _, err := Throughput(context.Background(), nil, cfg); err == nil || !strings.HasPrefix(err.Error(), "throughput: ") {
			t.Errorf("%+v: %v, want a throughput: error", cfg, err)
		}
	}
}

func TestThroughputUpForADurationNeedsHalfClose(t *testing.T) {
	bulk, _ := services(t)
	conn := struct{ net.Conn }{dial(t, bulk)} // hides CloseWrite
	_, err := Throughput(testCtx(t), conn, ThroughputConfig{Direction: Up, Duration: time.Second})
	if err == nil || !strings.Contains(err.Error(), "CloseWrite") {
		t.Fatalf("got %v, want an error naming CloseWrite", err)
	}
}

func TestThroughputHonoursContext(t *testing.T) {
	bulk, _ := services(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	for _, dir := range []Direction{Down, Up, Both} {
		_, err := Throughput(ctx, dial(t, bulk), ThroughputConfig{Direction: dir, Bytes: 1 << 50})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s: %v, want deadline exceeded", dir, err)
		}
	}
}

func TestThroughputResultJSON(t *testing.T) {
	r := ThroughputResult{Direction: Up, Bytes: 1000, Interval: time.Millisecond, WarmupBytes: 10, WarmupInterval: time.Microsecond, TimedBy: "service"}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"direction":"up","seed":0,"bytes":1000,"interval_ns":1000000,"warmup_bytes":10,"warmup_interval_ns":1000,"timed_by":"service"}`
	if string(b) != want {
		t.Fatalf("JSON %s, want %s", b, want)
	}
	if r.Mbps() != 8 {
		t.Fatalf("1000 bytes in 1 ms: %v Mbit/s, want 8", r.Mbps())
	}
}

// BenchmarkThroughput measures each direction over loopback, probe and
// services in one process; Mbit/s is the probe's own figure.
func BenchmarkThroughput(b *testing.B) {
	bulk, _ := services(b)
	for _, dir := range []Direction{Down, Up, Both} {
		b.Run(string(dir), func(b *testing.B) {
			conn := dial(b, bulk)
			cfg := ThroughputConfig{Direction: dir, Bytes: 64 * mib}
			b.SetBytes(cfg.Bytes)
			var bytes int64
			var interval time.Duration
			for b.Loop() {
				r, err := Throughput(context.Background(), conn, cfg)
				if err != nil {
					b.Fatal(err)
				}
				bytes, interval = bytes+r.Bytes, interval+r.Interval
			}
			b.ReportMetric(ThroughputResult{Bytes: bytes, Interval: interval}.Mbps(), "Mbit/s")
		})
	}
}
