package policy

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/device"
)

// want is the expected Decision of a table case; empty fields are not checked
// except Code and Allowed.
type want struct {
	allowed    bool
	code       code.Code
	segment    string // segment ID; "-" for none
	rule       string // rule ID; "-" for none
	dest       string
	accessType AccessType
	trace      string
}

func checkDecision(t *testing.T, d Decision, w want) {
	t.Helper()
	if d.Allowed != w.allowed || d.Code != w.code {
		t.Fatalf("allowed=%v code=%q, want allowed=%v code=%q%s", d.Allowed, d.Code, w.allowed, w.code, traceText(d.Trace))
	}
	if d.Allowed == (d.Code != "") {
		t.Fatalf("allowed=%v with code %q", d.Allowed, d.Code)
	}
	// The step that refuses says so last, naming its code (code.Sentence).
	if d.Code != "" && !strings.Contains(d.Trace[len(d.Trace)-1], "("+string(d.Code)) {
		t.Fatalf("the last trace line does not name %s:%s", d.Code, traceText(d.Trace))
	}
	switch {
	case w.segment == "-" && d.Segment != nil:
		t.Fatalf("segment %q, want none", d.Segment.ID)
	case w.segment != "" && w.segment != "-" && (d.Segment == nil || d.Segment.ID != w.segment):
		t.Fatalf("segment %+v, want %q%s", d.Segment, w.segment, traceText(d.Trace))
	}
	switch {
	case w.rule == "-" && d.Rule != nil:
		t.Fatalf("rule %q decided, want the default%s", d.Rule.ID, traceText(d.Trace))
	case w.rule != "" && w.rule != "-" && (d.Rule == nil || d.Rule.ID != w.rule):
		t.Fatalf("rule %+v, want %q%s", d.Rule, w.rule, traceText(d.Trace))
	}
	if d.Destination != w.dest {
		t.Fatalf("destination %q, want %q%s", d.Destination, w.dest, traceText(d.Trace))
	}
	if w.accessType != "" && d.AccessType != w.accessType {
		t.Fatalf("access type %q, want %q", d.AccessType, w.accessType)
	}
	if !hasTrace(d.Trace, w.trace) {
		t.Fatalf("trace lacks %q:%s", w.trace, traceText(d.Trace))
	}
}

// segmentTenant is SEG-3's example: app servers on their own FQDN segments,
// workstations on wildcard segments of several depths.
func segmentTenant(t *testing.T) *Engine {
	app := Segment{ID: "app", Name: "Payroll app", Enabled: true, Domains: []string{"app1.example.com"},
		TCP: []PortRange{{443, 443}}, GroupID: "grp-apps", ServerGroups: []string{"sg-dc1"}}
	db := Segment{ID: "db", Name: "DB admins", Enabled: true, Domains: []string{"*.db.hr.example.com"},
		TCP: []PortRange{{5432, 5432}}, GroupID: "grp-c2c"}
	off := c2cSegment("off", "*.off.example.com")
	off.Enabled = false
	e := newEngine(t, Config{
		Tenant:          "acme",
		HostnameRegexes: []string{`.*\.example\.com`},
		Segments:        []Segment{c2cSegment("ws", "*.example.com"), c2cSegment("hr", "*.hr.example.com"), db, app, off},
		Rules: []Rule{{ID: "r-app", Name: "Payroll users", Order: 1, Action: Allow,
			Conditions: []Condition{cnd(op(ObjApp, "id", "app"))}}},
	})
	for _, r := range []Registration{
		goodWindows("s-testpc", "testPC.example.com"),
		goodWindows("s-laptop", "laptop7.hr.example.com"),
		goodWindows("s-pg", "pg1.db.hr.example.com"),
		goodWindows("s-app1", "app1-ws.example.com"),
		goodWindows("s-off", "pc.off.example.com"),
	} {
		if en := e.Register(r); !en.Available {
			t.Fatalf("fixture %s not available:%s", r.ID, traceText(en.Trace))
		}
	}
	old := goodWindows("s-old", "old.example.com")
	old.ConnectorVersion = "3.9.0.99"
	e.Register(old)
	away := goodWindows("s-away", "away.example.com")
	away.LoggedIn = false
	e.Register(away)
	return e
}

