package node

import "testing"

func TestProcsIsOneUnlessTheEnvironmentSaysOtherwise(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want int
	}{
		{"", 1},
		{"2", 0},
		{"1", 0},
	} {
		if got := procs(tc.env); got != tc.want {
			t.Errorf("procs(GOMAXPROCS=%q) = %d, want %d", tc.env, got, tc.want)
		}
	}
}
