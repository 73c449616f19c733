package endpoint

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// The RDP service answers the first PDU of an RDP connection, the X.224
// Connection Request (MS-RDPBCGR 2.2.1.1), with a Connection Confirm
// (2.2.1.2); if that selects a TLS-based protocol it does the TLS server
// handshake (rdp_tls.go). Then it holds the connection without sending
// anything more until the client's next PDU, where it closes: enough for a
// scenario to prove that an RDP client's first bytes crossed the relay
// intact and that the device's RDP security settings were applied, and for
// a real client to get past negotiation and TLS.

// Security protocols of RDP_NEG_REQ.requestedProtocols and
// RDP_NEG_RSP.selectedProtocol (MS-RDPBCGR 2.2.1.1.1). ProtocolRDP is zero:
// a client "requests" it by requesting nothing else.
const (
	ProtocolRDP      uint32 = 0x00
	ProtocolSSL      uint32 = 0x01
	ProtocolHybrid   uint32 = 0x02
	ProtocolRDSTLS   uint32 = 0x04
	ProtocolHybridEx uint32 = 0x08
)

// Failure codes of RDP_NEG_FAILURE (MS-RDPBCGR 2.2.1.2.2).
const (
	FailureSSLRequiredByServer    uint32 = 0x01
	FailureSSLNotAllowedByServer  uint32 = 0x02
	FailureSSLCertNotOnServer     uint32 = 0x03
	FailureInconsistentFlags      uint32 = 0x04
	FailureHybridRequiredByServer uint32 = 0x05
	FailureSSLWithUserAuthReq     uint32 = 0x06
)

// RDPSourceRef is the source reference of every Connection Confirm
// (MS-RDPBCGR 3.3.5.3.2, REQUIREMENTS EP-2).
const RDPSourceRef uint16 = 0x1234

const (
	tpktVersion   = 3
	tpktHeaderLen = 4
	x224FixedLen  = 7   // LI, code, dst-ref, src-ref, class
	x224MaxLI     = 254 // X.224 13.2.1: 255 is reserved
	rdpMinPDU     = tpktHeaderLen + x224FixedLen
	rdpMaxPDU     = tpktHeaderLen + 1 + x224MaxLI

	x224CR   = 0xE0 // Connection Request, CDT 0
	x224CC   = 0xD0 // Connection Confirm, CDT 0
	x224Data = 0xF0 // Data TPDU, which carries MCS after negotiation

	negReqType      = 0x01
	negRspType      = 0x02
	negFailureType  = 0x03
	negLen          = 8
	correlationType = 0x06
	correlationLen  = 36
	// negCorrelationInfoPresent is the RDP_NEG_REQ flag that announces an
	// RDP_NEG_CORRELATION_INFO after it.
	negCorrelationInfoPresent = 0x08
	// negRspExtendedClientData is the only RDP_NEG_RSP flag the fake sets:
	// it goes no further than the Connection Confirm.
	negRspExtendedClientData = 0x01
)

var cookiePrefix = []byte("Cookie: ")

// ErrMalformed marks a PDU that breaks its specification; the services drop
// the connection, the client helpers return it wrapped.
var ErrMalformed = errors.New("malformed")

// ErrDropped is returned by the client helpers when the server closed the
// connection without answering, as a server does with a malformed request.
var ErrDropped = errors.New("connection dropped without an answer")

var protocolNames = []struct {
	name  string
	proto uint32
}{
	{"rdp", ProtocolRDP}, {"ssl", ProtocolSSL}, {"hybrid", ProtocolHybrid},
	{"rdstls", ProtocolRDSTLS}, {"hybrid_ex", ProtocolHybridEx},
}

// RDPProtocolName names a protocol as device.RDP.Protocols does: rdp, ssl,
// hybrid, rdstls, hybrid_ex; other values as hex.
func RDPProtocolName(p uint32) string {
	for _, n := range protocolNames {
		if n.proto == p {
			return n.name
		}
	}
	return fmt.Sprintf("0x%08x", p)
}

