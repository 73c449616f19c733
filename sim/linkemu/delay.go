package linkemu

import (
	"math/rand/v2"
	"time"
)

// Distribution names how Delay draws its jitter.
type Distribution string

const (
	// Uniform draws the delay uniformly from [Mean-Jitter, Mean+Jitter].
	Uniform Distribution = "uniform"
	// Normal draws the delay from a normal distribution with mean Mean
	// and standard deviation Jitter.
	Normal Distribution = "normal"
)

// Delay adds a propagation delay to every frame. The zero value adds none.
// Delays below zero are clipped to zero.
type Delay struct {
	Mean   time.Duration `json:"mean,omitempty"`
	Jitter time.Duration `json:"jitter,omitempty"`
	// Distribution of the jitter; empty means Uniform.
	Distribution Distribution `json:"distribution,omitempty"`
	// Reorder lets jitter reorder frames. By default a frame never leaves
	// before the one ahead of it: release = max(drawn time, previous release),
	// which is what a real single path does.
	Reorder bool `json:"reorder,omitempty"`
}

// active reports whether d changes anything.
func (d Delay) active() bool { return d.Mean > 0 || d.Jitter > 0 }

// delayStage is the runtime state of a Delay for one direction.
type delayStage struct {
	cfg  Delay
	rng  *rand.Rand
	last time.Time // release time of the previous frame
}

func newDelayStage(cfg Delay, rng *rand.Rand) *delayStage {
	return &delayStage{cfg: cfg, rng: rng}
}

func (s *delayStage) Name() string { return "delay" }

func (s *delayStage) Apply(f Frame) (time.Time, bool) {
	t := f.At.Add(s.sample())
	if !s.cfg.Reorder && t.Before(s.last) {
		t = s.last
	}
	s.last = t
	return t, true
}

// sample draws one delay, never negative.
func (s *delayStage) sample() time.Duration {
	d := s.cfg.Mean
	if j := float64(s.cfg.Jitter); j > 0 {
		if s.cfg.Distribution == Normal {
			d += time.Duration(s.rng.NormFloat64() * j)
		} else {
			d += time.Duration((2*s.rng.Float64() - 1) * j)
		}
	}
	return max(d, 0)
}
