package measure

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// ParallelResult is what Parallel measured.
type ParallelResult struct {
	Streams []ThroughputResult `json:"streams"`
	// Bytes is the sum of the streams' measured bytes (each way for Both).
	Bytes int64 `json:"bytes"`
	// Interval runs from the first stream's measured part starting to the
	// last one's ending, on the probe's clock: it holds every stream's
	// Interval, so Bytes over Interval never overstates the aggregate.
	Interval time.Duration `json:"interval_ns"`
}

// BitsPerSecond is Bytes over Interval in bits per second.
func (r ParallelResult) BitsPerSecond() float64 {
	if r.Interval <= 0 {
		return 0
	}
	return float64(r.Bytes) * 8 / r.Interval.Seconds()
}

// Mbps is BitsPerSecond in megabits (10^6) per second.
func (r ParallelResult) Mbps() float64 { return r.BitsPerSecond() / 1e6 }

func (r ParallelResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d streams: %s in %s = %.1f Mbit/s together", len(r.Streams), formatBytes(r.Bytes), short(r.Interval), r.Mbps())
	for i, s := range r.Streams {
		fmt.Fprintf(&b, "\n  stream %d: %s", i, s)
	}
	return b.String()
}

// errStopped ends the other streams of Parallel when one fails.
var errStopped = errors.New("stopped: another stream failed")

// Parallel runs n throughput streams at once, each on its own connection
// from dial with cfg, stream i with seed cfg.Seed+2i. If one fails, the
// others are stopped and the error names each failed stream; the result
// holds what every stream measured.
func Parallel(ctx context.Context, dial Dialer, n int, cfg ThroughputConfig) (ParallelResult, error) {
	if n < 1 {
		return ParallelResult{}, fmt.Errorf("parallel: %d streams: want at least 1", n)
	}
	if _, err := cfg.withDefaults(); err != nil {
		return ParallelResult{}, fmt.Errorf("parallel: %w", err)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	res := ParallelResult{Streams: make([]ThroughputResult, n)}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c := cfg
			c.Seed += 2 * uint64(i)
			res.Streams[i], errs[i] = stream(ctx, dial, c)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("stream %d: %w", i, errs[i])
				cancel(errStopped)
			}
		})
	}
	wg.Wait()
	var from, to time.Time
	for _, s := range res.Streams {
		res.Bytes += s.Bytes
		if !s.from.IsZero() && (from.IsZero() || s.from.Before(from)) {
			from = s.from
		}
		if s.to.After(to) {
			to = s.to
		}
	}
	if !from.IsZero() && to.After(from) {
		res.Interval = to.Sub(from)
	}
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("parallel: %w", err)
	}
	return res, nil
}

// stream dials and runs one throughput stream.
func stream(ctx context.Context, dial Dialer, cfg ThroughputConfig) (ThroughputResult, error) {
	conn, err := dial(ctx)
	if err != nil {
		return ThroughputResult{Direction: cfg.Direction, Seed: cfg.Seed}, fmt.Errorf("dial: %w", ctxErr(ctx, err))
	}
	defer conn.Close()
	return Throughput(ctx, conn, cfg)
}

// Defaults of OpenLoopConfig.
const (
	DefaultOpenLoopRate     = 100
	DefaultOpenLoopDuration = time.Second
	DefaultOpenLoopTimeout  = 5 * time.Second
	DefaultMaxOpen          = 1000
	maxErrors               = 5
)

// OpenLoopConfig configures OpenLoop. The zero value opens 100 connections
// a second for a second.
type OpenLoopConfig struct {
	// Rate is how many new connections start each second, whether or not
	// earlier ones have finished. Zero: DefaultOpenLoopRate.
	Rate float64 `json:"rate_per_s,omitempty"`
	// Duration is how long new connections keep starting. Zero:
	// DefaultOpenLoopDuration.
	Duration time.Duration `json:"duration_ns,omitempty"`
	// Size is the bytes each connection echoes. Zero: DefaultSetupSize.
	Size int `json:"size_bytes,omitempty"`
	// Timeout bounds each connection, from when it was due. Zero:
	// DefaultOpenLoopTimeout.
	Timeout time.Duration `json:"timeout_ns,omitempty"`
	// MaxOpen bounds the connections in progress at once: one due beyond
	// it fails without dialing, so that a stuck path cannot run the probe
	// out of file descriptors. Zero: DefaultMaxOpen.
	MaxOpen int `json:"max_open,omitempty"`
	// Seed selects the bytes.
	Seed uint64 `json:"seed"`
}

