package endpoint

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"slices"
	"time"
)

// The SMB service answers the first exchange of an SMB2 connection, NEGOTIATE
// (MS-SMB2 2.2.3/2.2.4), over Direct TCP (MS-SMB2 2.1), including the
// SMB1-to-SMB2 upgrade Windows performs (3.3.5.3.1), then holds the
// connection: enough for psexec-style scenarios (EP-2) to prove that port 445
// reaches an SMB server that picked the expected dialect.

// SMB2 dialect revisions (MS-SMB2 2.2.3). smbWildcard is the "SMB 2.???"
// answer to an SMB1 negotiate.
const (
	smb202      uint16 = 0x0202
	smb21       uint16 = 0x0210
	smb30       uint16 = 0x0300
	smb302      uint16 = 0x0302
	smb311      uint16 = 0x0311
	smbWildcard uint16 = 0x02FF
)

var smbDialects = []struct {
	name string
	rev  uint16
}{
	{"2.0.2", smb202}, {"2.1", smb21}, {"3.0", smb30}, {"3.0.2", smb302}, {"3.1.1", smb311}, {"2.???", smbWildcard},
}

// SMBDialectName names a dialect revision as device.SMB.Dialect does.
func SMBDialectName(rev uint16) string {
	for _, d := range smbDialects {
		if d.rev == rev {
			return d.name
		}
	}
	return fmt.Sprintf("0x%04x", rev)
}

// knownDialect reports a dialect revision the server can select.
func knownDialect(rev uint16) bool {
	for _, d := range smbDialects {
		if d.rev == rev && rev != smbWildcard {
			return true
		}
	}
	return false
}

// NTSTATUS values the service answers with (MS-ERREF 2.3.1).
const (
	statusSuccess              uint32 = 0x00000000
	statusInvalidParameter     uint32 = 0xC000000D
	statusNotSupported         uint32 = 0xC00000BB
	statusNoPreauthHashOverlap uint32 = 0xC05D0000
)

const (
	smbMaxMessage    = 64 << 10 // a NEGOTIATE is far smaller; more is hostile
	smb2HeaderLen    = 64
	smb1HeaderLen    = 32
	smbNegReqLen     = 36 // fixed part of NEGOTIATE request
	smbNegRspLen     = 64 // fixed part of NEGOTIATE response
	smbFlagResponse  = 0x00000001
	smbSigningOn     = 0x0001 // SMB2_NEGOTIATE_SIGNING_ENABLED
	smbCapLargeMTU   = 0x0004 // SMB2_GLOBAL_CAP_LARGE_MTU
	smbPreauthCtx    = 0x0001 // SMB2_PREAUTH_INTEGRITY_CAPABILITIES
	smbSHA512        = 0x0001
	smbSaltLen       = 32
	smb1NegotiateCmd = 0x72
)

var (
	smb2Magic = []byte{0xFE, 'S', 'M', 'B'}
	smb1Magic = []byte{0xFF, 'S', 'M', 'B'}
)

// smbDialect is the highest dialect the server speaks.
type smbDialect uint16

func parseSMBDialect(name string) (smbDialect, error) {
	if name == "" {
		return smbDialect(smb311), nil
	}
	for _, d := range smbDialects {
		if d.name == name && d.rev != smbWildcard {
			return smbDialect(d.rev), nil
		}
	}
	return 0, fmt.Errorf("endpoint: smb dialect %q: want 3.1.1, 3.0.2, 3.0, 2.1 or 2.0.2", name)
}

// smbConn is the negotiate state of one connection.
type smbConn struct {
	max  smbDialect
	guid [16]byte
	// dialect negotiated so far: 0 none, smbWildcard after the SMB1 upgrade.
	dialect uint16
}

// answer handles one SMB message (without the Direct TCP header) and returns
// the response to send. A malformed message is an error: drop the
// connection. done reports that negotiation is over.
func (sc *smbConn) answer(msg []byte) (resp []byte, done bool, err error) {
	switch {
	case bytes.HasPrefix(msg, smb1Magic) && sc.dialect == 0:
		return sc.answerSMB1(msg)
	case bytes.HasPrefix(msg, smb2Magic):
		return sc.answerSMB2(msg)
	}
	return nil, false, fmt.Errorf("smb: not an SMB2 NEGOTIATE or initial SMB1 negotiate: %w", ErrMalformed)
}

