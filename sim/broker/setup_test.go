package broker

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/pki"
	"github.com/c2clab/c2clab/sim/wire"
)

// waitFor polls cond, for state that settles after the event the test
// caused (a session ends after its socket closes).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// disconnected reports whether every session of device has ended.
func (e *benv) disconnected(device string) bool {
	var all []UserStatus
	e.get("/api/v1/userStatus", adminToken, &all)
	seen := false
	for _, s := range all {
		if s.Device == device {
			seen = true
			if s.Connected {
				return false
			}
		}
	}
	return seen
}

// lastActivity waits for the newest activity to close and returns it.
func (e *benv) lastActivity() Activity {
	e.t.Helper()
	var acts []Activity
	waitFor(e.t, "activity closed", func() bool {
		e.get("/api/v1/userActivity", adminToken, &acts)
		return len(acts) > 0 && acts[len(acts)-1].Status == StatusClosed
	})
	return acts[len(acts)-1]
}

// TestConnectWhileDestinationEnds: once a destination's session is ending,
// a connect to its FQDN gets C2C_CLIENT_NOT_FOUND, not the
// C2C_CLIENT_CONN_EXPIRED of a setup already under way (PROTOCOL.md 6).
func TestConnectWhileDestinationEnds(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var once, releaseOnce sync.Once
	e := newBenv(t, func(c *Config) {
		c.afterUnregister = func() {
			once.Do(func() {
				close(entered)
				<-release
			})
		}
	})
	done := func() { releaseOnce.Do(func() { close(release) }) }
	defer done()
	src, _ := e.agent("src", "src.example.com")
	dst, _ := e.agent("dst", "dst.example.com")
	dst.Close()
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the destination's session did not end")
	}
	// The session has left the policy engine but not the broker's maps.
	send(t, src, &wire.Connect{ID: "1", FQDN: "dst.example.com", Port: 3389, Proto: wire.ProtoTCP})
	res := recv(t, src).(*wire.ConnectResult)
	done()
	if res.OK || res.Code != code.C2CClientNotFound {
		t.Fatalf("connect_result %+v, want C2C_CLIENT_NOT_FOUND", res)
	}
}

// TestSourceGoneBeforeAnswer: a setup whose source's session ended before
// its connect_result is closed with a source-side code.
func TestSourceGoneBeforeAnswer(t *testing.T) {
	e := newBenv(t, nil)
	src, _ := e.agent("src", "src.example.com")
	dst, _ := e.agent("dst", "dst.example.com")
	send(t, src, &wire.Connect{ID: "1", FQDN: "dst.example.com", Port: 3389, Proto: wire.ProtoTCP})
	inc := recv(t, dst).(*wire.Incoming)
	src.Close()
	waitFor(t, "source session ended", func() bool { return e.disconnected("src") })
	send(t, dst, &wire.IncomingResult{ConnID: inc.ConnID, OK: true})
	if act := e.lastActivity(); act.Code != code.MtClosedTLSConnGoneClientClosed {
		t.Fatalf("activity %+v, want %s", act, code.MtClosedTLSConnGoneClientClosed)
	}
}

// TestPairingAnswerFails: both sides arrived, but the source's data
// connection was reset before the broker could answer it.
func TestPairingAnswerFails(t *testing.T) {
	e := newBenv(t, nil)
	src, _ := e.agent("src", "src.example.com")
	dst, _ := e.agent("dst", "dst.example.com")
	res, inc := setup(t, src, dst, "dst.example.com", 3389, &wire.IncomingResult{OK: true})
	a := e.dataSide(res.Token)
	// A second use of the token is refused once the broker has taken the
	// first: then the source side is waiting for its peer.
	waitFor(t, "source side arrived", func() bool {
		probe, err := net.Dial("tcp", e.addrs["data"])
		if err != nil {
			return false
		}
		defer probe.Close()
		probe.SetDeadline(time.Now().Add(5 * time.Second))
		wire.WritePreamble(probe, res.Token)
		c, err := wire.ReadAnswer(probe)
		return err == nil && c == code.BrkMtSetupTimeout
	})
	a.SetLinger(0)
	a.Close() // RST: writing the answer to it fails
	e.dataSide(inc.Token)
	if act := e.lastActivity(); act.Code != code.BrkCannotSendMtComplete {
		t.Fatalf("activity %+v, want %s", act, code.BrkCannotSendMtComplete)
	}
}