func (c OpenLoopConfig) withDefaults() (OpenLoopConfig, error) {
	if c.Rate < 0 || c.Duration < 0 || c.Size < 0 || c.Timeout < 0 || c.MaxOpen < 0 {
		return c, fmt.Errorf("open loop: rate %g, duration %s, size %d, timeout %s, max open %d: want none negative", c.Rate, c.Duration, c.Size, c.Timeout, c.MaxOpen)
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Size, DefaultSetupSize)
	def(&c.MaxOpen, DefaultMaxOpen)
	if c.Rate == 0 {
		c.Rate = DefaultOpenLoopRate
	}
	if c.Duration == 0 {
		c.Duration = DefaultOpenLoopDuration
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultOpenLoopTimeout
	}
	return c, nil
}

// OpenLoopResult is what OpenLoop measured.
type OpenLoopResult struct {
	// Started connections were due in Duration, at the configured rate.
	Started  int64         `json:"started"`
	Duration time.Duration `json:"duration_ns"`
	OK       int64         `json:"ok"`
	Failed   int64         `json:"failed"`
	// Errors are the first few failures, as text.
	Errors []string `json:"errors,omitempty"`
	// Setup runs, for each connection that succeeded, from when it was due
	// to the first byte of the answer: a probe that fell behind its
	// schedule counts against the path rather than hiding its stalls.
	Setup Distribution `json:"setup"`
}

// OfferedPerSecond is Started over Duration.
func (r OpenLoopResult) OfferedPerSecond() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Started) / r.Duration.Seconds()
}

func (r OpenLoopResult) String() string {
	s := fmt.Sprintf("open loop: %d connections in %s (%.0f/s offered): %d ok, %d failed\n  setup, due to first byte: %s",
		r.Started, r.Duration, r.OfferedPerSecond(), r.OK, r.Failed, r.Setup)
	for _, e := range r.Errors {
		s += "\n  failed: " + e
	}
	return s
}

// OpenLoop starts new connections with dial at cfg.Rate per second for
// cfg.Duration, on a fixed schedule that does not wait for earlier ones;
// each sends cfg.Size bytes to the echo service behind it and checks that
// they come back. Failed connections are counted, not returned as an
// error; the error is for a bad config or ctx ending.
func OpenLoop(ctx context.Context, dial Dialer, cfg OpenLoopConfig) (OpenLoopResult, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return OpenLoopResult{}, err
	}
	o := &openLoop{cfg: cfg, hist: newHistogram(), slots: make(chan struct{}, cfg.MaxOpen)}
	period := time.Duration(float64(time.Second) / cfg.Rate)
	start := time.Now()
	for i := 0; ; i++ {
		due := start.Add(time.Duration(i) * period)
		if due.Sub(start) >= cfg.Duration {
			break
		}
		if err = sleepUntil(ctx, due); err != nil {
			break
		}
		o.started++
		o.launch(ctx, dial, uint64(i), due)
	}
	o.wg.Wait()
	res := OpenLoopResult{Started: o.started, Duration: cfg.Duration, OK: o.ok, Failed: o.failed, Errors: o.errs, Setup: distribution(o.hist)}
	if err != nil {
		return res, fmt.Errorf("open loop: %w", err)
	}
	return res, nil
}

// openLoop is the state of one OpenLoop call.
type openLoop struct {
	cfg     OpenLoopConfig
	slots   chan struct{} // one per connection in progress
	wg      sync.WaitGroup
	started int64 // owned by OpenLoop's goroutine

	mu         sync.Mutex // guards the fields below
	hist       *hdr.Histogram
	ok, failed int64
	errs       []string
}

// launch starts connection i, due at due, unless MaxOpen are in progress.
func (o *openLoop) launch(ctx context.Context, dial Dialer, i uint64, due time.Time) {
	select {
	case o.slots <- struct{}{}:
	default:
		o.done(i, 0, fmt.Errorf("%d connections already in progress (MaxOpen)", o.cfg.MaxOpen))
		return
	}
	o.wg.Go(func() {
		defer func() { <-o.slots }()
		ctx, cancel := context.WithDeadline(ctx, due.Add(o.cfg.Timeout))
		defer cancel()
		t, err := exchange(ctx, dial, payload(o.cfg.Seed, i, o.cfg.Size), due)
		o.done(i, t.firstByte, err)
	})
}

func (o *openLoop) done(i uint64, firstByte time.Duration, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil {
		o.failed++
		if len(o.errs) < maxErrors {
			o.errs = append(o.errs, fmt.Sprintf("connection %d: %v", i, err))
		}
		return
	}
	o.ok++
	recordIn(o.hist, firstByte, 0)
}
