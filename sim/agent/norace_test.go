//go:build !race

package agent

const raceEnabled = false

const relayTestSize = 64 << 20
