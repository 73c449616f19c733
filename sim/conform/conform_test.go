package conform

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/policy"
	"github.com/c2clab/c2clab/sim/wire"
)

// overWire sends m through the protocol's JSON encoding, as the broker
// receives it.
func overWire(t *testing.T, m wire.Register) *wire.Register {
	t.Helper()
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var got wire.Register
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	return &got
}

// TestProfileToRegistrationRoundTrip follows a profile through the
// agent's register message, the wire and the broker's mapping back.
func TestProfileToRegistrationRoundTrip(t *testing.T) {
	no := false
	base := func(change func(*device.Profile)) *device.Profile {
		p := &device.Profile{Name: "pc", Hostname: "desktop-10B38-AC", PrimaryDNSSuffix: "example.com", OS: device.Windows,
			ConnectorVersion: "4.5.0.286", JoinState: device.JoinHybrid, MachineTunnel: true, LoggedIn: true,
			User: "enduser@example.com", Posture: []string{"corp-compliant"}}
		if change != nil {
			change(p)
		}
		return p
	}
	full := policy.Registration{ID: "s1", FQDN: "desktop-10B38-AC.example.com", OS: device.Windows, ConnectorVersion: "4.5.0.286",
		JoinState: device.JoinHybrid, MachineTunnel: true, LoggedIn: true, PrivateAccess: true,
		User: "enduser@example.com", Posture: []string{"corp-compliant"}, ClientType: "",
		Device: policy.DeviceAttrs{Posture: policy.Known("corp-compliant")}}
	with := func(change func(*policy.Registration)) policy.Registration {
		r := full
		r.Posture = append([]string(nil), full.Posture...)
		change(&r)
		return r
	}
	tests := []struct {
		name string
		p    *device.Profile
		want policy.Registration
	}{
		{"every field, Private Access absent means on", base(nil), full},
		{"Private Access off is reported as it is (DEV-5)", base(func(p *device.Profile) { p.PrivateAccess = &no }),
			with(func(r *policy.Registration) { r.PrivateAccess = false })},
		{"no hostname collection reports no FQDN (HV-5)", base(func(p *device.Profile) { p.CollectHostname = &no }),
			with(func(r *policy.Registration) { r.FQDN = "" })},
		{"no primary DNS suffix reports the bare hostname (HV-4)", base(func(p *device.Profile) { p.PrimaryDNSSuffix = "" }),
			with(func(r *policy.Registration) { r.FQDN = "desktop-10B38-AC" })},
		{"no posture", base(func(p *device.Profile) { p.Posture = nil }), with(func(r *policy.Registration) { r.Posture, r.Device.Posture = nil, policy.Attr{} })},
		{"a Mac, not joined", base(func(p *device.Profile) { p.OS, p.JoinState = device.MacOS, device.JoinNone }),
			with(func(r *policy.Registration) { r.OS, r.JoinState = device.MacOS, device.JoinNone })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := Register(tc.p)
			if m.Platform != string(tc.p.OS) {
				t.Errorf("platform = %q, want the OS %q", m.Platform, tc.p.OS)
			}
			got := Registration("s1", overWire(t, m))
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("profile -> register -> wire -> registration =\n%+v\nwant\n%+v", got, tc.want)
			}
			if direct := FromProfile("s1", tc.p); !reflect.DeepEqual(direct, got) {
				t.Fatalf("FromProfile = %+v, the wire gives %+v", direct, got)
			}
		})
	}
	t.Run("shares nothing with the profile", func(t *testing.T) {
		p := base(nil)
		got := FromProfile("s1", p)
		got.Posture[0] = "changed"
		if p.Posture[0] != "corp-compliant" {
			t.Fatal("the registration's posture aliases the profile's")
		}
	})
}

func TestRequestDefaultsPlatformToOS(t *testing.T) {
	p := &device.Profile{Name: "a", Hostname: "a", OS: device.Linux, User: "u", Posture: []string{"x"}}
	c := &wire.Connect{FQDN: "pc.example.com", Port: 3389, Proto: "tcp"}
	m := Register(p)
	at := time.Unix(1700000000, 0)
	req := func(m wire.Register) policy.Request {
		w := overWire(t, m)
		reg := Registration("s1", w)
		return Request(&reg, w, c, at)
	}
	got := req(m)
	if got.User != "u" || got.Platform != device.Linux || !reflect.DeepEqual(got.Device.Posture, policy.Known("x")) ||
		got.FQDN != "pc.example.com" || got.Port != 3389 || got.Proto != "tcp" || !got.Time.Equal(at) || got.ClientType == "" {
		t.Fatalf("Request = %+v", got)
	}
	m.Platform = "" // a vendor's agent may leave it out
	if got := req(m); got.Platform != device.Linux {
		t.Fatalf("platform without one on the wire = %q, want the OS", got.Platform)
	}
	m.Platform, m.ClientType = "ios", policy.ClientTypeMachineTunnel
	if got := req(m); got.Platform != "ios" || got.ClientType != m.ClientType {
		t.Fatalf("Request = %+v, want the platform and client type as sent", got)
	}
}

