package node

import (
	"os"
	"runtime"
)

// procs is the GOMAXPROCS a lab node runs with, given the GOMAXPROCS of
// its environment: 1 unless the environment sets it (then 0: the Go
// runtime reads it itself).
//
// Why: a lab puts many nodes on a few cores (the 2-core development
// machine runs a broker, two agents, the device services and bench's
// reference relays at once, beside other work). A Go process with more
// than one P that a packet wakes readies one goroutine and wakes a second
// thread to spin for more work, which it seldom finds: extra context
// switches and spinning on every hop, on cores the other nodes need.
// With one P per node, in seven A/B series of the netns bench, the
// relay's CPU per setup fell 12-30% and its setup p50 5-31%; its CPU per
// GiB of bulk data did not change (-1.3%, p=0.96, bench ab, 200 rounds a
// side), and round trips and rates stayed within their noise
// (docs/PERFORMANCE.md, "Runtime threads").
// A lab whose broker must register thousands of agents at once gives it
// more with GOMAXPROCS in its environment (TestScale runs the broker in
// its test process, which this does not touch).
func procs(envProcs string) int {
	if envProcs != "" {
		return 0
	}
	return 1
}

// setProcs applies procs to this process.
func setProcs() {
	if n := procs(os.Getenv("GOMAXPROCS")); n > 0 {
		runtime.GOMAXPROCS(n)
	}
}
