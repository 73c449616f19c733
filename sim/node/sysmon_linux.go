package node

import (
	"log/slog"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// startPdeathsig is the parent-death signal this process was started with
// (the lab gives its nodes SIGKILL, so a crashed lab leaves no node). The
// kernel keeps it per thread, on the thread the parent forked: threads the
// Go runtime starts later have none. It is read in init, which runs on
// that thread.
var startPdeathsig int32

func init() {
	_ = unix.Prctl(unix.PR_GET_PDEATHSIG, uintptr(unsafe.Pointer(&startPdeathsig)), 0, 0, 0)
}

// keepSysmonAwake re-executes this process with godebug's GODEBUG when its
// environment lacks it: the runtime reads schedtrace only at start. The
// process keeps its PID, arguments, open files and cgroup, so the lab sees
// the same node. If the exec fails the node runs on as it is, and says so.
//
// The thread that calls execve becomes the process's only one and keeps
// only its own parent-death signal, so the signal is set on it first:
// exec'd from any other thread, a node outlived its crashed lab
// (cmd/c2clab's TestKilledLabLeavesNothingAfterLabDownAll found it). The
// startup thread still carries the signal until the exec, so a lab dying
// in between still kills the node.
func keepSysmonAwake() {
	v, change := godebug(os.Getenv("GODEBUG"))
	if !change {
		return
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread() // reached only when the exec failed
	exe, err := os.Executable()
	if err == nil && startPdeathsig != 0 {
		err = unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(startPdeathsig), 0, 0, 0)
	}
	if err == nil {
		if err = os.Setenv("GODEBUG", v); err == nil {
			err = syscall.Exec(exe, os.Args, os.Environ()) // returns only on failure
		}
	}
	slog.Warn("node runs with sysmon's deep sleep (slower hops)", "reason", err)
}
