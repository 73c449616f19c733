//go:build c2clab_perfwork

package seal

import "strconv"

// This file is a test-only build knob, not a configuration: built with
// -tags c2clab_perfwork and
//
//	-ldflags "-X github.com/c2clab/c2clab/sim/seal.perfWork=ROUNDS"
//
// every frame sealed costs ROUNDS extra rounds of integer mixing, a fixed
// amount of CPU per frame. ci/perf/run builds the relay so to prove that
// its check catches a regression of a known size (docs/PERFORMANCE.md).
// Without the tag this file is not compiled and the knob does not exist.
var perfWork string

// perfRounds is perfWork parsed once; a bad value fails the build's first
// frame loudly rather than measuring the wrong thing.
var perfRounds = func() int {
	if perfWork == "" {
		return 0
	}
	n, err := strconv.Atoi(perfWork)
	if err != nil || n < 0 {
		panic("seal: -X seal.perfWork=" + strconv.Quote(perfWork) + ": want a number of rounds >= 0")
	}
	return n
}()

// perfSink keeps the mixing from being optimised away.
var perfSink uint64

// extraWork spends perfRounds rounds of a dependent multiply-add chain
// (about a nanosecond each), seeded by the frame's first byte.
func extraWork(p []byte) {
	x := uint64(len(p))
	if len(p) > 0 {
		x ^= uint64(p[0])
	}
	for range perfRounds {
		x = x*6364136223846793005 + 1442695040888963407
	}
	perfSink += x
}
