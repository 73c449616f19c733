package endpoint

import (
	"errors"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/device"
)

func TestMSRAAnswersRDPConnectionRequest(t *testing.T) {
	addrs := start(t, Config{Services: []device.Service{{Kind: KindMSRA}}, RDP: device.RDP{Protocols: []string{"hybrid", "ssl"}}})
	ctx := testCtx(t)
	res, err := RDPConnect(ctx, dial(t, addrs["msra:0"]), ProtocolSSL|ProtocolHybrid)
	if err != nil || res.Failed || res.Selected != ProtocolHybrid || res.SourceRef != RDPSourceRef {
		t.Fatalf("msra answered %v, %v; want a Connection Confirm selecting hybrid", res, err)
	}
	// Malformed TPKT: dropped, as the RDP service drops it.
	c := dial(t, addrs["msra:0"])
	c.Write([]byte{3, 0, 0, 2})
	expectDropped(t, c)
}

func intp(i int) *int { return &i }

var (
	bothRules = []string{RuleSMBIn, RuleShadowIn}
	sessions  = []device.Session{
		{ID: 1, User: "jdoe", Name: "console", State: "Active"},
		{ID: 2, User: "asmith", Name: "rdp-tcp#3", State: "Disc"},
		{ID: 65536, Name: "rdp-tcp", State: "Listen"},
	}
)

// TestShadowDecisions runs every RA-2 prerequisite and policy value
// through a real service and the client.
func TestShadowDecisions(t *testing.T) {
	rdp := func(policy *int, consent string) device.RDP {
		return device.RDP{Enabled: true, ShadowPolicy: policy, Sessions: sessions, Consent: consent}
	}
	tests := []struct {
		name      string
		rdp       device.RDP
		rules     []string
		id        int
		control   bool
		noConsent bool
		want      string // failure name, or "OK <mode>"
	}{
		{"policy 0", rdp(intp(0), ""), bothRules, 1, true, false, ShadowDeniedByPolicy},
		{"policy 1 accepted", rdp(intp(1), "accept"), bothRules, 1, true, false, "OK control"},
		{"policy 1 refused", rdp(intp(1), "refuse"), bothRules, 1, true, false, ShadowConsentRefused},
		{"policy 1 timeout", rdp(intp(1), "timeout"), bothRules, 1, true, false, ShadowConsentTimeout},
		{"policy 1 noconsent", rdp(intp(1), "accept"), bothRules, 1, true, true, ShadowConsentRequired},
		{"policy 2 user refuses but is not asked", rdp(intp(2), "refuse"), bothRules, 1, true, true, "OK control"},
		{"policy 3 view", rdp(intp(3), ""), bothRules, 1, false, false, "OK view"},
		{"policy 3 control", rdp(intp(3), ""), bothRules, 1, true, false, ShadowControlDenied},
		{"policy 3 refused", rdp(intp(3), "refuse"), bothRules, 1, false, false, ShadowConsentRefused},
		{"policy 4 view noconsent", rdp(intp(4), "refuse"), bothRules, 1, false, true, "OK view"},
		{"policy 4 control", rdp(intp(4), ""), bothRules, 1, true, true, ShadowControlDenied},
		{"not configured behaves as 1", rdp(nil, "refuse"), bothRules, 1, true, false, ShadowConsentRefused},
		{"rdp disabled", device.RDP{ShadowPolicy: intp(2), Sessions: sessions}, bothRules, 1, true, false, ShadowRDPDisabled},
		{"no smb rule", rdp(intp(2), ""), []string{RuleShadowIn}, 1, true, false, ShadowSMBBlocked},
		{"no shadow rule", rdp(intp(2), ""), []string{RuleSMBIn}, 1, true, false, ShadowRuleBlocked},
		{"rule names ignore case", rdp(intp(2), ""), []string{strings.ToUpper(RuleSMBIn), strings.ToLower(RuleShadowIn)}, 1, true, false, "OK control"},
		{"unknown session", rdp(intp(2), ""), bothRules, 7, true, false, ShadowNoSession},
		{"disconnected session", rdp(intp(2), ""), bothRules, 2, true, false, ShadowNotActive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addrs := start(t, Config{Services: []device.Service{{Kind: KindShadow}}, RDP: tt.rdp, InboundRules: tt.rules, ConsentTimeout: 50 * time.Millisecond})
			cl := NewShadowClient(dial(t, addrs["shadow:0"]))
			g, err := cl.Shadow(testCtx(t), tt.id, tt.control, tt.noConsent)
			var se *ShadowError
			switch {
			case strings.HasPrefix(tt.want, "OK "):
				if err != nil || g.Mode != strings.TrimPrefix(tt.want, "OK ") || g.ID != tt.id {
					t.Errorf("got %+v, %v; want %s", g, err, tt.want)
				}
			case !errors.As(err, &se) || se.Failure != tt.want:
				t.Errorf("got %+v, %v; want ERR %s", g, err, tt.want)
			}
		})
	}
}

