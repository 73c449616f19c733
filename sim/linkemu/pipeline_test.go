package linkemu

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// t0 is the fake clock's origin; tests pass times, so no real clock runs.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const seed = 42 // fixed: the figures below are reproducible

func newRNG() *rand.Rand { return rand.New(rand.NewPCG(seed, 1)) }

func mustParse(t *testing.T, s string) Impairments {
	t.Helper()
	im, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

func TestPipelineZeroPassesAtOnce(t *testing.T) {
	p := NewPipeline(Impairments{}, newRNG())
	if !p.Empty() {
		t.Fatal("zero Impairments: pipeline not empty")
	}
	if rel, ok := p.Decide(1500, t0); !ok || !rel.Equal(t0) {
		t.Fatalf("Decide = %v, %v; want %v, true", rel, ok, t0)
	}
}

func TestDelayConstant(t *testing.T) {
	p := NewPipeline(mustParse(t, "delay=20ms"), newRNG())
	for i := range 10 {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		rel, ok := p.Decide(100, at)
		if !ok || rel.Sub(at) != 20*time.Millisecond {
			t.Fatalf("frame %d: delay %v ok=%v, want 20ms", i, rel.Sub(at), ok)
		}
	}
}

// TestJitter checks bounds and ordering of jittered delays with frames
// 100 us apart (dense: jitter would reorder), and their mean with frames
// 50 ms apart (sparse: FIFO never holds a frame back).
func TestJitter(t *testing.T) {
	tests := []struct {
		name      string
		spec      string
		lo, hi    time.Duration // bounds of one frame's delay
		wantOrder bool
	}{
		{"uniform fifo", "delay=20ms,jitter=5ms", 15 * time.Millisecond, 25 * time.Millisecond, true},
		{"normal fifo", "delay=20ms,jitter=2ms,dist=normal", 0, time.Hour, true},
		{"uniform reorder", "delay=20ms,jitter=5ms,reorder=true", 15 * time.Millisecond, 25 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reordered, _ := runDelays(t, mustParse(t, tt.spec), 100*time.Microsecond, tt.lo, tt.hi)
			if (reordered == 0) != tt.wantOrder {
				t.Errorf("reordered %d frames; want order kept = %v", reordered, tt.wantOrder)
			}
			_, mean := runDelays(t, mustParse(t, tt.spec), 50*time.Millisecond, tt.lo, tt.hi)
			t.Logf("%s: %d of 10000 dense frames reordered, sparse mean delay %v", tt.spec, reordered, mean)
			if d := mean - 20*time.Millisecond; d < -200*time.Microsecond || d > 200*time.Microsecond {
				t.Errorf("mean delay %v, want 20ms +- 200us", mean)
			}
		})
	}
}

// runDelays offers 10000 frames every gap and returns how many left before
// their predecessor and the mean delay; each delay must lie in [lo, hi].
func runDelays(t *testing.T, im Impairments, gap, lo, hi time.Duration) (int, time.Duration) {
	t.Helper()
	p := NewPipeline(im, newRNG())
	var prev time.Time
	var sum time.Duration
	reordered := 0
	const n = 10000
	for i := range n {
		at := t0.Add(time.Duration(i) * gap)
		rel, _ := p.Decide(100, at)
		if d := rel.Sub(at); d < lo || d > hi {
			t.Fatalf("frame %d: delay %v outside [%v, %v]", i, d, lo, hi)
		}
		if rel.Before(prev) {
			reordered++
		}
		prev, sum = rel, sum+rel.Sub(at)
	}
	return reordered, sum / n
}

func TestLossRate(t *testing.T) {
	for _, p := range []float64{0.01, 0.1, 0.5} {
		pl := NewPipeline(Impairments{Loss: Loss{Probability: p}}, newRNG())
		const n = 100000
		lost := 0
		for i := range n {
			if _, ok := pl.Decide(100, t0.Add(time.Duration(i))); !ok {
				lost++
			}
		}
		got := float64(lost) / n
		// 5 standard deviations of a binomial: cannot flake with a fixed seed
		// and still catches a wrong probability.
		tol := 5 * math.Sqrt(p*(1-p)/n)
		t.Logf("loss %.2f%%: measured %.3f%% (tolerance %.3f%%)", p*100, got*100, tol*100)
		if got < p-tol || got > p+tol {
			t.Errorf("loss %v: measured %v, want within %v", p, got, tol)
		}
		if st := pl.Stats(); st.DroppedBy["loss"] != uint64(lost) || st.Frames != n {
			t.Errorf("stats %+v, want %d frames, %d lost", st, n, lost)
		}
	}
}

