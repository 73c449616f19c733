package measure

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/c2clab/c2clab/sim/endpoint"
)

// Direction is which way a throughput probe's data flows.
type Direction string

// The directions of a throughput probe.
const (
	// Down: the bulk service sends, the probe checks every byte.
	Down Direction = "down"
	// Up: the probe sends, the bulk service checks every byte and times
	// what it receives (the timed sink mode).
	Up Direction = "up"
	// Both: the probe sends, the bulk service returns every byte as it
	// comes (echo mode), and the probe checks what comes back, so the data
	// crosses the path both ways at once.
	Both Direction = "both"
)

// Defaults of ThroughputConfig.
const (
	DefaultThroughputBytes = 64 << 20
	DefaultWarmup          = 4 << 20
)

const (
	chunkSize = 256 << 10
	// forever is the length a transfer announces when the probe streams
	// for a duration: more than any run sends.
	forever = 1 << 62
)

// ThroughputConfig configures Throughput and Parallel. The zero value
// measures 64 MiB down after a 4 MiB warm-up.
type ThroughputConfig struct {
	// Direction is which way the data flows. Zero: Down.
	Direction Direction `json:"direction"`
	// Bytes is how many bytes are measured, after the warm-up. Zero:
	// DefaultThroughputBytes, unless Duration is set.
	Bytes int64 `json:"bytes,omitempty"`
	// Duration, if set, streams for this long after the warm-up instead of
	// a number of Bytes (which must then be zero). The connection is spent
	// afterwards: half-closed (Up, which needs a connection with
	// CloseWrite, as *net.TCPConn has) or with data still in flight.
	Duration time.Duration `json:"duration_ns,omitempty"`
	// Warmup is how many bytes go first and are left out of the rate, so
	// that TCP's slow start and the path's buffers filling do not count.
	// Zero: DefaultWarmup; negative: none.
	Warmup int64 `json:"warmup_bytes,omitempty"`
	// Seed selects the data (sim/endpoint's bulk protocol). Up uses Seed
	// for the warm-up transfer and Seed+1 for the measured one.
	Seed uint64 `json:"seed"`
}

func (c ThroughputConfig) withDefaults() (ThroughputConfig, error) {
	switch {
	case c.Direction == "":
		c.Direction = Down
	case c.Direction != Down && c.Direction != Up && c.Direction != Both:
		return c, fmt.Errorf("throughput: direction %q: want %q, %q or %q", c.Direction, Down, Up, Both)
	}
	switch {
	case c.Bytes < 0 || c.Duration < 0:
		return c, fmt.Errorf("throughput: bytes %d, duration %s: want neither negative", c.Bytes, c.Duration)
	case c.Bytes > 0 && c.Duration > 0:
		return c, fmt.Errorf("throughput: bytes %d and duration %s: set one of them, not both", c.Bytes, c.Duration)
	case c.Bytes == 0 && c.Duration == 0:
		c.Bytes = DefaultThroughputBytes
	}
	switch {
	case c.Warmup == 0:
		c.Warmup = DefaultWarmup
	case c.Warmup < 0:
		c.Warmup = 0
	}
	return c, nil
}

// ThroughputResult is one stream's measurement. Bytes and Interval are
// taken on the receiver: the probe for Down and Both, the service for Up.
type ThroughputResult struct {
	Direction Direction `json:"direction"`
	Seed      uint64    `json:"seed"`
	// Bytes arrived intact after the warm-up, in Interval (each way for
	// Both).
	Bytes    int64         `json:"bytes"`
	Interval time.Duration `json:"interval_ns"`
	// WarmupBytes arrived intact before the measured part, in
	// WarmupInterval; the probe starts the measured part at the first
	// read that completes the warm-up, so WarmupBytes may exceed the
	// configured warm-up by up to one read (256 KiB) on Down and Both.
	WarmupBytes    int64         `json:"warmup_bytes"`
	WarmupInterval time.Duration `json:"warmup_interval_ns"`
	// TimedBy is whose clock took Interval: "probe" or "service".
	TimedBy string `json:"timed_by"`

	// from and to bound the measured part on the probe's clock; Parallel
	// spans them to aggregate streams.
	from, to time.Time
}

