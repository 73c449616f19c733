package linkemu

import "time"

// Rate limits a direction to BitsPerSecond with a token bucket of Burst
// bytes in front of a FIFO queue of QueueBytes; frames that would wait
// behind more than QueueBytes are tail-dropped. A frame leaves once it has
// been serialised at the rate, so an idle link adds len*8/rate to each frame
// unless Burst covers it. The zero value does not limit.
type Rate struct {
	BitsPerSecond uint64 `json:"bitsPerSecond,omitempty"`
	// Burst in bytes that may pass at once after an idle period; 0: none.
	Burst uint64 `json:"burst,omitempty"`
	// QueueBytes bounds the queue; 0 means DefaultQueue of the rate.
	QueueBytes uint64 `json:"queueBytes,omitempty"`
}

// DefaultQueueTime sizes the default queue: what the rate sends in this
// time, but at least MinQueueBytes.
const (
	DefaultQueueTime = 100 * time.Millisecond
	MinQueueBytes    = 64 << 10
)

func (r Rate) active() bool { return r.BitsPerSecond > 0 }

// queueBytes returns the effective queue limit.
func (r Rate) queueBytes() uint64 {
	if r.QueueBytes > 0 {
		return r.QueueBytes
	}
	q := r.BitsPerSecond / 8 * uint64(DefaultQueueTime) / uint64(time.Second)
	return max(q, MinQueueBytes)
}

// rateStage shapes with GCRA (virtual scheduling): tat is the theoretical
// time the link is free again, tau how far ahead of it Burst lets a frame go.
type rateStage struct {
	bps   uint64
	tau   time.Duration
	limit time.Duration // QueueBytes at the rate
	tat   time.Time
}

func newRateStage(cfg Rate) *rateStage {
	s := &rateStage{bps: cfg.BitsPerSecond}
	s.tau = s.txTime(cfg.Burst)
	s.limit = s.txTime(cfg.queueBytes())
	return s
}

func (s *rateStage) Name() string { return "rate" }

// txTime is how long n bytes take at the rate.
func (s *rateStage) txTime(n uint64) time.Duration {
	return time.Duration(n * 8 * uint64(time.Second) / s.bps)
}

func (s *rateStage) Apply(f Frame) (time.Time, bool) {
	tx := s.txTime(uint64(f.Len))
	tat := s.tat
	if tat.Before(f.At) {
		tat = f.At
	}
	tat = tat.Add(tx)
	leave := tat.Add(-s.tau)
	if leave.Before(f.At) {
		leave = f.At
	}
	if leave.Sub(f.At)-tx > s.limit {
		return time.Time{}, false // queue full: tail drop, link state unchanged
	}
	s.tat = tat
	return leave, true
}
