//go:build race

package agent

// Under the race detector crypto is ~10x slower: move less data.
const raceEnabled = true

const relayTestSize = 8 << 20
