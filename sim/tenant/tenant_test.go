package tenant

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/configfile"
	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/domain"
	"github.com/c2clab/c2clab/sim/policy"
)

const fixtures = "../../fixtures/tenants"

// TestShippedTenantsLoad loads every shipped tenant and checks it warns
// exactly about what it is meant to show.
func TestShippedTenantsLoad(t *testing.T) {
	tests := []struct {
		file      string
		wantWarns []string // each must appear in one warning, and no others
	}{
		{"shared-namespace.yaml", nil},
		{"strict.yaml", []string{`applicationSegments[1].domainNames[0]: no name under "*.kiosk.example.com" can match`}},
		{"no-regex.yaml", []string{"clientHostnameValidation: no client hostname validation regex"}},
		{"two-regexes.yaml", []string{"clientHostnameValidation: 2 regexes"}},
		{"bad-regex.yaml", []string{"clientHostnameValidation[0]: regex", "FQDN_BAD_REGEX"}},
		{"zpa-export.json", []string{
			`policySet.rules[3].disabled: rule "Temporary Vendor Access" is disabled`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ten, warns, err := Load(filepath.Join(fixtures, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(ten.Tests) == 0 {
				t.Error("tenant has no tests")
			}
			var got []string
			for _, w := range warns {
				got = append(got, w.String())
			}
			all := strings.Join(got, "\n")
			for _, want := range tt.wantWarns {
				if !strings.Contains(all, want) {
					t.Errorf("warnings lack %q; got:\n%s", want, all)
				}
			}
			if tt.wantWarns == nil && len(got) > 0 {
				t.Errorf("unexpected warnings:\n%s", all)
			}
			for i, w := range warns {
				if w.File == "" || w.Line == 0 || w.Field == "" {
					t.Errorf("warning %q does not name file, line and field", w)
				}
				if i > 0 && w.Line < warns[i-1].Line {
					t.Errorf("warnings are not in file order:\n%s", all)
				}
			}
		})
	}
}

// TestErrorsWrapTheirCause: an error shown with file, line and field still
// unwraps to what caused it, so that callers can branch on it.
func TestErrorsWrapTheirCause(t *testing.T) {
	seg := "applicationSegments:\n  - id: s1\n    domainNames: [\"*.example.com\"]\n    tcpPortRange: [{from: 1}]\n"
	tests := []struct {
		name, in string
		want     error
	}{
		{"bad domain", head + "applicationSegments:\n  - name: S\n    domainNames: [a..example.com]\n", domain.ErrInvalid},
		{"domain in two segments", head + seg + "  - id: s2\n    domainNames: [\"*.example.com\"]\n    tcpPortRange: [{from: 1}]\n", domain.ErrDuplicate},
		{"bad test target", head + "tests: [{name: x, user: u, to: \"a..b:1\", expect: deny}]\n", domain.ErrInvalid},
		{"missing device file", head + "tests: [{name: x, user: u, to: \"a.example.com:1\", expect: deny, devices: [none.yaml]}]\n", fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parse("t.yaml", []byte(tt.in), deviceFiles{
				resolve: func(name string) (string, error) { return name, nil },
				load:    func(string) (*device.Profile, error) { return nil, fs.ErrNotExist },
			})
			var ce *configfile.Error
			if !errors.Is(err, tt.want) || !errors.As(err, &ce) || ce.Line == 0 {
				t.Fatalf("err = %v, want a *configfile.Error with a line wrapping %v", err, tt.want)
			}
		})
	}
}

// TestBrokenTenants checks that each deliberately broken fixture fails with
// errors naming file, line and field.
func TestBrokenTenants(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"unknown-field.yaml", []string{"unknown-field.yaml:7: applicationSegments[0].domainName: field domainName not found"}},
		{"duplicate-segment.yaml", []string{`duplicate-segment.yaml:9: applicationSegments[1].id: segment id "seg1" is used twice`}},
		{"bad-wildcard.yaml", []string{`bad-wildcard.yaml:9: applicationSegments[0].domainNames[1]: parse domain "desktop-*.example.c*m"`, "'*' and '?' inside labels before the last"}},
		{"bad-port.yaml", []string{
			`bad-port.yaml:8: applicationSegments[0].tcpPortRange[0].to: is "70000", want a port 1-65535`,
			`bad-port.yaml:9: applicationSegments[0].tcpPortRange[1]: from 445 is greater than to 139`,
		}},
		{"bad-enabled.yaml", []string{`bad-enabled.yaml:6: applicationSegments[0].enabled: is "sometimes", want true or false`}},
		{"unknown-action.yaml", []string{`unknown-action.yaml:12: rules[0].action: is "PERMIT", want ALLOW, DENY or REQUIRE_APPROVAL`}},
		{"unknown-operand-ref.yaml", []string{`unknown-operand-ref.yaml:14: rules[0].conditions[0].operands[0].rhs: segment "seg2" does not exist`}},
		{"bad-test.yaml", []string{
			`bad-test.yaml:12: tests[0].to: "desktop-10B38-AC.example.com" is not host:port`,
			`bad-test.yaml:17: tests[1].expect: is "maybe", want allow, deny or undecided`,
			`bad-test.yaml:22: tests[2].code: "C2C_SOMETHING_ELSE" is not a code the lab knows`,
		}},
		{"missing-device.yaml", []string{`missing-device.yaml:12: tests[0].devices[0]: device file "../../devices/no-such-device.yaml"`, "does not exist"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, _, err := Load(filepath.Join(fixtures, "broken", tt.file))
			if err == nil {
				t.Fatal("loaded without error")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q; got:\n%v", want, err)
				}
			}
		})
	}
}

