package cpuacct

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"
)

// spin starts a shell that forks a busy child for d and then waits; the
// child's time counts only where children are accounted (the cgroup).
func spin(t *testing.T, d time.Duration) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sh", "-c", fmt.Sprintf("read go; timeout %.2f sh -c 'while :; do :; done'; sleep 60", d.Seconds()))
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	t.Cleanup(func() { in.Close() })
	go func() { time.Sleep(50 * time.Millisecond); in.Write([]byte("go\n")) }()
	return cmd
}

func TestCgroupCountsForkedChildren(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("making a cgroup needs root")
	}
	cmd := spin(t, 300*time.Millisecond)
	g, err := New(fmt.Sprintf("test-%d", os.Getpid()), cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if g.Source != SourceCgroup {
		t.Skipf("no cgroup here (%s): nothing to test", g.Why)
	}
	time.Sleep(500 * time.Millisecond)
	u, err := g.Read()
	if err != nil {
		t.Fatal(err)
	}
	// The busy child ran 300 ms; allow for a loaded machine giving it
	// less than a core, but not for missing it.
	if u.Total() < 50*time.Millisecond || u.Total() > 2*time.Second {
		t.Errorf("group spent %s (user %s, system %s), want about the busy child's 300ms", u.Total(), u.User, u.System)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if err := g.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if _, err := os.Stat(g.dir); g.dir != "" || err == nil {
		t.Errorf("cgroup directory left behind")
	}
}

func TestProcReadsThisProcess(t *testing.T) {
	g := &Group{Source: SourceProc, pids: []int{os.Getpid()}}
	before, err := g.Read()
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(100 * time.Millisecond); time.Now().Before(end); {
	}
	after, err := g.Read()
	if err != nil {
		t.Fatal(err)
	}
	if d := after.Sub(before).Total(); d <= 0 || d > 5*time.Second {
		t.Errorf("100 ms of spinning read as %s", d)
	}
}

func TestParseStat(t *testing.T) {
	for name, tc := range map[string]struct {
		line      string
		user, sys int64
		bad       bool
	}{
		"plain":          {line: "42 (c2clab) S 1 1 1 0 -1 0 0 0 0 0 123 45 0 0 20 0 9 0", user: 123, sys: 45},
		"spaces in name": {line: "42 (a b) c)) R 1 1 1 0 -1 0 0 0 0 0 7 8 0 0", user: 7, sys: 8},
		"short":          {line: "42 (x) S 1 2", bad: true},
		"no name":        {line: "42 x S", bad: true},
	} {
		t.Run(name, func(t *testing.T) {
			u, s, err := parseStat([]byte(tc.line))
			if (err != nil) != tc.bad || u != tc.user || s != tc.sys {
				t.Errorf("parseStat = %d, %d, %v; want %d, %d, error %v", u, s, err, tc.user, tc.sys, tc.bad)
			}
		})
	}
}

// TestProcessReadsNanoseconds burns CPU on this test's thread and reads
// the process's CPU before and after: up by about the burned time (a
// loaded machine gives the thread less than the wall time, so a third of
// it is required), and in nanoseconds, not /proc/PID/stat's 10 ms ticks.
func TestProcessReadsNanoseconds(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, err := Process(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	const burn = 300 * time.Millisecond
	start := time.Now()
	for time.Since(start) < burn {
	}
	wall := time.Since(start)
	after, err := Process(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	got := after.Sub(before).Total()
	t.Logf("burned %v of wall time; Process counts %v more (user %v, system %v)", wall, got, after.Sub(before).User, after.Sub(before).System)
	if got < burn/3 || got > wall+time.Second {
		t.Errorf("Process counts %v for %v of burned wall time, want between %v and %v", got, wall, burn/3, wall+time.Second)
	}
	if got%(10*time.Millisecond) == 0 {
		t.Errorf("Process counts %v, a whole number of 10 ms ticks: want the scheduler's nanoseconds", got)
	}
}

func TestSplitFollowsTheTicks(t *testing.T) {
	for _, tc := range []struct {
		user, sys int64
		want      Usage
	}{
		{3, 1, Usage{User: 75 * time.Millisecond, System: 25 * time.Millisecond}},
		{0, 0, Usage{User: 100 * time.Millisecond}},
		{0, 2, Usage{System: 100 * time.Millisecond}},
	} {
		if got := split(100*time.Millisecond, tc.user, tc.sys); got != tc.want {
			t.Errorf("split(100ms, %d, %d) = %+v, want %+v", tc.user, tc.sys, got, tc.want)
		}
	}
}
