package policy

import (
	"testing"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/device"
)

func TestRegisterHostname(t *testing.T) {
	const exampleRe = `.*\.example\.com`
	const desktopRe = `desktop-[a-zA-Z0-9]{5}-AC\.example\.com`
	tests := []struct {
		name      string
		regexes   []string
		fqdn      string
		want      code.Code
		wantTrace string
	}{
		{"HV-1 no regex", nil, "testPC.example.com", code.FQDNNoEntries, "no client hostname validation regex"},
		{"HV-1 empty regex counts as none", []string{""}, "testPC.example.com", code.FQDNNoEntries, "no client hostname validation regex"},
		{"HV-1 two regexes", []string{exampleRe, desktopRe}, "testPC.example.com", code.FQDNTooManyRegex, "accepts exactly one"},
		{"HV-1 regex does not compile", []string{`desktop-[a-z`}, "testPC.example.com", code.FQDNBadRegex, "does not compile"},
		{"HV-1 unbalanced regex stays bad when anchored", []string{`a)(b`}, "a)(b", code.FQDNBadRegex, "does not compile"},
		{"HV-2 testPC matches", []string{exampleRe}, "testPC.example.com", code.FQDNMatch,
			`hostname regex ".*\\.example\\.com" matches "testPC.example.com" (whole name, case-sensitive)`},
		{"HV-2 desktop matches", []string{desktopRe}, "desktop-10B38-AC.example.com", code.FQDNMatch, "matches"},
		{"HV-2 whole name: suffix after match", []string{exampleRe}, "testPC.example.com.evil.test", code.FQDNNoMatch, "does not match"},
		{"HV-2 whole name: prefix before match", []string{desktopRe}, "xdesktop-10B38-AC.example.com", code.FQDNNoMatch, "does not match"},
		{"HV-2 case-sensitive", []string{desktopRe}, "desktop-10B38-ac.example.com", code.FQDNNoMatch, "case-sensitive"},
		{"HV-2 case-sensitive suffix", []string{exampleRe}, "TESTPC.EXAMPLE.COM", code.FQDNNoMatch, "does not match"},
		{"HV-2 (?i) opts into case-insensitive", []string{`(?i)` + exampleRe}, "TESTPC.EXAMPLE.COM", code.FQDNMatch, "matches"},
		{"HV-2 wrong length", []string{desktopRe}, "desktop-10B3-AC.example.com", code.FQDNNoMatch, "does not match"},
		{"HV-4 bare hostname", []string{exampleRe}, "testPC", code.FQDNNoMatch, "no primary DNS suffix"},
		{"HV-4 nothing reported", []string{exampleRe}, "", code.FQDNEmpty, "reported no FQDN"},
		{"HV-1 before HV-5", nil, "", code.FQDNNoEntries, "no client hostname validation regex"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, Config{HostnameRegexes: tc.regexes})
			en := e.Register(goodWindows("s1", tc.fqdn))
			wantRegistered := tc.want == code.FQDNMatch
			if en.FQDNRegisteredError != tc.want || en.FQDNRegistered != wantRegistered {
				t.Fatalf("Register(%q) = %v %s, want %v %s%s", tc.fqdn, en.FQDNRegistered, en.FQDNRegisteredError, wantRegistered, tc.want, traceText(en.Trace))
			}
			if en.Available != wantRegistered {
				t.Fatalf("Available = %v, want %v%s", en.Available, wantRegistered, traceText(en.Trace))
			}
			if !wantRegistered && en.Code != tc.want {
				t.Fatalf("Code = %s, want the registration code %s", en.Code, tc.want)
			}
			if !hasTrace(en.Trace, tc.wantTrace) {
				t.Fatalf("trace lacks %q:%s", tc.wantTrace, traceText(en.Trace))
			}
			if !wantRegistered && !hasTrace(en.Trace, "("+string(tc.want)+")") {
				t.Fatalf("no trace line names %s:%s", tc.want, traceText(en.Trace))
			}
		})
	}
}

// HV-3: the broker records per session what User Status shows.
func TestRegisteredSnapshot(t *testing.T) {
	e := newEngine(t, Config{HostnameRegexes: []string{`.*\.example\.com`}})
	e.Register(goodWindows("b", "testPC"))
	e.Register(goodWindows("a", "testPC.example.com"))
	got := e.Registered()
	if len(got) != 2 || got[0].ID != "a" || got[1].ID != "b" {
		t.Fatalf("Registered() = %+v, want sessions a and b sorted by ID", got)
	}
	if !got[0].FQDNRegistered || got[0].FQDNRegisteredError != code.FQDNMatch || got[0].Regex != `.*\.example\.com` {
		t.Errorf("session a = %v %s regex %q, want true FQDN_MATCH", got[0].FQDNRegistered, got[0].FQDNRegisteredError, got[0].Regex)
	}
	if got[1].FQDNRegistered || got[1].FQDNRegisteredError != code.FQDNNoMatch {
		t.Errorf("session b = %v %s, want false FQDN_NO_MATCH", got[1].FQDNRegistered, got[1].FQDNRegisteredError)
	}
	got[0].Trace[0] = "changed"
	if e.Registered()[0].Trace[0] == "changed" {
		t.Error("Registered() shares its trace with the engine")
	}
	e.Unregister("a")
	e.Unregister("nope")
	if got := e.Registered(); len(got) != 1 || got[0].ID != "b" {
		t.Fatalf("after Unregister(a): %+v", got)
	}
}

