package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	fxTenants = "../../fixtures/tenants/"
	fxDevices = "../../fixtures/devices/"
)

// runPolicyCLI runs the CLI as run does, capturing its output.
func runPolicyCLI(t *testing.T, args ...string) (exit int, stdout, stderr string) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.Execute()
	exit = exitOK
	if err != nil {
		exit = exitBadInput
		var ee *exitError
		if errors.As(err, &ee) {
			exit = ee.code
		}
		errb.WriteString(err.Error())
	}
	return exit, out.String(), errb.String()
}

func TestExplainCLI(t *testing.T) {
	strict := []string{"explain", "--tenant", fxTenants + "strict.yaml", "--from", fxDevices + "admin-win-4.5.yaml",
		"--device", fxDevices + "win-3.9.0.169-ad.yaml", "--device", fxDevices + "win-4.5-ad-laptop.yaml"}
	tests := []struct {
		name    string
		args    []string
		exit    int
		stdout  []string
		stderr  []string
		isJSON  bool
		allowed bool
	}{
		{name: "allowed", args: append(strict, "--to", "desktop-10B38-AC.example.com:3389"), exit: exitOK,
			stdout: []string{"ALLOWED\n", "rule:         Helpdesk from compliant Windows (id r-helpdesk), order 2, ALLOW",
				"destination:  win-3.9.0.169-ad, FQDNRegistered true (FQDN_MATCH), available", "trace:\n  1. source: admin@example.com on admin-win-4.5"},
			stderr: []string{"warning: " + fxTenants + "strict.yaml:27: applicationSegments[1].domainNames[0]"}},
		{name: "denied by the regex", args: append(strict, "--to", "laptop-4711.example.com:3389"), exit: exitFailed,
			stdout: []string{"DENIED C2C_CLIENT_NOT_FOUND\n", "FQDNRegistered false (FQDN_NO_MATCH)"}},
		{name: "user override is denied by rule order", args: append(strict, "--user", "contractor@example.com", "--to", "desktop-10B38-AC.example.com:3389"), exit: exitFailed,
			stdout: []string{"DENIED BRK_MT_SETUP_FAIL_REJECTED_BY_POLICY", "No remote assistance for contractors (id r-contractors), order 1, DENY"}},
		{name: "json", args: append(strict, "--to", "desktop-10B38-AC.example.com:3389", "--json"), exit: exitOK, isJSON: true, allowed: true},
		{name: "json denied", args: append(strict, "--to", "desktop-10B38-AC.example.com:22", "--json"), exit: exitFailed, isJSON: true,
			stdout: []string{`"code": "CLT_PORT_NOT_IN_SEGMENT"`}},
		{name: "broken tenant", args: []string{"explain", "--tenant", fxTenants + "broken/bad-port.yaml", "--user", "a", "--to", "a.example.com:1"}, exit: exitBadInput,
			stderr: []string{"bad-port.yaml:8: applicationSegments[0].tcpPortRange[0].to: is \"70000\""}},
		{name: "missing --to", args: []string{"explain", "--tenant", fxTenants + "strict.yaml", "--user", "a"}, exit: exitBadInput, stderr: []string{"--tenant and --to are required"}},
		{name: "bad --to", args: []string{"explain", "--tenant", fxTenants + "strict.yaml", "--user", "a", "--to", "desktop"}, exit: exitBadInput, stderr: []string{"--to: \"desktop\" is not host:port"}},
		{name: "missing device", args: []string{"explain", "--tenant", fxTenants + "strict.yaml", "--user", "a", "--device", "nope.yaml", "--to", "a.example.com:1"}, exit: exitBadInput, stderr: []string{"--device"}},
		{name: "no user anywhere", args: []string{"explain", "--tenant", fxTenants + "strict.yaml", "--to", "a.example.com:1"}, exit: exitBadInput, stderr: []string{"--user is required"}},
		{name: "unknown flag", args: []string{"explain", "--tenat", "x"}, exit: exitBadInput},
		{name: "POL-4 undecided exits 3 naming rule and attribute", args: []string{"explain", "--tenant", fxTenants + "conditions.yaml", "--user", "norisk@example.com",
			"--device", fxDevices + "win-3.9.0.169-ad.yaml", "--to", "desktop-10B38-AC.example.com:3389"}, exit: exitUndecided,
			stdout: []string{"UNDECIDED BRK_MT_SETUP_FAIL_POLICY_UNDECIDED\n", `access rule "No remote assistance at high risk" needs the user's ZIA risk level (users[].riskLevel) (RISK_FACTOR_TYPE)`}},
		{name: "POL-4 undecided as JSON", args: []string{"explain", "--tenant", fxTenants + "conditions.yaml", "--user", "jdoe@example.com",
			"--device", fxDevices + "win-3.9.0.169-ad.yaml", "--to", "desktop-10B38-AC.example.com:3389", "--json"}, exit: exitUndecided, isJSON: true,
			stdout: []string{`"verdict": "undecided"`, `"objectType": "RISK_FACTOR_TYPE"`, `"rule": "No remote assistance at high risk"`}},
		{name: "bad --at", args: []string{"explain", "--tenant", fxTenants + "strict.yaml", "--user", "a", "--at", "tomorrow", "--to", "a.example.com:1"}, exit: exitBadInput, stderr: []string{"--at \"tomorrow\": want an RFC 3339 time"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exit, out, errOut := runPolicyCLI(t, tt.args...)
			if exit != tt.exit {
				t.Errorf("exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", exit, tt.exit, out, errOut)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
			if tt.isJSON {
				var a struct {
					Allowed bool     `json:"allowed"`
					Trace   []string `json:"trace"`
				}
				if err := json.Unmarshal([]byte(out), &a); err != nil || a.Allowed != tt.allowed || len(a.Trace) == 0 {
					t.Errorf("JSON answer %+v (%v):\n%s", a, err, out)
				}
			}
		})
	}
}

func TestExplainHelpTeachesWithFixtures(t *testing.T) {
	_, out, _ := runPolicyCLI(t, "explain", "--help")
	for _, s := range []string{"fixtures/tenants/strict.yaml", "fixtures/devices/win-3.9.0.169-ad.yaml", "--to desktop-10B38-AC.example.com:3389", "Exit codes: 0 allowed, 1 denied, 2 bad input", "3 undecided"} {
		if !strings.Contains(out, s) {
			t.Errorf("help lacks %q:\n%s", s, out)
		}
	}
}

func TestCheckCLI(t *testing.T) {
	all, _ := filepath.Glob(fxTenants + "*.*")
	failing := writeFailingTenant(t)
	tests := []struct {
		name   string
		args   []string
		exit   int
		stdout []string
		stderr []string
	}{
		{"every shipped tenant passes", append([]string{"check"}, all...), exitOK,
			[]string{"PASS  helpdesk reaches the seed's example desktop by RDP\n", " passed, 0 failed\n"},
			[]string{"warning: " + fxTenants + "two-regexes.yaml:7: clientHostnameValidation: 2 regexes"}},
		{"a failing expectation", []string{"check", failing}, exitFailed,
			[]string{"PASS  laptop is not found", "FAIL  helpdesk expects the laptop  (" + failing + ":11)", "expected: allow", "got:      deny C2C_CLIENT_NOT_FOUND", "trace:", "1 passed, 1 failed"}, nil},
		{"a broken tenant", []string{"check", fxTenants + "broken/bad-test.yaml", fxTenants + "no-regex.yaml"}, exitBadInput,
			[]string{"PASS  with no regex nothing is enrolled (HV-1)", "1 passed, 0 failed, 1 file(s) could not be used"},
			[]string{`bad-test.yaml:17: tests[1].expect: is "maybe", want allow, deny or undecided`}},
		{"no files", []string{"check"}, exitBadInput, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exit, out, errOut := runPolicyCLI(t, tt.args...)
			if exit != tt.exit {
				t.Errorf("exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", exit, tt.exit, out, errOut)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
		})
	}
}

func TestCheckCLIJSON(t *testing.T) {
	exit, out, _ := runPolicyCLI(t, "check", "--json", fxTenants+"strict.yaml", writeFailingTenant(t))
	var rep checkReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if exit != exitFailed || rep.Passed != 9 || rep.Failed != 1 || len(rep.Tenants) != 2 || len(rep.Tenants[0].Warnings) != 1 {
		t.Fatalf("exit %d, report %+v", exit, rep)
	}
}

// TestRunExitCodes goes through run itself, as the binary does.
func TestRunExitCodes(t *testing.T) {
	if got := run([]string{"check", fxTenants + "broken/unknown-field.yaml"}); got != exitBadInput {
		t.Errorf("run(check broken) = %d, want %d", got, exitBadInput)
	}
}

// writeFailingTenant writes a tenant with one right and one wrong expectation.
func writeFailingTenant(t *testing.T) string {
	t.Helper()
	dev, err := filepath.Abs(fxDevices + "win-4.5-ad-laptop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "failing.yaml")
	data := `name: failing
clientHostnameValidation: ['desktop-[a-zA-Z0-9]{5}-AC\.example\.com']
applicationSegments:
  - {name: WS, domainNames: ["*.example.com"], tcpPortRange: [{from: 3389}]}
tests:
  - name: laptop is not found
    user: admin@example.com
    to: laptop-4711.example.com:3389
    devices: [` + dev + `]
    expect: deny
  - name: helpdesk expects the laptop
    user: admin@example.com
    to: laptop-4711.example.com:3389
    devices: [` + dev + `]
    expect: allow
`
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
