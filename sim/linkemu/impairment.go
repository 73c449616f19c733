// Package linkemu emulates an impaired network link in user space: delay,
// jitter, loss and rate applied to Ethernet frames bridged between two
// interfaces. It exists because the lab's kernel has no sch_netem; the
// decisions (impairments, pipeline, schedule) are pure and take time as an
// argument, and only the Linux forwarder touches sockets and clocks.
package linkemu

import "time"

// Frame is what an impairment sees of one frame: its length on the wire in
// bytes and the time it reaches the stage.
type Frame struct {
	Len int
	At  time.Time
}

// Impairment is one stage of a link direction, like a toxiproxy toxic. It
// decides whether a frame is dropped and otherwise when it leaves the stage.
// A stage holds the state of one direction and is used by one goroutine.
type Impairment interface {
	// Name names the stage in statistics ("loss", "rate", "delay").
	Name() string
	// Apply returns when f leaves the stage, or ok=false if it is dropped.
	Apply(f Frame) (leave time.Time, ok bool)
}