func TestDecideSegments(t *testing.T) {
	e := segmentTenant(t)
	tests := []struct {
		name string
		req  Request
		want want
	}{
		{"SEG-2 client-to-client segment without server group", Request{FQDN: "testPC.example.com", Port: 3389},
			want{allowed: true, segment: "ws", rule: "-", dest: "s-testpc", accessType: ClientToClient, trace: "most specific match"}},
		{"SEG-3 case and trailing dot ignored", Request{FQDN: "TESTPC.Example.Com.", Port: 3389},
			want{allowed: true, segment: "ws", dest: "s-testpc"}},
		{"SEG-3 longer wildcard beats shorter", Request{FQDN: "laptop7.hr.example.com", Port: 3389},
			want{allowed: true, segment: "hr", dest: "s-laptop", trace: "by its domain *.hr.example.com"}},
		{"SEG-3 longest wildcard *.db.hr over *.hr", Request{FQDN: "pg1.db.hr.example.com", Port: 5432},
			want{allowed: true, segment: "db", dest: "s-pg", trace: "*.db.hr.example.com"}},
		{"SEG-3 ports ignored when choosing", Request{FQDN: "pg1.db.hr.example.com", Port: 3389},
			want{code: code.BrkPortNotInSegment, segment: "db", trace: "tcp port 3389 is not in segment"}},
		{"SEG-3 wildcard across several labels", Request{FQDN: "a.b.hr.example.com", Port: 3389},
			want{code: code.C2CClientNotFound, segment: "hr", trace: "no enrolled client of this organization"}},
		{"SEG-3 exact FQDN beats wildcard", Request{FQDN: "app1.example.com", Port: 443},
			want{allowed: true, segment: "app", rule: "r-app", accessType: ClientToServer, trace: "Client to Server"}},
		{"SEG-3 exact segment's port only", Request{FQDN: "app1.example.com", Port: 3389},
			want{code: code.BrkPortNotInSegment, segment: "app", accessType: ClientToServer}},
		{"SEG-3 apex not matched", Request{FQDN: "example.com", Port: 3389},
			want{code: code.BrkAppNotFound, segment: "-", trace: "no application segment covers"}},
		{"SEG-3 other domain", Request{FQDN: "testPC.example.com.evil.test", Port: 3389},
			want{code: code.BrkAppNotFound, segment: "-"}},
		{"SEG-4 port outside segment", Request{FQDN: "testPC.example.com", Port: 22},
			want{code: code.BrkPortNotInSegment, segment: "ws", trace: "(tcp 3389, 445; udp 3389)"}},
		{"SEG-4 smb port", Request{FQDN: "testPC.example.com", Port: 445},
			want{allowed: true, segment: "ws", dest: "s-testpc"}},
		{"SEG-4 udp range", Request{FQDN: "testPC.example.com", Port: 3389, Proto: "udp"},
			want{allowed: true, segment: "ws", dest: "s-testpc", trace: "udp port 3389 is in"}},
		{"SEG-4 tcp-only port over udp", Request{FQDN: "testPC.example.com", Port: 445, Proto: "udp"},
			want{code: code.BrkPortNotInSegment, segment: "ws"}},
		{"SEG-4 unknown protocol", Request{FQDN: "testPC.example.com", Port: 3389, Proto: "sctp"},
			want{code: code.BrkPortNotInSegment, segment: "ws", trace: "neither tcp nor udp"}},
		{"SEG-5 disabled segment", Request{FQDN: "pc.off.example.com", Port: 3389},
			want{code: code.BrkNoPolicyFound, segment: "off", trace: "is disabled"}},
		{"LOG-2 client not found", Request{FQDN: "nobody.example.com", Port: 3389},
			want{code: code.C2CClientNotFound, segment: "ws", accessType: ClientToClient}},
		{"DEV-1 destination too old", Request{FQDN: "old.example.com", Port: 3389},
			want{code: code.C2CVersionUnsupported, segment: "ws", accessType: ClientToClient, trace: `session "s-old", which is not available`}},
		{"DEV-4 destination not reachable", Request{FQDN: "away.example.com", Port: 3389},
			want{code: code.C2CNotAvailable, segment: "ws"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkDecision(t, e.Decide(tc.req), tc.want)
		})
	}
}

// SEG-1: with a wildcard segment and a narrower regex, only devices matching
// both are reachable.
func TestDecideWildcardAndNarrowRegex(t *testing.T) {
	e := newEngine(t, Config{
		HostnameRegexes: []string{`desktop-[a-zA-Z0-9]{5}-AC\.example\.com`},
		Segments:        []Segment{c2cSegment("ws", "*.example.com")},
	})
	e.Register(goodWindows("s-desk", "desktop-10B38-AC.example.com"))
	e.Register(goodWindows("s-test", "testPC.example.com"))
	checkDecision(t, e.Decide(Request{FQDN: "desktop-10B38-AC.example.com", Port: 3389}), want{allowed: true, dest: "s-desk"})
	checkDecision(t, e.Decide(Request{FQDN: "testPC.example.com", Port: 3389}), want{code: code.C2CClientNotFound})
}

// POL-2: never across organizations; one engine per tenant.
func TestDecideNeverAcrossTenants(t *testing.T) {
	cfg := func(tenant string) Config {
		return Config{Tenant: tenant, HostnameRegexes: []string{`.*\.example\.com`}, Segments: []Segment{c2cSegment("ws", "*.example.com")}}
	}
	a, b := newEngine(t, cfg("acme")), newEngine(t, cfg("globex"))
	a.Register(goodWindows("s1", "testPC.example.com"))
	checkDecision(t, a.Decide(Request{FQDN: "testPC.example.com", Port: 3389}), want{allowed: true, dest: "s1"})
	checkDecision(t, b.Decide(Request{FQDN: "testPC.example.com", Port: 3389}), want{code: code.C2CClientNotFound})
}

// An enrolled client holding a name in a segment with server groups is still
// reached client to client.
func TestDecideClientBeatsServerGroup(t *testing.T) {
	seg := c2cSegment("mixed", "*.example.com")
	seg.ServerGroups = []string{"sg"}
	e := newEngine(t, Config{
		HostnameRegexes: []string{`.*\.example\.com`},
		Segments:        []Segment{seg},
		Rules:           []Rule{{ID: "r1", Name: "all", Order: 1, Action: Allow}},
	})
	e.Register(goodWindows("s1", "testPC.example.com"))
	checkDecision(t, e.Decide(Request{FQDN: "testPC.example.com", Port: 3389}), want{allowed: true, dest: "s1", accessType: ClientToClient})
	checkDecision(t, e.Decide(Request{FQDN: "srv.example.com", Port: 3389}), want{allowed: true, accessType: ClientToServer})
}