// RDPProtocolMask turns protocol names (as in device.RDP.Protocols) into a
// requestedProtocols mask; "rdp" adds nothing, since PROTOCOL_RDP is zero.
func RDPProtocolMask(names ...string) (uint32, error) {
	var m uint32
	for _, name := range names {
		p, ok := lookupProtocol(name)
		if !ok {
			return 0, fmt.Errorf("rdp protocol %q: want rdp, ssl, hybrid, rdstls or hybrid_ex", name)
		}
		m |= p
	}
	return m, nil
}

func lookupProtocol(name string) (uint32, bool) {
	for _, n := range protocolNames {
		if n.name == strings.ToLower(strings.TrimSpace(name)) {
			return n.proto, true
		}
	}
	return 0, false
}

// RDPFailureName is the specification's name of an RDP_NEG_FAILURE code.
func RDPFailureName(code uint32) string {
	switch code {
	case FailureSSLRequiredByServer:
		return "SSL_REQUIRED_BY_SERVER"
	case FailureSSLNotAllowedByServer:
		return "SSL_NOT_ALLOWED_BY_SERVER"
	case FailureSSLCertNotOnServer:
		return "SSL_CERT_NOT_ON_SERVER"
	case FailureInconsistentFlags:
		return "INCONSISTENT_FLAGS"
	case FailureHybridRequiredByServer:
		return "HYBRID_REQUIRED_BY_SERVER"
	case FailureSSLWithUserAuthReq:
		return "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER"
	}
	return fmt.Sprintf("0x%08x", code)
}

// rdpRequest is a parsed X.224 Connection Request.
type rdpRequest struct {
	cookie    string // the cookie or routing token line, without CRLF; "" if none
	negotiate bool   // an RDP_NEG_REQ was present
	flags     uint8
	requested uint32
}

// checkTPKT validates a TPKT header (version 3, reserved 0) and returns the
// packet length it announces, bounded to what an X.224 connection PDU can be.
func checkTPKT(h []byte) (int, error) {
	if h[0] != tpktVersion {
		return 0, fmt.Errorf("tpkt version %d, want 3: %w", h[0], ErrMalformed)
	}
	if h[1] != 0 {
		return 0, fmt.Errorf("tpkt reserved byte 0x%02x, want 0: %w", h[1], ErrMalformed)
	}
	n := int(binary.BigEndian.Uint16(h[2:4]))
	if n < rdpMinPDU || n > rdpMaxPDU {
		return 0, fmt.Errorf("tpkt length %d, want %d-%d: %w", n, rdpMinPDU, rdpMaxPDU, ErrMalformed)
	}
	return n, nil
}

// parseRDPRequest parses a whole TPKT packet holding an X.224 Connection
// Request, per MS-RDPBCGR 2.2.1.1 and the drop rules of 3.3.5.3.1. The
// references are ignored, as 3.3.5.3.1 says.
func parseRDPRequest(pkt []byte) (rdpRequest, error) {
	var req rdpRequest
	if len(pkt) < rdpMinPDU {
		return req, fmt.Errorf("connection request of %d bytes, want at least %d: %w", len(pkt), rdpMinPDU, ErrMalformed)
	}
	n, err := checkTPKT(pkt)
	if err != nil {
		return req, err
	}
	if n != len(pkt) {
		return req, fmt.Errorf("tpkt length %d, packet has %d: %w", n, len(pkt), ErrMalformed)
	}
	if li := int(pkt[4]); li != n-5 {
		return req, fmt.Errorf("x.224 length indicator %d, want %d: %w", li, n-5, ErrMalformed)
	}
	if pkt[5] != x224CR {
		return req, fmt.Errorf("x.224 code 0x%02x, want connection request 0xe0: %w", pkt[5], ErrMalformed)
	}
	if class := pkt[10] >> 4; class != 0 {
		return req, fmt.Errorf("x.224 class %d, want 0: %w", class, ErrMalformed)
	}
	v := pkt[rdpMinPDU:]
	if bytes.HasPrefix(v, cookiePrefix) {
		end := bytes.Index(v, []byte("\r\n"))
		if end < 0 {
			return req, fmt.Errorf("cookie without CRLF: %w", ErrMalformed)
		}
		req.cookie, v = string(v[:end]), v[end+2:]
	}
	if len(v) == 0 {
		return req, nil
	}
	if err := parseNegReq(v, &req); err != nil {
		return req, err
	}
	return req, nil
}