// parseString parses an inline tenant with a fake device loader.
func parseString(t *testing.T, in string) (*Tenant, []Warning, error) {
	t.Helper()
	return parse("t.yaml", []byte(in), fakeFiles)
}

var fakeFiles = deviceFiles{resolve: func(name string) (string, error) { return name, nil }, load: fakeDevice}

func fakeDevice(path string) (*device.Profile, error) {
	return &device.Profile{Name: filepath.Base(path), Hostname: "desktop-10B38-AC", PrimaryDNSSuffix: "example.com",
		OS: device.Windows, ConnectorVersion: "4.5", JoinState: device.JoinAD, LoggedIn: true, User: "dev@example.com"}, nil
}

const head = "name: t\nclientHostnameValidation: ['.*\\.example\\.com']\n"

func TestParseErrorsAndWarnings(t *testing.T) {
	seg := "applicationSegments:\n  - id: s1\n    name: S1\n    domainNames: [\"*.example.com\"]\n    tcpPortRange: [{from: 3389}]\n"
	tests := []struct {
		name, in string
		wantErr  string // "" for success
		wantWarn string
	}{
		{"minimal", head + seg, "", ""},
		{"implicit policy", head + "implicitPolicy: deny\n", "t.yaml:3: implicitPolicy: is \"deny\", want allow", ""},
		{"duplicate segment name", head + seg + "  - id: s2\n    name: S1\n    domainNames: [a.example.com]\n    tcpPortRange: [{from: 1}]\n",
			`t.yaml:9: applicationSegments[1].name: segment name "S1" is already used`, ""},
		{"duplicate domain", head + seg + "  - id: s2\n    domainNames: [\"*.EXAMPLE.com\"]\n    tcpPortRange: [{from: 1}]\n",
			`t.yaml:9: applicationSegments[1].domainNames[0]: "*.EXAMPLE.com" is also a domain of segment "S1" (id s1); a domain belongs to one segment (SEG-3 picks the segment by domain alone)`, ""},
		{"duplicate domain after an IP address", head + seg + "application:\n  list:\n    - {id: s2, domainNames: [\"10.0.0.1\", \"*.example.com\"], tcpPortRanges: [\"1\", \"1\"]}\n",
			`t.yaml:10: application.list[0].domainNames[1]: "*.example.com" is also a domain of segment "S1" (id s1)`, ""},
		{"duplicate domain reported with the other errors", head + seg + "  - id: s2\n    domainNames: [\"*.example.com\"]\n    tcpPortRange: [{from: 1}]\nimplicitPolicy: maybe\n",
			`t.yaml:9: applicationSegments[1].domainNames[0]: "*.example.com" is also a domain of segment "S1"`, ""},
		{"domain twice in one segment warns", head + "applicationSegments:\n  - name: S\n    domainNames: [a.example.com, A.example.com]\n    tcpPortRange: [{from: 1}]\n", "",
			`t.yaml:5: applicationSegments[0].domainNames[1]: "A.example.com" is listed twice in this segment (domainNames[0]); it counts once`},
		{"no domains", head + "applicationSegments:\n  - name: S\n    tcpPortRange: [{from: 1}]\n", "applicationSegments[0].domainNames: missing", ""},
		{"trailing dot accepted", head + "applicationSegments:\n  - name: S\n    domainNames: [a.example.com.]\n    tcpPortRange: [{from: 1}]\n", "", ""},
		{"odd flat ports", head + "applicationSegments:\n  - name: S\n    domainNames: [a.example.com]\n    tcpPortRanges: [\"1\"]\n", "tcpPortRanges: has 1 entries", ""},
		{"port zero", head + "applicationSegments:\n  - name: S\n    domainNames: [a.example.com]\n    udpPortRange: [{from: 0, to: 0}]\n", `udpPortRange[0].from: is "0", want a port 1-65535`, ""},
		{"no ports warns", head + "applicationSegments:\n  - name: S\n    domainNames: [a.example.com]\n", "", "has no TCP or UDP ports"},
		{"unknown segment group", head + "segmentGroups: [{id: g1}]\napplicationSegments:\n  - name: S\n    domainNames: [a.example.com]\n    tcpPortRange: [{from: 1}]\n    segmentGroupId: g2\n",
			`segmentGroupId: segment group "g2" is not in segmentGroups`, ""},
		{"unknown server group", head + "serverGroups: [{id: g1}]\napplicationSegments:\n  - name: S\n    domainNames: [a.example.com]\n    tcpPortRange: [{from: 1}]\n    serverGroups: [{id: g2}]\n",
			`serverGroups[0].id: server group "g2" is not in serverGroups`, ""},
		{"exact FQDN outside regex warns", head + "applicationSegments:\n  - name: S\n    domainNames: [desk.example.org]\n    tcpPortRange: [{from: 1}]\n", "",
			`t.yaml:5: applicationSegments[0].domainNames[0]: "desk.example.org" does not match the client hostname validation regex '.*\.example\.com'`},
		{"SEG-1 still warns when another part has errors", head + "implicitPolicy: maybe\napplicationSegments:\n  - name: S\n    domainNames: [desk.example.org]\n    tcpPortRange: [{from: 1}]\n",
			"implicitPolicy", `applicationSegments[0].domainNames[0]: "desk.example.org" does not match`},
		{"server segment outside regex is fine", head + "applicationSegments:\n  - name: S\n    domainNames: [app.example.org]\n    tcpPortRange: [{from: 1}]\n    serverGroups: [{id: g}]\n", "", ""},
		{"duplicate rule", head + seg + "rules:\n  - {id: r1, name: R, action: allow}\n  - {id: r2, name: R, action: deny}\n", `rules[1].name: rule name "R" is already used by rules[0]`, ""},
		{"duplicate rule id", head + seg + "rules:\n  - {id: r1, name: R, action: allow}\n  - {id: r1, name: Q, action: deny}\n", `t.yaml:10: rules[1].id: rule id "r1" is used twice`, ""},
		{"bad rule order", head + seg + "rules:\n  - {name: R, action: allow, ruleOrder: first}\n", `rules[0].ruleOrder: is "first", want a whole number`, ""},
		{"equal rule orders warn", head + seg + "rules:\n  - {name: R, action: allow, ruleOrder: 1}\n  - {name: Q, action: allow, ruleOrder: 1}\n", "", "ruleOrder 1 is also rules[0]'s"},
		{"bad operator", head + seg + "rules:\n  - {name: R, action: allow, operator: XOR}\n", `rules[0].operator: is "XOR", want AND or OR`, ""},
		{"unknown segment group operand", head + seg + "rules:\n  - name: R\n    action: allow\n    conditions: [{operands: [{objectType: APP_GROUP, rhs: nope}]}]\n",
			`operands[0].rhs: segment group "nope" does not exist`, ""},
		{"bad platform", head + seg + "rules:\n  - name: R\n    action: allow\n    conditions: [{operands: [{objectType: PLATFORM, lhs: beos}]}]\n",
			`operands[0].lhs: is "beos", want windows, mac, linux, ios or android`, ""},
		{"bad platform rhs", head + seg + "rules:\n  - name: R\n    action: allow\n    conditions: [{operands: [{objectType: PLATFORM, lhs: Windows, rhs: yes}]}]\n",
			`operands[0].rhs: is "yes", want true`, ""},
		{"bad posture rhs", head + seg + "rules:\n  - name: R\n    action: allow\n    conditions: [{operands: [{objectType: POSTURE, lhs: p, rhs: maybe}]}]\n",
			`operands[0].rhs: is "maybe", want true`, ""},
		{"an operand type never known warns", head + seg + "rules:\n  - name: R\n    action: allow\n    conditions: [{operands: [{objectType: CHROME_ENTERPRISE, lhs: managed, rhs: \"true\"}]}]\n",
			"", "t.yaml:11: rules[0].conditions[0].operands[0].objectType: the lab models no Chrome browser, so CHROME_ENTERPRISE is never known"},
		{"an unknown operand type in an export warns at its line", head + seg + "rules:\n  - {name: Off, action: allow, disabled: \"1\"}\npolicySet:\n  rules:\n    - name: R\n      action: allow\n      conditions:\n        - operands:\n            - {objectType: NEW_THING, rhs: \"1\"}\n",
			"", "t.yaml:16: policySet.rules[0].conditions[0].operands[0].objectType: NEW_THING is not an object type"},
		{"two regexes warn", "name: t\nclientHostnameValidation: ['a', '(']\n", "",
			"t.yaml:2: clientHostnameValidation: 2 regexes: ZPA accepts exactly one"},
		{"a bad regex among two warns at its index", "name: t\nclientHostnameValidation:\n  - a\n  - (\n", "",
			"t.yaml:4: clientHostnameValidation[1]: regex '(' does not compile"},
		{"unknown scim group warns", head + seg + "users: [{name: a@example.com, groups: [g]}]\nrules:\n  - name: R\n    action: allow\n    conditions: [{operands: [{objectType: SCIM_GROUP, rhs: other}]}]\n",
			"", `no user in users is in group "other"`},
		{"strict outside export", head + "policy: {rules: []}\n", "t.yaml:3: policy: field policy not found", ""},
		{"lax inside export", head + "application:\n  list:\n    - {id: \"1\", name: A, domainNames: [a.example.com], tcpPortRanges: [\"1\", \"1\"], icmpAccessType: PING}\npolicySet: {id: \"9\", sorted: true, rules: [{name: R, action: ALLOW, priority: \"1\"}]}\n", "",
			"t.yaml:5: application.list[0].icmpAccessType: fields of application segments the lab ignores, none of which can change a decision: icmpAccessType (cannot change a decision)"},
		{"unknown field inside export can change a decision", head + "application:\n  list:\n    - {id: \"1\", name: A, domainNames: [a.example.com], tcpPortRanges: [\"1\", \"1\"], newThing: on}\n", "",
			`application.list[0].newThing: newThing of an application segment is "on" and is ignored: a field the lab does not know, so it cannot say it is harmless (can change a decision)`},
		{"test without user", head + seg + "tests: [{name: x, to: \"a.example.com:1\", expect: allow}]\n", "tests[0].user: missing", ""},
		{"test allow with code", head + seg + "tests: [{name: x, user: u, to: \"a.example.com:1\", expect: allow, code: C2C_NOT_AVAILABLE}]\n",
			`tests[0].code: is "C2C_NOT_AVAILABLE" but expect is allow`, ""},
		{"test bad proto", head + seg + "tests: [{name: x, user: u, to: \"a.example.com:1\", proto: sctp, expect: allow}]\n", `tests[0].proto: is "sctp"`, ""},
		{"duplicate test", head + seg + "tests: [{name: x, user: u, to: \"a.example.com:1\", expect: allow}, {name: x, user: u, to: \"a.example.com:1\", expect: allow}]\n",
			`tests[1].name: test name "x" is used twice`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, warns, err := parseString(t, tt.in)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			var ws []string
			for _, w := range warns {
				ws = append(ws, w.String())
			}
			all := strings.Join(ws, "\n")
			if tt.wantWarn == "" && tt.wantErr == "" && len(ws) > 0 {
				t.Errorf("unexpected warnings:\n%s", all)
			}
			if tt.wantWarn != "" && !strings.Contains(all, tt.wantWarn) {
				t.Errorf("warnings lack %q; got:\n%s", tt.wantWarn, all)
			}
		})
	}
}