// answerSMB1 upgrades an SMB1 negotiate to SMB2 (MS-SMB2 3.3.5.3.1): "SMB
// 2.???" gets the wildcard revision 0x02FF and a second, SMB2, negotiate;
// "SMB 2.002" alone gets 2.0.2. SMB1 itself is not spoken.
func (sc *smbConn) answerSMB1(msg []byte) ([]byte, bool, error) {
	names, err := parseSMB1Negotiate(msg)
	if err != nil {
		return nil, false, err
	}
	switch {
	case slices.Contains(names, "SMB 2.???") && sc.max >= smbDialect(smb21):
		sc.dialect = smbWildcard
		return sc.negotiateResponse(0, smbWildcard, nil), false, nil
	case slices.Contains(names, "SMB 2.002"):
		sc.dialect = smb202
		return sc.negotiateResponse(0, smb202, nil), true, nil
	}
	return nil, false, fmt.Errorf("smb: SMB1 negotiate offers no SMB2 dialect (%q): %w", names, ErrMalformed)
}

// parseSMB1Negotiate returns the dialect strings of an SMB_COM_NEGOTIATE.
func parseSMB1Negotiate(msg []byte) ([]string, error) {
	if len(msg) < smb1HeaderLen+3 || msg[4] != smb1NegotiateCmd || msg[smb1HeaderLen] != 0 {
		return nil, fmt.Errorf("smb: SMB1 message is not a negotiate request: %w", ErrMalformed)
	}
	b := msg[smb1HeaderLen+3:]
	if n := int(binary.LittleEndian.Uint16(msg[smb1HeaderLen+1:])); n != len(b) {
		return nil, fmt.Errorf("smb: SMB1 byte count %d, message has %d: %w", n, len(b), ErrMalformed)
	}
	var names []string
	for len(b) > 0 {
		end := bytes.IndexByte(b, 0)
		if b[0] != 0x02 || end < 0 {
			return nil, fmt.Errorf("smb: SMB1 dialect list malformed: %w", ErrMalformed)
		}
		names, b = append(names, string(b[1:end])), b[end+1:]
	}
	return names, nil
}

// smbNegotiateRequest is the part of a NEGOTIATE request the server uses.
type smbNegotiateRequest struct {
	messageID uint64
	dialects  []uint16
	contexts  []smbContext
}

type smbContext struct {
	typ  uint16
	data []byte
}

// answerSMB2 answers an SMB2 NEGOTIATE with the highest offered dialect not
// above the server's (3.3.5.4), or with an error response.
func (sc *smbConn) answerSMB2(msg []byte) ([]byte, bool, error) {
	if sc.dialect != 0 && sc.dialect != smbWildcard {
		return nil, false, fmt.Errorf("smb: second NEGOTIATE on a negotiated connection: %w", ErrMalformed)
	}
	req, err := parseSMB2Negotiate(msg)
	if err != nil {
		return nil, false, err
	}
	if len(req.dialects) == 0 {
		return smbErrorResponse(req.messageID, statusInvalidParameter), true, nil
	}
	var chosen uint16
	for _, d := range req.dialects {
		if d <= uint16(sc.max) && d > chosen && knownDialect(d) {
			chosen = d
		}
	}
	if chosen == 0 {
		return smbErrorResponse(req.messageID, statusNotSupported), true, nil
	}
	var ctxs []byte
	if chosen == smb311 {
		if status := checkPreauth(req.contexts); status != statusSuccess {
			return smbErrorResponse(req.messageID, status), true, nil
		}
		ctxs = preauthContext()
	}
	sc.dialect = chosen
	return sc.negotiateResponse(req.messageID, chosen, ctxs), true, nil
}

