package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/sim/measure"
)

// TestDirectIsRoutedThroughTheBroker checks, on the netns backend, that
// the direct path's bytes cross the broker's namespace as forwarded
// packets (its ForwDatagrams counter; GRO makes them up to 64 KiB each,
// so 8 MiB is at least 128), as DESIGN.md's "routed direct"
// requires, while the relay's do not need forwarding.
func TestDirectIsRoutedThroughTheBroker(t *testing.T) {
	if testing.Short() || os.Geteuid() != 0 {
		t.Skip("starts a netns lab: needs root, not -short")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	b, err := start(ctx, Config{Command: []string{exe}, Env: []string{nodeEnv + "=1"}, Backend: lab.BackendNetns, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	for _, tc := range []struct {
		path    string
		routed  bool
		minimum int64
	}{{PathDirect, true, 100}, {PathRelay, false, 0}} {
		before := forwarded(t, b)
		c, err := b.bulk[tc.path](ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = measure.Throughput(ctx, c, measure.ThroughputConfig{Bytes: 8 << 20, Warmup: -1})
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		n := forwarded(t, b) - before
		t.Logf("%s: the broker's namespace forwarded %d packets", tc.path, n)
		if tc.routed && n < tc.minimum {
			t.Errorf("%s: the broker forwarded %d packets for 8 MiB, want at least %d", tc.path, n, tc.minimum)
		}
		if !tc.routed && n > 100 {
			t.Errorf("%s: the broker forwarded %d packets; the relay's bytes should end at its sockets", tc.path, n)
		}
	}
}

// forwarded reads Ip: ForwDatagrams in the broker's namespace.
func forwarded(t *testing.T, b *bench) int64 {
	t.Helper()
	out, err := b.lab.BrokerCommand(context.Background(), "cat", "/proc/net/snmp").Output()
	if err != nil {
		t.Fatal(err)
	}
	var head []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Ip:" {
			continue
		}
		if head == nil {
			head = f
			continue
		}
		for i := range head {
			if head[i] == "ForwDatagrams" && i < len(f) {
				n, err := strconv.ParseInt(f[i], 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
		}
	}
	t.Fatal(fmt.Errorf("no Ip: ForwDatagrams in /proc/net/snmp"))
	return 0
}
