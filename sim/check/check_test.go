package check

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/policy"
	"github.com/c2clab/c2clab/sim/tenant"
)

// TestShippedTenants runs the tests: of every shipped tenant, the ZPA export
// among them, through the real engine.
func TestShippedTenants(t *testing.T) {
	paths, err := filepath.Glob("../../fixtures/tenants/*.*")
	if err != nil || len(paths) < 6 {
		t.Fatalf("found %d tenants (%v)", len(paths), err)
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			ten, _, err := tenant.Load(p)
			if err != nil {
				t.Fatal(err)
			}
			results := Run(ten)
			if len(results) != len(ten.Tests) || len(results) == 0 {
				t.Fatalf("%d results for %d tests", len(results), len(ten.Tests))
			}
			for _, r := range results {
				if !r.Pass {
					t.Errorf("%s: %s: expected %s, got %s %s\n%s", r.Where, r.Name, r.Expected, r.Got, r.Error, traceOf(r.Answer))
				}
			}
		})
	}
}

func traceOf(a *Answer) string {
	if a == nil {
		return ""
	}
	return "  " + strings.Join(a.Trace, "\n  ")
}

func testConfig() policy.Config {
	return policy.Config{
		Tenant:          "t",
		HostnameRegexes: []string{`.*\.example\.com`},
		Segments: []policy.Segment{
			{ID: "ws", Name: "Workstations", Enabled: true, Domains: []string{"*.example.com"},
				TCP: []policy.PortRange{{From: 3389, To: 3389}, {From: 7000, To: 7010}}, UDP: []policy.PortRange{{From: 7000, To: 7000}}},
			{ID: "app", Name: "App", Enabled: true, Domains: []string{"app.example.com"},
				TCP: []policy.PortRange{{From: 443, To: 443}}, ServerGroups: []string{"srv"}},
		},
		Rules: []policy.Rule{{ID: "r1", Name: "Everyone to App", Order: 1, Action: policy.Allow,
			Conditions: []policy.Condition{{Operands: []policy.Operand{{ObjectType: policy.ObjApp, LHS: "id", RHS: "app"}}}}}},
	}
}

func dev(name, host string, change func(*device.Profile)) *device.Profile {
	p := &device.Profile{Name: name, Hostname: host, PrimaryDNSSuffix: "example.com", OS: device.Windows,
		ConnectorVersion: "4.5", JoinState: device.JoinAD, LoggedIn: true, User: "u@example.com"}
	if change != nil {
		change(p)
	}
	return p
}

