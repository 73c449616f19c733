package tenant

import (
	"errors"
	"strings"
	"testing"

	"github.com/c2clab/c2clab/sim/configfile"
)

// seg1 is a valid segment, for inputs that break something else.
const seg1 = "applicationSegments:\n  - id: s1\n    name: S1\n    domainNames: [\"*.example.com\"]\n    tcpPortRange: [{from: 3389}]\n"

// badInputs are tenant files an admin gets wrong, each with the error it
// must give: FILE:LINE: FIELD: what is wrong and what is accepted. They
// complement TestBrokenTenants and TestParseErrorsAndWarnings, and seed
// FuzzParse.
var badInputs = []struct {
	name, in, want string
}{
	{"segments not a list", head + "applicationSegments: {name: S}\n",
		"t.yaml:3: applicationSegments: is a mapping, want a list"},
	{"groups not a list", head + "users: [{name: a@example.com, groups: helpdesk}]\n",
		`t.yaml:3: users[0].groups: is "helpdesk", want a list`},
	{"port range not a mapping", head + "applicationSegments:\n  - name: S\n    domainNames: [a.example.com]\n    tcpPortRange: [3389]\n",
		`t.yaml:6: applicationSegments[0].tcpPortRange[0]: is "3389", want a mapping with fields from, to`},
	{"port a list", head + "applicationSegments:\n  - name: S\n    domainNames: [a.example.com]\n    tcpPortRange: [{from: [3389]}]\n",
		"t.yaml:6: applicationSegments[0].tcpPortRange[0].from: is a list, want a string"},
	{"wrong type inside a ZPA export", head + "application:\n  list:\n    - id: \"1\"\n      domainNames: a.example.com\n",
		`t.yaml:6: application.list[0].domainNames: is "a.example.com", want a list`},
	{"unknown field in an operand", head + seg1 + "rules:\n  - name: R\n    action: allow\n    conditions:\n      - operands:\n          - {objecttype: APP, rhs: s1}\n",
		"t.yaml:13: rules[0].conditions[0].operands[0].objecttype: field objecttype not found; want one of: objectType, lhs, rhs, name, idpId"},
	{"user listed twice", head + "users:\n  - {name: a@example.com}\n  - {name: a@example.com}\n",
		`t.yaml:5: users[1].name: user "a@example.com" is listed twice`},
	{"segment group listed twice", head + "segmentGroups:\n  - {id: g1}\n  - {id: g1, name: other}\n",
		`t.yaml:5: segmentGroups[1].id: id "g1" is listed twice`},
	{"server group listed twice", head + "serverGroups:\n  - {id: g1}\n  - {name: g1}\n",
		`t.yaml:5: serverGroups[1].id: id "g1" is listed twice`},
	{"pattern with a glob in the last label", head + "applicationSegments:\n  - name: S\n    domainNames: [\"foo.*.example.c?m\"]\n    tcpPortRange: [{from: 1}]\n",
		`t.yaml:5: applicationSegments[0].domainNames[0]: parse domain "foo.*.example.c?m": the last label "c?m" of a pattern must be literal`},
	{"pattern with a bad character", head + "applicationSegments:\n  - name: S\n    domainNames: [\"*ex!ample.com\"]\n    tcpPortRange: [{from: 1}]\n",
		`t.yaml:5: applicationSegments[0].domainNames[0]: parse domain "*ex!ample.com": label "*ex!ample" has '!'`},
	{"a pattern of one label", head + "applicationSegments:\n  - name: S\n    domainNames: [\"desk*\"]\n    tcpPortRange: [{from: 1}]\n",
		`t.yaml:5: applicationSegments[0].domainNames[0]: parse domain "desk*": a pattern needs a literal last label`},
	{"wildcard as the last label", head + "applicationSegments:\n  - name: S\n    domainNames: [\"example.*\"]\n    tcpPortRange: [{from: 1}]\n",
		`t.yaml:5: applicationSegments[0].domainNames[0]: parse domain "example.*"`},
	{"flat port range reversed", head + "applicationSegments:\n  - name: S\n    domainNames: [a.example.com]\n    tcpPortRanges: [\"445\", \"139\"]\n",
		"t.yaml:6: applicationSegments[0].tcpPortRanges[0]: from 445 is greater than to 139"},
	{"flat port over 65535", head + "applicationSegments:\n  - name: S\n    domainNames: [a.example.com]\n    udpPortRanges: [\"53\", \"65536\"]\n",
		`t.yaml:6: applicationSegments[0].udpPortRanges[1]: is "65536", want a port 1-65535`},
	{"negative port", head + "applicationSegments:\n  - name: S\n    domainNames: [a.example.com]\n    tcpPortRange: [{from: -1, to: 10}]\n",
		`t.yaml:6: applicationSegments[0].tcpPortRange[0].from: is "-1", want a port 1-65535`},
	{"port zero as the end", head + "applicationSegments:\n  - name: S\n    domainNames: [a.example.com]\n    tcpPortRange: [{from: 1, to: 0}]\n",
		`t.yaml:6: applicationSegments[0].tcpPortRange[0].to: is "0", want a port 1-65535`},
	{"port range written as one string", head + "applicationSegments:\n  - name: S\n    domainNames: [a.example.com]\n    tcpPortRange: [{from: \"3389-3390\"}]\n",
		`t.yaml:6: applicationSegments[0].tcpPortRange[0].from: is "3389-3390", want a port 1-65535`},
	{"port with a fraction", head + "applicationSegments:\n  - name: S\n    domainNames: [a.example.com]\n    tcpPortRange: [{from: 3389.5}]\n",
		`t.yaml:6: applicationSegments[0].tcpPortRange[0].from: is "3389.5", want a port 1-65535`},
	{"negative rule order", head + seg1 + "rules:\n  - {name: R, action: allow, ruleOrder: -1}\n",
		`t.yaml:9: rules[0].ruleOrder: is "-1", want a whole number`},
	{"segment without a name", head + "applicationSegments:\n  - domainNames: [a.example.com]\n",
		"t.yaml:4: applicationSegments[0].name: missing; want a segment name"},
	{"empty file", "", "t.yaml: file is empty"},
	{"not YAML", "name: [t\n", "t.yaml:1: did not find expected ',' or ']'"},
}

// TestBadInputNamesFileLineField checks each bad input's error, and that
// every error of it is a *configfile.Error.
func TestBadInputNamesFileLineField(t *testing.T) {
	for _, tt := range badInputs {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parseString(t, tt.in)
			if err == nil {
				t.Fatal("loaded without error")
			}
			var ce *configfile.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err %T is not a *configfile.Error: %v", err, err)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if strings.HasPrefix(line, tt.want) {
					return
				}
			}
			t.Fatalf("no error line starts with %q; got:\n%v", tt.want, err)
		})
	}
}