// policyTenant has one client-to-client segment, an unrelated app segment and
// the given rules; users alice (helpdesk, admins), carol (helpdesk,
// contractors), dave (contractors) and bob (no group); other attributes
// unknown.
func policyTenant(t *testing.T, implicitBlock bool, rules ...Rule) *Engine {
	other := Segment{ID: "other", Name: "Other", Enabled: true, Domains: []string{"*.other.test"},
		TCP: []PortRange{{1, 65535}}, GroupID: "grp-other"}
	e := newEngine(t, Config{
		Tenant:          "acme",
		HostnameRegexes: []string{`.*\.example\.com`},
		ImplicitBlock:   implicitBlock,
		Segments:        []Segment{c2cSegment("ws", "*.example.com"), other},
		Rules:           rules,
		Users: []User{
			{Name: "alice", Groups: Known("helpdesk", "admins")}, {Name: "carol", Groups: Known("helpdesk", "contractors")},
			{Name: "dave", Groups: Known("contractors")}, {Name: "bob", Groups: Known()},
		},
	})
	e.Register(goodWindows("s1", "testPC.example.com"))
	return e
}

func TestDecideRules(t *testing.T) {
	rule := func(id string, order int, a Action, conds ...Condition) Rule {
		return Rule{ID: id, Name: id, Order: order, Action: a, Conditions: conds}
	}
	allowHelpdesk := rule("allow-helpdesk", 1, Allow, cnd(op(ObjApp, "id", "ws")), cnd(op(ObjSCIMGroup, "idp", "helpdesk")))
	denyContractors := rule("deny-contractors", 2, Deny, cnd(op(ObjSCIMGroup, "idp", "contractors")))
	req := func(user string) Request {
		return Request{User: user, Platform: device.Windows, FQDN: "testPC.example.com", Port: 3389}
	}
	reqPosture := func(user string) Request {
		r := req(user)
		r.Device.Posture = Known()
		return r
	}
	allowed := func(rule string) want { return want{allowed: true, rule: rule, dest: "s1"} }
	undecided := func(rule, attr string) want {
		return want{code: code.BrkPolicyUndecided, rule: rule, trace: attr}
	}
	denied := func(rule string) want {
		return want{code: code.BrkRejectedByPolicy, rule: rule, trace: "matches: DENY"}
	}
	noPolicy := want{code: code.BrkNoPolicyFound, rule: "-"}
	tests := []struct {
		name     string
		implicit bool
		rules    []Rule
		req      Request
		want     want
	}{
		{"POL-1 first match by order, not file position", false, []Rule{denyContractors, allowHelpdesk}, req("carol"), allowed("allow-helpdesk")},
		{"POL-1 later rule decides when earlier does not match", false, []Rule{denyContractors, allowHelpdesk}, req("dave"), denied("deny-contractors")},
		{"POL-1 equal order keeps file order", false, []Rule{
			rule("deny-first", 5, Deny), rule("allow-second", 5, Allow)}, req("alice"), denied("deny-first")},
		{"POL-1 deny trace", false, []Rule{rule("deny-all", 1, Deny)}, req("alice"),
			want{code: code.BrkRejectedByPolicy, rule: "deny-all", trace: `access rule "deny-all" (order 1) matches: DENY`}},
		{"POL-2 no rules: anyone in the organization", false, nil, req("bob"),
			want{allowed: true, rule: "-", dest: "s1", trace: "no access rule matched; client-to-client default allows any user of the organization"}},
		{"POL-2 rules for other segments only", false, []Rule{rule("other-only", 1, Deny, cnd(op(ObjApp, "", "other")))}, req("bob"),
			want{allowed: true, rule: "-", dest: "s1", trace: "default allows any user"}},
		{"POL-2 implicit block chosen by tenant", true, nil, req("bob"),
			want{code: code.BrkNoPolicyFound, rule: "-", trace: "implicit block"}},
		{"POL-2 rule covering the segment closes it", false, []Rule{allowHelpdesk}, req("bob"),
			want{code: code.BrkNoPolicyFound, rule: "-", trace: "access rules apply to segment"}},
		{"POL-2 rule without segment criteria covers it too", false, []Rule{rule("helpdesk-anything", 1, Allow, cnd(op(ObjSCIMGroup, "", "helpdesk")))}, req("bob"), noPolicy},
		{"POL-3 APP ORed within type", false, []Rule{rule("apps", 1, Deny, cnd(op(ObjApp, "", "other"), op(ObjApp, "", "ws")))}, req("bob"), denied("apps")},
		{"POL-3 APP_GROUP", false, []Rule{rule("grp", 1, Deny, cnd(op(ObjAppGroup, "", "grp-c2c")))}, req("bob"), denied("grp")},
		{"POL-3 APP_GROUP other group", false, []Rule{rule("grp", 1, Deny, cnd(op(ObjAppGroup, "", "grp-other")))}, req("bob"), allowed("")},
		{"POL-3 one condition's operator combines all its operands (OR)", false, []Rule{rule("or", 1, Allow, cnd(op(ObjApp, "", "other"), op(ObjSCIMGroup, "", "helpdesk")))}, req("carol"), allowed("or")},
		{"POL-3 OR condition: neither operand", false, []Rule{rule("or", 1, Allow, cnd(op(ObjApp, "", "other"), op(ObjSCIMGroup, "", "helpdesk")))}, req("dave"), noPolicy},
		{"POL-3 APP and APP_GROUP in one OR condition: either", false, []Rule{rule("seg", 1, Deny, cnd(op(ObjApp, "", "other"), op(ObjAppGroup, "", "grp-c2c")))}, req("bob"), denied("seg")},
		{"POL-3 AND condition over types", false, []Rule{rule("and", 1, Allow, Condition{Operator: "AND", Operands: []Operand{op(ObjApp, "", "ws"), op(ObjSCIMGroup, "", "helpdesk")}})}, req("dave"), noPolicy},
		{"POL-3 AND condition over types, all match", false, []Rule{rule("and", 1, Allow, Condition{Operator: "AND", Operands: []Operand{op(ObjApp, "", "ws"), op(ObjSCIMGroup, "", "helpdesk")}})}, req("carol"), allowed("and")},
		{"POL-3 conditions ANDed by the rule", false, []Rule{rule("and", 1, Allow, cnd(op(ObjApp, "", "ws")), cnd(op(ObjSCIMGroup, "", "helpdesk")))}, req("dave"), noPolicy},
		{"POL-3 groups ORed", false, []Rule{rule("or", 1, Deny, cnd(op(ObjSCIMGroup, "", "admins"), op(ObjSCIMGroup, "", "contractors")))}, req("dave"), denied("or")},
		{"POL-3 condition operator AND needs every group", false, []Rule{rule("both", 1, Allow, Condition{Operator: "AND",
			Operands: []Operand{op(ObjSCIMGroup, "", "helpdesk"), op(ObjSCIMGroup, "", "admins")}})}, req("carol"), noPolicy},
		{"POL-3 condition operator AND, user in both", false, []Rule{rule("both", 1, Allow, Condition{Operator: "AND",
			Operands: []Operand{op(ObjSCIMGroup, "", "helpdesk"), op(ObjSCIMGroup, "", "admins")}})}, req("alice"), allowed("both")},
		{"POL-3 rule operator OR", false, []Rule{{ID: "any", Name: "any", Order: 1, Action: Deny, Operator: "OR",
			Conditions: []Condition{cnd(op(ObjUser, "", "bob")), cnd(op(ObjSCIMGroup, "", "admins"))}}}, req("bob"), denied("any")},
		{"POL-3 rule operator OR, neither", false, []Rule{{ID: "any", Name: "any", Order: 1, Action: Deny, Operator: "or",
			Conditions: []Condition{cnd(op(ObjUser, "", "bob")), cnd(op(ObjSCIMGroup, "", "admins"))}}}, req("dave"), noPolicy},
		{"POL-3 negated condition", false, []Rule{rule("not-contractors", 1, Allow, Condition{Negated: true,
			Operands: []Operand{op(ObjSCIMGroup, "", "contractors")}})}, req("bob"), allowed("not-contractors")},
		{"POL-3 negated condition excludes", false, []Rule{rule("not-contractors", 1, Allow, Condition{Negated: true,
			Operands: []Operand{op(ObjSCIMGroup, "", "contractors")}})}, req("dave"), noPolicy},
		{"POL-3 negated APP", false, []Rule{rule("not-other", 1, Deny, Condition{Negated: true,
			Operands: []Operand{op(ObjApp, "", "other")}})}, req("bob"), denied("not-other")},
		{"POL-3 USER", false, []Rule{rule("u", 1, Deny, cnd(op(ObjUser, "", "bob")))}, req("bob"), denied("u")},
		{"POL-3 SCIM without lhs is the user name", false, []Rule{rule("u", 1, Deny, cnd(op(ObjSCIM, "", "bob")))}, req("bob"), denied("u")},
		{"POL-3 PLATFORM", false, []Rule{rule("win", 1, Deny, cnd(op(ObjPlatform, "windows", "true")))}, req("bob"), denied("win")},
		{"POL-3 PLATFORM other", false, []Rule{rule("mac", 1, Deny, cnd(op(ObjPlatform, "mac", "true")))}, req("bob"), noPolicy},
		{"POL-3 PLATFORM false means not", false, []Rule{rule("not-mac", 1, Deny, cnd(op(ObjPlatform, "mac", "false")))}, req("bob"), denied("not-mac")},
		{"POL-3 CLIENT_TYPE default is the client connector", false, []Rule{rule("zapp", 1, Deny, cnd(op(ObjClientType, "id", DefaultClientType)))}, req("bob"), denied("zapp")},
		{"POL-3 CLIENT_TYPE other", false, []Rule{rule("ba", 1, Deny, cnd(op(ObjClientType, "id", "zpn_client_type_browser_isolation")))}, req("bob"), noPolicy},
		{"POL-4 POSTURE required and missing", false, []Rule{rule("p", 1, Allow, cnd(op(ObjPosture, "crowdstrike", "true")))}, reqPosture("bob"), noPolicy},
		{"POL-4 POSTURE must be absent", false, []Rule{rule("p", 1, Allow, cnd(op(ObjPosture, "crowdstrike", "false")))}, reqPosture("bob"), allowed("p")},
		{"POL-4 POSTURE unknown is undecided", false, []Rule{rule("p", 1, Allow, cnd(op(ObjPosture, "crowdstrike", "false")))}, req("bob"), undecided("p", "posture")},
		{"rule without conditions matches all", false, []Rule{rule("all", 1, Deny)}, req("bob"), denied("all")},
		{"POL-4 unknown attribute: undecided, naming rule and attribute", false, []Rule{rule("idp", 1, Deny, cnd(op(ObjApp, "", "ws")), cnd(op(ObjIDP, "", "okta")))}, req("bob"),
			undecided("idp", "IdP (users[].idp)")},
		{"POL-4 negated unknown is still undecided", false, []Rule{rule("c", 1, Deny, Condition{Negated: true, Operands: []Operand{op(ObjCountry, "US", "true")}}),
			rule("then", 2, Allow)}, req("bob"), undecided("c", "country")},
		{"POL-4 unknown in an OR rule does not matter when another condition decides", false, []Rule{{ID: "or", Name: "or", Order: 1, Action: Deny, Operator: "OR",
			Conditions: []Condition{cnd(op(ObjSAML, "attr-dept", "IT")), cnd(op(ObjUser, "", "bob"))}}}, req("bob"), denied("or")},
		{"POL-4 unknown in an AND rule does not matter when another condition fails", false, []Rule{rule("and", 1, Deny, cnd(op(ObjSAML, "attr-dept", "IT")), cnd(op(ObjUser, "", "alice"))),
			rule("then", 2, Allow)}, req("bob"), allowed("then")},
		{"POL-4 unknown in one OR condition does not matter when an operand matches", false, []Rule{rule("or", 1, Deny, cnd(op(ObjCountry, "US", "true"), op(ObjApp, "", "ws")))}, req("bob"), denied("or")},
		{"POL-4 a user not listed has unknown groups", false, []Rule{rule("g", 1, Allow, cnd(op(ObjSCIMGroup, "", "helpdesk")))}, req("eve"), undecided("g", "SCIM groups")},
		{"POL-4 an earlier rule decides before the unknown one", false, []Rule{rule("first", 1, Deny, cnd(op(ObjUser, "", "bob"))), rule("c", 2, Allow, cnd(op(ObjCountry, "US", "true")))}, req("bob"), denied("first")},
		{"POL-4 LOCATION is none for a Client Connector", false, []Rule{rule("loc", 1, Deny, cnd(op(ObjLocation, "id", "72058304855015574"))), rule("then", 2, Allow)}, req("bob"), allowed("then")},
		{"POL-4 CHROME_ENTERPRISE is never known", false, []Rule{rule("chrome", 1, Deny, cnd(op(ObjChromeEnterprise, "managed", "true")))}, req("bob"), undecided("chrome", "Chrome")},
		{"POL-4 an unknown object type is undecided", false, []Rule{rule("odd", 1, Deny, cnd(op("FUTURE_THING", "id", "1")))}, req("bob"), undecided("odd", "does not know")},
		{"POL-4 CLIENT_TYPE machine tunnel", false, []Rule{rule("mt", 1, Deny, cnd(op(ObjClientType, "id", ClientTypeMachineTunnel)))},
			Request{User: "bob", ClientType: ClientTypeMachineTunnel, FQDN: "testPC.example.com", Port: 3389}, denied("mt")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := policyTenant(t, tc.implicit, tc.rules...)
			w := tc.want
			if w.allowed {
				w.dest = "s1"
				if w.rule == "" {
					w.rule = "-"
				}
			}
			checkDecision(t, e.Decide(tc.req), w)
		})
	}
}

