package linkemu

import (
	"math/rand/v2"
	"time"
)

// Pipeline applies one direction's impairments to each frame in a fixed
// order: loss, then the rate queue, then propagation delay (a frame lost on
// the wire never queues; queueing happens before the long haul). It is used
// by one goroutine.
type Pipeline struct {
	stages []Impairment
	stats  Stats
}

// Stats counts what a Pipeline decided.
type Stats struct {
	Frames    uint64            // frames offered
	Bytes     uint64            // wire bytes offered
	Dropped   uint64            // frames dropped by any stage
	DroppedBy map[string]uint64 // by stage Name
}

// NewPipeline builds the stages im asks for; rng feeds the random ones.
// The stage list is registered here explicitly, in application order.
func NewPipeline(im Impairments, rng *rand.Rand) *Pipeline {
	p := &Pipeline{stats: Stats{DroppedBy: map[string]uint64{}}}
	if im.Loss.active() {
		p.stages = append(p.stages, newLossStage(im.Loss, rng))
	}
	if im.Rate.active() {
		p.stages = append(p.stages, newRateStage(im.Rate))
	}
	if im.Delay.active() {
		p.stages = append(p.stages, newDelayStage(im.Delay, rng))
	}
	return p
}

// Empty reports whether the pipeline passes every frame at once.
func (p *Pipeline) Empty() bool { return len(p.stages) == 0 }

// Decide returns when a frame of n wire bytes arriving at now is released,
// or ok=false if it is dropped.
func (p *Pipeline) Decide(n int, now time.Time) (release time.Time, ok bool) {
	p.stats.Frames++
	p.stats.Bytes += uint64(n)
	f := Frame{Len: n, At: now}
	for _, s := range p.stages {
		if f.At, ok = s.Apply(f); !ok {
			p.stats.Dropped++
			p.stats.DroppedBy[s.Name()]++
			return time.Time{}, false
		}
	}
	return f.At, true
}

// Stats returns a copy of the counters.
func (p *Pipeline) Stats() Stats {
	s := p.stats
	s.DroppedBy = make(map[string]uint64, len(p.stats.DroppedBy))
	for k, v := range p.stats.DroppedBy {
		s.DroppedBy[k] = v
	}
	return s
}