func TestSegmentsRoundTrip(t *testing.T) {
	segs := []policy.Segment{
		{ID: "1", Name: "ws", Enabled: true, Domains: []string{"*.example.com"}, TCP: []policy.PortRange{{From: 3389, To: 3389}, {From: 445, To: 445}}, UDP: []policy.PortRange{{From: 53, To: 53}}},
		{ID: "2", Name: "off", Domains: []string{"pc.example.com"}},
	}
	ws := Segments(segs)
	if ws[1].TCP == nil {
		t.Fatal("a segment without TCP ranges sends null; the protocol says []")
	}
	back := policySegments(ws)
	back[1].TCP = nil
	if !reflect.DeepEqual(back, segs) {
		t.Fatalf("segments -> wire -> segments =\n%+v\nwant\n%+v", back, segs)
	}
}

func TestSourceIntercept(t *testing.T) {
	src, err := NewSource(Segments([]policy.Segment{
		{ID: "ws", Name: "ws", Enabled: true, Domains: []string{"*.example.com"}, TCP: []policy.PortRange{{From: 3389, To: 3389}}, UDP: []policy.PortRange{{From: 53, To: 53}}},
		{ID: "db", Name: "db", Enabled: true, Domains: []string{"*.db.example.com"}, TCP: []policy.PortRange{{From: 5432, To: 5432}}},
		{ID: "off", Name: "off", Domains: []string{"off.example.com"}, TCP: []policy.PortRange{{From: 3389, To: 3389}}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		pa      bool
		fqdn    string
		port    uint16
		proto   string
		segment string
		code    code.Code
	}{
		{"covered, port in segment: to the broker", true, "pc.example.com", 3389, "", "ws", ""},
		{"udp range", true, "pc.example.com", 53, "udp", "ws", ""},
		{"udp port only in tcp", true, "pc.example.com", 3389, "udp", "ws", code.CltPortNotInSegment},
		{"most specific segment decides the ports (SEG-3, SEG-4)", true, "a.db.example.com", 3389, "tcp", "db", code.CltPortNotInSegment},
		{"disabled segment still intercepted: the broker refuses it", true, "off.example.com", 3389, "tcp", "off", ""},
		{"not covered: not intercepted", true, "pc.other.test", 3389, "tcp", "", code.BrkAppNotFound},
		{"apex not covered by its wildcard", true, "example.com", 3389, "tcp", "", code.BrkAppNotFound},
		{"Private Access off intercepts nothing (DEV-5)", false, "pc.example.com", 3389, "tcp", "", code.CltPrivateAccessDisabled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := src.Intercept(tc.pa, policy.DeviceAttrs{}, tc.fqdn, tc.port, tc.proto)
			seg := ""
			if out.Segment != nil {
				seg = out.Segment.ID
			}
			if out.Code != tc.code || seg != tc.segment || (out.Code != "") != (out.Line != "") {
				t.Fatalf("Intercept = %+v, want segment %q code %q (and a line exactly when it stops)", out, tc.segment, tc.code)
			}
		})
	}
	var none *Source
	if out := none.Intercept(true, policy.DeviceAttrs{}, "pc.example.com", 3389, "tcp"); out.Code != code.BrkAppNotFound {
		t.Fatalf("before any segment list: %+v, want not intercepted", out)
	}
}

func TestDeliver(t *testing.T) {
	p := &device.Profile{Name: "pc", Services: []device.Service{{Kind: "rdp", Port: 3389}}}
	if c, line := Deliver(p, "tcp", 3389); c != "" || line == "" {
		t.Fatalf("listening service: %q %q", c, line)
	}
	if c, _ := Deliver(p, "tcp", 445); c != ForwardFailure {
		t.Fatalf("nothing listening: %q, want %s", c, ForwardFailure)
	}
	p.Firewall.BlockInterfaceIP = true
	if c, _ := Deliver(p, "tcp", 3389); c != ForwardFailure {
		t.Fatalf("firewall blocks the interface IP: %q, want %s", c, ForwardFailure)
	}
}