func TestDecidePostureHeld(t *testing.T) {
	e := policyTenant(t, false, Rule{ID: "p", Name: "p", Order: 1, Action: Allow,
		Conditions: []Condition{cnd(op(ObjPosture, "crowdstrike", "true"))}})
	d := e.Decide(Request{User: "bob", FQDN: "testPC.example.com", Port: 3389, Device: DeviceAttrs{Posture: Known("disk-encrypted", "CrowdStrike")}})
	checkDecision(t, d, want{allowed: true, rule: "p", dest: "s1"})
}

func TestDecideDoesNotAllocateMuch(t *testing.T) {
	e := segmentTenant(t)
	req := Request{User: "alice", FQDN: "testpc.example.com", Port: 3389}
	allocs := testing.AllocsPerRun(200, func() { e.Decide(req) })
	// The trace slice and the three lines that name the request.
	if allocs > 5 {
		t.Fatalf("Decide allocates %.0f times, want at most 5", allocs)
	}
}

// SEG-6, SEG-7, SEG-8: the example of ZPA's "Using Application Segment
// Multimatch" page (App_Seg1 *.example.com TCP 1-52, 54-65535; App_Seg2
// server1.example.com TCP 443, 3389), pattern domains and bypass types.
func TestDecideMultimatchPatternsBypass(t *testing.T) {
	seg1 := Segment{ID: "seg1", Name: "App_Seg1", Enabled: true, Domains: []string{"*.example.com"},
		TCP: []PortRange{{1, 52}, {54, 65535}}}
	seg2 := Segment{ID: "seg2", Name: "App_Seg2", Enabled: true, Domains: []string{"server1.example.com"},
		TCP: []PortRange{{443, 443}, {3389, 3389}}}
	desk := Segment{ID: "desk", Name: "Desktops", Enabled: true, Domains: []string{"desktop-?????-AC.example.com"},
		TCP: []PortRange{{3389, 3389}}}
	always := Segment{ID: "always", Name: "Bypassed", Enabled: true, Domains: []string{"*.direct.example.com"},
		TCP: []PortRange{{3389, 3389}}, BypassType: BypassAlways}
	onnet := Segment{ID: "onnet", Name: "Office", Enabled: true, Domains: []string{"*.office.example.com"},
		TCP: []PortRange{{3389, 3389}}, BypassType: "on_net"}
	build := func(style string) *Engine {
		s1, s2 := seg1, seg2
		s1.MatchStyle, s2.MatchStyle = style, style
		e := newEngine(t, Config{HostnameRegexes: []string{`.*\.example\.com`}, Segments: []Segment{s1, s2, desk, always, onnet}})
		for _, f := range []string{"server1.example.com", "desktop-10B38-AC.example.com", "desktop-10B38X-AC.example.com", "pc.direct.example.com", "pc.office.example.com"} {
			e.Register(goodWindows(f, f))
		}
		return e
	}
	on, off := DeviceAttrs{TrustedNetworks: Known("HQ")}, DeviceAttrs{TrustedNetworks: Known()}
	tests := []struct {
		name  string
		style string
		req   Request
		want  want
	}{
		{"SEG-3 exclusive: the specific segment's ports only", MatchExclusive, Request{FQDN: "server1.example.com", Port: 22},
			want{code: code.BrkPortNotInSegment, segment: "seg2"}},
		{"SEG-6 inclusive: the wildcard carries a port the specific segment lacks", MatchInclusive, Request{FQDN: "server1.example.com", Port: 22},
			want{allowed: true, segment: "seg1", dest: "server1.example.com", trace: "Multimatch"}},
		{"SEG-6 inclusive: the specific segment when it has the port", MatchInclusive, Request{FQDN: "server1.example.com", Port: 3389},
			want{allowed: true, segment: "seg2", dest: "server1.example.com", trace: "the most specific match"}},
		{"SEG-6 inclusive: no inclusive segment has the port", MatchInclusive, Request{FQDN: "server1.example.com", Port: 53},
			want{code: code.BrkPortNotInSegment, segment: "seg2"}},
		{"SEG-7 a pattern beats the wildcard", MatchExclusive, Request{FQDN: "desktop-10B38-AC.example.com", Port: 3389},
			want{allowed: true, segment: "desk", dest: "desktop-10B38-AC.example.com", trace: "desktop-?????-ac.example.com"}},
		{"SEG-7 ? is one character: the wildcard takes the rest", MatchExclusive, Request{FQDN: "desktop-10B38X-AC.example.com", Port: 3389},
			want{allowed: true, segment: "seg1", dest: "desktop-10B38X-AC.example.com"}},
		{"SEG-8 ALWAYS is never carried", MatchExclusive, Request{FQDN: "pc.direct.example.com", Port: 3389, Device: off},
			want{code: code.CltSegmentBypassed, segment: "always", trace: "bypassType ALWAYS"}},
		{"SEG-8 ON_NET on a trusted network is bypassed", MatchExclusive, Request{FQDN: "pc.office.example.com", Port: 3389, Device: on},
			want{code: code.CltSegmentBypassed, segment: "onnet", trace: `trusted network "HQ"`}},
		{"SEG-8 ON_NET off every trusted network is carried", MatchExclusive, Request{FQDN: "pc.office.example.com", Port: 3389, Device: off},
			want{allowed: true, segment: "onnet", dest: "pc.office.example.com"}},
		{"SEG-8 ON_NET with trusted networks unknown is undecided", MatchExclusive, Request{FQDN: "pc.office.example.com", Port: 3389},
			want{code: code.BrkPolicyUndecided, segment: "onnet", trace: "does not say whether"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want.rule == "" {
				tc.want.rule = "-"
			}
			checkDecision(t, build(tc.style).Decide(tc.req), tc.want)
		})
	}
	// The source side routes the same way.
	e := build(MatchInclusive)
	for _, c := range []struct {
		fqdn string
		port uint16
		dev  DeviceAttrs
		seg  string
		code code.Code
	}{
		{"server1.example.com", 22, off, "seg1", ""},
		{"server1.example.com", 53, off, "seg2", code.CltPortNotInSegment},
		{"pc.direct.example.com", 3389, off, "always", code.CltSegmentBypassed},
		{"pc.office.example.com", 3389, on, "onnet", code.CltSegmentBypassed},
		{"pc.office.example.com", 3389, DeviceAttrs{}, "onnet", ""},
		{"elsewhere.test", 3389, off, "", code.BrkAppNotFound},
	} {
		r := e.Route(c.fqdn, "", c.port, c.dev)
		id := ""
		if r.Segment != nil {
			id = r.Segment.ID
		}
		if id != c.seg || r.Code != c.code || (r.Code != "") != (r.Line != "") {
			t.Errorf("Route(%s:%d) = %+v, want segment %q code %q", c.fqdn, c.port, r, c.seg, c.code)
		}
	}
}