// TestRateSerialises offers frames faster than the rate and checks the
// release spacing equals the serialisation time.
func TestRateSerialises(t *testing.T) {
	p := NewPipeline(mustParse(t, "rate=10mbit,queue=1mb"), newRNG())
	// 1250 bytes at 10 Mbit/s take exactly 1 ms.
	var last time.Time
	for i := range 100 {
		rel, ok := p.Decide(1250, t0) // all at once
		if !ok {
			t.Fatalf("frame %d dropped with a 1 MiB queue", i)
		}
		if want := t0.Add(time.Duration(i+1) * time.Millisecond); !rel.Equal(want) {
			t.Fatalf("frame %d released at +%v, want +%v", i, rel.Sub(t0), want.Sub(t0))
		}
		last = rel
	}
	// After the link has drained, a frame waits only for itself.
	idle := last.Add(time.Second)
	if rel, _ := p.Decide(1250, idle); rel.Sub(idle) != time.Millisecond {
		t.Errorf("idle link: frame took %v, want 1ms", rel.Sub(idle))
	}
}

func TestRateQueueTailDrop(t *testing.T) {
	// Queue of 10 frames of 1250 bytes: the 12th frame offered at once
	// would wait behind 11 > 10 frames.
	p := NewPipeline(mustParse(t, "rate=10mbit,queue=12500b"), newRNG())
	passed := 0
	for range 20 {
		if _, ok := p.Decide(1250, t0); ok {
			passed++
		}
	}
	if passed != 11 {
		t.Errorf("passed %d of 20 back-to-back frames, want 11 (one on the wire, 10 queued)", passed)
	}
	if got := p.Stats().DroppedBy["rate"]; got != 9 {
		t.Errorf("rate drops = %d, want 9", got)
	}
}

func TestRateBurst(t *testing.T) {
	p := NewPipeline(mustParse(t, "rate=10mbit,burst=5000b,queue=1mb"), newRNG())
	for i := range 4 { // 4 x 1250 = burst: leave at once
		if rel, _ := p.Decide(1250, t0); !rel.Equal(t0) {
			t.Fatalf("frame %d in burst released at +%v, want +0", i, rel.Sub(t0))
		}
	}
	if rel, _ := p.Decide(1250, t0); rel.Sub(t0) != time.Millisecond {
		t.Errorf("frame after burst released at +%v, want +1ms", rel.Sub(t0))
	}
}

// TestRateLongRun measures the modelled rate over 10 s of fake time.
func TestRateLongRun(t *testing.T) {
	p := NewPipeline(mustParse(t, "rate=50mbit,delay=20ms"), newRNG())
	var at, last time.Time = t0, t0
	bytes := 0
	for at.Before(t0.Add(10 * time.Second)) {
		if rel, ok := p.Decide(1514, at); ok {
			bytes += 1514
			last = rel
		}
		at = at.Add(200 * time.Microsecond) // offered: 60.6 Mbit/s
	}
	mbit := float64(bytes*8) / last.Sub(t0).Seconds() / 1e6
	t.Logf("rate=50mbit: modelled %.2f Mbit/s", mbit)
	if mbit < 49.5 || mbit > 50.5 {
		t.Errorf("modelled rate %.2f Mbit/s, want 50 +- 1%%", mbit)
	}
}

func TestSchedule(t *testing.T) {
	var s schedule
	s.push(t0.Add(2), []byte("c"))
	s.push(t0.Add(1), []byte("a"))
	s.push(t0.Add(1), []byte("b")) // same time: after "a"
	if _, ok := s.popDue(t0); ok {
		t.Fatal("popDue before any release time returned a frame")
	}
	var got string
	for s.len() > 0 {
		d, ok := s.popDue(t0.Add(2))
		if !ok {
			t.Fatal("due frame not popped")
		}
		got += string(d)
	}
	if got != "abc" {
		t.Errorf("order %q, want abc", got)
	}
}

func TestWireLen(t *testing.T) {
	vnet := func(flags, gsoType byte, gsoSize, csumStart int) []byte {
		h := make([]byte, vnetHdrLen)
		h[0], h[1] = flags, gsoType
		binary.LittleEndian.PutUint16(h[4:], uint16(gsoSize))
		binary.LittleEndian.PutUint16(h[6:], uint16(csumStart))
		return h
	}
	// Ethernet 14 + IPv4 20 + TCP 32 (doff 8) + 4*1448 payload.
	tcp := make([]byte, 14+20+32+4*1448)
	tcp[14+20+12] = 8 << 4
	tests := []struct {
		name string
		pkt  []byte
		want int
	}{
		{"plain", append(vnet(0, 0, 0, 0), make([]byte, 1514)...), 1514},
		{"tcp gso 4 segments", append(vnet(vnetNeedsCsum, vnetGSOTCPv4, 1448, 34), tcp...), len(tcp) + 3*66},
		{"tcp gso ecn bit", append(vnet(vnetNeedsCsum, vnetGSOTCPv4|0x80, 1448, 34), tcp...), len(tcp) + 3*66},
		{"short", []byte{1, 2}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := wireLen(tt.pkt); got != tt.want {
				t.Errorf("wireLen = %d, want %d", got, tt.want)
			}
		})
	}
}
