package tenant

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/policy"
)

// zpaFixtures is fixtures/zpa: ZPA API bodies as Zscaler's SDK cassettes
// record them (fixtures/README.md names the source of each).
const zpaFixtures = "../../fixtures/zpa/"

// readSources reads files, a directory standing for its *.json files.
func readSources(t *testing.T, paths ...string) []Source {
	t.Helper()
	var out []Source
	for _, p := range paths {
		files := []string{p}
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			files, _ = filepath.Glob(filepath.Join(p, "*.json"))
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, Source{Name: f, Data: data})
		}
	}
	return out
}

// TestImportRefusesIncompleteSets: every incomplete set of
// fixtures/zpa is an error naming the body's file, line and field and
// what to give, never a smaller tenant (IMP-2).
func TestImportRefusesIncompleteSets(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"page 1 of 2 of segments and of rules", []string{zpaFixtures + "incomplete-pages"}, []string{
			"incomplete-pages/application.page-1.json:2: totalPages: is 2, but 1 page(s) of application segments are given: give every page of GET /mgmtconfig/v1/admin/customers/{customerId}/application",
			"incomplete-pages/rules.ACCESS_POLICY.page-1.json:2: totalPages: is 2, but 1 page(s) of access rules are given: give every page of GET /mgmtconfig/v1/admin/customers/{customerId}/policySet/rules/policyType/ACCESS_POLICY",
		}},
		{"the policy set body alone", []string{zpaFixtures + "policyset-only"}, []string{
			"policyset-only/policySet.ACCESS_POLICY.json:1: is the access policy set (GET /mgmtconfig/v1/admin/customers/{customerId}/policySet/policyType/ACCESS_POLICY), which ZPA returns without its rules: the rules come from GET /mgmtconfig/v1/admin/customers/{customerId}/policySet/rules/policyType/ACCESS_POLICY",
		}},
		{"a rule naming a segment the pages lack", []string{zpaFixtures + "dangling-segment"}, []string{
			`dangling-segment/rules.ACCESS_POLICY.page-1.json:37: list[0].conditions[0].operands[0].rhs: segment "216199618143191130" does not exist`,
		}},
		{"v2 operands naming segments not given", []string{zpaFixtures + "v2"}, []string{
			`v2/rule-v2.request.json:17: conditions[0].operands[0].values[0]: segment "216199618143191130" does not exist`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			im, err := Import(readSources(t, tt.in...), ImportOptions{Output: filepath.Join(t.TempDir(), "t.yaml")})
			if err == nil {
				t.Fatalf("imported %d segments and %d rules; want an error", len(im.Tenant.Segments), len(im.Tenant.Rules))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks\n  %s\ngot:\n%v", w, err)
				}
			}
		})
	}
}