// POL-5: REQUIRE_APPROVAL needs an approval in force for the user and the
// segment; without a time the lab cannot tell.
func TestDecideRequireApproval(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	rules := []Rule{{ID: "ra", Name: "Approval needed", Order: 1, Action: RequireApproval, Conditions: []Condition{cnd(op(ObjApp, "id", "ws"))}}}
	e := newEngine(t, Config{HostnameRegexes: []string{`.*\.example\.com`}, Segments: []Segment{c2cSegment("ws", "*.example.com"), c2cSegment("other", "*.other.example.com")},
		Rules: rules, Approvals: []Approval{
			{ID: "a1", Emails: []string{"Alice@example.com"}, Segments: []string{"ws"}, Start: t0.Add(-time.Hour), End: t0.Add(time.Hour)},
			{ID: "a2", Emails: []string{"bob@example.com"}, Segments: []string{"other"}, Start: t0.Add(-time.Hour), End: t0.Add(time.Hour)},
		}})
	e.Register(goodWindows("s1", "pc.example.com"))
	req := func(user string, at time.Time) Request {
		return Request{User: user, FQDN: "pc.example.com", Port: 3389, Time: at}
	}
	checkDecision(t, e.Decide(req("alice@example.com", t0)), want{allowed: true, rule: "ra", dest: "s1", trace: `approval "a1"`})
	checkDecision(t, e.Decide(req("alice@example.com", t0.Add(2*time.Hour))), want{code: code.BrkApprovalRequired, rule: "ra", trace: `approval "a1" is for`})
	checkDecision(t, e.Decide(req("bob@example.com", t0)), want{code: code.BrkApprovalRequired, rule: "ra"})
	checkDecision(t, e.Decide(req("alice@example.com", time.Time{})), want{code: code.BrkPolicyUndecided, rule: "ra", trace: "no time"})
	if _, err := New(Config{Segments: []Segment{c2cSegment("ws", "*.example.com")}, Approvals: []Approval{{Emails: []string{"a"}, Segments: []string{"gone"}}}}); err == nil ||
		!strings.Contains(err.Error(), `approvals[0].applications[0].id: "gone" is no application segment`) || !strings.Contains(err.Error(), "approvals[0].endTime") {
		t.Fatalf("bad approval: %v", err)
	}
}

