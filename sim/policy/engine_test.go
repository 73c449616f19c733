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
		{"wildcard not leftmost", Config{Segments: []Segment{seg("a", "pc.*.example.com")}},
			"applicationSegments[0].domainNames[0]", "'*' that is not the whole first label", domain.ErrInvalid},
		{"domain in two segments", Config{Segments: []Segment{seg("a", "*.example.com"), seg("b", "pc.test", "*.EXAMPLE.com")}},
			"applicationSegments[1].domainNames[1]", `also a domain of applicationSegments[0] "a"`, domain.ErrDuplicate},
		{"duplicate segment id", Config{Segments: []Segment{seg("a", "x.test"), seg("a", "y.test")}},
			"applicationSegments[1].id", `"a" is also the id of applicationSegments[0]`, nil},
		{"empty segment id", Config{Segments: []Segment{seg("", "x.test")}}, "applicationSegments[0].id", "has no id", nil},
		{"reversed port range", Config{Segments: []Segment{{ID: "a", Domains: []string{"x.test"}, UDP: []PortRange{{1, 1}, {3390, 3389}}}}},
			"applicationSegments[0].udpPortRange[1]", "from 3390 is above to 3389", nil},
		{"unknown action", Config{Rules: []Rule{rule("PERMIT")}}, "rules[0].action", `is "PERMIT", want ALLOW or DENY`, nil},
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

func TestWarnings(t *testing.T) {
	e := newEngine(t, Config{
		HostnameRegexes: []string{`desktop-[a-zA-Z0-9]{5}-AC\.example\.com`},
		Segments: []Segment{
			{ID: "ok", Name: "ok", Enabled: true, Domains: []string{"desktop-10B38-AC.example.com", "*.example.com"}},
			{ID: "bad", Name: "bad", Enabled: true, Domains: []string{"testPC.example.com"}},
			{ID: "srv", Name: "srv", Enabled: true, Domains: []string{"app.example.com"}, ServerGroups: []string{"sg"}},
		},
		Rules: []Rule{{Name: "r1", Action: Allow, Conditions: []Condition{
			cnd(op(ObjApp, "", "gone"), op(ObjAppGroup, "", "nogroup")), cnd(op("IDP", "", "x"), op("IDP", "", "y")),
		}}},
	})
	got := strings.Join(e.Warnings(), "\n")
	for _, want := range []string{
		`segment "bad" (id bad) domain "testPC.example.com" does not match the client hostname regex`,
		`names APP "gone"`, `names APP_GROUP "nogroup"`,
		`operand type IDP is not modelled by the lab; conditions using it never match, in access rules "r1"` + "\n",
	} {
		if !strings.Contains(got+"\n", want) {
			t.Errorf("warnings lack %q:\n%s", want, got)
		}
	}
	for _, notWant := range []string{"desktop-10B38-AC", "app.example.com", "*.example.com"} {
		if strings.Contains(got, notWant) {
			t.Errorf("warnings mention %q:\n%s", notWant, got)
		}
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
