package endpoint

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
)

// RDPRequest is the X.224 Connection Request a client sends.
type RDPRequest struct {
	// Cookie is the mstshash user name sent as "Cookie: mstshash=NAME\r\n";
	// empty: no cookie.
	Cookie string
	// Requested is RDP_NEG_REQ.requestedProtocols, e.g. ProtocolSSL|ProtocolHybrid.
	Requested uint32
	// NoNegotiation leaves RDP_NEG_REQ out, as a client that speaks only
	// Standard RDP Security does; Requested is then ignored.
	NoNegotiation bool
}

// RDPResult is a server's Connection Confirm.
type RDPResult struct {
	// SourceRef is the CC's source reference; 0x1234 per MS-RDPBCGR 3.3.5.3.2.
	SourceRef uint16
	// Negotiated: the CC carried RDP_NEG_RSP or RDP_NEG_FAILURE.
	Negotiated bool
	// Selected is RDP_NEG_RSP.selectedProtocol (ProtocolRDP without
	// negotiation data); meaningless when Failed.
	Selected uint32
	// Flags are RDP_NEG_RSP's flags.
	Flags uint8
	// Failed: the server answered RDP_NEG_FAILURE with FailureCode.
	Failed      bool
	FailureCode uint32
}

func (r RDPResult) String() string {
	if r.Failed {
		return fmt.Sprintf("RDP_NEG_FAILURE %s (source ref 0x%04x)", RDPFailureName(r.FailureCode), r.SourceRef)
	}
	return fmt.Sprintf("selected %s (source ref 0x%04x)", RDPProtocolName(r.Selected), r.SourceRef)
}

// RDPConnect sends a Connection Request with the cookie "c2clab" and an
// RDP_NEG_REQ for the requested protocols on conn, and returns the server's
// Connection Confirm, validated strictly. A negotiation failure is a result,
// not an error; a server that closes without answering gives ErrDropped,
// a malformed answer ErrMalformed. conn is left open.
func RDPConnect(ctx context.Context, conn net.Conn, requested uint32) (RDPResult, error) {
	return RDPRequest{Cookie: "c2clab", Requested: requested}.Connect(ctx, conn)
}

// Connect sends r on conn and reads the Connection Confirm; see RDPConnect.
func (r RDPRequest) Connect(ctx context.Context, conn net.Conn) (RDPResult, error) {
	pdu, err := r.pdu()
	if err != nil {
		return RDPResult{}, err
	}
	defer watch(ctx, conn)()
	if _, err := conn.Write(pdu); err != nil {
		return RDPResult{}, fmt.Errorf("rdp connect: write connection request: %w", ctxErr(ctx, err))
	}
	pkt, err := readConfirm(conn)
	if err != nil {
		return RDPResult{}, fmt.Errorf("rdp connect: %w", ctxErr(ctx, err))
	}
	res, err := parseConfirm(pkt, !r.NoNegotiation, r.Requested)
	if err != nil {
		return res, fmt.Errorf("rdp connect: %w", err)
	}
	return res, nil
}

func (r RDPRequest) pdu() ([]byte, error) {
	var v []byte
	if r.Cookie != "" {
		if strings.ContainsAny(r.Cookie, "\r\n") || len(r.Cookie) > 200 {
			return nil, fmt.Errorf("rdp connect: cookie %q: want at most 200 characters and no line breaks", r.Cookie)
		}
		v = append(v, "Cookie: mstshash="+r.Cookie+"\r\n"...)
	}
	if !r.NoNegotiation {
		v = append(v, negData(negReqType, 0, r.Requested)...)
	}
	return x224PDU(x224CR, 0, 0, v), nil
}