// POL-4: IDs and names meet through Objects: an operand with a SCIM group
// ID matches a user listing the group by name, a posture UDID a device
// listing the profile by name, and an operand naming an object by name
// matches a user listing its ID.
func TestDecideObjectsResolveIDsAndNames(t *testing.T) {
	e := newEngine(t, Config{
		HostnameRegexes: []string{`.*\.example\.com`},
		Segments:        []Segment{c2cSegment("ws", "*.example.com")},
		Objects: []Object{
			{Type: ObjSCIMGroup, ID: "255066", Name: "Helpdesk", IdpID: "72058304855015574"},
			{Type: ObjPosture, ID: "d1c6d9c1-fa2b-4b43-9f1c-2b8f1c8c1e4d", Name: "CrowdStrike ZTA", Aliases: []string{"216196257331285825"}},
			{Type: ObjIDP, ID: "72058304855015574", Name: "Okta"},
		},
		Users:         []User{{Name: "alice", Groups: Known("helpdesk"), IdP: Known("72058304855015574")}, {Name: "bob", Groups: Known("255066"), IdP: Known("okta")}},
		ImplicitBlock: true,
		Rules: []Rule{{ID: "r", Name: "r", Order: 1, Action: Allow, Conditions: []Condition{
			cnd(op(ObjSCIMGroup, "72058304855015574", "255066")),
			cnd(op(ObjPosture, "d1c6d9c1-fa2b-4b43-9f1c-2b8f1c8c1e4d", "true")),
			cnd(op(ObjIDP, "id", "OKTA")),
		}}},
	})
	e.Register(goodWindows("s1", "pc.example.com"))
	for _, tc := range []struct {
		user    string
		posture Attr
		allowed bool
	}{
		{"alice", Known("crowdstrike zta"), true},
		{"bob", Known("216196257331285825"), true},
		{"bob", Known("CrowdStrike"), false},
	} {
		d := e.Decide(Request{User: tc.user, FQDN: "pc.example.com", Port: 3389, Device: DeviceAttrs{Posture: tc.posture}})
		if d.Allowed != tc.allowed {
			t.Errorf("%s with posture %v: allowed=%v, want %v:%s", tc.user, tc.posture, d.Allowed, tc.allowed, traceText(d.Trace))
		}
	}
}

