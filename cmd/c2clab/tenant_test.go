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
		"can change a decision (", "ignored, cannot change a decision:"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
	if i, j := strings.Index(stdout, "can change a decision ("), strings.Index(stdout, "ignored, cannot change"); i < 0 || j < i {
		t.Errorf("decision warnings do not come first:\n%s", stdout)
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
