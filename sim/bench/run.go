package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/c2clab/c2clab/sim/measure"
)

// Run starts a lab, measures every available path and stops the lab.
func Run(ctx context.Context, c Config) (Result, error) {
	c = c.withDefaults()
	res := Result{Backend: c.Backend, Started: time.Now().UTC(), Count: c.Count, LoadStart: readLoad()}
	if !c.Link.IsZero() {
		res.Link = c.Link.String()
	}
	if res.Backend == "" {
		res.Backend = "local"
	}
	b, err := start(ctx, c)
	if err != nil {
		return res, err
	}
	defer b.close()
	res.Paths = b.paths
	res.Where, res.Notes = b.where()
	paths := res.Available()
	perPath := 2
	if c.UnderLoad {
		perPath = 3
	}
	p := &progress{report: c.Progress, total: len(c.Sizes)*len(c.Streams)*c.Count*len(paths) + perPath*len(paths) + 1}
	if err := b.matrix(ctx, c, paths, p, &res); err != nil {
		return res, err
	}
	if err := b.latency(ctx, c, paths, p, &res); err != nil {
		return res, err
	}
	p.step("probe vs iperf3 on the relayed path")
	if res.Iperf3, err = b.agreement(ctx, c); err != nil {
		return res, err
	}
	if c.Profile != "" {
		p.total += 2
		if err := b.profiles(ctx, c, p); err != nil {
			return res, err
		}
	}
	res.Elapsed, res.LoadEnd = time.Since(res.Started), readLoad()
	return res, nil
}

type progress struct {
	report      func(Progress)
	done, total int
}

func (p *progress) step(format string, args ...any) {
	if p.report != nil {
		p.report(Progress{Done: p.done, Total: p.total, Step: fmt.Sprintf(format, args...)})
	}
	p.done++
}

// matrix runs every cell Count times; within a round every path runs once,
// in an order that rotates from round to round.
func (b *bench) matrix(ctx context.Context, c Config, paths []string, p *progress, res *Result) error {
	seed := uint64(0)
	for _, size := range c.Sizes {
		for _, streams := range c.Streams {
			cell := Cell{Size: size, Streams: streams, Runs: map[string][]Sample{}}
			for round := range c.Count {
				for i := range paths {
					path := paths[(i+round)%len(paths)]
					p.step("%s %s x%d run %d/%d", path, mib(size), streams, round+1, c.Count)
					seed += uint64(2 * streams)
					var s Sample
					cost, err := b.measured(ctx, path, func() (err error) {
						s, err = throughput(ctx, b.bulk[path], size, c.Warmup, streams, seed)
						return err
					})
					s.Cost = cost
					if err != nil {
						return fmt.Errorf("bench: %s %s x%d run %d: %w", path, mib(size), streams, round+1, err)
					}
					cell.Runs[path] = append(cell.Runs[path], s)
				}
			}
			res.Cells = append(res.Cells, cell)
		}
	}
	return nil
}

func mib(n int64) string { return fmt.Sprintf("%dMiB", n>>20) }

// throughput moves size bytes down each of streams connections, every byte
// checked by the probe.
// A warmup of 0 is measure's default.
func throughput(ctx context.Context, dial measure.Dialer, size, warmup int64, streams int, seed uint64) (Sample, error) {
	cfg := measure.ThroughputConfig{Direction: measure.Down, Bytes: size, Warmup: warmup, Seed: seed}
	if streams > 1 {
		r, err := measure.Parallel(ctx, dial, streams, cfg)
		s := Sample{Bytes: r.Bytes, Interval: r.Interval}
		for _, st := range r.Streams {
			s.Moved += st.WarmupBytes + st.Bytes
		}
		return s, err
	}
	conn, err := dial(ctx)
	if err != nil {
		return Sample{}, err
	}
	defer conn.Close()
	r, err := measure.Throughput(ctx, conn, cfg)
	return Sample{Bytes: r.Bytes, Interval: r.Interval, Moved: r.WarmupBytes + r.Bytes}, err
}

// latency takes the round trips and the connection setup of every path.
func (b *bench) latency(ctx context.Context, c Config, paths []string, p *progress, res *Result) error {
	res.RoundTrips, res.Setup, res.SetupRuns = map[string]measure.Distribution{}, map[string]measure.Distribution{}, map[string]SetupRun{}
	for i, path := range paths {
		p.step("%s %d round trips", path, c.RoundTrips)
		conn, err := b.echo[path](ctx)
		if err != nil {
			return fmt.Errorf("bench: %s round trips: %w", path, err)
		}
		r, err := measure.Latency(ctx, conn, measure.LatencyConfig{Count: c.RoundTrips, Seed: uint64(i)})
		conn.Close()
		if err != nil {
			return fmt.Errorf("bench: %s round trips: %w", path, err)
		}
		res.RoundTrips[path] = r.RoundTrips
		if c.UnderLoad {
			p.step("%s %d round trips under load (a bulk stream each way)", path, c.RoundTrips)
			d, err := b.underLoad(ctx, path, c.RoundTrips, uint64(100+i))
			if err != nil {
				return fmt.Errorf("bench: %s round trips under load: %w", path, err)
			}
			if res.RoundTripsUnderLoad == nil {
				res.RoundTripsUnderLoad = map[string]measure.Distribution{}
			}
			res.RoundTripsUnderLoad[path] = d
		}
		p.step("%s %d connection setups", path, c.Setups)
		var s measure.SetupResult
		var elapsed time.Duration
		cost, err := b.measured(ctx, path, func() (err error) {
			start := time.Now()
			s, err = measure.Setup(ctx, b.echo[path], measure.SetupConfig{Count: c.Setups, Seed: uint64(i)})
			elapsed = time.Since(start)
			return err
		})
		if err != nil {
			return fmt.Errorf("bench: %s setup: %w", path, err)
		}
		res.Setup[path] = s.FirstByte
		res.SetupRuns[path] = SetupRun{Count: c.Setups, Elapsed: elapsed, Cost: cost}
	}
	return nil
}
