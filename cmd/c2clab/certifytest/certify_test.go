// Package certifytest is the certification self-test: it certifies the
// reference agent and deliberately broken ones with the c2clab binary built
// from this tree, and checks each verdict (docs/CERTIFICATION.md, section
// 8). It is a test binary of its own, apart from cmd/c2clab's other tests,
// so that each has go test's whole 10-minute limit: together they took
// nine minutes and more on 2 busy cores.
package certifytest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/buildcache"
	"github.com/c2clab/c2clab/sim/certify"
	"github.com/c2clab/c2clab/sim/report"
)

// The CLI's exit codes (cmd/c2clab/main.go).
const (
	exitOK     = 0
	exitFailed = 1
)

// root is the source tree this package is in.
const root = "../../.."

// delivered lists the profile's requirements whose scenarios all need a
// connection delivered to an enrolled device: an agent that cannot
// deliver, or is never enrolled, breaks every one of them, and only them;
// and with them CERT-1, since the same scenarios fail with it on one end.
var delivered = []string{"HV-2", "HV-3", "HV-6", "SEG-4", "DEV-1", "DEV-2", "DEV-3", "DEV-4", "DEV-6", "EP-1", "EP-2", "RA-1", "LOG-1", "LOG-2", "NET-3", "CERT-1"}

// dataPath lists the requirements an agent breaks whose data path is
// wrong the same way on both ends: it passes every scenario with itself
// on both ends, and fails with the reference agent on the other end
// every scenario that moves bytes end to end, so every requirement that
// has one (and CERT-1).
var dataPath = []string{"HV-2", "HV-3", "SEG-4", "DEV-6", "EP-1", "EP-2", "RA-1", "LOG-1", "LOG-2", "NET-3", "CERT-1"}

// certifyAllEnv runs every broken agent of the self-test; without it the
// test certifies the reference and one broken agent of each kind, to keep
// go test ./... within its budget (docs/CERTIFICATION.md, "Self-test").
const certifyAllEnv = "C2CLAB_CERTIFY_ALL"

// failsWhere says which pairings a broken agent must fail in.
type failsWhere int

const (
	passesAll  failsWhere = iota // the reference
	failsTT                      // its fault shows with itself on both ends, so in T->T too
	failsOnlyR                   // consistent: T->T passes, both pairings with R fail
)

