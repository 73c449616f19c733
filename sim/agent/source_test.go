package agent

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/peer"
	"github.com/c2clab/c2clab/sim/wire"
)

// TestInterceptWithoutSession: with the broker gone, the agent still
// answers at once what its last segment list decides (PROTOCOL.md 9).
func TestInterceptWithoutSession(t *testing.T) {
	e := newEnv(t, testPolicy())
	socks, status := e.agent(deviceSpec{name: "src", hostname: "src", ip: "127.0.0.2"})
	e.stopBroker()
	waitFor(t, "session lost", func() bool { return !agentStatus(t, status).Connected })
	tests := []struct {
		name  string
		fqdn  string
		port  uint16
		reply byte
		code  code.Code
	}{
		{"not intercepted", "host.example.org", 3389, 0x04, code.BrkAppNotFound},
		{"SEG-4 port not in segment", "dst.example.com", 22, 0x02, code.CltPortNotInSegment},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := dialSOCKS(socks, tc.fqdn, tc.port)
			var se socksError
			if !errors.As(err, &se) || byte(se) != tc.reply {
				t.Fatalf("dial %s:%d: %v, want SOCKS reply %#02x", tc.fqdn, tc.port, err, tc.reply)
			}
			if rec := lastRecord(t, status); rec.Code != tc.code || !rec.Local {
				t.Fatalf("record %+v, want %s, local", rec, tc.code)
			}
		})
	}
}

// TestOpenSessionStates: what the source side does with a connection in
// each session state, before any session and after one was lost.
func TestOpenSessionStates(t *testing.T) {
	e := newEnv(t, testPolicy())
	lost := &peer.Session{Registered: wire.Registered{Segments: []wire.Segment{{ID: "1", Name: "Workstations", Enabled: true,
		Domains: []string{"*.example.com"}, TCP: []wire.PortRange{{From: 3389, To: 3389}}}}}}
	tests := []struct {
		name    string
		session *peer.Session // had, then lost; nil: never registered
		fqdn    string
		port    uint16
		want    code.Code
	}{
		{"before the first registration nothing is intercepted", nil, "dst.example.com", 3389, code.BrkAppNotFound},
		{"session lost, name not covered", lost, "host.example.org", 3389, code.BrkAppNotFound},
		{"session lost, port not in segment", lost, "dst.example.com", 22, code.CltPortNotInSegment},
		{"session lost, no new one in time", lost, "dst.example.com", 3389, code.CltNoBrokerSession},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := newAgent(e.agentConfig(deviceSpec{name: "src", hostname: "src", ip: "127.0.0.2"}))
			if err != nil {
				t.Fatal(err)
			}
			if tc.session != nil {
				a.setSession(tc.session)
				a.setSession(nil)
			}
			// The agent waits for a session at most as long as ctx lasts.
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			conn, rec, c := a.open(ctx, tc.fqdn, tc.port)
			if conn != nil {
				conn.Close()
			}
			if c != tc.want || !rec.Local || rec.EndUs == 0 {
				t.Fatalf("open: %s, record %+v; want %s, local", c, rec, tc.want)
			}
		})
	}
}

func TestRecordRing(t *testing.T) {
	for _, n := range []int{0, 1, maxRecords - 1, maxRecords, maxRecords + 1, 3*maxRecords + 7} {
		var r recordRing
		for i := range n {
			r.add(&ConnRecord{Port: i})
		}
		got := r.snapshot()
		if want := min(n, maxRecords); len(got) != want {
			t.Fatalf("%d added: %d kept, want %d", n, len(got), want)
		}
		for i, rec := range got {
			if want := n - len(got) + i; rec.Port != want {
				t.Fatalf("%d added: record %d is #%d, want #%d (oldest first)", n, i, rec.Port, want)
			}
		}
	}
}
