package endpoint

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/device"
)

func rdpServer(t *testing.T, protocols ...string) string {
	t.Helper()
	cfg := Config{Services: []device.Service{{Kind: "rdp"}}, RDP: device.RDP{Protocols: protocols}, IdleTimeout: 5 * time.Second}
	return start(t, cfg)["rdp:0"]
}

func TestRDPNegotiation(t *testing.T) {
	const none = ^uint32(0) // marks "no failure" in want.failure
	for _, tc := range []struct {
		name       string
		server     []string
		req        RDPRequest
		negotiated bool
		selected   uint32
		failure    uint32
	}{
		{"default server, mstsc offer", nil, RDPRequest{Cookie: "admin", Requested: ProtocolSSL | ProtocolHybrid | ProtocolHybridEx}, true, ProtocolSSL, none},
		{"server prefers hybrid", []string{"hybrid", "ssl"}, RDPRequest{Requested: ProtocolSSL | ProtocolHybrid}, true, ProtocolHybrid, none},
		{"hybrid_ex", []string{"hybrid_ex"}, RDPRequest{Requested: ProtocolHybrid | ProtocolHybridEx}, true, ProtocolHybridEx, none},
		{"client asks rdp only, server allows it", []string{"ssl", "rdp"}, RDPRequest{Requested: 0}, true, ProtocolRDP, none},
		{"client asks rdp only, default server", nil, RDPRequest{Requested: 0}, true, 0, FailureSSLRequiredByServer},
		{"client asks rdp only, NLA required", []string{"hybrid"}, RDPRequest{Requested: 0}, true, 0, FailureHybridRequiredByServer},
		{"client asks ssl, NLA required", []string{"hybrid"}, RDPRequest{Requested: ProtocolSSL}, true, 0, FailureHybridRequiredByServer},
		{"client asks hybrid, server only ssl", []string{"ssl"}, RDPRequest{Requested: ProtocolHybrid}, true, 0, FailureSSLRequiredByServer},
		{"client asks ssl, server only rdp", []string{"rdp"}, RDPRequest{Requested: ProtocolSSL | ProtocolHybrid}, true, 0, FailureSSLNotAllowedByServer},
		{"legacy client, server allows rdp", []string{"rdp"}, RDPRequest{Cookie: "old", NoNegotiation: true}, false, ProtocolRDP, none},
		{"legacy client, default server", nil, RDPRequest{NoNegotiation: true}, true, 0, FailureSSLRequiredByServer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, rdpServer(t, tc.server...))
			r, err := tc.req.Connect(testCtx(t), c)
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			if r.SourceRef != RDPSourceRef || r.Negotiated != tc.negotiated {
				t.Errorf("got %+v, want source ref 0x1234 and negotiated=%v", r, tc.negotiated)
			}
			if tc.failure == none && (r.Failed || r.Selected != tc.selected) {
				t.Errorf("got %v, want %s selected", r, RDPProtocolName(tc.selected))
			}
			if tc.failure != none && (!r.Failed || r.FailureCode != tc.failure) {
				t.Errorf("got %v, want failure %s", r, RDPFailureName(tc.failure))
			}
			if r.Failed {
				expectDropped(t, c) // 3.3.5.3.2: the server closes after a failure
			}
		})
	}
}

// specCR is the Connection Request of MS-RDPBCGR 4.1.1: cookie
// "mstshash=eltons", RDP_NEG_REQ for PROTOCOL_RDP.
const specCR = "0300002c27e00000000000" + "436f6f6b69653a206d737473686173683d656c746f6e730d0a" + "0100080000000000"

// specCC is the Connection Confirm of MS-RDPBCGR 4.1.2: RDP_NEG_RSP
// selecting PROTOCOL_RDP.
const specCC = "030000130ed000001234000200080000000000"

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// crPDU is a Connection Request with the given variable part.
func crPDU(variable ...[]byte) []byte { return x224PDU(x224CR, 0, 0, bytes.Join(variable, nil)) }

// mstsc is a Connection Request as mstsc sends it: cookie, RDP_NEG_REQ for
// SSL|HYBRID|HYBRID_EX.
func mstsc() []byte {
	return crPDU([]byte("Cookie: mstshash=admin\r\n"), negData(negReqType, 0, ProtocolSSL|ProtocolHybrid|ProtocolHybridEx))
}

// modified returns mstsc() changed by f.
func modified(f func(p []byte)) []byte {
	p := mstsc()
	f(p)
	return p
}

