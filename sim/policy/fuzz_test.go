package policy

import (
	"regexp"
	"testing"

	"github.com/c2clab/c2clab/sim/code"
)

// FuzzRegister feeds arbitrary regexes and FQDNs: no panic, a code from
// HV-1..HV-5, and a match exactly when the anchored regex matches.
func FuzzRegister(f *testing.F) {
	f.Add(`.*\.example\.com`, "testPC.example.com")
	f.Add(`desktop-[a-zA-Z0-9]{5}-AC\.example\.com`, "desktop-10B38-AC.example.com")
	f.Add(`.*\.example\.com`, "testPC.example.com.evil.test")
	f.Add(`a)(b`, "a)(b")
	f.Add(`(`, "")
	f.Add(``, "x")
	f.Add(`(?i)X|`, "")
	f.Fuzz(func(t *testing.T, re, fqdn string) {
		e, err := New(Config{HostnameRegexes: []string{re}, Segments: []Segment{c2cSegment("ws", "*.example.com")}})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		en := e.Register(goodWindows("s1", fqdn))
		_, rawErr := regexp.Compile(re)
		var want code.Code
		switch {
		case re == "":
			want = code.FQDNNoEntries
		case rawErr != nil:
			want = code.FQDNBadRegex
		case fqdn == "":
			want = code.FQDNEmpty
		case regexp.MustCompile("^(?:" + re + ")$").MatchString(fqdn):
			want = code.FQDNMatch
		default:
			want = code.FQDNNoMatch
		}
		if en.FQDNRegisteredError != want || en.FQDNRegistered != (want == code.FQDNMatch) {
			t.Fatalf("Register(%q) with regex %q = %v %s, want %s", fqdn, re, en.FQDNRegistered, en.FQDNRegisteredError, want)
		}
		d := e.Decide(Request{User: "u", FQDN: fqdn, Port: 3389})
		if d.Allowed && d.Destination != "s1" {
			t.Fatalf("Decide(%q) allowed to %q", fqdn, d.Destination)
		}
		if len(d.Trace) == 0 || len(en.Trace) == 0 {
			t.Fatal("empty trace")
		}
	})
}