func TestRegisterDuplicateFQDN(t *testing.T) {
	e := newEngine(t, Config{
		HostnameRegexes: []string{`(?i).*\.example\.com`},
		Segments:        []Segment{c2cSegment("ws", "*.example.com")},
	})
	req := Request{User: "admin", FQDN: "testpc.example.com", Port: 3389}
	first := e.Register(goodWindows("first", "testPC.example.com"))
	if !first.FQDNRegistered {
		t.Fatalf("first registration refused:%s", traceText(first.Trace))
	}
	// HV-6: the same name in another case is the same DNS name.
	second := e.Register(goodWindows("second", "TESTPC.example.com"))
	if second.FQDNRegistered || second.FQDNRegisteredError != code.FQDNDuplicate || second.Available || second.Code != code.FQDNDuplicate {
		t.Fatalf("second = %+v, want refused with FQDN_DUPLICATE", second)
	}
	if !hasTrace(second.Trace, `already held by enrolled session "first"`) {
		t.Fatalf("trace does not name the holder:%s", traceText(second.Trace))
	}
	if d := e.Decide(req); d.Destination != "first" {
		t.Fatalf("Decide went to %q, want the first registration:%s", d.Destination, traceText(d.Trace))
	}
	// Re-registering the holder under its own ID is no conflict.
	if again := e.Register(goodWindows("first", "testPC.example.com")); !again.FQDNRegistered {
		t.Fatalf("re-registration refused:%s", traceText(again.Trace))
	}
	// A refused session is not promoted when the holder leaves...
	e.Unregister("first")
	if d := e.Decide(req); d.Code != code.C2CClientNotFound {
		t.Fatalf("after the holder left: %s, want C2C_CLIENT_NOT_FOUND:%s", d.Code, traceText(d.Trace))
	}
	// ...but the name is free for its next registration.
	if third := e.Register(goodWindows("second", "TESTPC.example.com")); !third.FQDNRegistered {
		t.Fatalf("name not freed:%s", traceText(third.Trace))
	}
	if d := e.Decide(req); d.Destination != "second" {
		t.Fatalf("Decide went to %q, want second", d.Destination)
	}
}