// readConfirm reads one TPKT packet; EOF before its first byte is ErrDropped.
func readConfirm(conn net.Conn) ([]byte, error) {
	hdr := make([]byte, tpktHeaderLen)
	if n, err := io.ReadFull(conn, hdr); err != nil {
		if n == 0 && (errors.Is(err, io.EOF) || isReset(err)) {
			return nil, ErrDropped
		}
		return nil, fmt.Errorf("read connection confirm: %w", err)
	}
	n, err := checkTPKT(hdr)
	if err != nil {
		return nil, err
	}
	pkt := make([]byte, n)
	copy(pkt, hdr)
	if _, err := io.ReadFull(conn, pkt[tpktHeaderLen:]); err != nil {
		return nil, fmt.Errorf("read connection confirm: truncated: %w", err)
	}
	return pkt, nil
}

// parseConfirm validates a Connection Confirm against MS-RDPBCGR 2.2.1.2:
// class 0, destination reference 0 (the request's source reference), no
// parameters, and either no negotiation data or exactly one RDP_NEG_RSP
// (selecting a protocol the client offered) or RDP_NEG_FAILURE.
func parseConfirm(pkt []byte, negotiated bool, requested uint32) (RDPResult, error) {
	var r RDPResult
	if li := int(pkt[4]); li != len(pkt)-5 {
		return r, fmt.Errorf("x.224 length indicator %d, want %d: %w", li, len(pkt)-5, ErrMalformed)
	}
	if pkt[5] != x224CC {
		return r, fmt.Errorf("x.224 code 0x%02x, want connection confirm 0xd0: %w", pkt[5], ErrMalformed)
	}
	if dst := binary.BigEndian.Uint16(pkt[6:8]); dst != 0 {
		return r, fmt.Errorf("destination reference 0x%04x, want 0: %w", dst, ErrMalformed)
	}
	if pkt[10] != 0 {
		return r, fmt.Errorf("class and options 0x%02x, want 0: %w", pkt[10], ErrMalformed)
	}
	r.SourceRef = binary.BigEndian.Uint16(pkt[8:10])
	v := pkt[rdpMinPDU:]
	if len(v) == 0 {
		return r, nil
	}
	if len(v) != negLen || binary.LittleEndian.Uint16(v[2:4]) != negLen {
		return r, fmt.Errorf("%d bytes of negotiation data, want 8: %w", len(v), ErrMalformed)
	}
	r.Negotiated, r.Flags = true, v[1]
	value := binary.LittleEndian.Uint32(v[4:8])
	switch v[0] {
	case negRspType:
		if !negotiated {
			return r, fmt.Errorf("RDP_NEG_RSP to a request without RDP_NEG_REQ: %w", ErrMalformed)
		}
		if value != ProtocolRDP && (value&(value-1) != 0 || value&requested == 0) {
			return r, fmt.Errorf("selected protocol 0x%x was not requested (0x%x): %w", value, requested, ErrMalformed)
		}
		r.Selected = value
	case negFailureType:
		if v[1] != 0 {
			return r, fmt.Errorf("RDP_NEG_FAILURE flags 0x%02x, want 0: %w", v[1], ErrMalformed)
		}
		r.Failed, r.FailureCode = true, value
	default:
		return r, fmt.Errorf("negotiation type 0x%02x, want RDP_NEG_RSP or RDP_NEG_FAILURE: %w", v[0], ErrMalformed)
	}
	return r, nil
}

// RDPStartTLS does the client side of the TLS handshake that follows a
// Connection Confirm selecting PROTOCOL_SSL or a hybrid protocol
// (MS-RDPBCGR 5.4.5.1) on conn and returns the TLS connection. It does not
// verify the server's certificate, which is self-signed, as Windows' own
// RDP certificate is by default; callers inspect
// ConnectionState().PeerCertificates themselves.
func RDPStartTLS(ctx context.Context, conn net.Conn) (*tls.Conn, error) {
	tc := tls.Client(conn, &tls.Config{
		InsecureSkipVerify: true, // self-signed by design; see above
		MinVersion:         tls.VersionTLS12,
	})
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("rdp start tls: %w", ctxErr(ctx, err))
	}
	return tc, nil
}