// TestImportSingles: a single GET /application/{id} and a single
// GET /policySet/{id}/rule/{ruleId} load as one segment and one rule.
func TestImportSingles(t *testing.T) {
	im, err := Import(readSources(t, zpaFixtures+"single"), ImportOptions{Output: filepath.Join(t.TempDir(), "t.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Tenant.Segments) != 1 || im.Tenant.Segments[0].ID != "216199618143191130" {
		t.Errorf("segments = %+v, want the one segment of the body", im.Tenant.Segments)
	}
	if len(im.Tenant.Rules) != 1 || im.Tenant.Rules[0].Name != "Helpdesk RDP to desktops" {
		t.Errorf("rules = %+v, want the one rule of the body", im.Tenant.Rules)
	}
	want := []string{"an application segment", "an access rule"}
	var got []string
	for _, s := range im.Sources {
		got = append(got, s.What)
	}
	if !slices.Equal(got, want) {
		t.Errorf("recognized as %q, want %q", got, want)
	}
	// No SCIM group, IdP, ... body was given: the report says so, once
	// per operand type, as something that can change a decision.
	var unnamed []string
	for _, w := range im.Warnings {
		if strings.Contains(w.Msg, "name their object by id only") && !w.NoDecision {
			unnamed = append(unnamed, w.Msg)
		}
	}
	if len(unnamed) == 0 {
		t.Errorf("no warning that operands name objects by id only; got %v", im.Warnings)
	}
}

const bodiesHead = "name: t\nclientHostnameValidation: ['.*\\.example\\.com']\n"

// A segment page and a rule page as ZPA returns them (shapes of
// zscaler-sdk-python tests/integration/zpa/cassettes/TestApplicationSegment.yaml
// and TestAccessPolicyRule.yaml), cut to what each test needs.
const (
	appA     = `{"id": "1", "name": "A", "domainNames": ["a.example.com"], "tcpPortRanges": ["3389", "3389"], "segmentGroupId": "g1"}`
	appB     = `{"id": "2", "name": "B", "domainNames": ["b.example.com"], "tcpPortRange": [{"from": "22", "to": "22"}], "segmentGroupId": "g1"}`
	ruleR    = `{"id": "r1", "name": "R", "ruleOrder": "1", "action": "ALLOW", "policySetId": "9", "conditions": [{"operator": "OR", "operands": [{"objectType": "APP", "lhs": "id", "rhs": "1"}]}]}`
	scimPage = `{"totalPages": 1, "totalCount": 2, "list": [{"id": 41, "name": "Helpdesk", "idpId": 7, "internalId": "x"}, {"id": 42, "name": "Admins", "idpId": 7, "internalId": "y"}]}`
)

// TestPastedShapes: every shape of a body loads pasted as it is, or is
// refused with what to give instead.
func TestPastedShapes(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		segs     int
		rules    int
		wantErr  string
		wantWarn string
	}{
		{"one page", "application: {totalPages: \"1\", totalCount: \"2\", list: [" + appA + ", " + appB + "]}\n", 2, 0, "", ""},
		{"two pages", "application:\n  - {totalPages: \"2\", list: [" + appA + "]}\n  - {totalPages: \"2\", list: [" + appB + "]}\n", 2, 0, "", ""},
		{"a single application", "application: " + appA + "\n", 1, 0, "", ""},
		{"a bare list of applications", "application: [" + appA + ", " + appB + "]\n", 2, 0, "", ""},
		{"page 1 of 2", "application: {totalPages: \"2\", list: [" + appA + "]}\n", 0, 0,
			"t.yaml:3: application.totalPages: is 2, but 1 page(s) of application segments are given", ""},
		{"a page short of its totalCount", "application: {totalPages: \"1\", totalCount: \"3\", list: [" + appA + "]}\n", 0, 0,
			"application.totalCount: is 3, but the 1 page(s) given hold 1 application segments", ""},
		{"pages of two listings", "application:\n  - {totalPages: 2, totalCount: 2, list: [" + appA + "]}\n  - {totalPages: 2, totalCount: 3, list: [" + appB + "]}\n", 0, 0,
			"application[1].totalCount: is 3, but another page of application segments says 2", ""},
		{"a rules page", "application: " + appA + "\npolicySet: {totalPages: \"1\", list: [" + ruleR + "]}\n", 1, 1, "", ""},
		{"a single rule", "application: " + appA + "\npolicySet: " + ruleR + "\n", 1, 1, "", ""},
		{"the policy set without rules", "application: " + appA + "\npolicySet: {id: \"9\", name: Global_Policy, policyType: \"1\", sorted: true}\n", 0, 0,
			"policySet: is the access policy set (GET /mgmtconfig/v1/admin/customers/{customerId}/policySet/policyType/ACCESS_POLICY), which ZPA returns without its rules", ""},
		{"rules under application", "application: {list: [" + ruleR + "]}\n", 0, 0,
			"application: is a page of access rules, which application does not take; paste it under bodies:", ""},
		{"an unknown body", "application: {foo: 1}\n", 0, 0, "application: is a mapping with fields foo; want a page", ""},
		{"a page of two kinds", "bodies: [{list: [" + appA + ", " + ruleR + "]}]\n", 0, 0,
			"bodies[0].list[1]: is an access rule, but list[0] is an application segment", ""},
		{"every kind under bodies", "bodies: [" + appA + ", " + ruleR + ", " + scimPage + "]\n", 1, 1, "", ""},
		{"a segment group listing a segment not given", "bodies: [" + appA + `, {"id": "g1", "name": "G", "applications": [{"id": "1"}, {"id": "5"}]}]` + "\n", 0, 0,
			`bodies[1].applications[1]: application "5" is in this segment group, but no segment with that id is given`, ""},
		{"a type mismatch says what is wanted", "application: {list: [{id: \"1\", name: A, domainNames: a.example.com}]}\n", 0, 0,
			`application.list[0].domainNames: is "a.example.com", want a list`, ""},
		{"a decision-changing ignored field warns", "application: {list: [{id: \"1\", name: A, domainNames: [a.example.com], tcpPortRanges: [\"1\", \"1\"], fancyNewThing: on}]}\n", 1, 0, "",
			`application.list[0].fancyNewThing: fancyNewThing of an application segment is "on" and is ignored: a field the lab does not know, so it cannot say it is harmless (can change a decision)`},
		{"ZPA's default of a decision-changing field does not", "application: {list: [{id: \"1\", name: A, domainNames: [a.example.com], tcpPortRanges: [\"1\", \"1\"], bypassOnReauth: false}]}\n", 1, 0, "",
			"none of which can change a decision: bypassOnReauth (cannot change a decision)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ten, warns, err := parseString(t, bodiesHead+tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ten.Segments) != tt.segs || len(ten.Rules) != tt.rules {
				t.Errorf("%d segments, %d rules; want %d, %d", len(ten.Segments), len(ten.Rules), tt.segs, tt.rules)
			}
			if tt.wantWarn != "" {
				var ws []string
				for _, w := range warns {
					ws = append(ws, w.String())
				}
				if all := strings.Join(ws, "\n"); !strings.Contains(all, tt.wantWarn) {
					t.Errorf("warnings lack %q; got:\n%s", tt.wantWarn, all)
				}
			}
		})
	}
}

