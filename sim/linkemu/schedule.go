package linkemu

import (
	"container/heap"
	"time"
)

// schedule holds frames waiting for their release time, earliest first and
// in arrival order among equal times, so it keeps FIFO order whenever the
// pipeline does. Owned by one direction's writer goroutine.
type schedule struct {
	h   frameHeap
	seq uint64 // next arrival number
}

// pending is one frame waiting in a schedule.
type pending struct {
	release time.Time
	seq     uint64
	data    []byte
}

func (s *schedule) push(release time.Time, data []byte) {
	heap.Push(&s.h, pending{release: release, seq: s.seq, data: data})
	s.seq++
}

func (s *schedule) len() int { return len(s.h) }

// next returns the earliest release time; only valid when len() > 0.
func (s *schedule) next() time.Time { return s.h[0].release }

// popDue removes and returns the earliest frame if it is due at now.
func (s *schedule) popDue(now time.Time) ([]byte, bool) {
	if len(s.h) == 0 || s.h[0].release.After(now) {
		return nil, false
	}
	return heap.Pop(&s.h).(pending).data, true
}

type frameHeap []pending

func (h frameHeap) Len() int { return len(h) }
func (h frameHeap) Less(i, j int) bool {
	if h[i].release.Equal(h[j].release) {
		return h[i].seq < h[j].seq
	}
	return h[i].release.Before(h[j].release)
}
func (h frameHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *frameHeap) Push(x any)   { *h = append(*h, x.(pending)) }
func (h *frameHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = pending{}
	*h = old[:len(old)-1]
	return x
}
