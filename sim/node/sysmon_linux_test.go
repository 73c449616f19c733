package node

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// sysmonChildEnv makes this test binary, run as a child, call
// keepSysmonAwake and print what the runtime then runs with.
const sysmonChildEnv = "C2CLAB_NODE_SYSMON_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(sysmonChildEnv) != "" {
		keepSysmonAwake()
		fmt.Printf("pid=%d GODEBUG=%s\n", os.Getpid(), os.Getenv("GODEBUG"))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestKeepSysmonAwakeReexecutesOnce runs a child that lacks the setting
// and one that sets schedtrace itself: the first must come back with it
// (exec keeps the PID, so the child's own pid is printed by the process
// the test started), the second unchanged; neither may loop.
func TestKeepSysmonAwakeReexecutesOnce(t *testing.T) {
	for _, tc := range []struct{ env, want string }{
		{"", "GODEBUG=" + sysmonAwake},
		{"gctrace=0", "GODEBUG=gctrace=0," + sysmonAwake},
		{"schedtrace=0", "GODEBUG=schedtrace=0"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), sysmonChildEnv+"=1", "GODEBUG="+tc.env)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("GODEBUG=%q: child: %v", tc.env, err)
		}
		got := strings.TrimSpace(string(out))
		if want := fmt.Sprintf("pid=%d %s", cmd.Process.Pid, tc.want); got != want {
			t.Errorf("GODEBUG=%q: child printed %q, want %q", tc.env, got, want)
		}
	}
}
