package main

import (
	"context"
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/check"
	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/conform"
	"github.com/c2clab/c2clab/sim/labcheck"
	"github.com/c2clab/c2clab/sim/policy"
	"github.com/c2clab/c2clab/sim/tenant"
)

var corpusSeed = flag.Uint64("labcheck.seed", 0, "seed of the generated corpus of TestCheckLabAgreesOnGeneratedCorpus; 0 picks one from the clock (the test logs it)")

// labOptions run the lab's nodes as c2clab-node: the same node code as
// this test binary run as the CLI, a tenth of its CPU at each node's start
// (TestCheckLabCLI keeps the CLI's own c2clab node covered).
func labOptions(t *testing.T) labcheck.Options {
	return labcheck.Options{Command: []string{buildAgent(t, "../c2clab-node")}, Dir: t.TempDir()}
}

func fixtureTenants(t *testing.T) []string {
	files, err := filepath.Glob("../../fixtures/tenants/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixture tenants: %v", err)
	}
	return append(files, "../../fixtures/tenants/zpa-export.json")
}

func testCases(t *tenant.Tenant) []labcheck.Case {
	cases := make([]labcheck.Case, len(t.Tests))
	for i, tt := range t.Tests {
		cases[i] = labcheck.Case{Name: tt.Name, Where: tt.Where,
			Question: check.Question{User: tt.User, From: tt.From, Devices: tt.Devices, FQDN: tt.FQDN, Port: tt.Port, Proto: tt.Proto, Time: tt.At}}
	}
	return cases
}

// TestCheckLabAgreesOnEveryFixtureTenant runs every tests: entry of every
// fixture tenant through check and through a real loopback lab, one lab
// per tenant, and requires the two to agree on all of them.
func TestCheckLabAgreesOnEveryFixtureTenant(t *testing.T) {
	start, asked := time.Now(), 0
	for _, f := range fixtureTenants(t) {
		tn, _, err := tenant.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := labcheck.Run(context.Background(), labOptions(t), tn.Policy(), testCases(tn))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		agree, differ, undecided, errs := labcheck.Summary(rs)
		asked += agree + differ
		if err := labcheck.Report(rs); err != nil {
			t.Errorf("%s: check and the lab differ:\n%v", f, err)
		}
		if agree == 0 || differ+errs > 0 {
			t.Errorf("%s: %d agree, %d differ, %d undecided, %d errors", f, agree, differ, undecided, errs)
		}
	}
	t.Logf("%d fixture tests asked of check and the lab in %v", asked, time.Since(start).Round(time.Millisecond))
}

// TestCheckLabCLI runs `c2clab check --lab` as a user would.
func TestCheckLabCLI(t *testing.T) {
	t.Setenv(cliEnv, "1")
	if got := run([]string{"check", "--lab", "../../fixtures/tenants/strict.yaml"}); got != exitOK {
		t.Fatalf("check --lab strict.yaml: exit %d, want %d", got, exitOK)
	}
}

// TestCheckLabAgreesOnGeneratedCorpus asks check and the lab the questions
// of a random corpus and requires zero disagreements. Rerun a failing seed
// with -labcheck.seed=N.
func TestCheckLabAgreesOnGeneratedCorpus(t *testing.T) {
	seed := *corpusSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("corpus seed %d (rerun with: go test ./cmd/c2clab -run TestCheckLabAgreesOnGeneratedCorpus -labcheck.seed=%d)", seed, seed)
	start := time.Now()
	corpus := labcheck.Corpus(seed, 4, 80)
	results := make([][]labcheck.Result, len(corpus))
	// One lab at a time: a device whose firewall blocks its interface IP
	// serves on 127.0.0.1 (sim/endpoint), which two labs would share.
	for i, g := range corpus {
		rs, err := labcheck.Run(context.Background(), labOptions(t), g.Policy, g.Cases)
		if err != nil {
			t.Fatalf("seed %d, tenant %s: %v", seed, g.Policy.Tenant, err)
		}
		if err := labcheck.Report(rs); err != nil {
			t.Errorf("seed %d, tenant %s: check and the lab differ:\n%v", seed, g.Policy.Tenant, err)
		}
		results[i] = rs
	}
	codes := map[string]int{}
	asked := 0
	for _, rs := range results {
		for _, r := range rs {
			if r.Lab != nil {
				asked++
				codes[verdictKey(r.Check)]++
			}
		}
	}
	t.Logf("seed %d: %d questions asked of check and the lab in %v; answers: %v", seed, asked, time.Since(start).Round(time.Millisecond), codes)
	if asked < 300 {
		t.Errorf("seed %d: only %d questions reached the lab, want at least 300", seed, asked)
	}
	// The corpus must exercise every gate, not only the easy answers.
	for _, want := range []string{"allow Client to Client", "allow Client to Server",
		string(code.CltPortNotInSegment), string(code.BrkAppNotFound), string(code.CltPrivateAccessDisabled),
		string(code.C2CClientNotFound), string(code.C2CVersionUnsupported), string(code.C2CMacNotDomainJoined),
		string(code.C2CNotAvailable), string(code.C2CMtunnelFailedForward)} {
		if codes[want] == 0 {
			t.Errorf("seed %d: no question was answered %q; the corpus does not cover it", seed, want)
		}
	}
	if codes[string(code.BrkRejectedByPolicy)]+codes[string(code.BrkNoPolicyFound)] == 0 {
		t.Errorf("seed %d: no question was refused by policy", seed)
	}
}

func verdictKey(o labcheck.Outcome) string {
	if o.Allowed {
		return "allow " + o.AccessType
	}
	return string(o.Code)
}

// TestCheckLabCatchesAModelThatDiffers changes one rule of the agent model
// on the check side only (the source no longer drops a port its segment
// lacks, SEG-4) and requires the comparison to report it.
func TestCheckLabCatchesAModelThatDiffers(t *testing.T) {
	opts := labOptions(t)
	opts.Model.Intercept = func(src *conform.Source, pa bool, dev policy.DeviceAttrs, fqdn string, port uint16, proto string) conform.SourceOutcome {
		out := src.Intercept(pa, dev, fqdn, port, proto)
		if out.Code == code.CltPortNotInSegment {
			return conform.SourceOutcome{Segment: out.Segment}
		}
		return out
	}
	g := labcheck.Corpus(1, 1, 1)[0]
	q := g.Cases[0].Question
	q.FQDN, q.Port = "anchor-ok.corp.test", 9999 // in the workstation wildcard, in no generated port range
	for _, p := range q.Devices {
		if strings.HasPrefix(p.Name, "src") && p.PrivateAccessEnabled() {
			q.From, q.User = p, p.User
			break
		}
	}
	rs, err := labcheck.Run(context.Background(), opts, g.Policy, []labcheck.Case{{Name: "port outside the segment", Question: q}})
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if r.Agree() || r.Lab == nil {
		t.Fatalf("a model that forwards a port its segment lacks agreed with the lab: %+v", r)
	}
	if r.Check.Code != code.BrkPortNotInSegment || r.Lab.Code != code.CltPortNotInSegment {
		t.Fatalf("check %s, lab %s; want %s from the changed model and %s from the lab", r.Check.Code, r.Lab.Code, code.BrkPortNotInSegment, code.CltPortNotInSegment)
	}
	t.Logf("reported: %v", labcheck.Report(rs))
}
