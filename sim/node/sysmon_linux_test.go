package node

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// sysmonChildEnv makes this test binary, run as a child, call
// keepSysmonAwake and print what the runtime then runs with.
const sysmonChildEnv = "C2CLAB_NODE_SYSMON_CHILD"

// Roles of TestReexecKeepsTheParentDeathSignal's processes: the parent,
// which starts the node with SIGKILL as its parent-death signal (as the
// lab does) and exits once the node is up, and the node, which re-executes
// from a thread other than its startup thread and then writes the ready
// file named by the variable.
const (
	pdeathParentEnv = "C2CLAB_NODE_PDEATH_PARENT"
	pdeathNodeEnv   = "C2CLAB_NODE_PDEATH_NODE"
)

func TestMain(m *testing.M) {
	if ready := os.Getenv(pdeathParentEnv); ready != "" {
		os.Exit(pdeathParent(ready))
	}
	if ready := os.Getenv(pdeathNodeEnv); ready != "" {
		pdeathNode(ready)
	}
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

// A node that re-executes from some other thread than the one its lab
// forked still dies with the lab: the parent exits once the node is up
// (re-executed), and the node must then be gone (or a zombie nobody
// reaps) within seconds, not sleep on for its minute.
func TestReexecKeepsTheParentDeathSignal(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), pdeathParentEnv+"="+ready, "GODEBUG=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("parent: %v\n%s", err, out)
	}
	b, err := os.ReadFile(ready)
	if err != nil {
		t.Fatal(err)
	}
	pid, godebug, _ := strings.Cut(string(b), " ")
	if !strings.Contains(godebug, sysmonAwake) {
		t.Fatalf("the node did not re-execute: it runs with GODEBUG=%q", godebug)
	}
	n, err := strconv.Atoi(pid)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); alive(n); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			syscall.Kill(n, syscall.SIGKILL)
			t.Fatalf("node %d outlived its parent by 10 s: the re-exec lost its parent-death signal", n)
		}
	}
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// pdeathParent starts the node and returns once it wrote its ready file.
func pdeathParent(ready string) int {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = slices.DeleteFunc(append(os.Environ(), pdeathNodeEnv+"="+ready),
		func(kv string) bool { return strings.HasPrefix(kv, pdeathParentEnv+"=") })
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(ready); err == nil {
			return 0
		}
	}
	fmt.Fprintln(os.Stderr, "the node wrote no ready file")
	cmd.Process.Kill()
	return 1
}

// pdeathNode re-executes from a thread other than the startup thread
// (the main goroutine holds that one, locked), then reports and sleeps.
// Before the re-exec it exits 1 if it could not get such a thread.
func pdeathNode(ready string) {
	runtime.LockOSThread()
	if unix.Gettid() != unix.Getpid() {
		fmt.Fprintln(os.Stderr, "the main goroutine is not on the startup thread")
		os.Exit(1)
	}
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			fmt.Fprintln(os.Stderr, "the re-exec would come from the startup thread")
			os.Exit(1)
		}
		keepSysmonAwake() // returns at once after the re-exec
		close(done)
	}()
	<-done
	tmp := ready + ".tmp"
	os.WriteFile(tmp, []byte(strconv.Itoa(os.Getpid())+" "+os.Getenv("GODEBUG")), 0o644)
	os.Rename(tmp, ready)
	time.Sleep(time.Minute)
	os.Exit(0)
}