// SEG-9: every enrolled, available device gets the lowest free address of
// the client-to-client IP ranges; a connection to it goes Client to Client
// through the segment whose CIDR covers it; the address is freed with the
// session.
func TestDecideClientIPs(t *testing.T) {
	ips := Segment{ID: "ips", Name: "Client IPs", Enabled: true, Addrs: []netip.Prefix{netip.MustParsePrefix("100.64.9.0/24")},
		TCP: []PortRange{{3389, 3389}}}
	e := newEngine(t, Config{HostnameRegexes: []string{`.*\.example\.com`}, Segments: []Segment{c2cSegment("ws", "*.example.com"), ips},
		C2CIPRanges: []netip.Prefix{netip.MustParsePrefix("100.64.9.0/30")}})
	a := e.Register(goodWindows("s1", "a.example.com"))
	away := goodWindows("s2", "b.example.com")
	away.LoggedIn = false
	b := e.Register(away)
	c := e.Register(goodWindows("s3", "c.example.com"))
	d := e.Register(goodWindows("s4", "d.example.com"))
	if a.ClientIP.String() != "100.64.9.1" || b.ClientIP.IsValid() || c.ClientIP.String() != "100.64.9.2" || d.ClientIP.IsValid() {
		t.Fatalf("client IPs %v %v %v %v, want .1, none (not available), .2, none (the /30 has two)", a.ClientIP, b.ClientIP, c.ClientIP, d.ClientIP)
	}
	checkDecision(t, e.Decide(Request{FQDN: "100.64.9.2", Port: 3389}), want{allowed: true, segment: "ips", dest: "s3", rule: "-", trace: "by its address range 100.64.9.0/24"})
	checkDecision(t, e.Decide(Request{FQDN: "100.64.9.2", Port: 22}), want{code: code.BrkPortNotInSegment, segment: "ips"})
	checkDecision(t, e.Decide(Request{FQDN: "100.64.9.3", Port: 3389}), want{code: code.C2CClientNotFound, segment: "ips"})
	checkDecision(t, e.Decide(Request{FQDN: "100.64.10.1", Port: 3389}), want{code: code.BrkAppNotFound, segment: "-"})
	e.Unregister("s1")
	if again := e.Register(goodWindows("s4", "d.example.com")); again.ClientIP.String() != "100.64.9.1" {
		t.Fatalf("after s1 left, s4 got %v, want the freed 100.64.9.1", again.ClientIP)
	}
	if r := e.Route("100.64.9.1", "", 3389, DeviceAttrs{}); r.Segment == nil || r.Segment.ID != "ips" || r.Code != "" {
		t.Fatalf("Route by address = %+v", r)
	}
}