func TestShadowQuerySession(t *testing.T) {
	addrs := start(t, Config{Services: []device.Service{{Kind: KindShadow}}, RDP: device.RDP{Sessions: sessions}, InboundRules: []string{RuleSMBIn}})
	ctx := testCtx(t)
	cl := NewShadowClient(dial(t, addrs["shadow:0"]))
	got, err := cl.QuerySession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []ShadowSession{{1, "console", "jdoe", "Active"}, {2, "rdp-tcp#3", "asmith", "Disc"}, {65536, "rdp-tcp", "-", "Listen"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sessions = %+v, want %+v", got, want)
	}
	// The same connection takes a second request: RDP is off here.
	_, err = cl.Shadow(ctx, 1, false, false)
	var se *ShadowError
	if !errors.As(err, &se) || se.Failure != ShadowRDPDisabled {
		t.Errorf("shadow = %v, want ERR %s", err, ShadowRDPDisabled)
	}

	blocked := start(t, Config{Services: []device.Service{{Kind: KindShadow}}, RDP: device.RDP{Sessions: sessions}})
	_, err = NewShadowClient(dial(t, blocked["shadow:0"])).QuerySession(ctx)
	if !errors.As(err, &se) || se.Failure != ShadowSMBBlocked {
		t.Errorf("query session without SMB-In = %v, want ERR %s", err, ShadowSMBBlocked)
	}
}

func TestShadowBadRequests(t *testing.T) {
	addrs := start(t, Config{Services: []device.Service{{Kind: KindShadow}}, InboundRules: bothRules})
	tests := []struct{ name, req, want string }{
		{"unknown verb", "HELLO\n", "ERR BAD_REQUEST"},
		{"no mode", "SHADOW 1\n", "ERR BAD_REQUEST want SHADOW"},
		{"bad id", "SHADOW x control\n", `ERR BAD_REQUEST session ID "x"`},
		{"bad mode", "SHADOW 1 watch\n", `ERR BAD_REQUEST mode "watch"`},
		{"bad flag", "SHADOW 1 view please\n", "ERR BAD_REQUEST want SHADOW"},
		{"crlf", "QUERY SESSION\r\n", "END 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, addrs["shadow:0"])
			c.SetDeadline(time.Now().Add(3 * time.Second))
			io.WriteString(c, tt.req)
			buf := make([]byte, 256)
			n, err := c.Read(buf)
			if err != nil || !strings.HasPrefix(string(buf[:n]), tt.want) {
				t.Errorf("answer %q, %v; want prefix %q", buf[:n], err, tt.want)
			}
		})
	}
	// A line longer than the limit is dropped without an answer.
	c := dial(t, addrs["shadow:0"])
	io.WriteString(c, strings.Repeat("A", 2*maxShadowLine))
	c.(*net.TCPConn).CloseWrite()
	expectDropped(t, c)
}