// BitsPerSecond is Bytes over Interval in bits per second (each way for
// Both).
func (r ThroughputResult) BitsPerSecond() float64 {
	if r.Interval <= 0 {
		return 0
	}
	return float64(r.Bytes) * 8 / r.Interval.Seconds()
}

// Mbps is BitsPerSecond in megabits (10^6) per second.
func (r ThroughputResult) Mbps() float64 { return r.BitsPerSecond() / 1e6 }

func (r ThroughputResult) String() string {
	each := ""
	if r.Direction == Both {
		each = " each way"
	}
	warm := "no warm-up"
	if r.WarmupBytes > 0 {
		warm = fmt.Sprintf("warm-up of %s in %s left out", formatBytes(r.WarmupBytes), short(r.WarmupInterval))
	}
	return fmt.Sprintf("%s: %s%s in %s = %.1f Mbit/s, every byte checked (%s; timed by %s)",
		r.Direction, formatBytes(r.Bytes), each, short(r.Interval), r.Mbps(), warm, r.TimedBy)
}

// Throughput streams data over conn, which must reach a bulk service, and
// measures it; see ThroughputConfig. Every byte is checked: a wrong one
// gives an *endpoint.CorruptError with its offset in the stream (the
// warm-up counting from 0), a stream cut short endpoint.ErrShort. With
// Bytes set and no error, conn can carry another run; otherwise close it.
func Throughput(ctx context.Context, conn net.Conn, cfg ThroughputConfig) (ThroughputResult, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return ThroughputResult{}, err
	}
	defer watch(ctx, conn)()
	var res ThroughputResult
	switch cfg.Direction {
	case Down:
		res, err = throughputDown(conn, cfg)
	case Up:
		res, err = throughputUp(conn, cfg)
	case Both:
		res, err = throughputBoth(conn, cfg)
	}
	res.Direction, res.Seed = cfg.Direction, cfg.Seed
	if err != nil {
		return res, fmt.Errorf("throughput %s: %w", cfg.Direction, ctxErr(ctx, err))
	}
	return res, nil
}

// streamLen is the length the transfer announces: everything, or forever
// when the probe stops it after a duration.
func streamLen(cfg ThroughputConfig) int64 {
	if cfg.Duration > 0 {
		return forever
	}
	return cfg.Warmup + cfg.Bytes
}

func throughputDown(conn net.Conn, cfg ThroughputConfig) (ThroughputResult, error) {
	n := streamLen(cfg)
	r := newReceiver(cfg, n)
	if _, err := conn.Write(endpoint.BulkHeader(endpoint.BulkModeGenerate, n, cfg.Seed)); err != nil {
		return ThroughputResult{}, fmt.Errorf("write header: %w", err)
	}
	err := r.run(conn)
	return r.result(), err
}

func throughputBoth(conn net.Conn, cfg ThroughputConfig) (ThroughputResult, error) {
	n := streamLen(cfg)
	d := endpoint.NewBulkData(cfg.Seed, n) // before the receiver starts the clock
	r := newReceiver(cfg, n)
	werr := make(chan error, 1)
	go func() {
		_, err := send(conn, endpoint.BulkModeEcho, d, n, cfg.Seed, func(int64) bool { return true })
		werr <- err
	}()
	err := r.run(conn)
	if err != nil || cfg.Duration > 0 {
		conn.SetWriteDeadline(aLongTimeAgo) // the sender has no more to do
	}
	if e := <-werr; err == nil && cfg.Duration == 0 {
		err = e
	}
	return r.result(), err
}

