package policy

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/domain"
)

func TestNewRejectsUnusableConfig(t *testing.T) {
	seg := func(id string, domains ...string) Segment {
		return Segment{ID: id, Name: id, Enabled: true, Domains: domains, TCP: []PortRange{{3389, 3389}}}
	}
	rule := func(a Action, conds ...Condition) Rule {
		return Rule{Name: "r", Order: 1, Action: a, Conditions: conds}
	}
	tests := []struct {
		name      string
		cfg       Config
		wantField string // ConfigError.Error() must contain it
		wantMsg   string
		wantIs    error
	}{
		{"bad domain", Config{Segments: []Segment{seg("a", "a b.example.com")}},
			"applicationSegments[0].domainNames[0]", "want an FQDN such as", domain.ErrInvalid},
		{"pattern with a glob in the last label", Config{Segments: []Segment{seg("a", "pc.*.example.c*m")}},
			"applicationSegments[0].domainNames[0]", `the last label "c*m" of a pattern must be literal`, domain.ErrInvalid},
		{"domain in two segments", Config{Segments: []Segment{seg("a", "*.example.com"), seg("b", "pc.test", "*.EXAMPLE.com")}},
			"applicationSegments[1].domainNames[1]", `"*.EXAMPLE.com" is also a domain of segment "a" (id a)`, domain.ErrDuplicate},
		{"duplicate segment id", Config{Segments: []Segment{seg("a", "x.test"), seg("a", "y.test")}},
			"applicationSegments[1].id", `"a" is also the id of applicationSegments[0]`, nil},
		{"empty segment id", Config{Segments: []Segment{seg("", "x.test")}}, "applicationSegments[0].id", "has no id", nil},
		{"reversed port range", Config{Segments: []Segment{{ID: "a", Domains: []string{"x.test"}, UDP: []PortRange{{1, 1}, {3390, 3389}}}}},
			"applicationSegments[0].udpPortRange[1]", "from 3390 is above to 3389", nil},
		{"unknown action", Config{Rules: []Rule{rule("PERMIT")}}, "rules[0].action", `is "PERMIT", want ALLOW, DENY or REQUIRE_APPROVAL`, nil},
		{"unknown rule operator", Config{Rules: []Rule{{Name: "r", Action: Allow, Operator: "XOR"}}}, "rules[0].operator", "want AND or OR", nil},
		{"unknown condition operator", Config{Rules: []Rule{rule(Allow, Condition{Operator: "NAND"})}}, "rules[0].conditions[0].operator", "want OR or AND", nil},
		{"empty object type", Config{Rules: []Rule{rule(Allow, cnd(op("", "", "x")))}}, "rules[0].conditions[0].operands[0].objectType", "is empty", nil},
		{"platform rhs not boolean", Config{Rules: []Rule{rule(Allow, cnd(op(ObjPlatform, "windows", "yes")))}},
			"rules[0].conditions[0].operands[0].rhs", `is "yes", want true or false`, nil},
		{"posture without lhs", Config{Rules: []Rule{rule(Allow, cnd(op(ObjPosture, "", "true")))}},
			"rules[0].conditions[0].operands[0].lhs", "is empty", nil},
		{"APP without rhs", Config{Rules: []Rule{rule(Allow, cnd(op(ObjApp, "id", "")))}},
			"rules[0].conditions[0].operands[0].rhs", "want the APP value", nil},
		{"duplicate rule id", Config{Rules: []Rule{{ID: "1", Action: Allow}, {ID: "1", Action: Deny}}}, "rules[1].id", `"1" is also the id of rules[0]`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(tc.cfg)
			if err == nil {
				t.Fatalf("New = %v, want an error", e)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is no *ConfigError", err)
			}
			if !strings.Contains(err.Error(), tc.wantField+": ") || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("error %q, want %q and %q", err, tc.wantField, tc.wantMsg)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Fatalf("error %v does not wrap %v", err, tc.wantIs)
			}
		})
	}
}

func TestNewReportsEveryProblem(t *testing.T) {
	_, err := New(Config{
		Segments: []Segment{{ID: "a", Domains: []string{"a..b"}, TCP: []PortRange{{2, 1}}}},
		Rules:    []Rule{{Action: "maybe"}},
	})
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 3 {
		t.Fatalf("New error = %v, want the 3 problems joined", err)
	}
}

// HV-1: regex problems are not configuration errors; they show on every
// registration.
func TestNewAcceptsRegexProblems(t *testing.T) {
	for _, res := range [][]string{nil, {"a", "b"}, {"("}} {
		e, err := New(Config{HostnameRegexes: res})
		if err != nil {
			t.Fatalf("New with regexes %q: %v", res, err)
		}
		if len(e.Warnings()) == 0 {
			t.Errorf("regexes %q: no warning", res)
		}
	}
}