// TestV2Operands: values and entryValues become v1 operands, in place and
// in order, in the same condition; rhs wins over values as in the API.
func TestV2Operands(t *testing.T) {
	in := bodiesHead + "application: [" + appA + ", " + appB + "]\n" +
		`policySet: {"id": "r1", "name": "R", "action": "ALLOW", "conditions": [` +
		`{"operator": "OR", "operands": [{"objectType": "APP", "values": ["1", "2"]}, {"objectType": "APP_GROUP", "rhs": "g1", "values": ["ignored"]}]},` +
		`{"operator": "OR", "negated": true, "operands": [{"objectType": "SCIM_GROUP", "entryValues": [{"lhs": "7", "rhs": 41}, {"lhs": "7", "rhs": "42"}]}]}]}` + "\n" +
		"bodies: [" + scimPage + "]\n"
	ten, _, err := parseString(t, in)
	if err != nil {
		t.Fatal(err)
	}
	want := []policy.Condition{
		{Operator: "OR", Operands: []policy.Operand{
			{ObjectType: "APP", LHS: "id", RHS: "1"}, {ObjectType: "APP", LHS: "id", RHS: "2"},
			{ObjectType: "APP_GROUP", RHS: "g1"}}},
		{Operator: "OR", Negated: true, Operands: []policy.Operand{
			{ObjectType: "SCIM_GROUP", LHS: "7", RHS: "41", Name: "Helpdesk"},
			{ObjectType: "SCIM_GROUP", LHS: "7", RHS: "42", Name: "Admins"}}},
	}
	if got := ten.Rules[0].Conditions; !reflect.DeepEqual(got, want) {
		t.Errorf("conditions =\n%+v\nwant\n%+v", got, want)
	}
}

