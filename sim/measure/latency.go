package measure

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/c2clab/c2clab/sim/endpoint"
)

// Defaults of LatencyConfig.
const (
	DefaultRoundTrips    = 1000
	DefaultLatencySize   = 64
	DefaultLatencyWarmup = 10
)

// LatencyConfig configures Latency. The zero value times 1000 round trips
// of 64 bytes back to back, after 10 unrecorded ones.
type LatencyConfig struct {
	// Count is how many round trips are recorded, after the warm-up. Zero:
	// DefaultRoundTrips, unless Duration is set.
	Count int `json:"count,omitempty"`
	// Duration, if set, records round trips for this long instead of a
	// Count (which must then be zero).
	Duration time.Duration `json:"duration_ns,omitempty"`
	// Interval paces the round trips: one starts every Interval (a rate of
	// 1/Interval), and one that must wait for a late answer is corrected
	// for coordinated omission. At least 1µs; zero: back to back, each
	// request as soon as the previous answer is in.
	Interval time.Duration `json:"interval_ns,omitempty"`
	// Size is the bytes of each request and answer. Zero:
	// DefaultLatencySize.
	Size int `json:"size_bytes,omitempty"`
	// Warmup is how many round trips go first, unrecorded. Zero:
	// DefaultLatencyWarmup; negative: none.
	Warmup int `json:"warmup,omitempty"`
	// Seed selects the requests' bytes.
	Seed uint64 `json:"seed"`
}

func (c LatencyConfig) withDefaults() (LatencyConfig, error) {
	switch {
	case c.Count < 0 || c.Duration < 0 || c.Interval < 0 || c.Size < 0:
		return c, fmt.Errorf("latency: count %d, duration %s, interval %s, size %d: want none negative", c.Count, c.Duration, c.Interval, c.Size)
	case c.Count > 0 && c.Duration > 0:
		return c, fmt.Errorf("latency: count %d and duration %s: set one of them, not both", c.Count, c.Duration)
	case c.Interval > 0 && c.Interval < time.Microsecond:
		// The correction records one value per interval a late answer
		// spans: a nanosecond interval would record billions.
		return c, fmt.Errorf("latency: interval %s: want 0 (back to back) or at least 1µs", c.Interval)
	case c.Count == 0 && c.Duration == 0:
		c.Count = DefaultRoundTrips
	}
	if c.Size == 0 {
		c.Size = DefaultLatencySize
	}
	switch {
	case c.Warmup == 0:
		c.Warmup = DefaultLatencyWarmup
	case c.Warmup < 0:
		c.Warmup = 0
	}
	return c, nil
}

// LatencyResult is what Latency measured.
type LatencyResult struct {
	Size     int           `json:"size_bytes"`
	Interval time.Duration `json:"interval_ns"` // the pacing; 0: back to back
	// Elapsed runs from the first recorded request to the last answer.
	Elapsed time.Duration `json:"elapsed_ns"`
	// Sent is how many round trips were recorded.
	Sent int64 `json:"sent"`
	// Late counts paced round trips whose answer came after the next one
	// was due; the next then went at the first slot after the answer.
	Late int64 `json:"late"`
	// RoundTrips is the distribution of round trips, from writing a request
	// to reading its whole answer; when paced, corrected for coordinated
	// omission, so it also holds the requests that late answers held up.
	RoundTrips Distribution `json:"round_trips"`
	// Uncorrected is, when paced, the round trips as measured, one per
	// request sent.
	Uncorrected *Distribution `json:"uncorrected,omitempty"`
}

func (r LatencyResult) String() string {
	if r.Interval == 0 {
		return fmt.Sprintf("round trips of %d B back to back: %s", r.Size, r.RoundTrips)
	}
	return fmt.Sprintf("round trips of %d B, one every %s (%d late), corrected for coordinated omission: %s\n  as measured: %s",
		r.Size, r.Interval, r.Late, r.RoundTrips, r.Uncorrected)
}

