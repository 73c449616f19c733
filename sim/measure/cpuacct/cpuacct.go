// Package cpuacct reads the CPU time a set of processes spend, from the
// kernel's own accounting: a cgroup v1 cpuacct group made for them
// (nanoseconds, every thread and every child they start), or where no
// group can be made (not root, no cpuacct hierarchy) the sum of their
// threads' ticks in /proc. Bench reports CPU per GiB and per connection
// setup from it: on a shared machine a rate swings with load where the
// CPU a byte costs moves by a few percent.
package cpuacct

import (
	"errors"
	"fmt"
	"time"
)

// Sources of a Group's figures.
const (
	// SourceCgroup is a cpuacct cgroup (v1): nanosecond counters of every
	// thread, exited ones and forked children included.
	SourceCgroup = "cgroup-v1 cpuacct"
	// SourceProc is /proc/PID/task/TID/stat: utime+stime in clock ticks
	// (10 ms at USER_HZ 100) of the threads alive when read; children and
	// exited threads are missed.
	SourceProc = "/proc stat ticks"
	// SourceProcess is Process: the scheduler's runtime of the live
	// threads in nanoseconds, split as /proc/PID/stat's ticks; children
	// and ended threads are missed.
	SourceProcess = "/proc/PID/task/*/schedstat ns"
)

// Usage is CPU time spent.
type Usage struct {
	User   time.Duration `json:"user_ns"`
	System time.Duration `json:"system_ns"`
}

// Total is user plus system time.
func (u Usage) Total() time.Duration { return u.User + u.System }

// Sub is u - v, the time spent between two reads.
func (u Usage) Sub(v Usage) Usage { return Usage{User: u.User - v.User, System: u.System - v.System} }

// ErrNoProcess is returned by New for an empty set of processes.
var ErrNoProcess = errors.New("cpuacct: no process to account")

// Group is the CPU accounting of some processes. Read and Close are not
// safe for concurrent use with each other.
type Group struct {
	// Source is how the figures are read: SourceCgroup or SourceProc.
	Source string
	// Why says why Source is SourceProc (the cgroup error), else "".
	Why string

	dir  string // the cgroup's directory; "" with SourceProc
	pids []int
}

// New accounts pids (and, with a cgroup, what they start from now on) as
// one group named name; name must be unique on the machine while the group
// lives (bench uses the lab's run ID). Close the group after the processes
// have ended.
func New(name string, pids ...int) (*Group, error) {
	if len(pids) == 0 {
		return nil, ErrNoProcess
	}
	g := &Group{pids: pids}
	dir, err := makeCgroup(name, pids)
	if err != nil {
		g.Source, g.Why = SourceProc, err.Error()
		if _, err := g.Read(); err != nil {
			return nil, fmt.Errorf("cpuacct: %q: %w", name, err)
		}
		return g, nil
	}
	g.Source, g.dir = SourceCgroup, dir
	return g, nil
}

// Read returns the CPU time the group has spent so far.
func (g *Group) Read() (Usage, error) {
	if g.dir != "" {
		return readCgroup(g.dir)
	}
	var sum Usage
	for _, pid := range g.pids {
		u, err := readProc(pid)
		if err != nil {
			return sum, err
		}
		sum.User += u.User
		sum.System += u.System
	}
	return sum, nil
}

// Close removes the cgroup, moving what still runs in it back to the
// root group first. It is idempotent.
func (g *Group) Close() error {
	if g.dir == "" {
		return nil
	}
	err := removeCgroup(g.dir)
	g.dir = ""
	return err
}