func TestPolicyConversion(t *testing.T) {
	in := head + `implicitPolicy: BLOCK
users:
  - {name: a@example.com, groups: [helpdesk]}
applicationSegments:
  - name: WS
    domainNames: ["*.example.com"]
    tcpPortRange: [{from: "3389", to: 3389}, {from: 5000, to: "5010"}]
    tcpPortRanges: ["3389", "3389", "445", "445"]
    udpPortRange: [{from: 53}]
  - id: s2
    name: Off
    enabled: false
    domainNames: [off.example.com]
    tcpPortRange: [{from: 1}]
rules:
  - name: second in file, first by order
    action: deny
    ruleOrder: "1"
    conditions:
      - negated: true
        operands: [{objectType: app, lhs: id, rhs: WS}]
  - {name: no order, action: Allow}
tests:
  - {name: t1, user: a@example.com, from: src.yaml, to: "desktop-10B38-AC.example.com:3389", devices: [d.yaml, d.yaml], expect: allow}
  - {name: t2, from: src.yaml, to: "x.example.com:53", proto: UDP, expect: deny, code: C2C_CLIENT_NOT_FOUND}
`
	ten, warns, err := parseString(t, in)
	if err != nil || len(warns) > 0 {
		t.Fatalf("err = %v, warnings = %v", err, warns)
	}
	cfg := ten.Policy()
	want := policy.Config{
		Tenant:          "t",
		HostnameRegexes: []string{`.*\.example\.com`},
		ImplicitBlock:   true,
		Segments: []policy.Segment{
			{ID: "WS", Name: "WS", Enabled: true, Domains: []string{"*.example.com"},
				TCP: []policy.PortRange{pr(3389, 3389), pr(5000, 5010), pr(445, 445)}, UDP: []policy.PortRange{pr(53, 53)}},
			{ID: "s2", Name: "Off", Domains: []string{"off.example.com"}, TCP: []policy.PortRange{pr(1, 1)}},
		},
		Rules: []policy.Rule{
			{ID: "second in file, first by order", Name: "second in file, first by order", Order: 1, Action: policy.Deny, Operator: "AND",
				Conditions: []policy.Condition{{Operator: "OR", Negated: true, Operands: []policy.Operand{{ObjectType: "APP", LHS: "id", RHS: "WS"}}}}},
			{ID: "no order", Name: "no order", Order: 2, Action: policy.Allow, Operator: "AND"},
		},
		Users: []policy.User{{Name: "a@example.com", Groups: policy.Known("helpdesk")}},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("Policy() =\n%+v\nwant\n%+v", cfg, want)
	}
	e, err := ten.Engine()
	if err != nil || !reflect.DeepEqual(e.Config(), cfg) {
		t.Fatalf("Engine() = %v with %+v, want the engine of Policy()", err, e.Config())
	}
	// The config shares nothing with the tenant.
	cfg.Segments[0].Domains[0] = "changed"
	cfg.Rules[0].Conditions[0].Operands[0].RHS = "changed"
	if ten.Segments[0].Domains[0] != "*.example.com" || ten.Rules[0].Conditions[0].Operands[0].RHS != "WS" {
		t.Fatal("Policy() shares slices with the tenant")
	}
	t1, t2 := ten.Tests[0], ten.Tests[1]
	if t1.FQDN != "desktop-10B38-AC.example.com" || t1.Port != 3389 || t1.Proto != "tcp" || !t1.ExpectAllow || t1.Where != "t.yaml:26" {
		t.Errorf("test 1 = %+v", t1)
	}
	if len(t1.Devices) != 2 || t1.Devices[0] != t1.Devices[1] {
		t.Errorf("a device file named twice should be loaded once: %+v", t1.Devices)
	}
	if t2.User != "dev@example.com" || t2.Proto != "udp" || t2.ExpectAllow || t2.Code != code.C2CClientNotFound {
		t.Errorf("test 2 = %+v; want the user of its from: device, udp, deny C2C_CLIENT_NOT_FOUND", t2)
	}
}

