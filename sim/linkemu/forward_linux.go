package linkemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// queueFrames bounds the hand-off from a direction's reader to its writer;
// frames beyond it are dropped and counted as overflow.
const queueFrames = 8192

// releaseSlack: Go timers wake up to about 1 ms late (the poller sleeps in
// whole milliseconds), so the writer releases frames due within this much
// of now, which centres the release error on zero instead of always late.
const releaseSlack = 500 * time.Microsecond

// Run bridges cfg.IfaceA and cfg.IfaceB at layer 2, applying cfg.AtoB to
// frames from A to B and cfg.BtoA to the reverse, until ctx ends. It calls
// ready once both sockets are open, with the interfaces, the impairments and
// the seed in use (log it: it replays loss and jitter).
func Run(ctx context.Context, cfg Config, ready func(map[string]string)) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("linkemu: %w", err)
	}
	f, err := newForwarder(cfg)
	if err != nil {
		return fmt.Errorf("linkemu: %w", err)
	}
	defer f.Close()
	info := f.info()
	slog.Info("linkemu: forwarding", "ifaceA", cfg.IfaceA, "ifaceB", cfg.IfaceB,
		"atob", info["atob"], "btoa", info["btoa"], "seed", info["seed"])
	if ready != nil {
		ready(info)
	}
	stopReports := f.reportOnSignal()
	err = f.serve(ctx)
	stopReports()
	for _, d := range f.dirs {
		logStats(stoppedMsg, d.name, d.stats())
	}
	return err
}

// reportOnSignal logs each direction's counters so far whenever the node is
// sent SIGUSR1, so a lab can ask a running emulator what it did (how many
// frames it dropped as asked and how many it lost by falling behind); the
// returned func stops listening (idempotent).
func (f *forwarder) reportOnSignal() (stop func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-sig:
				for _, d := range f.dirs {
					logStats(StatsMsg, d.name, d.live())
				}
			case <-done:
				return
			}
		}
	})
	return sync.OnceFunc(func() { signal.Stop(sig); close(done); wg.Wait() })
}

// forwarder holds the runtime state of one Run.
type forwarder struct {
	cfg  Config
	seed int64
	a, b *packetConn
	dirs [2]*direction
}

func newForwarder(cfg Config) (*forwarder, error) {
	a, b, err := openPair(cfg.Netns, cfg.IfaceA, cfg.IfaceB)
	if err != nil {
		return nil, err
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	f := &forwarder{cfg: cfg, seed: seed, a: a, b: b}
	f.dirs[0] = newDirection("atob", a, b, cfg.AtoB, rand.New(rand.NewPCG(uint64(seed), 1)))
	f.dirs[1] = newDirection("btoa", b, a, cfg.BtoA, rand.New(rand.NewPCG(uint64(seed), 2)))
	return f, nil
}

func (f *forwarder) info() map[string]string {
	return map[string]string{
		"ifaceA": f.cfg.IfaceA, "ifaceB": f.cfg.IfaceB,
		"atob": f.cfg.AtoB.String(), "btoa": f.cfg.BtoA.String(),
		"seed": strconv.FormatInt(f.seed, 10),
	}
}

// Close closes both sockets; idempotent.
func (f *forwarder) Close() error {
	return errors.Join(f.a.Close(), f.b.Close())
}

// serve runs a reader and a writer per direction until ctx ends or one of
// them fails, then closes the sockets and waits for all four.
func (f *forwarder) serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for _, d := range f.dirs {
		wg.Go(func() { errs <- d.readLoop() })
		wg.Go(func() { errs <- d.writeLoop(ctx) })
	}
	var first error
	select {
	case <-ctx.Done():
	case first = <-errs:
	}
	cancel()
	for _, d := range f.dirs {
		d.kernelDrops.Add(d.in.drops())
	}
	f.Close() // unblocks the readers
	wg.Wait()
	return first
}