// POL-5 with ZPA's workingHours: an approval holds only on its days and
// hours, in its own time zone, and hours past midnight belong to the day
// they start on.
func TestDecideApprovalWorkingHours(t *testing.T) {
	berlin := &WorkingHours{Days: []string{"MON", "TUE", "WED", "THU", "FRI"}, From: "08:00", To: "17:00", TimeZone: "Europe/Berlin"}
	night := &WorkingHours{Days: []string{"FRI"}, From: "22:00", To: "02:00", TimeZone: "UTC"}
	start, end := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	rules := []Rule{{ID: "ra", Name: "Approval needed", Order: 1, Action: RequireApproval, Conditions: []Condition{cnd(op(ObjApp, "id", "ws"))}}}
	e := newEngine(t, Config{HostnameRegexes: []string{`.*\.example\.com`}, Segments: []Segment{c2cSegment("ws", "*.example.com")},
		Rules: rules, Approvals: []Approval{
			{ID: "day", Emails: []string{"alice@example.com"}, Segments: []string{"ws"}, Start: start, End: end, Hours: berlin},
			{ID: "night", Emails: []string{"bob@example.com"}, Segments: []string{"ws"}, Start: start, End: end, Hours: night},
		}})
	e.Register(goodWindows("s1", "pc.example.com"))
	for _, tc := range []struct {
		name, user string
		at         time.Time
		allowed    bool
	}{
		{"Thursday 11:00 in Berlin (10:00 UTC, winter)", "alice@example.com", time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC), true},
		{"Thursday 08:00 in Berlin, the first minute", "alice@example.com", time.Date(2026, 1, 15, 7, 0, 0, 0, time.UTC), true},
		{"Thursday 17:00 in Berlin, the end is not in", "alice@example.com", time.Date(2026, 1, 15, 16, 0, 0, 0, time.UTC), false},
		{"Thursday 07:30 UTC in summer is 09:30 in Berlin", "alice@example.com", time.Date(2026, 7, 16, 7, 30, 0, 0, time.UTC), true},
		{"Saturday noon in Berlin", "alice@example.com", time.Date(2026, 1, 17, 11, 0, 0, 0, time.UTC), false},
		{"Friday 23:00, in the night window", "bob@example.com", time.Date(2026, 1, 16, 23, 0, 0, 0, time.UTC), true},
		{"Saturday 01:00, the Friday window past midnight", "bob@example.com", time.Date(2026, 1, 17, 1, 0, 0, 0, time.UTC), true},
		{"Friday 01:00 belongs to Thursday's window, which there is none of", "bob@example.com", time.Date(2026, 1, 16, 1, 0, 0, 0, time.UTC), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := e.Decide(Request{User: tc.user, FQDN: "pc.example.com", Port: 3389, Time: tc.at})
			if tc.allowed {
				checkDecision(t, d, want{allowed: true, rule: "ra", dest: "s1", trace: "working hours"})
			} else {
				checkDecision(t, d, want{code: code.BrkApprovalRequired, rule: "ra"})
			}
		})
	}
	for _, bad := range []struct {
		h     WorkingHours
		field string
	}{
		{WorkingHours{Days: []string{"MONDAY"}, From: "08:00", To: "17:00", TimeZone: "UTC"}, "workingHours.days"},
		{WorkingHours{Days: []string{"MON"}, From: "8am", To: "17:00", TimeZone: "UTC"}, "workingHours.startTime"},
		{WorkingHours{Days: []string{"MON"}, From: "08:00", To: "17:00", TimeZone: "Mars/Olympus"}, "workingHours.timeZone"},
	} {
		_, err := New(Config{Segments: []Segment{c2cSegment("ws", "*.example.com")}, Approvals: []Approval{{ID: "x", Emails: []string{"a"}, Segments: []string{"ws"}, Start: start, End: end, Hours: &bad.h}}})
		if err == nil || !strings.Contains(err.Error(), "approvals[0]."+bad.field) {
			t.Errorf("working hours %+v: got %v, want an error at approvals[0].%s", bad.h, err, bad.field)
		}
	}
}