// TestSetupsInFlightCap: a source may have wire.MaxSetupsInFlight setups in
// flight; the next connect is refused at once and the session stays up.
func TestSetupsInFlightCap(t *testing.T) {
	e := newBenv(t, nil)
	src, _ := e.agent("src", "src.example.com")
	dst, _ := e.agent("dst", "dst.example.com")
	// dst leaves every incoming unanswered: each setup stays in flight.
	for i := range wire.MaxSetupsInFlight {
		send(t, src, &wire.Connect{ID: strconv.Itoa(i), FQDN: "dst.example.com", Port: 3389, Proto: wire.ProtoTCP})
	}
	// Admitted, this one would get C2C_CLIENT_NOT_FOUND at once.
	send(t, src, &wire.Connect{ID: "over", FQDN: "nobody.example.com", Port: 3389, Proto: wire.ProtoTCP})
	res := recv(t, src).(*wire.ConnectResult)
	if res.ID != "over" || res.OK || res.Code != code.BrkProtocolError {
		t.Fatalf("connect_result %+v, want id over refused with BRK_PROTOCOL_ERROR", res)
	}
	var acts []Activity
	e.get("/api/v1/userActivity", adminToken, &acts)
	i := slices.IndexFunc(acts, func(a Activity) bool { return a.FQDN == "nobody.example.com" })
	if i < 0 || acts[i].Code != code.BrkProtocolError || acts[i].Status != StatusClosed ||
		!hasPrefix(acts[i].Trace, "refused before any policy decision") {
		t.Fatalf("no closed activity for the refused connect with BRK_PROTOCOL_ERROR (LOG-1) in %d records", len(acts))
	}
	// One setup ends: there is room for the next connect.
	inc := recv(t, dst).(*wire.Incoming)
	send(t, dst, &wire.IncomingResult{ConnID: inc.ConnID, Code: code.C2CMtunnelFailedForward})
	if res := recv(t, src).(*wire.ConnectResult); res.Code != code.C2CMtunnelFailedForward {
		t.Fatalf("connect_result %+v, want C2C_MTUNNEL_FAILED_FORWARD", res)
	}
	send(t, src, &wire.Connect{ID: "again", FQDN: "nobody.example.com", Port: 3389, Proto: wire.ProtoTCP})
	if res := recv(t, src).(*wire.ConnectResult); res.ID != "again" || res.Code != code.C2CClientNotFound {
		t.Fatalf("connect_result %+v, want id again with C2C_CLIENT_NOT_FOUND", res)
	}
}

func hasPrefix(lines []string, p string) bool {
	return slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, p) })
}

// connector registers an App Connector of acme serving groups.
func (e *benv) connector(name string, groups ...string) *wire.Conn {
	e.t.Helper()
	c := e.dial(e.cas["acme"], pki.Identity{Tenant: "acme", Name: name, Kind: pki.KindConnector})
	send(e.t, c, &wire.Hello{Versions: []string{wire.Version}, Role: wire.RoleConnector})
	recv(e.t, c)
	send(e.t, c, &wire.Register{ServerGroups: groups})
	recv(e.t, c)
	return c
}

// TestAppConnectorByRegistrationOrder: of the App Connectors serving a
// segment's server groups, the one that registered first gets the
// connection; when it leaves, the next.
func TestAppConnectorByRegistrationOrder(t *testing.T) {
	e := newBenv(t, nil)
	src, _ := e.agent("src", "src.example.com")
	var acs []*wire.Conn
	for i := range 4 {
		acs = append(acs, e.connector(fmt.Sprintf("ac%d", i), "sg2", "sg1", "sg1"))
	}
	for i, id := range []string{"1", "2"} {
		send(t, src, &wire.Connect{ID: id, FQDN: "intranet.example.com", Port: 443, Proto: wire.ProtoTCP})
		inc, ok := recv(t, acs[i]).(*wire.Incoming)
		if !ok {
			t.Fatalf("connect %s: ac%d got no incoming", id, i)
		}
		send(t, acs[i], &wire.IncomingResult{ConnID: inc.ConnID, OK: true})
		if res := recv(t, src).(*wire.ConnectResult); !res.OK || res.Peer.Name != fmt.Sprintf("ac%d", i) {
			t.Fatalf("connect_result %+v, want ac%d", res, i)
		}
		acs[i].Close()
		waitFor(t, "App Connector gone", func() bool { return e.disconnected(fmt.Sprintf("ac%d", i)) })
	}
}

func TestRing(t *testing.T) {
	type rec struct {
		id   int
		open bool
	}
	finished := func(r rec) bool { return !r.open }
	tests := []struct {
		name string
		add  []rec
		want []int
	}{
		{"under max", []rec{{1, false}, {2, false}}, []int{1, 2}},
		{"drops the oldest", []rec{{1, false}, {2, false}, {3, false}, {4, false}, {5, false}}, []int{3, 4, 5}},
		{"keeps open records", []rec{{1, true}, {2, false}, {3, false}, {4, false}}, []int{1, 3, 4}},
		{"all open: all kept", []rec{{1, true}, {2, true}, {3, true}, {4, true}}, []int{1, 2, 3, 4}},
		{"all open after wrapping, then one finished goes", []rec{{1, false}, {2, true}, {3, true}, {4, true}, {5, true}, {6, false}, {7, false}}, []int{2, 3, 4, 5, 7}},
		{"wraps", []rec{{1, false}, {2, true}, {3, false}, {4, false}, {5, false}, {6, false}, {7, false}}, []int{2, 6, 7}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := ring[rec]{max: 3}
			for _, v := range tc.add {
				r.add(v, finished)
			}
			var got []int
			r.each(func(v rec) { got = append(got, v.id) })
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}
