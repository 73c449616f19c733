package tenant

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/c2clab/c2clab/sim/configfile"
	"github.com/c2clab/c2clab/sim/domain"
)

// FuzzParse feeds the tenant loader any file, seeded with every shipped
// tenant (the ZPA export among them) and every broken one. Device files
// are faked so that a random input never reads a file. It checks:
//
//   - every error is a *configfile.Error naming the file, and every error
//     and warning that names a field names its line;
//
//   - the same bytes give the same tenant, errors and warnings again;
//
//   - an accepted tenant is one the policy engine accepts too (the broker
//     builds the same engine), with valid domains and ports.
//
//     go test -run '^$' -fuzz '^FuzzParse$' -fuzztime 30s ./sim/tenant
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("../../fixtures/tenants/*.*")
	broken, _ := filepath.Glob("../../fixtures/tenants/broken/*.yaml")
	for _, p := range append(seeds, broken...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(head + "applicationSegments: [{name: a, domainNames: ['*.x'], tcpPortRanges: ['1']}]"))
	// POL-4, POL-5, SEG-9: users' attributes, approvals, client IP ranges.
	f.Add([]byte(head + "users: [{name: u, groups: [], idp: '', scimAttributes: {d: [x]}, samlAttributes: {}, riskLevel: low}]\n" +
		"applicationSegments: [{id: s, name: a, matchStyle: inclusive, bypassType: ON_NET, domainNames: ['d-??.x.com', '100.64.1.0/24'], tcpPortRanges: ['1', '1']}]\n" +
		"approvals: [{id: '1', emailIds: [u], applications: [{id: s}], startTime: '1', endTime: '2026-01-01T00:00:00Z'}]\n" +
		"c2cIpRanges: [100.64.1.0/24, {subnetCidr: 100.64.2.0/24}, {ipRangeBegin: 100.64.3.0, ipRangeEnd: 100.64.3.255}]\n" +
		"rules: [{name: r, action: REQUIRE_APPROVAL, conditions: [{operands: [{objectType: COUNTRY_CODE, lhs: DE, rhs: 'true'}]}]}]\n"))
	for _, tc := range badInputs {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ten, warns, err := parse("fuzz.yaml", data, fakeFiles)
		checkTenantErrors(t, err, warns)
		ten2, warns2, err2 := parse("fuzz.yaml", data, fakeFiles)
		if !reflect.DeepEqual(ten, ten2) || !reflect.DeepEqual(warns, warns2) || errText(err) != errText(err2) {
			t.Fatalf("same input, different results:\n%v\n%v", err, err2)
		}
		if err != nil {
			return
		}
		if _, err := ten.Engine(); err != nil {
			t.Fatalf("the loader accepted a tenant the policy engine refuses: %v", err)
		}
		checkTenantValues(t, ten)
	})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// checkTenantErrors checks the error contract of parse.
func checkTenantErrors(t *testing.T, err error, warns []Warning) {
	t.Helper()
	for _, w := range warns {
		if w.File != "fuzz.yaml" || w.Msg == "" || (w.Field != "" && w.Line <= 0) || fmtMistake(w.Msg) {
			t.Fatalf("warning %+v does not name file, line and field", w)
		}
	}
	if err == nil {
		return
	}
	for _, e := range leafErrors(err) {
		var ce *configfile.Error
		switch {
		case !errors.As(e, &ce):
			t.Fatalf("error %q is not a *configfile.Error", e)
		case ce.File != "fuzz.yaml" || ce.Msg == "" || (ce.Field != "" && ce.Line <= 0):
			t.Fatalf("error %+v does not name file, line and field", ce)
		case fmtMistake(ce.Msg):
			t.Fatalf("error %q has a formatting mistake", e)
		}
	}
}

// checkTenantValues checks what an accepted tenant holds.
func checkTenantValues(t *testing.T, ten *Tenant) {
	t.Helper()
	for _, s := range ten.Segments {
		for _, d := range s.Domains {
			if _, err := domain.Parse(d); err != nil {
				t.Fatalf("segment %q kept domain %q: %v", s.ID, d, err)
			}
		}
		for _, r := range append(s.TCP, s.UDP...) {
			if r.From == 0 || r.From > r.To {
				t.Fatalf("segment %q kept port range %d-%d", s.ID, r.From, r.To)
			}
		}
	}
	for _, r := range ten.Rules {
		if r.Action != "ALLOW" && r.Action != "DENY" && r.Action != "REQUIRE_APPROVAL" {
			t.Fatalf("rule %q kept action %q", r.ID, r.Action)
		}
	}
	for _, tc := range ten.Tests {
		if tc.Port == 0 || !domain.ValidName(tc.FQDN) || tc.User == "" {
			t.Fatalf("test %+v kept a bad target or no user", tc)
		}
	}
}

// FuzzParseTarget: what ParseTarget accepts is one valid host name and a
// port 1-65535, and joining them back parses to the same pair.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"desktop-10B38-AC.example.com:3389", "a.example.com:65535", "a.example.com:0", "*.example.com:1",
		"[::1]:3389", "a..b:1", ":1", "a.example.com:+1", "a.example.com:0x10", " a.example.com:1 ", "a.example.com.:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		host, port, err := ParseTarget(s)
		if err != nil {
			if host != "" || port != 0 || fmtMistake(err.Error()) {
				t.Fatalf("ParseTarget(%q) = %q, %d, %v", s, host, port, err)
			}
			return
		}
		if port == 0 || strings.Contains(host, "*") || !domain.ValidName(host) {
			t.Fatalf("ParseTarget(%q) accepted %q port %d", s, host, port)
		}
		h2, p2, err := ParseTarget(net.JoinHostPort(host, strconv.Itoa(int(port))))
		if err != nil || h2 != host || p2 != port {
			t.Fatalf("ParseTarget(%q) = %q:%d, which parses back to %q:%d, %v", s, host, port, h2, p2, err)
		}
	})
}

// quotedRE matches what a message echoes from the input: a Go-quoted
// string, or yaml.v3's backquoted value (a tag such as !%%!x).
var quotedRE = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|`[^`]*`")

// fmtMistake reports a message fmt got wrong ("%!v(MISSING)", "%!w(<nil>)"),
// outside the quoted values it echoes from the input.
func fmtMistake(msg string) bool {
	return strings.Contains(quotedRE.ReplaceAllString(msg, `""`), "%!")
}

// leafErrors is err's joined errors, or err alone.
func leafErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
