package main

import (
	"path/filepath"
	"testing"

	"github.com/c2clab/c2clab/sim/buildcache"
)

func TestCertifyRefusesBadAgentFlags(t *testing.T) {
	for _, args := range [][]string{
		{"certify"}, // neither
		{"certify", "--agent-cmd", "/bin/true", "--agent-image", "x:1"},         // both
		{"certify", "--agent-image", "x:1", "--backend", "netns"},               // image needs containers
		{"certify", "--agent-cmd", "/bin/true", "--backend", "container"},       // a program needs local or netns
		{"certify", "--agent-cmd", filepath.Join(t.TempDir(), "no-such-agent")}, // missing program
		{"certify", "--agent-cmd", "/bin/true", "--node-cmd", filepath.Join(t.TempDir(), "no-such-node")},
		{"certify", "--agent-cmd", "/bin/true", "--node-cmd", t.TempDir()}, // not a file
		{"certify", "--agent-image", "x:1", "--node-cmd", "/bin/true"},     // containers run nodes from the image
		{"certify", "--agent-image", "x:1", "--backend", "kubernetes"},     // a cluster does not tell the entrypoint
		{"certify", "--agent-cmd", "/bin/true", "--backend", "kubernetes"}, // a program does not run in the Pods
		{"certify", "--agent-cmd", "/bin/true", "--requirements", "HV-99"}, // not in the profile
		{"certify", "--agent-cmd", "/bin/true", "--requirements", "CERT-1"},
	} {
		if got := run(append(args, "--report", t.TempDir())); got != exitBadInput {
			t.Errorf("%q: exit %d, want %d (bad input)", args, got, exitBadInput)
		}
	}
}

// TestCertifyTestRunsTheSuiteWithTheAgent checks that `c2clab test
// --agent-cmd` puts the vendor's agent in every scenario: the HV-6
// scenario passes with the reference agent and fails with one that
// reports a bare hostname.
func TestCertifyTestRunsTheSuiteWithTheAgent(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the HV-6 scenario twice on the local backend")
	}
	t.Setenv(cliEnv, "1")
	for _, tt := range []struct {
		pkg  string
		want int
	}{{"../c2clab-agent", exitOK}, {"./testdata/brokenagents/bare-hostname", exitFailed}} {
		bin := buildAgent(t, tt.pkg)
		if got := run([]string{"test", "--agent-cmd", bin, "--tags", "@HV-6", "--report", t.TempDir(), "--seed", "0"}); got != tt.want {
			t.Errorf("test --agent-cmd %s: exit %d, want %d", tt.pkg, got, tt.want)
		}
	}
}

func TestCertifyTestRefusesBadAgentFlags(t *testing.T) {
	for _, args := range [][]string{
		{"test", "--agent-cmd", "/bin/true", "--agent-image", "x:1"},
		{"test", "--agent-cmd", "/bin/true", "--backend", "container"},
		{"test", "--agent-image", "x:1", "--backend", "local"},
		{"test", "--agent-image", "x:1", "--backend", "kubernetes"}, // no --agent-entrypoint
		{"test", "--agent-cmd", filepath.Join(t.TempDir(), "no-such-agent")},
	} {
		if got := run(append(args, "--report", t.TempDir())); got != exitBadInput {
			t.Errorf("%q: exit %d, want %d (bad input)", args, got, exitBadInput)
		}
	}
}

// buildAgent builds the program of package pkg (relative to this
// directory) once for every test binary of this source tree
// (sim/buildcache), named after its directory.
func buildAgent(t *testing.T, pkg string) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(pkg)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := buildcache.Build(t.Context(), root, "./"+filepath.ToSlash(rel), filepath.Base(pkg))
	if err != nil {
		t.Fatal(err)
	}
	return bin
}
