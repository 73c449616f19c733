package node

import (
	"log/slog"
	"os"
	"syscall"
)

// keepSysmonAwake re-executes this process with godebug's GODEBUG when its
// environment lacks it: the runtime reads schedtrace only at start. The
// process keeps its PID, arguments, open files and cgroup, so the lab sees
// the same node. If the exec fails the node runs on as it is, and says so.
func keepSysmonAwake() {
	v, change := godebug(os.Getenv("GODEBUG"))
	if !change {
		return
	}
	exe, err := os.Executable()
	if err == nil {
		if err = os.Setenv("GODEBUG", v); err == nil {
			err = syscall.Exec(exe, os.Args, os.Environ()) // returns only on failure
		}
	}
	slog.Warn("node runs with sysmon's deep sleep (slower hops)", "reason", err)
}