// receiver reads and checks a stream, marking where the warm-up ends.
type receiver struct {
	cfg   ThroughputConfig
	n     int64 // bytes the stream carries
	v     *endpoint.BulkVerifier
	start time.Time // the request went out
	mark  time.Time // the first read that completed the warm-up
	markN int64     // bytes in at mark
	end   time.Time // the last byte came in
}

func newReceiver(cfg ThroughputConfig, n int64) *receiver {
	v := endpoint.NewBulkVerifier(cfg.Seed, n) // before the clock starts: it computes the data
	now := time.Now()
	r := &receiver{cfg: cfg, n: n, v: v, start: now, end: now}
	if cfg.Warmup == 0 {
		r.mark = now
	}
	return r
}

// run reads until the stream's end or, timed by duration, until Duration
// has passed since the mark.
func (r *receiver) run(conn net.Conn) error {
	buf := make([]byte, chunkSize)
	for r.v.Checked() < r.n {
		k, err := conn.Read(buf[:min(chunkSize, r.n-r.v.Checked())])
		now := time.Now()
		if !r.v.Check(buf[:k]) {
			return &endpoint.CorruptError{Offset: r.v.FirstWrong(), Side: "probe"}
		}
		if k > 0 {
			r.end = now
		}
		if r.mark.IsZero() && r.v.Checked() >= r.cfg.Warmup {
			r.mark, r.markN = now, r.v.Checked()
		}
		if err != nil && r.v.Checked() == r.n {
			return nil // all in, whatever came after
		}
		if err == io.EOF {
			return fmt.Errorf("received %d of %d bytes: %w", r.v.Checked(), r.n, endpoint.ErrShort)
		}
		if err != nil {
			return fmt.Errorf("received %d of %d bytes: %w", r.v.Checked(), r.n, err)
		}
		if r.cfg.Duration > 0 && !r.mark.IsZero() && now.Sub(r.mark) >= r.cfg.Duration {
			return nil
		}
	}
	return nil
}

func (r *receiver) result() ThroughputResult {
	res := ThroughputResult{TimedBy: "probe", WarmupBytes: r.v.Checked(), WarmupInterval: r.end.Sub(r.start)}
	if !r.mark.IsZero() {
		res.WarmupBytes, res.WarmupInterval = r.markN, r.mark.Sub(r.start)
		res.Bytes, res.Interval = r.v.Checked()-r.markN, r.end.Sub(r.mark)
		res.from, res.to = r.mark, r.end
	}
	return res
}

// send writes a header for n bytes of the data d for seed, then the data
// as long as more(sent) holds, and returns how many data bytes it wrote.
func send(conn net.Conn, mode endpoint.BulkMode, d endpoint.BulkData, n int64, seed uint64, more func(sent int64) bool) (int64, error) {
	bufs := net.Buffers{endpoint.BulkHeader(mode, n, seed)}
	var sent int64
	for sent < n && more(sent) {
		chunk := d.At(sent, min(chunkSize, n-sent))
		bufs = append(bufs, chunk)
		if _, err := bufs.WriteTo(conn); err != nil {
			return sent, fmt.Errorf("sent %d of %d bytes: %w", sent, n, err)
		}
		sent += int64(len(chunk))
		bufs = bufs[:0]
	}
	if len(bufs) > 0 { // nothing to send: the header alone
		if _, err := bufs.WriteTo(conn); err != nil {
			return 0, fmt.Errorf("write header: %w", err)
		}
	}
	return sent, nil
}

// upAnswers are the service's trailers for an up run.
type upAnswers struct {
	warm, main endpoint.BulkTrailer
	at         time.Time // when the main trailer came in
	err        error
}