func TestRDPMalformedRequestsAreDropped(t *testing.T) {
	addr := rdpServer(t)
	badLen := negData(negReqType, 0, ProtocolSSL)
	badLen[2] = 9
	for _, tc := range []struct {
		name string
		pdu  []byte
	}{
		{"tpkt version 2", modified(func(p []byte) { p[0] = 2 })},
		{"tpkt reserved not zero", modified(func(p []byte) { p[1] = 1 })},
		{"tpkt length below 11", mustHex("0300000a05e000000000")},
		{"tpkt length above 259", mustHex("03000400")},
		{"length indicator mismatch", modified(func(p []byte) { p[4]++ })},
		{"connection confirm code", modified(func(p []byte) { p[5] = x224CC })},
		{"data tpdu code", modified(func(p []byte) { p[5] = 0xF0 })},
		{"class 2", modified(func(p []byte) { p[10] = 0x20 })},
		{"cookie without CRLF", crPDU([]byte("Cookie: mstshash=a"))},
		{"neg req wrong type", crPDU(negData(negRspType, 0, ProtocolSSL))},
		{"neg req wrong length", crPDU(badLen)},
		{"bytes after neg req", crPDU(negData(negReqType, 0, ProtocolSSL), []byte{0})},
		{"correlation flag without info", crPDU(negData(negReqType, negCorrelationInfoPresent, ProtocolSSL))},
		{"garbage instead of cookie", crPDU([]byte("GET / HTTP/1.1"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, addr)
			if _, err := c.Write(tc.pdu); err != nil {
				t.Fatal(err)
			}
			expectDropped(t, c)
		})
	}
	t.Run("truncated", func(t *testing.T) {
		c := dial(t, addr).(*net.TCPConn)
		c.Write(mstsc()[:20])
		c.CloseWrite()
		expectDropped(t, c)
	})
}

func TestRDPAcceptsRealClientRequests(t *testing.T) {
	corr := mustHex("06002400" + "0102030405060708090a0b0c0e0f1011" + "00000000000000000000000000000000")
	for _, tc := range []struct {
		name      string
		pdu       []byte
		cookie    string
		requested uint32
	}{
		{"MS-RDPBCGR 4.1.1", mustHex(specCR), "Cookie: mstshash=eltons", ProtocolRDP},
		{"mstsc", mstsc(), "Cookie: mstshash=admin", 0xb},
		{"routing token", crPDU([]byte("Cookie: msts=3640205228.15629.0000\r\n"), negData(negReqType, 0, 3)), "Cookie: msts=3640205228.15629.0000", 3},
		{"correlation info", crPDU(negData(negReqType, negCorrelationInfoPresent, 0xb), corr), "", 0xb},
		{"no cookie, no neg", crPDU(), "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := parseRDPRequest(tc.pdu)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if req.cookie != tc.cookie || req.requested != tc.requested {
				t.Errorf("parsed %+v, want cookie %q requested 0x%x", req, tc.cookie, tc.requested)
			}
		})
	}
}

func TestRDPHoldsThenIdlesOut(t *testing.T) {
	cfg := Config{Services: []device.Service{{Kind: "rdp"}}, IdleTimeout: 300 * time.Millisecond}
	c := dial(t, start(t, cfg)["rdp:0"])
	if _, err := RDPConnect(testCtx(t), c, ProtocolSSL); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	var b [1]byte
	if n, err := c.Read(b[:]); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read after CC: %d, %v; want the server to hold the connection silently", n, err)
	}
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	start := time.Now()
	n, err := c.Read(b[:])
	if n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read: %d, %v; want the server to close after its idle timeout", n, err)
	}
	t.Logf("closed %v after the hold check (idle timeout 300ms)", time.Since(start))
}

