package node

import "strings"

// sysmonAwake is the GODEBUG setting every lab node runs with: a schedtrace
// period of 2^31-1 ms (24.8 days), so long that it never prints (at most one
// line at start on a host up for longer), whose side effect is what matters:
// with schedtrace set, the Go runtime's sysmon thread never enters its deep
// sleep (runtime/proc.go, sysmon: "should not enter deep sleep if
// schedtrace is enabled").
//
// Why: a node is idle between the packets of a setup or a round trip, and
// when all its Ps are idle sysmon sleeps on a note. The first system call
// after the node wakes (a read, write or splice of the packet that woke it)
// then wakes sysmon with a futex (entersyscall -> entersyscallWakeSysmon),
// and on two loaded cores the woken thread competes with the node's own
// for a core, on every hop of the critical path. In the bench's node
// profiles that futex was 21% of the broker's CPU under setup load; with
// sysmon kept awake the relayed round trip p50 fell by about half
// (docs/PERFORMANCE.md, "sysmon"). A sysmon that never deep-sleeps wakes
// every 10 ms instead, about 100 short wake-ups a second per node.
const sysmonAwake = "schedtrace=2147483647"

// godebug returns the GODEBUG a node should run with, given its
// environment's, and whether that differs: sysmonAwake added, unless the
// environment already sets schedtrace (a deliberate choice, kept).
func godebug(env string) (string, bool) {
	for _, kv := range strings.Split(env, ",") {
		if strings.HasPrefix(strings.TrimSpace(kv), "schedtrace=") {
			return env, false
		}
	}
	if env == "" {
		return sysmonAwake, true
	}
	return env + "," + sysmonAwake, true
}
