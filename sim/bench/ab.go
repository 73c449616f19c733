package bench

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ABConfig is an A/B cost run (c2clab bench ab, ci/perf/run): two labs up
// at once, one whose nodes run the base build and one the candidate's,
// and relayed transfers through each in turn, so that whatever else loads
// the machine loads both alike. The zero value of each number takes the
// default noted.
type ABConfig struct {
	// Base and Candidate start a lab node of each build (lab.Spec.Command).
	Base, Candidate []string
	Env             []string
	Backend, Dir    string
	// Rounds are the measured rounds after the warm-up; each runs one
	// transfer through each lab. 0 is 200.
	Rounds int
	// Warmup rounds are run first and left out of the comparison (caches,
	// TCP windows, the Go heap growing to its working size). 0 is 3;
	// negative is none.
	Warmup int
	// Size is the bytes each transfer moves after its own warm-up; 0 is
	// 64 MiB.
	Size int64
	// Thresholds decide the verdict.
	Thresholds CostThresholds
	// Progress, if set, is told before each step.
	Progress func(Progress)
}

func (c ABConfig) withDefaults() ABConfig {
	c.Rounds = orInt(c.Rounds, 200)
	switch {
	case c.Warmup == 0:
		c.Warmup = 3
	case c.Warmup < 0:
		c.Warmup = 0
	}
	if c.Size <= 0 {
		c.Size = 64 << 20
	}
	c.Thresholds = c.Thresholds.withDefaults()
	return c
}

// ABResult is an A/B run: every transfer of both sides, warm-up first,
// and the verdict on the relay's CPU seconds per GiB.
type ABResult struct {
	Backend   string        `json:"backend"`
	Started   time.Time     `json:"started"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	LoadStart Load          `json:"load_start"`
	LoadEnd   Load          `json:"load_end"`
	Size      int64         `json:"size_bytes"`
	Warmup    int           `json:"warmup_rounds"`
	Base      ABSide        `json:"base"`
	Candidate ABSide        `json:"candidate"`
	// CPU compares cpu-s/GiB, candidate against base: the verdict.
	CPU Change `json:"cpu_per_gib"`
	// Rate compares Mbit/s, for information only: rates swing with load.
	Rate       Change         `json:"rate"`
	Thresholds CostThresholds `json:"thresholds"`
}

// ABSide is one build's lab and its transfers, warm-up rounds first.
type ABSide struct {
	Command    []string `json:"command"`
	CostSource string   `json:"cost_source"`
	Runs       []Sample `json:"runs"`
}

// measured are the side's values after the warm-up.
func (s ABSide) measured(warmup int, f func(Sample) float64) []float64 {
	var out []float64
	for i, r := range s.Runs {
		if i >= warmup {
			out = append(out, f(r))
		}
	}
	return out
}

// ErrNoCost is returned by RunAB where the relay's CPU cannot be read.
var ErrNoCost = errors.New("bench ab: the relay's CPU time cannot be read")

// RunAB starts both labs, runs the rounds and decides.
func RunAB(ctx context.Context, c ABConfig) (ABResult, error) {
	c = c.withDefaults()
	res := ABResult{Backend: c.Backend, Started: time.Now().UTC(), LoadStart: readLoad(), Size: c.Size, Warmup: c.Warmup, Thresholds: c.Thresholds}
	if res.Backend == "" {
		res.Backend = "local"
	}
	sides := []*ABSide{&res.Base, &res.Candidate}
	labs := make([]*bench, 2)
	for i, cmd := range [][]string{c.Base, c.Candidate} {
		b, err := start(ctx, Config{Command: cmd, Env: c.Env, Backend: c.Backend, Dir: c.Dir, relayOnly: true})
		if err != nil {
			return res, fmt.Errorf("bench ab: %s lab: %w", []string{"base", "candidate"}[i], err)
		}
		defer b.close()
		if _, ok := b.meter[PathRelay]; !ok {
			return res, ErrNoCost
		}
		labs[i], sides[i].Command, sides[i].CostSource = b, cmd, b.paths[0].CostSource
	}
	p := &progress{report: c.Progress, total: 2 * (c.Warmup + c.Rounds)}
	seed := uint64(0)
	for round := range c.Warmup + c.Rounds {
		// ABBA: which side goes first alternates, so neither always
		// follows the other's transfer.
		for k := range 2 {
			i := (round + k) % 2
			what := "round"
			if round < c.Warmup {
				what = "warm-up"
			}
			p.step("%s %s %d/%d", []string{"base", "candidate"}[i], what, round+1, c.Warmup+c.Rounds)
			seed += 2
			var s Sample
			cost, err := labs[i].measured(ctx, PathRelay, func() (err error) {
				s, err = throughput(ctx, labs[i].bulk[PathRelay], c.Size, 0, 1, seed)
				return err
			})
			if err != nil {
				return res, fmt.Errorf("bench ab: %s round %d: %w", []string{"base", "candidate"}[i], round+1, err)
			}
			s.Cost = cost
			sides[i].Runs = append(sides[i].Runs, s)
		}
	}
	res.decide()
	res.Elapsed, res.LoadEnd = time.Since(res.Started), readLoad()
	return res, nil
}

// decide compares the measured rounds of both sides.
func (r *ABResult) decide() {
	cpu := func(s Sample) float64 { return s.CPUPerGiB() }
	rate := func(s Sample) float64 { return s.BitsPerSecond() / 1e6 }
	r.CPU = CompareCost("relay cpu-s/GiB", r.Base.measured(r.Warmup, cpu), r.Candidate.measured(r.Warmup, cpu), r.Thresholds)
	r.Rate = compareSamples("relay Mbit/s (information only)", r.Base.measured(r.Warmup, rate), r.Candidate.measured(r.Warmup, rate), Thresholds{Alpha: r.Thresholds.Alpha})
	r.Rate.Regressed = false
}