// TestObjectsResolve: the objects operands point at become
// policy.Objects, and an operand naming one the given pages lack is an
// error (IMP-2).
func TestObjectsResolve(t *testing.T) {
	rule := func(op string) string {
		return `policySet: {"id": "r1", "name": "R", "action": "ALLOW", "conditions": [{"operands": [` + op + `]}]}` + "\n"
	}
	posture := `{"totalPages": "1", "list": [{"id": "p1", "name": "CrowdStrike", "postureUdid": "u-1"}]}`
	ten, _, err := parseString(t, bodiesHead+"application: "+appA+"\n"+rule(`{"objectType": "POSTURE", "lhs": "u-1", "rhs": "true"}`)+"bodies: ["+posture+", "+scimPage+"]\n")
	if err != nil {
		t.Fatal(err)
	}
	wantObj := []policy.Object{
		{Type: "SCIM_GROUP", ID: "41", Name: "Helpdesk", IdpID: "7"},
		{Type: "SCIM_GROUP", ID: "42", Name: "Admins", IdpID: "7"},
		{Type: "POSTURE", ID: "u-1", Name: "CrowdStrike", Aliases: []string{"p1"}},
	}
	if !reflect.DeepEqual(ten.Objects, wantObj) {
		t.Errorf("objects = %+v, want %+v", ten.Objects, wantObj)
	}
	if op := ten.Rules[0].Conditions[0].Operands[0]; op.Name != "CrowdStrike" {
		t.Errorf("posture operand = %+v; want it named CrowdStrike", op)
	}
	_, _, err = parseString(t, bodiesHead+"application: "+appA+"\n"+rule(`{"objectType": "SCIM_GROUP", "lhs": "7", "rhs": "43"}`)+"bodies: ["+scimPage+"]\n")
	if want := `policySet.conditions[0].operands[0].rhs: SCIM_GROUP "43" is not among the 2 given (scimGroups): give every page of GET /userconfig/v1/customers/{customerId}/scimgroup/idpId/{idpId}`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want %q", err, want)
	}
}

// TestImportTenantFileAndRoundTrip: a tenant file among the sources keeps
// its own sections (device paths made relative to the output); the file
// written loads, as a file on disk, to the policy that pasting the same
// bodies gives.
func TestImportTenantFileAndRoundTrip(t *testing.T) {
	dir := t.TempDir()
	base := "name: acme\nclientHostnameValidation: ['.*\\.example\\.com']\nimplicitPolicy: block\n" +
		"users: [{name: admin@example.com, groups: [\"41\"]}]\n" +
		"tests:\n  - {name: admin reaches A, user: admin@example.com, to: \"a.example.com:3389\", devices: [../../fixtures/devices/win-4.5-ad.yaml], expect: deny}\n"
	srcs := []Source{
		{Name: "../../fixtures/zpa/base.yaml", Data: []byte(base)},
		{Name: "apps.json", Data: []byte(`{"totalPages": "1", "list": [` + appA + `, ` + appB + `]}`)},
		{Name: "rules.json", Data: []byte(`{"totalPages": "1", "list": [` + ruleR + `]}`)},
		{Name: "scim.json", Data: []byte(scimPage)},
	}
	out := filepath.Join(dir, "sub", "t.yaml")
	im, err := Import(srcs, ImportOptions{Output: out})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, im.File, 0o644); err != nil {
		t.Fatal(err)
	}
	loaded, _, err := Load(out)
	if err != nil {
		t.Fatalf("the file written does not load: %v\n%s", err, im.File)
	}
	if loaded.Name != "acme" || !loaded.ImplicitBlock || len(loaded.Tests) != 1 || loaded.Tests[0].Devices[0] == nil {
		t.Errorf("the tenant file's own sections were not kept: %+v", loaded)
	}
	pasted := base + "bodies:\n  - " + string(srcs[1].Data) + "\n  - " + string(srcs[2].Data) + "\n  - " + string(srcs[3].Data) + "\n"
	direct, _, err := parse("../../fixtures/zpa/base.yaml", []byte(pasted), osFiles("../../fixtures/zpa", device.Load))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(loaded.Policy(), direct.Policy()) {
		t.Errorf("imported file decides differently from the pasted bodies:\n%+v\n%+v", loaded.Policy(), direct.Policy())
	}
}