func TestExplain(t *testing.T) {
	off := false
	pc := dev("pc", "pc1", nil)
	tests := []struct {
		name          string
		q             Question
		allowed       bool
		policyAllowed bool
		code          code.Code
		access        policy.AccessType
		registered    bool
		regErr        code.Code
		destination   string
		traceHas      string
	}{
		{name: "allowed client to client", q: Question{User: "a", Devices: []*device.Profile{pc}, FQDN: "pc1.example.com", Port: 3389},
			allowed: true, policyAllowed: true, access: policy.ClientToClient, registered: true, regErr: code.FQDNMatch, destination: "pc",
			traceHas: "pc forwards to its local rdp service on port 3389"},
		{name: "client to server", q: Question{User: "a", FQDN: "app.example.com", Port: 443},
			allowed: true, policyAllowed: true, access: policy.ClientToServer, traceHas: "Client to Server"},
		{name: "source private access off", q: Question{User: "a", From: dev("src", "src", func(p *device.Profile) { p.PrivateAccess = &off }),
			Devices: []*device.Profile{pc}, FQDN: "pc1.example.com", Port: 3389},
			code: code.CltPrivateAccessDisabled, registered: true, regErr: code.FQDNMatch, destination: "pc", traceHas: "does not intercept"},
		{name: "destination private access off never connects, so it is not found (DEV-5)", q: Question{User: "a",
			Devices: []*device.Profile{dev("pa-off", "pc9", func(p *device.Profile) { p.PrivateAccess = &off })}, FQDN: "pc9.example.com", Port: 3389},
			code: code.C2CClientNotFound, access: policy.ClientToClient,
			traceHas: "pa-off has Private Access disabled: its connector never connects to the broker, so it cannot be reached (DEV-5)"},
		{name: "a device that never connects does not hide what the others report", q: Question{User: "a", FQDN: "ns1.example.com", Port: 3389,
			Devices: []*device.Profile{dev("pa-off", "pc9", func(p *device.Profile) { p.PrivateAccess = &off }), dev("ns", "ns1", func(p *device.Profile) { p.PrimaryDNSSuffix = "" })}},
			code: code.C2CClientNotFound, access: policy.ClientToClient, traceHas: `ns does not report "ns1.example.com": it reports "ns1" (FQDN_NO_MATCH)`},
		{name: "port outside the segment dropped at the source", q: Question{User: "a", Devices: []*device.Profile{pc}, FQDN: "PC1.example.com", Port: 22},
			code: code.CltPortNotInSegment, access: policy.ClientToClient, registered: true, regErr: code.FQDNMatch, destination: "pc", traceHas: "nothing reaches the broker"},
		{name: "destination firewall blocks", q: Question{User: "a", Devices: []*device.Profile{dev("fw", "fw", func(p *device.Profile) { p.Firewall.BlockInterfaceIP = true })}, FQDN: "fw.example.com", Port: 3389},
			policyAllowed: true, code: code.C2CMtunnelFailedForward, access: policy.ClientToClient, registered: true, regErr: code.FQDNMatch, destination: "fw", traceHas: "host firewall of fw"},
		{name: "nothing listens", q: Question{User: "a", Devices: []*device.Profile{pc}, FQDN: "pc1.example.com", Port: 7007},
			policyAllowed: true, code: code.C2CMtunnelFailedForward, access: policy.ClientToClient, registered: true, regErr: code.FQDNMatch, destination: "pc", traceHas: "nothing listens on port 7007"},
		{name: "udp is not checked against tcp services", q: Question{User: "a", Devices: []*device.Profile{pc}, FQDN: "pc1.example.com", Port: 7000, Proto: "UDP"},
			allowed: true, policyAllowed: true, access: policy.ClientToClient, registered: true, regErr: code.FQDNMatch, destination: "pc"},
		{name: "no suffix", q: Question{User: "a", Devices: []*device.Profile{dev("ns", "ns1", func(p *device.Profile) { p.PrimaryDNSSuffix = "" })}, FQDN: "ns1.example.com", Port: 3389},
			code: code.C2CClientNotFound, access: policy.ClientToClient, traceHas: "no primary DNS suffix (HV-4)"},
		{name: "duplicate FQDN: the first keeps it", q: Question{User: "a", Devices: []*device.Profile{pc, dev("pc-twin", "PC1", nil)}, FQDN: "pc1.example.com", Port: 3389},
			allowed: true, policyAllowed: true, access: policy.ClientToClient, registered: true, regErr: code.FQDNMatch, destination: "pc"},
		{name: "not available", q: Question{User: "a", Devices: []*device.Profile{dev("old", "old", func(p *device.Profile) { p.ConnectorVersion = "3.9.0.99" })}, FQDN: "old.example.com", Port: 3389},
			code: code.C2CVersionUnsupported, access: policy.ClientToClient, registered: true, regErr: code.FQDNMatch, destination: "old", traceHas: "registration of old: connector version 3.9.0.99 is older"},
		{name: "user from the source device", q: Question{From: dev("src", "src", nil), FQDN: "nobody.example.com", Port: 3389},
			code: code.C2CClientNotFound, access: policy.ClientToClient, traceHas: "source: u@example.com on src"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Explain(testConfig(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			dest := ""
			if a.Destination != nil {
				dest = a.Destination.Device
			}
			if a.Allowed != tt.allowed || a.PolicyAllowed != tt.policyAllowed || a.Code != tt.code || a.AccessType != tt.access ||
				a.FQDNRegistered != tt.registered || a.FQDNRegisteredError != tt.regErr || dest != tt.destination {
				t.Errorf("got allowed=%v policy=%v code=%q access=%q registered=%v/%q dest=%q\nwant allowed=%v policy=%v code=%q access=%q registered=%v/%q dest=%q\n%s",
					a.Allowed, a.PolicyAllowed, a.Code, a.AccessType, a.FQDNRegistered, a.FQDNRegisteredError, dest,
					tt.allowed, tt.policyAllowed, tt.code, tt.access, tt.registered, tt.regErr, tt.destination, traceOf(&a))
			}
			if !strings.Contains(strings.Join(a.Trace, "\n"), tt.traceHas) {
				t.Errorf("trace lacks %q:\n%s", tt.traceHas, traceOf(&a))
			}
			if (a.Code == "") != (a.Meaning == "") {
				t.Errorf("code %q with meaning %q", a.Code, a.Meaning)
			}
		})
	}
}

func TestExplainRefusesBadQuestions(t *testing.T) {
	bad := testConfig()
	bad.Segments = append(bad.Segments, policy.Segment{ID: "ws", Name: "again", Domains: []string{"x.example.com"}})
	tests := []struct {
		name string
		cfg  policy.Config
		q    Question
		want string
	}{
		{"no user", testConfig(), Question{FQDN: "a.example.com", Port: 1}, "no user"},
		{"no port", testConfig(), Question{User: "u", FQDN: "a.example.com"}, "has no port"},
		{"bad fqdn", testConfig(), Question{User: "u", FQDN: "a b", Port: 1}, "is not an FQDN"},
		{"bad proto", testConfig(), Question{User: "u", FQDN: "a.example.com", Port: 1, Proto: "sctp"}, `protocol "sctp"`},
		{"bad config", bad, Question{User: "u", FQDN: "a.example.com", Port: 1}, "tenant policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Explain(tt.cfg, tt.q)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestRunComparesExpectations(t *testing.T) {
	pc := dev("pc", "pc1", nil)
	cfg := testConfig()
	ten := &tenant.Tenant{ID: "t", HostnameRegexes: cfg.HostnameRegexes, Segments: cfg.Segments, Rules: cfg.Rules,
		Tests: []tenant.Test{
			{Name: "right allow", User: "a", Devices: []*device.Profile{pc}, FQDN: "pc1.example.com", Port: 3389, Proto: "tcp", ExpectAllow: true},
			{Name: "wrong expectation", Where: "t.yaml:9", User: "a", FQDN: "pc1.example.com", Port: 3389, Proto: "tcp", ExpectAllow: true},
			{Name: "right code", User: "a", FQDN: "pc1.example.com", Port: 3389, Proto: "tcp", Code: code.C2CClientNotFound},
			{Name: "wrong code", User: "a", FQDN: "pc1.example.com", Port: 3389, Proto: "tcp", Code: code.C2CNotAvailable},
			{Name: "deny without code", User: "a", FQDN: "pc1.example.com", Port: 22, Proto: "tcp"},
		}}
	want := []struct {
		pass          bool
		expected, got string
	}{
		{true, "allow", "allow (Client to Client)"},
		{false, "allow", "deny C2C_CLIENT_NOT_FOUND"},
		{true, "deny C2C_CLIENT_NOT_FOUND", "deny C2C_CLIENT_NOT_FOUND"},
		{false, "deny C2C_NOT_AVAILABLE", "deny C2C_CLIENT_NOT_FOUND"},
		{true, "deny", "deny CLT_PORT_NOT_IN_SEGMENT"},
	}
	results := Run(ten)
	if len(results) != len(want) {
		t.Fatalf("%d results, want %d", len(results), len(want))
	}
	for i, r := range results {
		w := want[i]
		if r.Pass != w.pass || r.Expected != w.expected || r.Got != w.got || r.Answer == nil || len(r.Answer.Trace) == 0 {
			t.Errorf("%s: pass=%v expected=%q got=%q, want %v %q %q", r.Name, r.Pass, r.Expected, r.Got, w.pass, w.expected, w.got)
		}
	}
	if results[1].Where != "t.yaml:9" {
		t.Errorf("Where = %q", results[1].Where)
	}
}

func TestRunReportsAnUnusablePolicy(t *testing.T) {
	cfg := testConfig()
	ten := &tenant.Tenant{Segments: append(cfg.Segments, cfg.Segments[0]),
		Tests: []tenant.Test{{Name: "x", User: "a", FQDN: "pc1.example.com", Port: 3389, ExpectAllow: true}}}
	r := Run(ten)
	if len(r) != 1 || r[0].Pass || r[0].Got != "error" || !strings.Contains(r[0].Error, "tenant policy") {
		t.Fatalf("results = %+v", r)
	}
}

// TestAnswerJSON pins the JSON names scripts rely on.
func TestAnswerJSON(t *testing.T) {
	a, err := Explain(testConfig(), Question{User: "a", Devices: []*device.Profile{dev("pc", "pc1", nil)}, FQDN: "pc1.example.com", Port: 3389})
	if err != nil {
		t.Fatal(err)
	}
	a.Rule = &Rule{ID: "r", Name: "R", Order: 1, Action: policy.Allow} // no rule decided this one; pin the names anyway
	data, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"allowed", "policyAllowed", "accessType", "segment", "rule", "fqdnRegistered", "fqdnRegisteredError", "destination", "devices", "trace"} {
		if _, ok := m[k]; !ok {
			t.Errorf("answer JSON lacks %q: %s", k, data)
		}
	}
	if _, ok := m["trace"].([]any); !ok {
		t.Errorf("trace is not an array: %s", data)
	}
}

// bigConfig is a tenant at ZPA's limits: 1,000 segments and 2,000 rules.
func bigConfig() policy.Config {
	cfg := testConfig()
	for i := range 1000 {
		cfg.Segments = append(cfg.Segments, policy.Segment{ID: fmt.Sprintf("s%d", i), Name: fmt.Sprintf("S%d", i), Enabled: true,
			Domains: []string{fmt.Sprintf("*.d%d.example.com", i)}, TCP: []policy.PortRange{{From: 3389, To: 3389}}})
	}
	for i := range 2000 {
		cfg.Rules = append(cfg.Rules, policy.Rule{ID: fmt.Sprintf("r%d", i+2), Name: fmt.Sprintf("R%d", i), Order: i + 2, Action: policy.Allow,
			Conditions: []policy.Condition{{Operands: []policy.Operand{{ObjectType: policy.ObjApp, LHS: "id", RHS: fmt.Sprintf("s%d", i%1000)}}},
				{Operands: []policy.Operand{{ObjectType: policy.ObjSCIMGroup, RHS: fmt.Sprintf("g%d", i)}}}}})
	}
	return cfg
}

// BenchmarkExplain measures one explain (engine build, one registration,
// one decision) for a small tenant and one at ZPA's limits.
func BenchmarkExplain(b *testing.B) {
	q := Question{User: "a", Devices: []*device.Profile{dev("pc", "pc1", nil)}, FQDN: "pc1.example.com", Port: 3389}
	for _, bc := range []struct {
		name string
		cfg  policy.Config
	}{{"small", testConfig()}, {"1000seg-2000rules", bigConfig()}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if a, err := Explain(bc.cfg, q); err != nil || !a.Allowed {
					b.Fatal(err, a.Code)
				}
			}
		})
	}
}

// POL-4: an expectation of undecided passes only on an undecided answer,
// and an undecided answer fails an expectation of allow or deny.
func TestRunUndecidedExpectations(t *testing.T) {
	ten, _, err := tenant.Load("../../fixtures/tenants/conditions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for i := range ten.Tests {
		tt := &ten.Tests[i]
		flip := policy.VerdictUndecided
		if tt.Expect == policy.VerdictUndecided {
			flip, tt.Code = policy.VerdictDenied, ""
		}
		tt.Expect, tt.ExpectAllow = flip, false
	}
	for _, r := range Run(ten) {
		if r.Pass {
			t.Errorf("%s: passes with the wrong expectation %s (got %s)", r.Name, r.Expected, r.Got)
		}
	}
}
