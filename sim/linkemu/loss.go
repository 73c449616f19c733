package linkemu

import (
	"math/rand/v2"
	"time"
)

// Loss drops each frame independently with Probability (Bernoulli). The
// zero value drops nothing. Bursty (Gilbert-Elliott) loss is not modelled.
type Loss struct {
	Probability float64 `json:"probability,omitempty"`
}

func (l Loss) active() bool { return l.Probability > 0 }

// lossStage is the runtime state of a Loss for one direction.
type lossStage struct {
	p   float64
	rng *rand.Rand
}

func newLossStage(cfg Loss, rng *rand.Rand) *lossStage {
	return &lossStage{p: cfg.Probability, rng: rng}
}

func (s *lossStage) Name() string { return "loss" }

func (s *lossStage) Apply(f Frame) (time.Time, bool) {
	if s.rng.Float64() < s.p {
		return time.Time{}, false
	}
	return f.At, true
}