// TestCertifyFailsExactlyWhatABrokenAgentBreaks certifies the reference
// agent and deliberately broken ones (testdata/brokenagents), and checks
// that the reference is Certified, that its report verifies and a
// tampered copy does not, and that each broken agent is Not certified and
// fails exactly the requirements its fault breaks, in the pairings it
// breaks: an agent wrong the same way on both ends passes T->T and fails
// only with the reference agent (CERT-2).
func TestCertifyFailsExactlyWhatABrokenAgentBreaks(t *testing.T) {
	if testing.Short() {
		t.Skip("certifies agents on the local backend, three pairings each (about 40 s each on an idle machine)")
	}
	// Parallel at the top too, or the kubernetes certification
	// (TestCertifyAgentImageOnARealKubelet), which mostly waits for Pods,
	// would start only after all of these.
	t.Parallel()
	if _, err := exec.LookPath("nc"); err != nil {
		t.Skip("the profile's EP-1 scenarios run OpenBSD netcat; .ci/run installs netcat-openbsd")
	}
	cli := build(t, "./cmd/c2clab", "c2clab")
	tests := []struct {
		name, pkg string
		fails     []string
		where     failsWhere
		always    bool // also without C2CLAB_CERTIFY_ALL
	}{
		{"reference", "./cmd/c2clab-agent", nil, passesAll, true},
		// Reports the minimum version: an old device looks new enough, so
		// the version gate and the code it surfaces (LOG-2) fail. Their
		// scenarios fail on the device's status before any connection,
		// so none is paired and CERT-1 passes on the others.
		{"ignores the version gate", "./cmd/c2clab/testdata/brokenagents/ignores-version-gate", []string{"DEV-1", "LOG-2"}, failsTT, false},
		{"dials 127.0.0.1", "./cmd/c2clab/testdata/brokenagents/dials-loopback", delivered, failsTT, false},
		{"reports a bare hostname", "./cmd/c2clab/testdata/brokenagents/bare-hostname", delivered, failsTT, false},
		// Flips a byte per MiB from the device: only scenarios that check
		// more than a MiB coming back fail, with itself as destination.
		{"corrupts bytes", "./cmd/c2clab/testdata/brokenagents/corrupts-bytes", []string{"SEG-4", "EP-1", "NET-3", "CERT-1"}, failsTT, true},
		{"another exporter label", "./cmd/c2clab/testdata/brokenagents/other-exporter-label", dataPath, failsOnlyR, false},
		{"swapped key halves", "./cmd/c2clab/testdata/brokenagents/swapped-key-halves", dataPath, failsOnlyR, true},
		{"length before flags in the frame header", "./cmd/c2clab/testdata/brokenagents/length-first-header", dataPath, failsOnlyR, false},
		// Frame 0's nonce is the IV either way, so only streams of more
		// than one frame a direction fail with the reference: the
		// scenarios that move bulk data (the vector's nonce of frame 1
		// in docs/PROTOCOL.md catches it at once).
		{"frame number in the first bytes of the nonce", "./cmd/c2clab/testdata/brokenagents/nonce-seq-left", []string{"SEG-4", "EP-1", "LOG-1", "NET-3", "CERT-1"}, failsOnlyR, false},
		// Sleeps 5 ms per frame: intact but slow, so only NET-3 (judged
		// against the reference agent on the same path) fails.
		{"slow frames", "./cmd/c2clab/testdata/brokenagents/slow-frames", []string{"NET-3", "CERT-1"}, failsTT, true},
	}
	all := os.Getenv(certifyAllEnv) == "1"
	node := build(t, "./cmd/c2clab-node", "c2clab-node")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.always && !all {
				t.Skipf("set %s=1 to certify every broken agent", certifyAllEnv)
			}
			// The certifications run side by side: each one's measuring
			// scenarios still run alone on the machine (the timing lock),
			// and the others overlap where one waits for a step's bound.
			t.Parallel()
			bin := build(t, tt.pkg, path.Base(tt.pkg))
			want := exitOK
			if tt.fails != nil {
				want = exitFailed
			}
			rep := filepath.Join(t.TempDir(), "report")
			start := time.Now()
			// The lab's other nodes run c2clab-node, not this test binary:
			// same node code, a tenth of the CPU at each of the thousands of
			// starts (TestCertifyTestRunsTheSuiteWithTheAgent keeps the default).
			var out bytes.Buffer // one certification's output, apart from the others'
			got := runCLI(t, cli, &out, "certify", "--agent-cmd", bin, "--node-cmd", node, "--report", rep, "--seed", "0")
			t.Logf("certify took %s", time.Since(start).Round(time.Second))
			defer func() {
				if t.Failed() {
					t.Logf("certify's output:\n%s", out.String())
				}
			}()
			if got != want {
				t.Errorf("certify exit %d, want %d", got, want)
			}
			r := readCertification(t, rep)
			checkFailed(t, r, tt.fails)
			checkPairings(t, r, tt.where)
			if tt.fails == nil {
				if r.Verdict != certify.Certified {
					t.Errorf("verdict %q, want %q: %v", r.Verdict, certify.Certified, r.Denied)
				}
				checkVerifies(t, cli, rep)
			} else if r.Verdict != certify.NotCertified {
				t.Errorf("verdict %q, want %q", r.Verdict, certify.NotCertified)
			}
		})
	}
}

