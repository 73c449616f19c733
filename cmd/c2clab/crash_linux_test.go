package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/sim/netlab"
)

// cliEnv makes the test binary run the CLI (and so its lab's nodes, which
// it starts as `EXE node ...`) instead of the tests.
const cliEnv = "C2CLAB_TEST_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(cliEnv) == "1" {
		os.Exit(run(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// TestKilledLabLeavesNothingAfterLabDownAll kills `lab up` with SIGKILL, as
// a crash would, and checks that `lab down --all` then removes every
// namespace, link, firewall rule, state and run directory and process of
// the run: with its run directory, and without (found by its names alone).
func TestKilledLabLeavesNothingAfterLabDownAll(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("netns backend: needs root")
	}
	for _, tool := range []string{"ip", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("netns backend: needs %s; .ci/run installs it", tool)
		}
	}
	for _, dirGone := range []bool{false, true} {
		t.Run(fmt.Sprintf("run directory gone=%v", dirGone), func(t *testing.T) {
			id, dir := startAndKill(t)
			left := leftovers(t, id, dir)
			if !slices.ContainsFunc(left, func(s string) bool { return strings.HasPrefix(s, "network") }) {
				t.Fatalf("the kill left no network behind, so the test proves nothing: %v", left)
			}
			if dirGone {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
			}
			if got := run([]string{"lab", "down", "--all"}); got != exitOK {
				t.Fatalf("lab down --all: exit %d", got)
			}
			if left := leftovers(t, id, dir); len(left) > 0 {
				t.Errorf("after lab down --all, run %s left: %s", id, strings.Join(left, "; "))
			}
		})
	}
}

var runningRE = regexp.MustCompile(`^lab (c2c[0-9a-f]{6}) running \(run directory (\S+)\)`)

// startAndKill starts `lab up` on the two-site topology (shaped links, so
// emulator namespaces and nodes too) and SIGKILLs it once it is up.
func startAndKill(t *testing.T) (id, dir string) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "lab", "up", "--backend", "netns", "../../topologies/two-sites-wan.yaml")
	cmd.Env = append(os.Environ(), cliEnv+"=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := runningRE.FindStringSubmatch(sc.Text()); m != nil {
			id, dir = m[1], m[2]
			break
		}
	}
	// Whatever happens next, the run must not outlive the test.
	t.Cleanup(func() {
		if id != "" {
			netlab.Sweep(id)
			lab.Sweep(lab.Run{ID: id, Dir: dir})
		}
	})
	cmd.Process.Kill()
	go func() {
		for sc.Scan() {
		}
	}() // drain, so Wait returns
	cmd.Wait()
	if id == "" {
		t.Fatal("lab up never reported its run")
	}
	return id, dir
}

// leftovers lists what of run id is still on the machine: anything named
// with its ID in the kernel, the lab's state or Docker, its run directory,
// and processes whose command line names it.
func leftovers(t *testing.T, id, dir string) []string {
	var left []string
	ids, err := netlab.RunIDs()
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(ids, id) {
		left = append(left, "network: namespaces, links, firewall rules or state named "+id)
	}
	if _, err := os.Stat(dir); err == nil {
		left = append(left, "run directory "+dir)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), id) {
			left = append(left, "process "+filepath.Base(filepath.Dir(p))+": "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return left
}