// checkPreauth applies 3.3.5.4 to a 3.1.1 request: exactly one
// SMB2_PREAUTH_INTEGRITY_CAPABILITIES, offering SHA-512.
func checkPreauth(ctxs []smbContext) uint32 {
	var preauth []smbContext
	for _, c := range ctxs {
		if c.typ == smbPreauthCtx {
			preauth = append(preauth, c)
		}
	}
	if len(preauth) != 1 {
		return statusInvalidParameter
	}
	d := preauth[0].data
	if len(d) < 4 {
		return statusInvalidParameter
	}
	count, salt := int(binary.LittleEndian.Uint16(d)), int(binary.LittleEndian.Uint16(d[2:]))
	if count == 0 || len(d) < 4+2*count+salt {
		return statusInvalidParameter
	}
	for i := range count {
		if binary.LittleEndian.Uint16(d[4+2*i:]) == smbSHA512 {
			return statusSuccess
		}
	}
	return statusNoPreauthHashOverlap
}

// parseSMB2Negotiate parses an SMB2 header and NEGOTIATE request (2.2.1,
// 2.2.3), including the negotiate context list when 3.1.1 is offered.
func parseSMB2Negotiate(msg []byte) (smbNegotiateRequest, error) {
	var req smbNegotiateRequest
	if len(msg) < smb2HeaderLen+smbNegReqLen {
		return req, fmt.Errorf("smb: NEGOTIATE of %d bytes, want at least %d: %w", len(msg), smb2HeaderLen+smbNegReqLen, ErrMalformed)
	}
	le := binary.LittleEndian
	if le.Uint16(msg[4:]) != smb2HeaderLen || le.Uint16(msg[12:]) != 0 || le.Uint32(msg[16:])&smbFlagResponse != 0 {
		return req, fmt.Errorf("smb: not an SMB2 NEGOTIATE request: %w", ErrMalformed)
	}
	req.messageID = le.Uint64(msg[24:])
	body := msg[smb2HeaderLen:]
	if le.Uint16(body) != smbNegReqLen {
		return req, fmt.Errorf("smb: NEGOTIATE structure size %d, want 36: %w", le.Uint16(body), ErrMalformed)
	}
	n := int(le.Uint16(body[2:]))
	if len(body) < smbNegReqLen+2*n {
		return req, fmt.Errorf("smb: %d dialects do not fit the message: %w", n, ErrMalformed)
	}
	for i := range n {
		req.dialects = append(req.dialects, le.Uint16(body[smbNegReqLen+2*i:]))
	}
	if !slices.Contains(req.dialects, smb311) {
		return req, nil
	}
	var err error
	req.contexts, err = parseSMBContexts(msg, int(le.Uint32(body[28:])), int(le.Uint16(body[32:])))
	return req, err
}

// parseSMBContexts reads count negotiate contexts (2.2.3.1) starting at off
// from the start of the SMB2 header, each 8-byte aligned.
func parseSMBContexts(msg []byte, off, count int) ([]smbContext, error) {
	var ctxs []smbContext
	for i := range count {
		if off%8 != 0 || off < smb2HeaderLen || off+8 > len(msg) {
			return nil, fmt.Errorf("smb: negotiate context %d at offset %d is misaligned or outside the message: %w", i, off, ErrMalformed)
		}
		n := int(binary.LittleEndian.Uint16(msg[off+2:]))
		if off+8+n > len(msg) {
			return nil, fmt.Errorf("smb: negotiate context %d overruns the message: %w", i, ErrMalformed)
		}
		ctxs = append(ctxs, smbContext{typ: binary.LittleEndian.Uint16(msg[off:]), data: msg[off+8 : off+8+n]})
		off += (8 + n + 7) &^ 7
	}
	return ctxs, nil
}

// preauthContext is the server's SMB2_PREAUTH_INTEGRITY_CAPABILITIES: one
// hash, SHA-512, and a fresh 32-byte salt (2.2.3.1.1).
func preauthContext() []byte {
	data := make([]byte, 6+smbSaltLen)
	binary.LittleEndian.PutUint16(data[0:], 1)
	binary.LittleEndian.PutUint16(data[2:], smbSaltLen)
	binary.LittleEndian.PutUint16(data[4:], smbSHA512)
	rand.Read(data[6:])
	return negotiateContext(smbPreauthCtx, data)
}

func negotiateContext(typ uint16, data []byte) []byte {
	b := make([]byte, 8, 8+len(data))
	binary.LittleEndian.PutUint16(b[0:], typ)
	binary.LittleEndian.PutUint16(b[2:], uint16(len(data)))
	return append(b, data...)
}

