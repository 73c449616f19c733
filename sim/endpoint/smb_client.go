package endpoint

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
)

// SMBStatusError is an SMB2 error response to NEGOTIATE.
type SMBStatusError struct {
	Status uint32 // NTSTATUS, e.g. 0xC00000BB STATUS_NOT_SUPPORTED
}

func (e *SMBStatusError) Error() string {
	return fmt.Sprintf("smb server answered NTSTATUS 0x%08x", e.Status)
}

// clientDialects are the dialects SMBNegotiate offers, as Windows 10 does.
var clientDialects = []uint16{smb202, smb21, smb30, smb302, smb311}

// SMBNegotiate sends an SMB2 NEGOTIATE on conn offering 2.0.2 through 3.1.1
// (with a SHA-512 preauth integrity context) and returns the dialect the
// server selected, named as device.SMB.Dialect ("3.1.1", "2.1", ...). The
// response is validated strictly; an error status is an *SMBStatusError, a
// server that closes without answering gives ErrDropped. conn is left open.
func SMBNegotiate(ctx context.Context, conn net.Conn) (string, error) {
	defer watch(ctx, conn)()
	if err := writeSMBMessage(conn, smbNegotiateRequestPDU(clientDialects)); err != nil {
		return "", fmt.Errorf("smb negotiate: write: %w", ctxErr(ctx, err))
	}
	msg, err := readSMBMessage(conn)
	if err != nil {
		if errors.Is(err, io.EOF) || isReset(err) {
			err = ErrDropped
		}
		return "", fmt.Errorf("smb negotiate: %w", ctxErr(ctx, err))
	}
	d, err := parseNegotiateResponse(msg, 0, clientDialects)
	if err != nil {
		return "", fmt.Errorf("smb negotiate: %w", err)
	}
	return SMBDialectName(d), nil
}

// smbNegotiateRequestPDU builds a NEGOTIATE request (2.2.3) with message ID
// 0; offering 3.1.1 adds a preauth integrity context (SHA-512, 32-byte salt).
func smbNegotiateRequestPDU(dialects []uint16) []byte {
	le := binary.LittleEndian
	h := make([]byte, smb2HeaderLen)
	copy(h, smb2Magic)
	le.PutUint16(h[4:], smb2HeaderLen)
	le.PutUint16(h[14:], 1)
	b := make([]byte, smbNegReqLen, smbNegReqLen+2*len(dialects)+56)
	le.PutUint16(b[0:], smbNegReqLen)
	le.PutUint16(b[2:], uint16(len(dialects)))
	le.PutUint16(b[4:], smbSigningOn)
	rand.Read(b[12:28])
	for _, d := range dialects {
		b = le.AppendUint16(b, d)
	}
	msg := append(h, b...)
	if slices.Contains(dialects, smb311) {
		for len(msg)%8 != 0 {
			msg = append(msg, 0)
		}
		le.PutUint32(msg[smb2HeaderLen+28:], uint32(len(msg)))
		le.PutUint16(msg[smb2HeaderLen+32:], 1)
		msg = append(msg, preauthContext()...)
	}
	return msg
}

// parseNegotiateResponse validates a NEGOTIATE response (2.2.4) to a request
// with messageID that offered the given dialects, and returns the dialect.
func parseNegotiateResponse(msg []byte, messageID uint64, offered []uint16) (uint16, error) {
	le := binary.LittleEndian
	if len(msg) < smb2HeaderLen || !bytes.HasPrefix(msg, smb2Magic) || le.Uint16(msg[4:]) != smb2HeaderLen {
		return 0, fmt.Errorf("response is not an SMB2 message: %w", ErrMalformed)
	}
	if le.Uint16(msg[12:]) != 0 || le.Uint32(msg[16:])&smbFlagResponse == 0 || le.Uint64(msg[24:]) != messageID {
		return 0, fmt.Errorf("response is not the NEGOTIATE response to message %d: %w", messageID, ErrMalformed)
	}
	body := msg[smb2HeaderLen:]
	if status := le.Uint32(msg[8:]); status != statusSuccess {
		if len(body) < 9 || le.Uint16(body) != 9 {
			return 0, fmt.Errorf("error response 0x%08x with a malformed body: %w", status, ErrMalformed)
		}
		return 0, &SMBStatusError{Status: status}
	}
	if len(body) < smbNegRspLen || le.Uint16(body) != smbNegRspLen+1 {
		return 0, fmt.Errorf("NEGOTIATE response body malformed: %w", ErrMalformed)
	}
	dialect := le.Uint16(body[4:])
	if !slices.Contains(offered, dialect) {
		return 0, fmt.Errorf("server selected dialect 0x%04x, which was not offered: %w", dialect, ErrMalformed)
	}
	secOff, secLen := int(le.Uint16(body[56:])), int(le.Uint16(body[58:]))
	if secLen > 0 && (secOff < smb2HeaderLen+smbNegRspLen || secOff+secLen > len(msg)) {
		return 0, fmt.Errorf("security buffer outside the message: %w", ErrMalformed)
	}
	ctxCount, ctxOff := int(le.Uint16(body[6:])), int(le.Uint32(body[60:]))
	if dialect != smb311 {
		if ctxCount != 0 || ctxOff != 0 {
			return 0, fmt.Errorf("negotiate contexts with dialect %s: %w", SMBDialectName(dialect), ErrMalformed)
		}
		return dialect, nil
	}
	return dialect, checkServerContexts(msg, ctxOff, ctxCount)
}

// checkServerContexts: a 3.1.1 response carries exactly one preauth
// integrity context naming exactly one hash, SHA-512 (2.2.3.1.1).
func checkServerContexts(msg []byte, off, count int) error {
	ctxs, err := parseSMBContexts(msg, off, count)
	if err != nil {
		return err
	}
	var preauth [][]byte
	for _, c := range ctxs {
		if c.typ == smbPreauthCtx {
			preauth = append(preauth, c.data)
		}
	}
	if len(preauth) != 1 {
		return fmt.Errorf("%d preauth integrity contexts, want 1: %w", len(preauth), ErrMalformed)
	}
	d := preauth[0]
	le := binary.LittleEndian
	if len(d) < 6 || le.Uint16(d) != 1 || le.Uint16(d[4:]) != smbSHA512 || len(d) != 6+int(le.Uint16(d[2:])) {
		return fmt.Errorf("preauth integrity context does not select SHA-512 with its salt: %w", ErrMalformed)
	}
	return nil
}
