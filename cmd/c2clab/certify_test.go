package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/c2clab/c2clab/sim/certify"
	"github.com/c2clab/c2clab/sim/report"
)

// delivered lists the profile's requirements whose scenarios all need a
// connection delivered to an enrolled device: an agent that cannot
// deliver, or is never enrolled, breaks every one of them, and only them.
var delivered = []string{"HV-2", "HV-3", "HV-6", "SEG-4", "DEV-1", "DEV-2", "DEV-3", "DEV-4", "DEV-6", "EP-1", "EP-2", "RA-1", "LOG-1", "LOG-2", "NET-3"}

// TestCertifyFailsExactlyWhatABrokenAgentBreaks certifies the reference
// agent and each deliberately broken one (testdata/brokenagents), and
// checks that the reference is Certified and each broken agent fails
// exactly the requirements its fault breaks, no more and no fewer.
func TestCertifyFailsExactlyWhatABrokenAgentBreaks(t *testing.T) {
	if testing.Short() {
		t.Skip("certifies five agents on the local backend (about 2 minutes)")
	}
	if _, err := exec.LookPath("nc"); err != nil {
		t.Skip("the profile's EP-1 scenarios run OpenBSD netcat; .ci/run installs netcat-openbsd")
	}
	t.Setenv(cliEnv, "1") // the lab's nodes are this test binary, as the CLI
	tests := []struct {
		name, pkg string
		fails     []string
	}{
		{"reference", "../c2clab-agent", nil},
		// Reports the minimum version: an old device looks new enough, so
		// the version gate and the code it surfaces (LOG-2) fail.
		{"ignores the version gate", "./testdata/brokenagents/ignores-version-gate", []string{"DEV-1", "LOG-2"}},
		{"dials 127.0.0.1", "./testdata/brokenagents/dials-loopback", delivered},
		{"reports a bare hostname", "./testdata/brokenagents/bare-hostname", delivered},
		// Flips a byte per MiB from the device: only scenarios that check
		// more than a MiB coming back fail.
		{"corrupts bytes", "./testdata/brokenagents/corrupts-bytes", []string{"SEG-4", "EP-1", "NET-3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			bin := filepath.Join(dir, "agent")
			if out, err := exec.Command("go", "build", "-o", bin, tt.pkg).CombinedOutput(); err != nil {
				t.Fatalf("build %s: %v\n%s", tt.pkg, err, out)
			}
			want := exitOK
			if tt.fails != nil {
				want = exitFailed
			}
			rep := filepath.Join(dir, "report")
			if got := run([]string{"certify", "--agent-cmd", bin, "--report", rep, "--seed", "0"}); got != want {
				t.Errorf("certify exit %d, want %d", got, want)
			}
			r := readCertification(t, rep)
			var failed []string
			for _, res := range r.Requirements {
				if res.Verdict != report.VerdictPassed {
					failed = append(failed, res.ID)
				}
			}
			slices.Sort(failed)
			wantFailed := slices.Sorted(slices.Values(tt.fails))
			if !slices.Equal(failed, wantFailed) {
				t.Errorf("requirements not passed: %v\nwant exactly:          %v", failed, wantFailed)
			}
			if tt.fails == nil && r.Verdict != certify.Certified {
				t.Errorf("verdict %q, want %q: %v", r.Verdict, certify.Certified, r.Denied)
			}
		})
	}
}

func readCertification(t *testing.T, dir string) certify.Report {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "certification.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r certify.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCertifyRefusesBadAgentFlags(t *testing.T) {
	for _, args := range [][]string{
		{"certify"}, // neither
		{"certify", "--agent-cmd", "/bin/true", "--agent-image", "x:1"},         // both
		{"certify", "--agent-image", "x:1", "--backend", "netns"},               // image needs containers
		{"certify", "--agent-cmd", "/bin/true", "--backend", "container"},       // a program needs local or netns
		{"certify", "--agent-cmd", filepath.Join(t.TempDir(), "no-such-agent")}, // missing program
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
		{"test", "--agent-cmd", filepath.Join(t.TempDir(), "no-such-agent")},
	} {
		if got := run(append(args, "--report", t.TempDir())); got != exitBadInput {
			t.Errorf("%q: exit %d, want %d (bad input)", args, got, exitBadInput)
		}
	}
}

// buildAgent builds the agent program of package pkg into a temporary
// directory.
func buildAgent(t *testing.T, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "agent")
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, out)
	}
	return bin
}