func checkFailed(t *testing.T, r certify.Report, fails []string) {
	t.Helper()
	var failed []string
	for _, res := range r.Requirements {
		// An optional requirement may skip where the backend cannot run it
		// (NET-1's interception needs netns): reported, not failed.
		skippedOptional := !res.Mandatory && res.Verdict == report.VerdictSkipped
		if res.Verdict != report.VerdictPassed && !skippedOptional {
			failed = append(failed, res.ID)
		}
	}
	slices.Sort(failed)
	want := slices.Sorted(slices.Values(fails))
	if !slices.Equal(failed, want) {
		t.Errorf("requirements not passed: %v\nwant exactly:          %v", failed, want)
	}
}

// checkPairings checks where the agent failed: nowhere, in T->T (its
// fault shows with itself), or only in both pairings with the reference.
func checkPairings(t *testing.T, r certify.Report, where failsWhere) {
	t.Helper()
	failed := map[string]int{}
	for _, p := range r.Pairings {
		failed[p.Pairing] = p.Failed
	}
	if len(r.Pairings) != 3 {
		t.Fatalf("pairings %+v: want T->T, T->R and R->T", r.Pairings)
	}
	// An agent that is never enrolled carries no connection in T->T, so
	// nothing is paired (and CERT-1 fails for want of scenarios); every
	// other agent here pairs some.
	if where != failsTT && r.Pairings[1].Passed+r.Pairings[1].Failed == 0 {
		t.Fatalf("pairings %+v: want scenarios in T->R and R->T", r.Pairings)
	}
	tt, tr, rt := failed[certify.PairingTT], failed[certify.PairingTR], failed[certify.PairingRT]
	t.Logf("scenarios failed per pairing: %s %d, %s %d, %s %d", certify.PairingTT, tt, certify.PairingTR, tr, certify.PairingRT, rt)
	switch where {
	case passesAll:
		if tt+tr+rt != 0 {
			t.Errorf("scenarios not passed per pairing: %v, want none", failed)
		}
	case failsTT:
		if tt == 0 {
			t.Errorf("scenarios not passed per pairing: %v, want some in %s", failed, certify.PairingTT)
		}
	case failsOnlyR:
		if tt != 0 || tr == 0 || rt == 0 {
			t.Errorf("scenarios not passed per pairing: %v, want none in %s and some in each of %s and %s (CERT-2)", failed, certify.PairingTT, certify.PairingTR, certify.PairingRT)
		}
	}
}

// checkVerifies runs certify verify on the report, then on a copy with one
// passed scenario's status changed to failed, which must not verify.
func checkVerifies(t *testing.T, cli, dir string) {
	t.Helper()
	path := filepath.Join(dir, "certification.json")
	var out bytes.Buffer
	if got := runCLI(t, cli, &out, "certify", "verify", path); got != exitOK {
		t.Errorf("certify verify of the untouched report: exit %d, want %d\n%s", got, exitOK, out.String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tampered := strings.Replace(string(b), `"status": "passed"`, `"status": "failed"`, 1)
	if tampered == string(b) {
		t.Fatal("no passed scenario in the report to tamper with")
	}
	bad := filepath.Join(t.TempDir(), "tampered.json")
	if err := os.WriteFile(bad, []byte(tampered), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := runCLI(t, cli, &out, "certify", "verify", bad); got != exitFailed {
		t.Errorf("certify verify of a tampered report: exit %d, want %d", got, exitFailed)
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

// build builds the main package pkg of the tree ("./cmd/c2clab-agent")
// once for every test binary of the tree (sim/buildcache) as name.
func build(t *testing.T, pkg, name string) string {
	t.Helper()
	bin, err := buildcache.Build(t.Context(), root, pkg, name)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// runCLI runs the c2clab binary cli with args, its output to out, and
// returns its exit status.
func runCLI(t *testing.T, cli string, out io.Writer, args ...string) int {
	t.Helper()
	cmd := exec.Command(cli, args...)
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("%s %v: %v", cli, args, err)
	}
	return exitOK
}