// throughputUp sends the warm-up and the measured part as two timed sink
// transfers, back to back so the pipe stays full between them, and takes
// the rate from the service's clock. A reader takes the trailers as they
// come, so a wrong byte stops the sender at once.
func throughputUp(conn net.Conn, cfg ThroughputConfig) (ThroughputResult, error) {
	cw, canHalfClose := conn.(interface{ CloseWrite() error })
	if cfg.Duration > 0 && !canHalfClose {
		return ThroughputResult{}, fmt.Errorf("streaming for %s needs a connection that can half-close (CloseWrite), %T cannot", cfg.Duration, conn)
	}
	answers := make(chan upAnswers, 1)
	go func() { answers <- readUpAnswers(conn, cfg.Warmup > 0) }()
	sent, err := sendUp(conn, cfg)
	if err == nil && cfg.Duration > 0 {
		err = cw.CloseWrite()
	}
	if err != nil {
		conn.SetReadDeadline(aLongTimeAgo) // no trailer may come
	}
	a := <-answers
	res := ThroughputResult{
		TimedBy: "service", WarmupBytes: a.warm.Received, WarmupInterval: a.warm.Elapsed,
		Bytes: a.main.Received, Interval: a.main.Elapsed, from: sent.mark, to: a.at,
	}
	switch {
	case a.warm.Received > cfg.Warmup || a.main.Received > sent.main:
		return res, fmt.Errorf("the service answered %d+%d bytes received of %d+%d sent: not a bulk service's answer", a.warm.Received, a.main.Received, cfg.Warmup, sent.main)
	case a.warm.FirstWrong >= 0:
		return res, &endpoint.CorruptError{Offset: a.warm.FirstWrong, Side: "service"}
	case a.main.FirstWrong >= 0:
		return res, &endpoint.CorruptError{Offset: cfg.Warmup + a.main.FirstWrong, Side: "service"}
	case err != nil:
		return res, err
	case a.err != nil:
		return res, a.err
	case a.warm.Received != cfg.Warmup || a.main.Received != sent.main:
		return res, fmt.Errorf("service received %d+%d of %d+%d bytes: %w", a.warm.Received, a.main.Received, cfg.Warmup, sent.main, endpoint.ErrShort)
	}
	return res, nil
}

// upSent is what sendUp wrote.
type upSent struct {
	mark time.Time // the warm-up was written
	main int64     // bytes of the measured transfer
}

func sendUp(conn net.Conn, cfg ThroughputConfig) (upSent, error) {
	n := streamLen(cfg) - cfg.Warmup
	warm, main := endpoint.NewBulkData(cfg.Seed, cfg.Warmup), endpoint.NewBulkData(cfg.Seed+1, n)
	all := func(int64) bool { return true }
	if cfg.Warmup > 0 {
		if _, err := send(conn, endpoint.BulkModeTimedSink, warm, cfg.Warmup, cfg.Seed, all); err != nil {
			return upSent{}, fmt.Errorf("warm-up: %w", err)
		}
	}
	s := upSent{mark: time.Now()}
	more := all
	if cfg.Duration > 0 { // at least one chunk, however late this runs
		more = func(sent int64) bool { return sent == 0 || time.Since(s.mark) < cfg.Duration }
	}
	var err error
	s.main, err = send(conn, endpoint.BulkModeTimedSink, main, n, cfg.Seed+1, more)
	return s, err
}

// readUpAnswers reads the warm-up's trailer (if any) and the measured
// transfer's; after a wrong byte or a failed read it stops the sender.
func readUpAnswers(conn net.Conn, warm bool) upAnswers {
	a := upAnswers{warm: endpoint.BulkTrailer{FirstWrong: -1}, main: endpoint.BulkTrailer{FirstWrong: -1}}
	read := func(t *endpoint.BulkTrailer) bool {
		tr, err := endpoint.ReadBulkTrailer(conn, endpoint.BulkModeTimedSink)
		if err != nil {
			a.err = err
			return false
		}
		*t = tr
		return tr.FirstWrong < 0
	}
	if (!warm || read(&a.warm)) && read(&a.main) {
		a.at = time.Now()
		return a
	}
	conn.SetWriteDeadline(aLongTimeAgo)
	return a
}