// parseNegReq parses RDP_NEG_REQ (2.2.1.1.1) and the optional
// RDP_NEG_CORRELATION_INFO (2.2.1.1.2); nothing may follow them.
func parseNegReq(v []byte, req *rdpRequest) error {
	if len(v) < negLen || v[0] != negReqType || binary.LittleEndian.Uint16(v[2:4]) != negLen {
		return fmt.Errorf("%d bytes after the x.224 header are not an RDP_NEG_REQ: %w", len(v), ErrMalformed)
	}
	req.negotiate, req.flags = true, v[1]
	req.requested = binary.LittleEndian.Uint32(v[4:8])
	v = v[negLen:]
	if req.flags&negCorrelationInfoPresent != 0 {
		if len(v) != correlationLen || v[0] != correlationType || binary.LittleEndian.Uint16(v[2:4]) != correlationLen {
			return fmt.Errorf("RDP_NEG_CORRELATION_INFO announced but absent or malformed: %w", ErrMalformed)
		}
		v = v[correlationLen:]
	}
	if len(v) != 0 {
		return fmt.Errorf("%d bytes after RDP_NEG_REQ: %w", len(v), ErrMalformed)
	}
	return nil
}

// rdpPolicy is the server's accepted protocols in preference order.
type rdpPolicy []uint32

func newRDPPolicy(names []string) (rdpPolicy, error) {
	if len(names) == 0 {
		return rdpPolicy{ProtocolSSL, ProtocolHybrid}, nil
	}
	p := make(rdpPolicy, 0, len(names))
	for _, name := range names {
		proto, ok := lookupProtocol(name)
		if !ok || proto == ProtocolRDSTLS {
			return nil, fmt.Errorf("endpoint: rdp protocol %q: want rdp, ssl, hybrid or hybrid_ex", name)
		}
		p = append(p, proto)
	}
	return p, nil
}

// choose picks the first accepted protocol the client requested. PROTOCOL_RDP
// counts as requested only when nothing else is: a client that offers TLS or
// CredSSP and is refused them gets a failure and may retry without them, as
// against Windows. With no overlap it returns the failure code 2.2.1.2.2
// prescribes for the server's settings.
func (p rdpPolicy) choose(requested uint32) (selected, failure uint32) {
	for _, proto := range p {
		if proto == ProtocolRDP && requested == 0 || proto != ProtocolRDP && requested&proto != 0 {
			return proto, 0
		}
	}
	var ssl, hybrid bool
	for _, proto := range p {
		ssl = ssl || proto == ProtocolSSL
		hybrid = hybrid || proto == ProtocolHybrid || proto == ProtocolHybridEx
	}
	switch {
	case ssl:
		return 0, FailureSSLRequiredByServer
	case hybrid:
		return 0, FailureHybridRequiredByServer
	default:
		return 0, FailureSSLNotAllowedByServer
	}
}

// connectionConfirm builds the answer to req: a Connection Confirm with
// destination reference 0 and source reference 0x1234 (3.3.5.3.2), carrying
// RDP_NEG_RSP or RDP_NEG_FAILURE. A client that sent no RDP_NEG_REQ speaks
// only Standard RDP Security: it gets a bare CC if the server accepts "rdp",
// else RDP_NEG_FAILURE. failed reports that the server must now close.
func (p rdpPolicy) connectionConfirm(req rdpRequest) (pdu []byte, failed bool) {
	selected, failure := p.choose(req.requested)
	var neg []byte
	switch {
	case failure != 0:
		neg = negData(negFailureType, 0, failure)
	case req.negotiate:
		neg = negData(negRspType, negRspExtendedClientData, selected)
	}
	return x224PDU(x224CC, 0, RDPSourceRef, neg), failure != 0
}

