package steps

import (
	"os"
	"reflect"
	"testing"
)

// The logs in testdata/freerdp are FreeRDP 2.11's own (Debian bookworm's
// freerdp2-x11, /log-level:DEBUG, file appender), cut to the core and
// crypto lines, from runs against the fake RDP service with the profile
// named by each case.
func TestParseFreeRDPLog(t *testing.T) {
	for _, tc := range []struct {
		file        string
		negotiation string
		want        freerdpLog
	}{
		{"nla.log", "ssl+hybrid -> hybrid", freerdpLog{
			security: "NLA", certCN: "c2clab fake RDP service",
			states: []string{"NEGO", "NLA", "INITIAL"}, failedIn: "NLA", errCode: "ERRCONNECT_CONNECT_TRANSPORT_FAILED",
		}},
		{"rdp-fallback.log", "ssl+hybrid -> SSL_NOT_ALLOWED_BY_SERVER, ssl -> SSL_NOT_ALLOWED_BY_SERVER, rdp -> rdp", freerdpLog{
			security: "RDP",
			states:   []string{"NEGO", "MCS_CONNECT", "INITIAL"}, failedIn: "MCS_CONNECT", errCode: "ERRCONNECT_CONNECT_TRANSPORT_FAILED",
		}},
		{"rdp-sec-tls.log", "ssl -> SSL_NOT_ALLOWED_BY_SERVER", freerdpLog{
			states: []string{"NEGO", "INITIAL"}, failedIn: "NEGO", errCode: "ERRCONNECT_SECURITY_NEGO_CONNECT_FAILED",
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			raw, err := os.ReadFile("testdata/freerdp/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			got := parseFreeRDPLog(string(raw))
			if n := got.negotiation(); n != tc.negotiation {
				t.Errorf("negotiation %q, want %q", n, tc.negotiation)
			}
			got.attempts = nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("parsed %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseFreeRDPLogLegacyRequest(t *testing.T) {
	// /sec:rdp: no RDP_NEG_REQ, and the fake's Connection Confirm has no
	// negotiation data.
	const log = "[19:04:51:338] [1:2] [DEBUG][com.freerdp.core.nego] - RequestedProtocols: 0\n" +
		"[19:04:51:338] [1:2] [DEBUG][com.freerdp.core.nego] - no rdpNegData\n" +
		"[19:04:51:338] [1:2] [DEBUG][com.freerdp.core.nego] - Negotiated RDP security\n"
	l := parseFreeRDPLog(log)
	if n := l.negotiation(); n != "rdp -> no negotiation data" || l.security != "RDP" {
		t.Errorf("negotiation %q, security %q", n, l.security)
	}
}

func TestKnownHostFingerprint(t *testing.T) {
	const kh = "127.0.0.1 13389 83:CB:89:f3 Q04= Q04=\n198.19.4.3 3389 aa:bb Q04= Q04=\n"
	for _, tc := range []struct{ addr, want string }{
		{"127.0.0.1:13389", "83:cb:89:f3"},
		{"198.19.4.3:3389", "aa:bb"},
	} {
		if got, err := knownHostFingerprint(kh, tc.addr); err != nil || got != tc.want {
			t.Errorf("knownHostFingerprint(%s) = %q, %v; want %q", tc.addr, got, err, tc.want)
		}
	}
	if _, err := knownHostFingerprint(kh, "127.0.0.1:3389"); err == nil {
		t.Error("found an entry for a port FreeRDP never connected to")
	}
}