// smbHeader builds a response header (2.2.1.2) for messageID with status.
func smbHeader(messageID uint64, status uint32) []byte {
	h := make([]byte, smb2HeaderLen)
	copy(h, smb2Magic)
	le := binary.LittleEndian
	le.PutUint16(h[4:], smb2HeaderLen)
	le.PutUint32(h[8:], status)
	le.PutUint16(h[14:], 1) // one credit granted
	le.PutUint32(h[16:], smbFlagResponse)
	le.PutUint64(h[24:], messageID)
	return h
}

// smbErrorResponse is an SMB2 ERROR response (2.2.2) with no error data
// beyond the one zero byte the specification asks for.
func smbErrorResponse(messageID uint64, status uint32) []byte {
	return append(smbHeader(messageID, status), 9, 0, 0, 0, 0, 0, 0, 0, 0)
}

// negotiateResponse builds a NEGOTIATE response (2.2.4) with no security
// buffer (the client starts SPNEGO itself) and the given context list,
// which must be empty unless dialect is 3.1.1.
func (sc *smbConn) negotiateResponse(messageID uint64, dialect uint16, ctxs []byte) []byte {
	b := make([]byte, smbNegRspLen)
	le := binary.LittleEndian
	le.PutUint16(b[0:], smbNegRspLen+1)
	le.PutUint16(b[2:], smbSigningOn)
	le.PutUint16(b[4:], dialect)
	copy(b[8:24], sc.guid[:])
	maxSize := uint32(64 << 10) // 3.3.5.4: 2.0.2 caps transfers at 65536
	if dialect != smb202 && dialect != smbWildcard {
		le.PutUint32(b[24:], smbCapLargeMTU)
		maxSize = 8 << 20 // as Windows 10
	}
	le.PutUint32(b[28:], maxSize)
	le.PutUint32(b[32:], maxSize)
	le.PutUint32(b[36:], maxSize)
	le.PutUint64(b[40:], fileTime(time.Now()))
	le.PutUint16(b[56:], smb2HeaderLen+smbNegRspLen) // empty security buffer
	if len(ctxs) > 0 {
		le.PutUint16(b[6:], 1)
		le.PutUint32(b[60:], smb2HeaderLen+smbNegRspLen) // already 8-aligned
	}
	return append(append(smbHeader(messageID, statusSuccess), b...), ctxs...)
}

// fileTime is t as a Windows FILETIME: 100 ns intervals since 1601-01-01.
func fileTime(t time.Time) uint64 {
	const epochDiff = 116444736000000000 // 1601 to 1970 in 100 ns
	return uint64(t.UnixNano()/100) + epochDiff
}

// readSMBMessage reads one Direct TCP message (2.1): a zero byte, a 24-bit
// length, the message.
func readSMBMessage(r io.Reader) ([]byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := int(h[1])<<16 | int(h[2])<<8 | int(h[3])
	if h[0] != 0 || n == 0 || n > smbMaxMessage {
		return nil, fmt.Errorf("smb: direct tcp header %x: %w", h, ErrMalformed)
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(r, msg); err != nil {
		return nil, fmt.Errorf("smb: truncated message: %w", err)
	}
	return msg, nil
}

func writeSMBMessage(w io.Writer, msg []byte) error {
	n := len(msg)
	_, err := w.Write(append([]byte{0, byte(n >> 16), byte(n >> 8), byte(n)}, msg...))
	return err
}

// serveSMB negotiates, then holds the connection: the fake goes no further.
func (s *server) serveSMB(ctx context.Context, c net.Conn) error {
	sc := &smbConn{max: s.smb}
	rand.Read(sc.guid[:])
	for done := false; !done; {
		c.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
		msg, err := readSMBMessage(c)
		if err != nil {
			return fmt.Errorf("smb: drop: %w", err)
		}
		var resp []byte
		if resp, done, err = sc.answer(msg); err != nil {
			return fmt.Errorf("smb: drop: %w", err)
		}
		c.SetWriteDeadline(time.Now().Add(s.cfg.IdleTimeout))
		if err := writeSMBMessage(c, resp); err != nil {
			return fmt.Errorf("smb: write negotiate response: %w", err)
		}
	}
	return discard(c, s.cfg.IdleTimeout)
}
