//go:build !linux

package configfile

import "time"

var epoch = time.Now()

// threadCPU falls back to wall time where no per-thread CPU clock is read.
func threadCPU() time.Duration { return time.Since(epoch) }
