package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/c2clab/c2clab/sim/tenant"
)

// TestTenantImportCLI: written files load, the report lists each input
// and the decision warnings first, bad input is exit 2 naming
// file:line: field and writes nothing.
func TestTenantImportCLI(t *testing.T) {
	bodies := helpdeskBodies(t)
	out := filepath.Join(t.TempDir(), "h.yaml")
	stdout, stderr, err := runCLI(t, "tenant", "import", "../../fixtures/zpa-import/helpdesk.yaml", bodies, "-o", out)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	if _, _, err := tenant.Load(out); err != nil {
		t.Fatalf("the tenant file written does not load: %v", err)
	}
	for _, want := range []string{"wrote " + out + ": 4 segments, 5 rules", "rules.ACCESS_POLICY.page-2.json: a page of 2 access rules (totalPages 2, totalCount 5)",
		"ignored, cannot change a decision:"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}

	// A field the lab does not know is a decision warning, listed before
	// what cannot change a decision.
	odd := filepath.Join(t.TempDir(), "app.json")
	if err := os.WriteFile(odd, []byte(`{"totalPages": "1", "list": [{"id": "1", "name": "A", "domainNames": ["a.example.com"], "tcpPortRanges": ["1", "1"], "creationTime": "1", "fancyNewThing": "on"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _, err = runCLI(t, "tenant", "import", odd, "-o", filepath.Join(t.TempDir(), "a.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	i, j := strings.Index(stdout, "app.json:1: list[0].fancyNewThing: fancyNewThing of an application segment is \"on\" and is ignored"), strings.Index(stdout, "ignored, cannot change")
	if i < 0 || j < i || !strings.Contains(stdout[j:], "application segment: creationTime") {
		t.Errorf("want the decision warning first, then creationTime as harmless:\n%s", stdout)
	}

	// -o - writes the tenant to standard output and the report as JSON.
	stdout, _, err = runCLI(t, "tenant", "import", bodies, "-o", "-", "--json", "--name", "acme")
	if err != nil || !strings.HasPrefix(stdout, "# Written by c2clab tenant import") || !strings.Contains(stdout, "name: acme") {
		t.Fatalf("-o -: err %v, output:\n%.300s", err, stdout)
	}
	_, stderr, _ = runCLI(t, "tenant", "import", bodies, "-o", "-", "--json")
	var rep importJSON
	if err := json.Unmarshal([]byte(stderr), &rep); err != nil || rep.Segments != 4 || len(rep.Sources) != 15 {
		t.Errorf("--json report on stderr: %v, %+v", err, rep)
	}

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	_, _, err = runCLI(t, "tenant", "import", "../../fixtures/zpa/incomplete-pages", "-o", bad)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitBadInput || !strings.Contains(err.Error(), "incomplete-pages/application.page-1.json:2: totalPages: is 2") {
		t.Errorf("incomplete set: err = %v, want exit 2 naming the page", err)
	}
	if _, statErr := os.Stat(bad); statErr == nil {
		t.Error("a tenant file was written for an incomplete set")
	}
	if _, _, err := runCLI(t, "tenant", "import", bodies); !errors.As(err, &ee) || ee.code != exitBadInput || !strings.Contains(err.Error(), "-o is required") {
		t.Errorf("without -o: err = %v", err)
	}
}
