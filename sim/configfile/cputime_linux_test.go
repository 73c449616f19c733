package configfile

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadCPU is the CPU time of the calling OS thread so far: unlike wall
// time it does not grow while the thread waits for a core, so a busy
// machine does not move a comparison of two workloads. Call it with the
// goroutine locked to its thread.
func threadCPU() time.Duration {
	// The thread's CPU clock, in nanoseconds: getrusage's per-thread times
	// come in scheduler ticks, which read a 2 ms parse as 0 or 4 ms.
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return time.Duration(ts.Nano())
}