func negData(typ, flags uint8, value uint32) []byte {
	b := []byte{typ, flags, negLen, 0, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(b[4:], value)
	return b
}

// x224PDU builds a TPKT packet holding an X.224 connection TPDU (class 0)
// with the given variable part.
func x224PDU(code byte, dstRef, srcRef uint16, variable []byte) []byte {
	n := rdpMinPDU + len(variable)
	b := make([]byte, rdpMinPDU, n)
	b[0] = tpktVersion
	binary.BigEndian.PutUint16(b[2:4], uint16(n))
	b[4] = byte(n - 5)
	b[5] = code
	binary.BigEndian.PutUint16(b[6:8], dstRef)
	binary.BigEndian.PutUint16(b[8:10], srcRef)
	return append(b, variable...)
}

// serveRDP answers one Connection Request and, when the Connection Confirm
// selects a TLS-based protocol, does the TLS handshake. Then it holds the
// connection silently until the client sends its next PDU (which the fake
// does not speak), closes, or is idle; malformed requests are dropped
// unanswered.
func (s *server) serveRDP(ctx context.Context, c net.Conn) error {
	idle := s.cfg.IdleTimeout
	req, err := readRDPRequest(c, idle)
	if err != nil {
		return err
	}
	cc, failed := s.rdp.connectionConfirm(req)
	c.SetWriteDeadline(time.Now().Add(idle))
	if _, err := c.Write(cc); err != nil {
		return fmt.Errorf("rdp: write connection confirm: %w", err)
	}
	if failed {
		return nil // 3.3.5.3.2: after RDP_NEG_FAILURE the server MUST close
	}
	selected, _ := s.rdp.choose(req.requested)
	layer := "no TLS"
	if usesTLS(selected) {
		tc := tls.Server(c, s.rdpTLS)
		c.SetDeadline(time.Now().Add(idle))
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("rdp: %s selected: tls handshake: %w", RDPProtocolName(selected), err)
		}
		c.SetDeadline(time.Time{})
		layer = tls.VersionName(tc.ConnectionState().Version)
		c = tc
	}
	return s.holdUntilNextPDU(c, selected, layer)
}

// readRDPRequest reads and parses one Connection Request.
func readRDPRequest(c net.Conn, idle time.Duration) (rdpRequest, error) {
	hdr := make([]byte, tpktHeaderLen)
	if err := readIdle(c, hdr, idle); err != nil {
		return rdpRequest{}, fmt.Errorf("rdp: read tpkt header: %w", err)
	}
	n, err := checkTPKT(hdr)
	if err != nil {
		return rdpRequest{}, fmt.Errorf("rdp: drop: %w", err)
	}
	pkt := make([]byte, n)
	copy(pkt, hdr)
	if err := readIdle(c, pkt[tpktHeaderLen:], idle); err != nil {
		return rdpRequest{}, fmt.Errorf("rdp: drop: truncated connection request: %w", err)
	}
	req, err := parseRDPRequest(pkt)
	if err != nil {
		return rdpRequest{}, fmt.Errorf("rdp: drop: %w", err)
	}
	return req, nil
}

// holdUntilNextPDU waits, silently, for the client's next bytes: the first
// PDU the fake does not speak. It reads the whole PDU if it is a TPKT (so
// that closing sends a FIN, not a reset for unread data), logs what it
// was and returns, closing the connection, so a real client fails there at
// once instead of waiting for an answer.
func (s *server) holdUntilNextPDU(c net.Conn, selected uint32, layer string) error {
	buf := make([]byte, 64)
	c.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
	n, err := c.Read(buf)
	if n == 0 {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return fmt.Errorf("rdp: %s selected, %s: wait for the next pdu: %w", RDPProtocolName(selected), layer, err)
	}
	if n >= tpktHeaderLen && buf[0] == tpktVersion {
		if rest := int(binary.BigEndian.Uint16(buf[2:4])) - n; rest > 0 {
			io.CopyN(io.Discard, c, int64(rest)) // best effort: the connection ends anyway
		}
	}
	s.log.Info("rdp: closing where the fake stops", "remote", c.RemoteAddr().String(),
		"selected", RDPProtocolName(selected), "layer", layer, "next", nextPDUName(buf[:n]))
	if tc, ok := c.(*tls.Conn); ok {
		tc.Close() // close_notify, as a TLS server that ends the session sends
	}
	return nil
}
