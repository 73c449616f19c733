package bench

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/measure/cpuacct"
)

// costs are n CPU-per-GiB values around median with relative spread cv,
// from a fixed seed.
func costs(seed uint64, n int, median, cv float64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]float64, n)
	for i := range out {
		out[i] = median * (1 + cv*rng.NormFloat64())
	}
	return out
}

func TestCompareCostFlagsOnlyASignificantRiseAboveMinRise(t *testing.T) {
	noisy := costs(1, 40, 2.5, 0.04)
	tests := []struct {
		name      string
		base, cur []float64
		regressed bool
	}{
		{"unchanged, noise", noisy, costs(2, 40, 2.5, 0.04), false},
		{"5% more CPU per GiB", noisy, costs(3, 40, 2.625, 0.04), true},
		{"10% more", noisy, costs(4, 40, 2.75, 0.04), true},
		// Significant with this little noise, but below MinRise (3%).
		{"2% more", costs(7, 40, 2.5, 0.001), costs(5, 40, 2.55, 0.001), false},
		{"cheaper by 10%", noisy, costs(6, 40, 2.25, 0.04), false},
		// A rise seen in three rounds a side cannot be significant.
		{"50% more, 3 rounds", []float64{2.5, 2.52, 2.48}, []float64{3.75, 3.8, 3.7}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := CompareCost("cpu", tc.base, tc.cur, CostThresholds{})
			if c.Regressed != tc.regressed {
				t.Errorf("regressed = %v, want %v (delta %+.1f%%, p=%.4f)", c.Regressed, tc.regressed, c.Delta*100, c.P)
			}
		})
	}
}

// run is a relayed transfer of 1 GiB that cost cpu seconds.
func run(cpu float64) Sample {
	return Sample{Bytes: gib, Interval: time.Second, Moved: gib,
		Cost: &Cost{CPU: cpuacct.Usage{User: time.Duration(cpu * float64(time.Second))}}}
}

func TestABVerdictLeavesOutTheWarmUp(t *testing.T) {
	var r ABResult
	r.Warmup = 3
	for i, v := range costs(8, 33, 2.5, 0.03) {
		r.Base.Runs = append(r.Base.Runs, run(v))
		// The candidate's warm-up is far dearer (a cold heap); its
		// measured rounds cost the same as the base's.
		if i < 3 {
			v *= 3
		}
		r.Candidate.Runs = append(r.Candidate.Runs, run(v*1.001))
	}
	r.Thresholds = r.Thresholds.withDefaults()
	r.decide()
	if r.CPU.Regressed || r.CPU.Base.N != 30 || r.CPU.New.N != 30 {
		t.Fatalf("verdict %+v: want no regression over 30 rounds a side", r.CPU)
	}
	for i := range r.Candidate.Runs {
		r.Candidate.Runs[i] = run(r.Base.Runs[i].CPUPerGiB() * 1.08)
	}
	r.decide()
	if !r.CPU.Regressed {
		t.Fatalf("verdict %+v: want a regression for 8%% more CPU per GiB", r.CPU)
	}
	if r.Rate.Regressed {
		t.Errorf("the rate is information only, never a regression")
	}
}