func TestLint(t *testing.T) {
	seg := func(id string, domains ...string) Segment {
		return Segment{ID: id, Name: id, Enabled: true, Domains: domains, TCP: []PortRange{{3389, 3389}}, GroupID: "g"}
	}
	strict := []string{`desktop-[a-zA-Z0-9]{5}-AC\.example\.com`}
	tests := []struct {
		name string
		cfg  Config
		want []string // every warning, as Warning.String()
	}{
		{"clean", Config{HostnameRegexes: strict, Segments: []Segment{seg("ws", "desktop-10B38-AC.example.com", "*.example.com")}}, nil},
		{"HV-1 no regex", Config{}, []string{"clientHostnameValidation: no client hostname validation regex: every registration fails with FQDN_NO_ENTRIES"}},
		{"HV-1 two regexes, one bad", Config{HostnameRegexes: []string{"a", "("}}, []string{
			"clientHostnameValidation: 2 regexes: ZPA accepts exactly one, every registration fails with FQDN_TOO_MANY_REGEX (HV-1)",
			"clientHostnameValidation[1]: regex '(' does not compile (error parsing regexp: missing closing ): `(`)",
		}},
		{"HV-1 bad regex", Config{HostnameRegexes: []string{"a)(b"}}, []string{
			"clientHostnameValidation[0]: regex 'a)(b' does not compile (error parsing regexp: unexpected ): `a)(b`): every registration fails with FQDN_BAD_REGEX (HV-1)",
		}},
		{"HV-1 empty entry is ignored", Config{HostnameRegexes: []string{"", `.*\.example\.com`}}, []string{"clientHostnameValidation[0]: is empty, so it is ignored"}},
		{"SEG-1 exact FQDN outside the regex", Config{HostnameRegexes: strict, Segments: []Segment{seg("ok", "*.example.com"), seg("bad", "desktop-1.example.com", "testPC.example.com")}}, []string{
			`applicationSegments[1].domainNames[0]: "desktop-1.example.com" does not match the client hostname validation regex 'desktop-[a-zA-Z0-9]{5}-AC\.example\.com': no device with this FQDN can be enrolled`,
			`applicationSegments[1].domainNames[1]: "testPC.example.com" does not match`,
		}},
		{"SEG-1 wildcard outside the regex", Config{HostnameRegexes: strict, Segments: []Segment{seg("kiosk", "*.kiosk.example.com")}}, []string{
			`applicationSegments[0].domainNames[0]: no name under "*.kiosk.example.com" can match the client hostname validation regex 'desktop-[a-zA-Z0-9]{5}-AC\.example\.com': no device is reachable through this segment (SEG-1)`,
		}},
		{"SEG-1 does not apply to server segments", Config{HostnameRegexes: strict, Segments: []Segment{{ID: "srv", Name: "srv", Domains: []string{"app.example.org"}, ServerGroups: []string{"sg"}}}}, nil},
		{"SEG-1 waits for a usable regex", Config{HostnameRegexes: []string{"("}, Segments: []Segment{seg("ws", "pc.example.org")}}, []string{"clientHostnameValidation[0]: regex '('"}},
		{"a domain twice in one segment", Config{HostnameRegexes: strict, Segments: []Segment{seg("ws", "*.example.com", "pc.test", "*.EXAMPLE.com.")}}, []string{
			`applicationSegments[0].domainNames[1]: "pc.test" does not match`,
			`applicationSegments[0].domainNames[2]: "*.EXAMPLE.com." is listed twice in this segment (domainNames[0]); it counts once`,
		}},
		{"operands naming nothing, operand types never known", Config{HostnameRegexes: strict, Segments: []Segment{seg("ws", "*.example.com")},
			Rules: []Rule{{Name: "r0", Action: Allow}, {Name: "r1", Action: Allow, Conditions: []Condition{
				cnd(op(ObjApp, "", "ws"), op(ObjApp, "", "gone"), op(ObjAppGroup, "", "nogroup")), cnd(op("FUTURE", "", "x"), op("chrome_enterprise", "managed", "true")),
				cnd(op(ObjIDP, "", "x")),
			}}}}, []string{
			`rules[1].conditions[0].operands[1].rhs: APP "gone" is no segment of this tenant, so this operand never matches`,
			`rules[1].conditions[0].operands[2].rhs: APP_GROUP "nogroup" is the segment group of no segment of this tenant`,
			"rules[1].conditions[1].operands[0].objectType: FUTURE is not an object type of ZPA's access-policy API the lab knows: the rule is undecided whenever it is reached (POL-4)",
			"rules[1].conditions[1].operands[1].objectType: the lab models no Chrome browser, so CHROME_ENTERPRISE is never known",
		}},
		{"a name two objects share", Config{HostnameRegexes: strict, Objects: []Object{
			{Type: ObjSCIMGroup, ID: "1", Name: "Helpdesk"}, {Type: ObjSCIMGroup, ID: "2", Name: "helpdesk"}, {Type: ObjSCIMGroup, ID: "3", Name: "Other"}}},
			[]string{`objects: SCIM_GROUP "helpdesk" names two objects`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, tc.cfg)
			got := e.Warnings()
			if len(got) != len(tc.want) {
				t.Fatalf("%d warnings, want %d:\n%s", len(got), len(tc.want), strings.Join(got, "\n"))
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("warning %d = %q, want it to start %q", i, got[i], w)
				}
			}
			lint := e.Lint()
			for i, w := range lint {
				if w.String() != got[i] || w.Msg == "" || (w.Segment >= 0) == (w.Rule >= 0) && !strings.HasPrefix(w.Field, "clientHostnameValidation") && w.Field != "objects" {
					t.Errorf("Lint()[%d] = %+v does not say where it is", i, w)
				}
			}
		})
	}
}

