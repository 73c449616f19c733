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

func TestGodebugKeepsSysmonAwakeUnlessSchedtraceIsSet(t *testing.T) {
	for _, tc := range []struct {
		env, want string
		change    bool
	}{
		{"", sysmonAwake, true},
		{"gctrace=1", "gctrace=1," + sysmonAwake, true},
		{"schedtrace=1000", "schedtrace=1000", false},
		{"gctrace=1, schedtrace=0", "gctrace=1, schedtrace=0", false},
		{"xschedtrace=1", "xschedtrace=1," + sysmonAwake, true},
	} {
		got, change := godebug(tc.env)
		if got != tc.want || change != tc.change {
			t.Errorf("godebug(%q) = %q, %v; want %q, %v", tc.env, got, change, tc.want, tc.change)
		}
	}
}
