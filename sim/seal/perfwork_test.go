//go:build c2clab_perfwork

package seal

import "testing"

// go test -tags c2clab_perfwork -ldflags "-X github.com/c2clab/c2clab/sim/seal.perfWork=100000" -run PerfWork ./sim/seal
func TestPerfWorkCostsTime(t *testing.T) {
	if perfRounds == 0 {
		t.Skip("built without -X seal.perfWork: nothing to measure")
	}
	r := testing.Benchmark(func(b *testing.B) {
		for range b.N {
			extraWork([]byte{1})
		}
	})
	t.Logf("%d rounds: %d ns per frame", perfRounds, r.NsPerOp())
	if r.NsPerOp() < int64(perfRounds)/4 {
		t.Errorf("%d rounds took %d ns: the loop was optimised away", perfRounds, r.NsPerOp())
	}
}
