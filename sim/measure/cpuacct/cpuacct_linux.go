package cpuacct

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// root is where the cgroup v1 cpuacct hierarchy is mounted.
var root = "/sys/fs/cgroup/cpuacct"

// makeCgroup makes root/c2clab-NAME and moves pids into it.
func makeCgroup(name string, pids []int) (string, error) {
	if _, err := os.Stat(filepath.Join(root, "cpuacct.usage_all")); err != nil {
		return "", fmt.Errorf("no cgroup v1 cpuacct hierarchy at %s: %w", root, err)
	}
	dir := filepath.Join(root, "c2clab-"+name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", fmt.Errorf("make cgroup: %w", err)
	}
	for _, pid := range pids {
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			removeCgroup(dir)
			return "", fmt.Errorf("move process %d into cgroup %s: %w", pid, dir, err)
		}
	}
	return dir, nil
}

// readCgroup reads the total from cpuacct.usage, the scheduler's runtime
// in nanoseconds, and splits it as cpuacct.usage_all's lines ("CPU USER_NS
// SYS_NS") do. Those are sampled at the scheduler tick (4 ms at HZ 250),
// so only the split comes from them, never the total.
func readCgroup(dir string) (Usage, error) {
	total, err := os.ReadFile(filepath.Join(dir, "cpuacct.usage"))
	if err != nil {
		return Usage{}, fmt.Errorf("cpuacct: %w", err)
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(total)), 10, 64)
	if err != nil {
		return Usage{}, fmt.Errorf("cpuacct: %s/cpuacct.usage: %w", dir, err)
	}
	split, err := readSplit(dir)
	if err != nil {
		return Usage{}, err
	}
	u := Usage{User: time.Duration(ns)}
	if all := split.Total(); all > 0 {
		u.System = time.Duration(float64(ns) * float64(split.System) / float64(all))
		u.User = time.Duration(ns) - u.System
	}
	return u, nil
}

// readSplit sums cpuacct.usage_all's tick-sampled user and system times.
func readSplit(dir string) (Usage, error) {
	data, err := os.ReadFile(filepath.Join(dir, "cpuacct.usage_all"))
	if err != nil {
		return Usage{}, fmt.Errorf("cpuacct: %w", err)
	}
	var u Usage
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || f[0] == "cpu" {
			continue
		}
		user, err1 := strconv.ParseInt(f[1], 10, 64)
		sys, err2 := strconv.ParseInt(f[2], 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return Usage{}, fmt.Errorf("cpuacct: %s/cpuacct.usage_all: %w", dir, err)
		}
		u.User += time.Duration(user)
		u.System += time.Duration(sys)
	}
	return u, nil
}

// removeCgroup moves the tasks left in dir to the root group and removes it.
func removeCgroup(dir string) error {
	if data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs")); err == nil {
		for _, pid := range strings.Fields(string(data)) {
			// A process may end meanwhile; rmdir below says if one stays.
			_ = os.WriteFile(filepath.Join(root, "cgroup.procs"), []byte(pid), 0o644)
		}
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("cpuacct: remove cgroup: %w", err)
	}
	return nil
}

// ticks is USER_HZ, the unit of /proc's utime and stime: 100 on Linux
// for every architecture Go supports.
const ticks = 100

// readProc sums utime and stime of pid's threads.
func readProc(pid int) (Usage, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return Usage{}, fmt.Errorf("cpuacct: %w", err)
	}
	var u Usage
	for _, t := range tasks {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, t.Name()))
		if err != nil {
			continue // the thread ended between the listing and the read
		}
		user, sys, err := parseStat(data)
		if err != nil {
			return Usage{}, fmt.Errorf("cpuacct: /proc/%d/task/%s/stat: %w", pid, t.Name(), err)
		}
		u.User += time.Duration(user) * time.Second / ticks
		u.System += time.Duration(sys) * time.Second / ticks
	}
	return u, nil
}

// parseStat returns fields 14 and 15 (utime, stime) of a stat line; the
// command name in parentheses may hold spaces, so fields count from the
// last ')'.
func parseStat(data []byte) (user, sys int64, err error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, 0, errors.New("no ')' after the command name")
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("%d fields after the command name, want at least 13", len(f))
	}
	user, err1 := strconv.ParseInt(f[11], 10, 64)
	sys, err2 := strconv.ParseInt(f[12], 10, 64)
	return user, sys, errors.Join(err1, err2)
}

// Process returns the CPU time process pid has spent: the scheduler's
// runtime of each of its threads in nanoseconds (/proc/PID/task/TID/
// schedstat, the counter cpuacct.usage sums), split into user and system
// time as /proc/PID/stat's utime and stime (clock ticks) split. Threads
// that have ended are missed, and children are not counted; a Go node's
// threads live as long as it does. It is how the machine process in a
// lab's Pod (sim/pod) reads its nodes, where no cgroup of the host can
// take them, at the cgroup's resolution rather than 10 ms ticks.
func Process(pid int) (Usage, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return Usage{}, fmt.Errorf("cpuacct: %w", err)
	}
	var total time.Duration
	for _, t := range tasks {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue // the thread ended between the listing and the read
		}
		f := strings.Fields(string(data))
		ns, err := strconv.ParseInt(firstOr(f), 10, 64)
		if err != nil {
			return Usage{}, fmt.Errorf("cpuacct: /proc/%d/task/%s/schedstat %q: %w", pid, t.Name(), data, err)
		}
		total += time.Duration(ns)
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return Usage{}, fmt.Errorf("cpuacct: %w", err)
	}
	user, sys, err := parseStat(data)
	if err != nil {
		return Usage{}, fmt.Errorf("cpuacct: /proc/%d/stat: %w", pid, err)
	}
	return split(total, user, sys), nil
}

// split divides total as user:sys divide; all user when both are zero.
func split(total time.Duration, user, sys int64) Usage {
	if user+sys == 0 {
		return Usage{User: total}
	}
	u := time.Duration(float64(total) * float64(user) / float64(user+sys))
	return Usage{User: u, System: total - u}
}

func firstOr(f []string) string {
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