// DirStats counts one direction of a forwarder.
type DirStats struct {
	Stats
	Overflow    uint64 // dropped because the writer fell behind
	WriteErrors uint64 // frames the kernel refused to send
	KernelDrops uint64 // frames the kernel dropped before the reader read them
}

// direction moves frames from in to out through one pipeline.
type direction struct {
	name    string
	in, out *packetConn
	pipe    *Pipeline // owned by readLoop
	queue   chan pending
	// Counters, written by the loops, read by stats after serve returns.
	overflow, writeErrs, kernelDrops atomic.Uint64
	pipeStats                        Stats // set by readLoop when it returns
	// frames and dropped mirror the pipeline's counts for live, which runs
	// beside readLoop and so cannot read the pipeline itself.
	frames, dropped atomic.Uint64
}

func newDirection(name string, in, out *packetConn, im Impairments, rng *rand.Rand) *direction {
	return &direction{name: name, in: in, out: out, pipe: NewPipeline(im, rng),
		queue: make(chan pending, queueFrames)}
}

func (d *direction) stats() DirStats {
	return DirStats{Stats: d.pipeStats, Overflow: d.overflow.Load(), WriteErrors: d.writeErrs.Load(),
		KernelDrops: d.kernelDrops.Load()}
}

// live is stats while the direction runs: frames, drops and the loops'
// counters, with the kernel's drops read now. DroppedBy and Bytes are left
// out (the pipeline owns them until readLoop returns).
func (d *direction) live() DirStats {
	d.kernelDrops.Add(d.in.drops())
	return DirStats{Stats: Stats{Frames: d.frames.Load(), Dropped: d.dropped.Load()},
		Overflow: d.overflow.Load(), WriteErrors: d.writeErrs.Load(), KernelDrops: d.kernelDrops.Load()}
}

// readLoop reads frames, decides their fate, and sends them at once when
// the pipeline is empty or hands them to writeLoop. It returns nil once the
// socket is closed.
func (d *direction) readLoop() error {
	defer func() { d.pipeStats = d.pipe.Stats() }()
	buf := make([]byte, maxPacket)
	for {
		n, err := d.in.f.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrClosed) {
				return nil
			}
			if errors.Is(err, syscall.ENETDOWN) {
				continue // link taken down (a partition): keep waiting
			}
			return fmt.Errorf("%s: read %q: %w", d.name, d.in.name, err)
		}
		if n <= vnetHdrLen {
			continue
		}
		pkt := buf[:n]
		release, ok := d.pipe.Decide(wireLen(pkt), time.Now())
		d.frames.Add(1)
		if !ok {
			d.dropped.Add(1)
		}
		switch {
		case !ok:
		case d.pipe.Empty():
			d.send(pkt)
		default:
			d.enqueue(pending{release: release, data: bytes.Clone(pkt)})
		}
	}
}

func (d *direction) enqueue(p pending) {
	select {
	case d.queue <- p:
	default:
		d.overflow.Add(1)
	}
}

// send writes one frame; refusals (link down, no buffer) are counted, as a
// real link would lose the frame, and do not stop the forwarder.
func (d *direction) send(pkt []byte) {
	if _, err := d.out.f.Write(pkt); err != nil && !errors.Is(err, os.ErrClosed) {
		d.writeErrs.Add(1)
	}
}

// writeLoop releases queued frames at their release times.
func (d *direction) writeLoop(ctx context.Context) error {
	var s schedule
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		for now := time.Now().Add(releaseSlack); ; {
			data, ok := s.popDue(now)
			if !ok {
				break
			}
			d.send(data)
		}
		var wake <-chan time.Time
		if s.len() > 0 {
			timer.Reset(time.Until(s.next()) - releaseSlack)
			wake = timer.C
		}
		select {
		case <-ctx.Done():
			return nil
		case p := <-d.queue:
			s.push(p.release, p.data)
		case <-wake:
		}
	}
}
