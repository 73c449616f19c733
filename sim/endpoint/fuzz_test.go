package endpoint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The fuzz targets here cover the parsers of bytes a peer sends that
// FuzzRDPRequest and FuzzSMBNegotiate (the servers' request parsers) do
// not: the bulk header, SMB's Direct TCP framing, the shadow request line,
// and the clients' parsers of the servers' answers, which must hold
// against a hostile or broken server as the servers do against clients.

// FuzzBulkHeader: a header parseBulkHeader accepts is exactly what marshal
// writes for it; every refusal wraps ErrMalformed.
func FuzzBulkHeader(f *testing.F) {
	f.Add(bulkHeader{mode: modeSink, length: 1 << 20, seed: 7}.marshal())
	f.Add(bulkHeader{mode: modeEcho, length: 0, seed: 0}.marshal())
	f.Add(append(bulkHeader{mode: modeGenerate, length: 5}.marshal()[:8], 0x80, 0, 0, 0, 0, 0, 0, 0))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		b = append(b, make([]byte, bulkHeaderLen)...)[:bulkHeaderLen] // the server reads exactly 24 bytes
		h, err := parseBulkHeader(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if h.length < 0 || !bytes.Equal(h.marshal(), b) {
			t.Fatalf("accepted %x as %+v, which is written %x", b, h, h.marshal())
		}
	})
}

// FuzzReadSMBMessage reads Direct TCP messages (MS-SMB2 2.1) from a stream
// until the first error: each message is 1 to smbMaxMessage bytes and is
// exactly what writeSMBMessage writes for it; a bad header is refused with
// ErrMalformed before its claimed length is allocated, a cut message is an
// I/O error.
func FuzzReadSMBMessage(f *testing.F) {
	var w bytes.Buffer
	writeSMBMessage(&w, smbNegotiateRequestPDU(clientDialects))
	f.Add(w.Bytes())
	f.Add([]byte{0, 0xff, 0xff, 0xff, 0xfe})
	f.Add([]byte{0x85, 0, 0, 4, 0xfe, 'S', 'M', 'B'})
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		for {
			start := r.Len()
			msg, err := readSMBMessage(r)
			if err != nil {
				checkSMBStreamEnd(t, in[len(in)-start:], err)
				return
			}
			var out bytes.Buffer
			if err := writeSMBMessage(&out, msg); err != nil {
				t.Fatal(err)
			}
			if len(msg) == 0 || len(msg) > smbMaxMessage || !bytes.Equal(out.Bytes(), in[len(in)-start:len(in)-r.Len()]) {
				t.Fatalf("read a %d-byte message that writes as %x", len(msg), out.Bytes())
			}
		}
	})
}

// checkSMBStreamEnd checks the error that ended a stream whose rest was
// left: io.EOF at a message boundary, ErrMalformed for a bad header, and
// an I/O error for a cut header or message.
func checkSMBStreamEnd(t *testing.T, left []byte, err error) {
	t.Helper()
	if len(left) == 0 {
		if err != io.EOF {
			t.Fatalf("at the end of the stream: %v, want io.EOF", err)
		}
		return
	}
	if len(left) < 4 {
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut header %x: %v, want io.ErrUnexpectedEOF", left, err)
		}
		return
	}
	n := int(left[1])<<16 | int(left[2])<<8 | int(left[3])
	if bad := left[0] != 0 || n == 0 || n > smbMaxMessage; bad != errors.Is(err, ErrMalformed) {
		t.Fatalf("header %x: %v", left[:4], err)
	}
}