func TestRegisterDeviceGates(t *testing.T) {
	mod := func(f func(*Registration)) Registration {
		r := goodWindows("s1", "pc.example.com")
		f(&r)
		return r
	}
	tests := []struct {
		name      string
		reg       Registration
		want      code.Code // "" means available
		wantTrace string
	}{
		{"DEV-1 windows at minimum", mod(func(r *Registration) {}), "", "meets the Windows minimum 3.9.0.169"},
		{"DEV-1 windows 3.10 is newer", mod(func(r *Registration) { r.ConnectorVersion = "3.10" }), "", "connector version 3.10 meets"},
		{"DEV-1 windows 3.9.1", mod(func(r *Registration) { r.ConnectorVersion = "3.9.1" }), "", "meets"},
		{"DEV-1 windows one below", mod(func(r *Registration) { r.ConnectorVersion = "3.9.0.168" }), code.C2CVersionUnsupported,
			"connector version 3.9.0.168 is older than the Windows minimum 3.9.0.169"},
		{"DEV-1 windows 3.9.0.99 is older", mod(func(r *Registration) { r.ConnectorVersion = "3.9.0.99" }), code.C2CVersionUnsupported, "is older than"},
		{"DEV-1 linux 1.4", mod(func(r *Registration) { r.OS, r.ConnectorVersion, r.JoinState = device.Linux, "1.4", device.JoinNone }), "", "meets the Linux minimum 1.4"},
		{"DEV-1 linux 1.3.9", mod(func(r *Registration) { r.OS, r.ConnectorVersion = device.Linux, "1.3.9" }), code.C2CVersionUnsupported, "older than the Linux minimum 1.4"},
		{"DEV-1 mac 3.7", mod(func(r *Registration) { r.OS, r.ConnectorVersion = device.MacOS, "3.7" }), "", "meets the macOS minimum 3.7"},
		{"DEV-1 mac 3.6.9", mod(func(r *Registration) { r.OS, r.ConnectorVersion = device.MacOS, "3.6.9" }), code.C2CVersionUnsupported, "older than the macOS minimum 3.7"},
		{"DEV-1 unreadable version", mod(func(r *Registration) { r.ConnectorVersion = "" }), code.C2CVersionUnsupported, "cannot be read"},
		{"DEV-1 platform without client-to-client", mod(func(r *Registration) { r.OS = "ios" }), code.C2CNotAvailable, "only Windows, macOS and Linux"},
		{"DEV-2 mac not joined", mod(func(r *Registration) { r.OS, r.ConnectorVersion, r.JoinState = device.MacOS, "3.7", device.JoinNone }),
			code.C2CMacNotDomainJoined, "a Mac must be"},
		{"DEV-2 mac join state unset", mod(func(r *Registration) { r.OS, r.ConnectorVersion, r.JoinState = device.MacOS, "3.7", "" }),
			code.C2CMacNotDomainJoined, "not domain-joined"},
		{"DEV-3 windows hybrid-joined", mod(func(r *Registration) { r.JoinState = device.JoinHybrid }), "", "hybrid-joined"},
		{"DEV-3 windows azure-joined", mod(func(r *Registration) { r.JoinState = device.JoinAzure }), "", "complete and unique"},
		{"DEV-3 windows not joined", mod(func(r *Registration) { r.JoinState = device.JoinNone }), "", "not domain-joined"},
		{"DEV-3 linux azure-joined", mod(func(r *Registration) { r.OS, r.ConnectorVersion, r.JoinState = device.Linux, "1.4", device.JoinAzure }), "", "azure-joined"},
		{"DEV-4 neither tunnel nor login", mod(func(r *Registration) { r.LoggedIn = false }), code.C2CNotAvailable, "no machine tunnel"},
		{"DEV-4 machine tunnel without login", mod(func(r *Registration) { r.LoggedIn, r.MachineTunnel = false, true }), "", "machine tunnel is deployed"},
		{"DEV-4 mac machine tunnel", mod(func(r *Registration) {
			r.OS, r.ConnectorVersion, r.LoggedIn, r.MachineTunnel = device.MacOS, "3.7", false, true
		}), "", "machine tunnel is deployed"},
		{"DEV-4 linux machine tunnel counts as absent", mod(func(r *Registration) {
			r.OS, r.ConnectorVersion, r.LoggedIn, r.MachineTunnel = device.Linux, "1.4", false, true
		}), code.C2CNotAvailable, "Windows and macOS only"},
		// A conforming connector with Private Access off never registers;
		// one that does is not available, and CLT_PRIVATE_ACCESS_DISABLED
		// stays the source agent's code.
		{"DEV-5 Private Access disabled", mod(func(r *Registration) { r.PrivateAccess = false }), code.C2CNotAvailable, "never connects to the broker (DEV-5)"},
		{"DEV-5 reported before DEV-1", mod(func(r *Registration) { r.PrivateAccess, r.ConnectorVersion = false, "3.0" }), code.C2CNotAvailable, "is older than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, Config{HostnameRegexes: []string{`.*\.example\.com`}})
			en := e.Register(tc.reg)
			if !en.FQDNRegistered || en.FQDNRegisteredError != code.FQDNMatch {
				t.Fatalf("gates must not change the hostname result: %v %s", en.FQDNRegistered, en.FQDNRegisteredError)
			}
			if en.Available != (tc.want == "") || en.Code != tc.want {
				t.Fatalf("Available=%v Code=%q, want available=%v code %q%s", en.Available, en.Code, tc.want == "", tc.want, traceText(en.Trace))
			}
			if !hasTrace(en.Trace, tc.wantTrace) {
				t.Fatalf("trace lacks %q:%s", tc.wantTrace, traceText(en.Trace))
			}
			// The failing gate's own line names its code, not only the summary.
			if c, trace := gates(&tc.reg); c != "" && !hasTrace(trace, "("+string(c)+")") {
				t.Fatalf("no gate line names %s:%s", c, traceText(trace))
			}
		})
	}
}

// A device that fails registration reports the registration code even when
// a gate fails too; the gates are still traced.
func TestRegisterCodePrecedence(t *testing.T) {
	e := newEngine(t, Config{HostnameRegexes: []string{`.*\.example\.com`}})
	r := goodWindows("s1", "testPC")
	r.ConnectorVersion = "3.0"
	en := e.Register(r)
	if en.Code != code.FQDNNoMatch || en.Available {
		t.Fatalf("Code = %s, want FQDN_NO_MATCH", en.Code)
	}
	if !hasTrace(en.Trace, "is older than") {
		t.Fatalf("gate not traced:%s", traceText(en.Trace))
	}
}