func TestParseConfirmStrict(t *testing.T) {
	if r, err := parseConfirm(mustHex(specCC), true, ProtocolRDP); err != nil || r.SourceRef != 0x1234 || !r.Negotiated {
		t.Fatalf("MS-RDPBCGR 4.1.2 CC: %+v, %v", r, err)
	}
	rsp := func(selected uint32) []byte {
		return x224PDU(x224CC, 0, RDPSourceRef, negData(negRspType, 0, selected))
	}
	mod := func(p []byte, f func(p []byte)) []byte { f(p); return p }
	badLen := negData(negRspType, 0, ProtocolSSL)
	badLen[2] = 9
	for _, tc := range []struct {
		name       string
		pdu        []byte
		negotiated bool
		requested  uint32
	}{
		{"code is CR", mod(rsp(ProtocolSSL), func(p []byte) { p[5] = x224CR }), true, ProtocolSSL},
		{"dst ref set", x224PDU(x224CC, 1, RDPSourceRef, negData(negRspType, 0, ProtocolSSL)), true, ProtocolSSL},
		{"class set", mod(rsp(ProtocolSSL), func(p []byte) { p[10] = 0x10 }), true, ProtocolSSL},
		{"LI mismatch", mod(rsp(ProtocolSSL), func(p []byte) { p[4]-- }), true, ProtocolSSL},
		{"selected not requested", rsp(ProtocolHybrid), true, ProtocolSSL},
		{"selected two protocols", rsp(ProtocolSSL | ProtocolHybrid), true, ProtocolSSL | ProtocolHybrid},
		{"rsp without neg req", rsp(ProtocolRDP), false, 0},
		{"failure with flags", x224PDU(x224CC, 0, RDPSourceRef, negData(negFailureType, 1, 1)), true, ProtocolSSL},
		{"unknown neg type", x224PDU(x224CC, 0, RDPSourceRef, negData(4, 0, 1)), true, ProtocolSSL},
		{"neg length 9", x224PDU(x224CC, 0, RDPSourceRef, badLen), true, ProtocolSSL},
		{"short neg data", x224PDU(x224CC, 0, RDPSourceRef, []byte{2, 0, 8, 0}), true, ProtocolSSL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseConfirm(tc.pdu, tc.negotiated, tc.requested); !errors.Is(err, ErrMalformed) {
				t.Errorf("parseConfirm(%x) = %v, want ErrMalformed", tc.pdu, err)
			}
		})
	}
}

func TestRDPConnectHonoursContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // a server that accepts and never answers
		if c, err := ln.Accept(); err == nil {
			defer c.Close()
			time.Sleep(2 * time.Second)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = RDPConnect(ctx, dial(t, ln.Addr().String()), ProtocolSSL)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Fatalf("RDPConnect: %v after %v, want deadline exceeded after ~100ms", err, time.Since(start))
	}
}

// FuzzRDPRequest checks the server's parser: it never panics, and whatever it
// accepts gets a Connection Confirm that the strict client parser accepts.
func FuzzRDPRequest(f *testing.F) {
	f.Add(mstsc(), uint8(0))
	f.Add(mustHex(specCR), uint8(1))
	f.Add(mustHex("0300000b06e00000000000"), uint8(1))
	f.Add(mustHex("030000130ee00000000000010008000b000000"), uint8(2))
	f.Add(mustHex("030000130ee00000000000010808000b000000"), uint8(3))
	policies := [][]string{nil, {"rdp"}, {"hybrid"}, {"hybrid_ex", "rdp", "ssl"}}
	f.Fuzz(func(t *testing.T, pkt []byte, policy uint8) {
		req, err := parseRDPRequest(pkt)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		p, _ := newRDPPolicy(policies[int(policy)%len(policies)])
		cc, failed := p.connectionConfirm(req)
		n, err := checkTPKT(cc)
		if err != nil || n != len(cc) {
			t.Fatalf("CC %x has a bad TPKT header: %v", cc, err)
		}
		r, err := parseConfirm(cc, req.negotiate, req.requested)
		if err != nil {
			t.Fatalf("CC %x for request %x rejected by the client: %v", cc, pkt, err)
		}
		if r.SourceRef != RDPSourceRef || r.Failed != failed {
			t.Fatalf("CC %x: %+v", cc, r)
		}
	})
}

func TestRDPRequestRoundTrip(t *testing.T) {
	pdu, err := RDPRequest{Cookie: "admin", Requested: ProtocolSSL | ProtocolHybrid}.pdu()
	if err != nil {
		t.Fatal(err)
	}
	req, err := parseRDPRequest(pdu)
	if err != nil || req.cookie != "Cookie: mstshash=admin" || !req.negotiate || req.requested != 3 {
		t.Fatalf("parse(%x) = %+v, %v", pdu, req, err)
	}
	if !bytes.Equal(pdu[:5], []byte{3, 0, 0, byte(len(pdu)), byte(len(pdu) - 5)}) {
		t.Fatalf("header %x", pdu[:5])
	}
}
