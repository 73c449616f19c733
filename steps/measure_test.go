package steps

import (
	"strings"
	"testing"

	"github.com/c2clab/c2clab/sim/linkemu"
)

func TestParseProcNet(t *testing.T) {
	snmp := "Ip: Forwarding DefaultTTL\nIp: 1 64\nTcp: RtoAlgorithm OutSegs RetransSegs\nTcp: 1 20000 210\n"
	got, err := parseProcNet(snmp, "Tcp:", "OutSegs", "RetransSegs")
	if err != nil || got["OutSegs"] != 20000 || got["RetransSegs"] != 210 {
		t.Fatalf("got %v, %v; want OutSegs 20000 RetransSegs 210", got, err)
	}
	for _, bad := range []struct{ in, want string }{
		{"Ip: A\nIp: 1\n", "no Tcp: lines"},
		{"Tcp: OutSegs\nTcp: 5\n", "no RetransSegs"},
		{"Tcp: OutSegs RetransSegs\nTcp: 5 x\n", `"x" is not a count`},
	} {
		if _, err := parseProcNet(bad.in, "Tcp:", "OutSegs", "RetransSegs"); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: got %v, want %q", bad.in, err, bad.want)
		}
	}
}

// TestBusyLink: only frames the emulator lost by falling behind, enough to
// put the data direction's loss above the range, make the answer undecided.
func TestBusyLink(t *testing.T) {
	dir := func(frames, dropped, kernel uint64) linkemu.DirStats {
		return linkemu.DirStats{Stats: linkemu.Stats{Frames: frames, Dropped: dropped}, KernelDrops: kernel}
	}
	for _, c := range []struct {
		name  string
		stats map[string]linkemu.DirStats
		busy  bool
	}{
		{"configured loss only", map[string]linkemu.DirStats{"atob": dir(30000, 300, 0), "btoa": dir(10000, 100, 0)}, false},
		{"a few frames lost, within the range", map[string]linkemu.DirStats{"atob": dir(30000, 300, 20), "btoa": dir(10000, 100, 0)}, false},
		{"data direction lost 5%", map[string]linkemu.DirStats{"atob": dir(10000, 100, 900), "btoa": dir(30000, 300, 1200)}, true},
		{"the ack direction's losses alone do not count", map[string]linkemu.DirStats{"atob": dir(10000, 100, 900), "btoa": dir(30000, 300, 0)}, false},
	} {
		why := busyLink(c.stats, 2)
		if (why != "") != c.busy {
			t.Errorf("%s: busyLink = %q, want busy %v", c.name, why, c.busy)
		}
	}
}