// Latency times request/response round trips over conn, which must reach
// an echo service; see LatencyConfig. Every answer is compared with its
// request: a wrong byte gives an *endpoint.CorruptError with its offset in
// the stream of requests, a connection closed early endpoint.ErrShort.
func Latency(ctx context.Context, conn net.Conn, cfg LatencyConfig) (LatencyResult, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return LatencyResult{}, err
	}
	defer watch(ctx, conn)()
	l := &latencyRun{cfg: cfg, conn: conn, hist: newHistogram(), back: make([]byte, cfg.Size)}
	if cfg.Interval > 0 {
		l.raw = newHistogram()
	}
	err = l.run(ctx)
	res := LatencyResult{Size: cfg.Size, Interval: cfg.Interval, Sent: l.hist.TotalCount(), Late: l.late, RoundTrips: distribution(l.hist)}
	if !l.begin.IsZero() && l.end.After(l.begin) {
		res.Elapsed = l.end.Sub(l.begin)
	}
	if l.raw != nil {
		res.Sent = l.raw.TotalCount()
		u := distribution(l.raw)
		res.Uncorrected = &u
	}
	if err != nil {
		return res, fmt.Errorf("latency: %w", ctxErr(ctx, err))
	}
	return res, nil
}

// latencyRun is the state of one Latency call.
type latencyRun struct {
	cfg        LatencyConfig
	conn       net.Conn
	hist, raw  *hdr.Histogram // raw: paced only
	back       []byte         // the answer being read
	begin, end time.Time      // the first recorded request, the last answer
	late       int64
}

func (l *latencyRun) run(ctx context.Context) error {
	next := time.Now()
	for i := 0; !l.done(i); i++ {
		if l.cfg.Interval > 0 {
			if err := sleepUntil(ctx, next); err != nil {
				return err
			}
		}
		req := payload(l.cfg.Seed, uint64(i), l.cfg.Size)
		sent := time.Now()
		if i == l.cfg.Warmup {
			l.begin = sent
		}
		if err := l.roundTrip(i, req); err != nil {
			return err
		}
		l.end = time.Now()
		if i >= l.cfg.Warmup {
			recordIn(l.hist, l.end.Sub(sent), l.cfg.Interval)
			if l.raw != nil {
				recordIn(l.raw, l.end.Sub(sent), 0)
			}
		}
		next = l.nextSlot(next)
	}
	return nil
}

func (l *latencyRun) done(i int) bool {
	if l.cfg.Duration > 0 {
		return i > l.cfg.Warmup && time.Since(l.begin) >= l.cfg.Duration
	}
	return i >= l.cfg.Warmup+l.cfg.Count
}

// nextSlot is when the round trip after the one due at due starts: one
// Interval on, or, if the answer came later than that, the first slot
// after it; the slots skipped are the coordinated omission that
// RecordCorrectedValue fills in.
func (l *latencyRun) nextSlot(due time.Time) time.Time {
	next := due.Add(l.cfg.Interval)
	if l.cfg.Interval == 0 || !l.end.After(next) {
		return next
	}
	l.late++
	skip := (l.end.Sub(next) + l.cfg.Interval - 1) / l.cfg.Interval
	return next.Add(skip * l.cfg.Interval)
}

// roundTrip sends request i and checks its answer.
func (l *latencyRun) roundTrip(i int, req []byte) error {
	if _, err := l.conn.Write(req); err != nil {
		return fmt.Errorf("round trip %d: write: %w", i, err)
	}
	n, err := io.ReadFull(l.conn, l.back)
	if j := firstDiff(req[:n], l.back[:n]); j >= 0 {
		return fmt.Errorf("round trip %d: %w", i, &endpoint.CorruptError{Offset: int64(i*l.cfg.Size + j), Side: "probe"})
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("round trip %d: %d of %d bytes came back: %w", i, n, l.cfg.Size, endpoint.ErrShort)
	}
	if err != nil {
		return fmt.Errorf("round trip %d: read: %w", i, err)
	}
	return nil
}