// TestWildcardCannotMatch pins the soundness of the SEG-1 wildcard check: a
// warning only where no name under the wildcard can match.
func TestWildcardCannotMatch(t *testing.T) {
	tests := []struct {
		regex, wildcardSuffix string
		cannot                bool
	}{
		{`.*\.example\.com`, "example.com", false},
		{`.*\.example\.com`, "hr.example.com", false},
		{`.*\.example\.com`, "example.org", true},
		{`desktop-[a-zA-Z0-9]{5}-AC\.example\.com`, "example.com", false},
		{`desktop-[a-zA-Z0-9]{5}-AC\.example\.com`, "kiosk.example.com", true},
		{`desktop-[a-zA-Z0-9]{5}-AC\.example\.com$`, "kiosk.example.com", true},
		{`(?i)DESKTOP-.*\.EXAMPLE\.COM`, "example.com", false},
		{`.*`, "anything.test", false},                              // no required suffix: cannot decide, so no warning
		{`(a\.example\.com|b\.example\.org)`, "example.net", false}, // alternation: not decided
	}
	for _, tt := range tests {
		t.Run(tt.regex+" vs *."+tt.wildcardSuffix, func(t *testing.T) {
			if got := wildcardCannotMatch(tt.wildcardSuffix, requiredSuffix(tt.regex)); got != tt.cannot {
				t.Fatalf("cannot match = %v, want %v (required suffix %q)", got, tt.cannot, requiredSuffix(tt.regex))
			}
		})
	}
}

func TestConfigIsCopied(t *testing.T) {
	cfg := Config{HostnameRegexes: []string{`.*\.example\.com`}, Segments: []Segment{c2cSegment("ws", "*.example.com")}}
	e := newEngine(t, cfg)
	cfg.Segments[0].Domains[0] = "*.evil.test"
	got := e.Config()
	got.Segments[0].TCP[0].From = 1
	if s, ok := e.Segment("pc.example.com"); !ok || s.Domains[0] != "*.example.com" || s.TCP[0].From != 3389 {
		t.Fatalf("engine changed with its caller's copies: %+v", s)
	}
	if _, ok := e.Segment("pc.evil.test"); ok {
		t.Fatal("engine sees the caller's later change")
	}
}

func TestSegmentAllows(t *testing.T) {
	s := Segment{TCP: []PortRange{{3389, 3389}, {5900, 5910}}, UDP: []PortRange{{3389, 3389}}}
	tests := []struct {
		proto string
		port  uint16
		want  bool
	}{
		{"", 3389, true}, {"tcp", 5905, true}, {"tcp", 5911, false}, {"udp", 3389, true},
		{"udp", 5900, false}, {"sctp", 3389, false}, {"tcp", 0, false},
	}
	for _, tc := range tests {
		if got := s.Allows(tc.proto, tc.port); got != tc.want {
			t.Errorf("Allows(%q, %d) = %v, want %v", tc.proto, tc.port, got, tc.want)
		}
	}
}

// TestConcurrent runs registrations and decisions at once; run with -race.
func TestConcurrent(t *testing.T) {
	e := newEngine(t, Config{
		HostnameRegexes: []string{`.*\.example\.com`},
		Segments:        []Segment{c2cSegment("ws", "*.example.com")},
		Rules:           []Rule{{ID: "r", Name: "r", Order: 1, Action: Allow, Conditions: []Condition{cnd(op(ObjApp, "", "ws"))}}},
	})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 4 {
		wg.Go(func() {
			for i := range 200 {
				id := string(rune('a' + w))
				en := e.Register(goodWindows(id, "pc.example.com"))
				if en.FQDNRegisteredError != code.FQDNMatch && en.FQDNRegisteredError != code.FQDNDuplicate {
					errs <- errors.New("unexpected registration " + string(en.FQDNRegisteredError))
					return
				}
				if i%2 == 0 {
					e.Unregister(id)
				}
				e.Registered()
			}
		})
		wg.Go(func() {
			for range 500 {
				d := e.Decide(Request{User: "u", FQDN: "pc.example.com", Port: 3389})
				if d.Allowed != (d.Destination != "") || !d.Allowed && d.Code != code.C2CClientNotFound {
					errs <- errors.New("inconsistent decision " + string(d.Code) + " to " + d.Destination)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// At most one session holds the name.
	holders := 0
	for _, r := range e.Registered() {
		if r.FQDNRegistered {
			holders++
		}
	}
	if holders > 1 {
		t.Fatalf("%d sessions hold pc.example.com", holders)
	}
}
