//go:build race

package linkemu

// raceEnabled: the race detector slows the forwarder several times, so
// throughput floors are not asserted under it.
const raceEnabled = true