// FuzzShadowRequest: a SHADOW line parseShadowReq accepts, written back in
// the protocol's form, parses to the same request.
func FuzzShadowRequest(f *testing.F) {
	for _, s := range []string{"SHADOW 1 control", "SHADOW 2 view noconsent", "SHADOW -1 view", "SHADOW 1 view consent",
		"SHADOW 99999999999999999999 view", "SHADOW 1", "SHADOW +1 control", "SHADOW 0x1 view", "QUERY SESSION"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		req, err := parseShadowReq(strings.Fields(line))
		if err != nil {
			return
		}
		if req.id < 0 {
			t.Fatalf("%q: accepted session ID %d", line, req.id)
		}
		mode := map[bool]string{true: "control", false: "view"}[req.control]
		back := "SHADOW " + strconv.Itoa(req.id) + " " + mode
		if req.noConsent {
			back += " noconsent"
		}
		again, err := parseShadowReq(strings.Fields(back))
		if err != nil || again != req {
			t.Fatalf("%q parsed to %+v, written %q, which parses to %+v, %v", line, req, back, again, err)
		}
	})
}

// FuzzRDPConfirm runs the client's checks of a Connection Confirm as
// RDPRequest.Connect does (TPKT header, then the packet) on any bytes a
// server might send. It must never panic; every refusal wraps ErrMalformed;
// and what it accepts selects a protocol the client asked for, or none.
func FuzzRDPConfirm(f *testing.F) {
	p, _ := newRDPPolicy(nil)
	cc, _ := p.connectionConfirm(rdpRequest{negotiate: true, requested: ProtocolSSL | ProtocolHybrid})
	f.Add(cc, true, ProtocolSSL|ProtocolHybrid)
	f.Add(mustHex("0300000b06d00000123400"), false, uint32(0))
	f.Add(mustHex("0300001306d000001234000308000000000002"), true, ProtocolSSL)
	f.Add(mustHex("0300001306d000001234000200080004000000"), true, ProtocolSSL)
	f.Fuzz(func(t *testing.T, pkt []byte, negotiated bool, requested uint32) {
		if len(pkt) < tpktHeaderLen {
			return // readConfirm reports a cut header as an I/O error
		}
		n, err := checkTPKT(pkt[:tpktHeaderLen])
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("TPKT error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if n != len(pkt) {
			return // readConfirm reads exactly n bytes
		}
		r, err := parseConfirm(pkt, negotiated, requested)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if r.Negotiated && !r.Failed && (!negotiated || r.Selected != ProtocolRDP && (r.Selected&requested == 0 || r.Selected&(r.Selected-1) != 0)) {
			t.Fatalf("accepted %x: selected 0x%x for a request of 0x%x (negotiated %v)", pkt, r.Selected, requested, negotiated)
		}
	})
}

// FuzzSMBNegotiateResponse runs the client's checks of a NEGOTIATE
// response on any bytes a server might send: no panic, every refusal is
// ErrMalformed or the server's NTSTATUS, and an accepted dialect is one the
// client offered.
func FuzzSMBNegotiateResponse(f *testing.F) {
	sc := &smbConn{max: smbDialect(smb311)}
	req := smbNegotiateRequestPDU(clientDialects)
	if resp, _, err := sc.answer(req); err == nil {
		f.Add(resp, uint8(0xff))
	}
	sc = &smbConn{max: smbDialect(smb21)}
	if resp, _, err := sc.answer(req); err == nil {
		f.Add(resp, uint8(0x0f))
	}
	f.Add(smbErrorResponse(1, statusNotSupported), uint8(1))
	f.Fuzz(func(t *testing.T, msg []byte, offeredMask uint8) {
		var offered []uint16
		for i, d := range clientDialects {
			if offeredMask&(1<<i) != 0 {
				offered = append(offered, d)
			}
		}
		var id uint64
		if len(msg) >= smb2HeaderLen {
			id = binary.LittleEndian.Uint64(msg[24:]) // the message ID check is not what this explores
		}
		dialect, err := parseNegotiateResponse(msg, id, offered)
		if err != nil {
			var se *SMBStatusError
			if !errors.Is(err, ErrMalformed) && !errors.As(err, &se) {
				t.Fatalf("error %v is neither ErrMalformed nor an NTSTATUS", err)
			}
			return
		}
		if !slices.Contains(offered, dialect) {
			t.Fatalf("accepted dialect 0x%04x, offered %04x", dialect, offered)
		}
	})
}