// TestImportErrorsPointAtSources: an error in a body names the body's
// file and line, and one in the tenant file the tenant file's.
func TestImportErrorsPointAtSources(t *testing.T) {
	srcs := []Source{
		{Name: "base.yaml", Data: []byte("name: acme\nimplicitPolicy: maybe\n")},
		{Name: "apps.json", Data: []byte("{\n \"totalPages\": \"1\",\n \"list\": [\n  {\"id\": \"1\", \"name\": \"A\",\n   \"domainNames\": [\"bad name!\"]}]}")},
	}
	_, err := Import(srcs, ImportOptions{})
	for _, want := range []string{"base.yaml:2: implicitPolicy: is \"maybe\"", "apps.json:5: list[0].domainNames[0]:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to contain %q", err, want)
		}
	}
	_, err = Import([]Source{{Name: "a.yaml", Data: []byte("name: a\n")}, {Name: "b.yaml", Data: []byte("name: b\n")}}, ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "b.yaml: is a tenant file, and so is a.yaml") {
		t.Errorf("two tenant files: err = %v", err)
	}
}

// TestImportApprovalsWithWorkingHours: the whole helpdesk set, its
// /approval page as ZPA returns it (workingHours, full application
// objects) included, imports; the contractor's REQUIRE_APPROVAL rule then
// allows within the approval's working hours (weekdays 08:00-17:00
// Europe/Berlin) and refuses outside them (POL-5).
func TestImportApprovalsWithWorkingHours(t *testing.T) {
	srcs := readSources(t, "../../fixtures/zpa-import/helpdesk.yaml", zpaFixtures+"helpdesk")
	im, err := Import(srcs, ImportOptions{Output: filepath.Join(t.TempDir(), "helpdesk.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(im.Tenant.Policy().Approvals); n != 1 {
		t.Fatalf("%d approvals imported, want the page's 1", n)
	}
	e, err := im.Tenant.Engine()
	if err != nil {
		t.Fatal(err)
	}
	reg := policy.Registration{ID: "s1", FQDN: "laptop-4711.example.com", OS: device.Windows, ConnectorVersion: "4.5.0.286",
		JoinState: device.JoinAD, LoggedIn: true, PrivateAccess: true, User: "bwong@example.com"}
	if en := e.Register(reg); !en.Available {
		t.Fatalf("laptop not enrolled: %v", en.Trace)
	}
	for _, tc := range []struct {
		at      time.Time
		allowed bool
	}{
		{time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC), true},  // Thursday 11:00 in Berlin
		{time.Date(2026, 1, 15, 18, 0, 0, 0, time.UTC), false}, // Thursday 19:00 in Berlin
		{time.Date(2026, 1, 17, 10, 0, 0, 0, time.UTC), false}, // Saturday
	} {
		d := e.Decide(policy.Request{User: "contractor@example.com", Platform: device.Windows, FQDN: "laptop-4711.example.com", Port: 3389, Time: tc.at,
			Device: policy.DeviceAttrs{Posture: policy.Known(), TrustedNetworks: policy.Known(), Country: policy.Known("DE"), MachineGroup: policy.Known()}})
		if d.Allowed != tc.allowed || d.Rule == nil || d.Rule.Name != "Contractors need approval" {
			t.Errorf("at %s: allowed %v by %v (%s), want allowed %v by rule 2\n%s", tc.at, d.Allowed, d.Rule, d.Code, tc.allowed, strings.Join(d.Trace, "\n"))
		}
	}
}