func pr(from, to uint16) policy.PortRange { return policy.PortRange{From: from, To: to} }

func TestZPAExportImport(t *testing.T) {
	ten, _, err := Load(filepath.Join(fixtures, "zpa-export.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ten.Name != "Example Corp" || ten.ID != "72058304855015424" || !ten.ImplicitBlock {
		t.Errorf("tenant = %q %q block=%v", ten.Name, ten.ID, ten.ImplicitBlock)
	}
	var ids []string
	for _, s := range ten.Segments {
		ids = append(ids, s.ID)
	}
	if want := []string{"216196257331282070", "216196257331282071", "216196257331282072"}; !slices.Equal(ids, want) {
		t.Fatalf("segments = %v, want %v", ids, want)
	}
	ws, sap, jump := ten.Segments[0], ten.Segments[1], ten.Segments[2]
	if !reflect.DeepEqual(ws.TCP, []policy.PortRange{pr(3389, 3389), pr(445, 445)}) || ws.GroupID != "216196257331282060" || len(ws.ServerGroups) != 0 {
		t.Errorf("workstation segment = %+v; want both port forms merged without repeats", ws)
	}
	if !slices.Equal(sap.Domains, []string{"sap.example.com"}) || !slices.Equal(sap.ServerGroups, []string{"216196257331282080"}) {
		t.Errorf("SAP segment = %+v; want the IP dropped and its server group kept", sap)
	}
	if jump.Enabled {
		t.Error("the disabled jump host segment is enabled")
	}
	var rules []string
	for _, r := range ten.Rules {
		rules = append(rules, r.ID)
	}
	if want := []string{"216196257331283001", "216196257331283002", "216196257331283003"}; !slices.Equal(rules, want) {
		t.Fatalf("rules = %v, want %v (the disabled rule left out)", rules, want)
	}
	op := ten.Rules[0].Conditions[1].Operands[0]
	if op != (policy.Operand{ObjectType: "SCIM_GROUP", LHS: "216196257331281933", RHS: "1102380", IdpID: "216196257331281933", Name: "Contractors"}) {
		t.Errorf("operand = %+v", op)
	}
	if len(ten.Tests) != 5 || ten.Tests[0].From == nil || ten.Tests[0].From.User != "admin@example.com" {
		t.Errorf("tests not loaded with their devices: %+v", ten.Tests)
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in      string
		host    string
		port    uint16
		wantErr string
	}{
		{"desktop-10B38-AC.example.com:3389", "desktop-10B38-AC.example.com", 3389, ""},
		{"a.example.com:65535", "a.example.com", 65535, ""},
		{"a.example.com", "", 0, "is not host:port"},
		{"a.example.com:0", "", 0, "port \"0\" is not 1-65535"},
		{"a.example.com:rdp", "", 0, "is not 1-65535"},
		{"*.example.com:3389", "", 0, "not a wildcard"},
		{"a..example.com:3389", "", 0, "empty label"},
		{":3389", "", 0, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			host, port, err := ParseTarget(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || host != tt.host || port != tt.port {
				t.Fatalf("= %q %d %v, want %q %d", host, port, err, tt.host, tt.port)
			}
		})
	}
}

func TestShippedDevicesLoad(t *testing.T) {
	paths, err := filepath.Glob("../../fixtures/devices/*.yaml")
	if err != nil || len(paths) < 20 {
		t.Fatalf("found %d device fixtures (%v)", len(paths), err)
	}
	hosts := map[string]string{}
	for _, p := range paths {
		d, err := device.Load(p)
		if err != nil {
			t.Error(err)
			continue
		}
		// One lab runs every fixture at once, so hostnames must be unique.
		if prev, dup := hosts[strings.ToLower(d.Hostname)]; dup {
			t.Errorf("%s and %s share hostname %q", prev, p, d.Hostname)
		}
		hosts[strings.ToLower(d.Hostname)] = p
		if d.InterfaceIP != "" {
			t.Errorf("%s sets interfaceIP; leave it to the lab", p)
		}
	}
}

func TestParseFS(t *testing.T) {
	fixtureFS := os.DirFS("../../fixtures")
	ten, _, err := ParseFS(fixtureFS, "tenants/strict.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if ten.Path != "tenants/strict.yaml" || len(ten.Tests) == 0 || ten.Tests[0].Devices[0].Name != "win-3.9.0.169-ad" {
		t.Fatalf("tenant %q with tests %+v", ten.Path, ten.Tests)
	}
	mem := fstest.MapFS{
		"t/escape.yaml":  {Data: []byte(head + "tests: [{name: x, user: u, to: \"a.example.com:1\", expect: deny, devices: [../../outside.yaml]}]\n")},
		"t/missing.yaml": {Data: []byte(head + "tests: [{name: x, user: u, to: \"a.example.com:1\", expect: deny, devices: [d/none.yaml]}]\n")},
	}
	tests := []struct{ file, want string }{
		{"t/escape.yaml", `t/escape.yaml:3: tests[0].devices[0]: device file "../../outside.yaml": leaves the file system`},
		{"t/missing.yaml", `t/missing.yaml:3: tests[0].devices[0]: device file "d/none.yaml" (t/d/none.yaml) does not exist`},
		{"t/absent.yaml", "load tenant: open t/absent.yaml: file does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, _, err := ParseFS(mem, tt.file)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
