package endpoint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"testing"

	"github.com/c2clab/c2clab/sim/device"
)

func smbServer(t *testing.T, dialect string) string {
	t.Helper()
	return start(t, Config{Services: []device.Service{{Kind: "smb"}}, SMB: device.SMB{Dialect: dialect}})["smb:0"]
}

func TestSMBNegotiateSelectsConfiguredDialect(t *testing.T) {
	for _, tc := range []struct{ config, want string }{
		{"", "3.1.1"}, {"3.1.1", "3.1.1"}, {"3.0.2", "3.0.2"}, {"3.0", "3.0"}, {"2.1", "2.1"}, {"2.0.2", "2.0.2"},
	} {
		t.Run("server "+tc.config, func(t *testing.T) {
			d, err := SMBNegotiate(testCtx(t), dial(t, smbServer(t, tc.config)))
			if err != nil || d != tc.want {
				t.Fatalf("SMBNegotiate = %q, %v; want %q", d, err, tc.want)
			}
		})
	}
}

// smb1Negotiate is an SMB_COM_NEGOTIATE offering the given dialect strings.
func smb1Negotiate(dialects ...string) []byte {
	msg := make([]byte, smb1HeaderLen, 64)
	copy(msg, smb1Magic)
	msg[4] = smb1NegotiateCmd
	var b []byte
	for _, d := range dialects {
		b = append(append(append(b, 2), d...), 0)
	}
	msg = append(msg, 0) // WordCount
	msg = binary.LittleEndian.AppendUint16(msg, uint16(len(b)))
	return append(msg, b...)
}

func TestSMB1UpgradesToSMB2(t *testing.T) {
	for _, tc := range []struct {
		name, server string
		offer        []string
		first        uint16 // dialect of the answer to the SMB1 negotiate
		second       string // dialect after a following SMB2 negotiate; "" if none
	}{
		{"wildcard then 3.1.1", "", []string{"NT LM 0.12", "SMB 2.002", "SMB 2.???"}, smbWildcard, "3.1.1"},
		{"wildcard then 2.1", "2.1", []string{"NT LM 0.12", "SMB 2.002", "SMB 2.???"}, smbWildcard, "2.1"},
		{"server only 2.0.2", "2.0.2", []string{"NT LM 0.12", "SMB 2.002", "SMB 2.???"}, smb202, ""},
		{"client only 2.002", "", []string{"NT LM 0.12", "SMB 2.002"}, smb202, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, smbServer(t, tc.server))
			if err := writeSMBMessage(c, smb1Negotiate(tc.offer...)); err != nil {
				t.Fatal(err)
			}
			msg, err := readSMBMessage(c)
			if err != nil {
				t.Fatal(err)
			}
			d, err := parseNegotiateResponse(msg, 0, []uint16{smb202, smbWildcard})
			if err != nil || d != tc.first {
				t.Fatalf("answer to SMB1 negotiate: %s, %v; want %s", SMBDialectName(d), err, SMBDialectName(tc.first))
			}
			if tc.second == "" {
				return
			}
			got, err := SMBNegotiate(testCtx(t), c)
			if err != nil || got != tc.second {
				t.Fatalf("SMB2 negotiate after upgrade: %q, %v; want %q", got, err, tc.second)
			}
		})
	}
}

func TestSMBErrorResponses(t *testing.T) {
	noPreauth := smbNegotiateRequestPDU([]uint16{smb311})[:smb2HeaderLen+smbNegReqLen+2]
	binary.LittleEndian.PutUint16(noPreauth[smb2HeaderLen+32:], 0) // no contexts
	sha1Only := smbNegotiateRequestPDU([]uint16{smb311})
	binary.LittleEndian.PutUint16(sha1Only[len(sha1Only)-smbSaltLen-2:], 0x0002)
	for _, tc := range []struct {
		name   string
		req    []byte
		status uint32
	}{
		{"no dialects", smbNegotiateRequestPDU(nil), statusInvalidParameter},
		{"no common dialect", smbNegotiateRequestPDU([]uint16{0x0400}), statusNotSupported},
		{"3.1.1 without preauth context", noPreauth, statusInvalidParameter},
		{"3.1.1 without SHA-512", sha1Only, statusNoPreauthHashOverlap},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := &smbConn{max: smbDialect(smb311)}
			resp, _, err := sc.answer(tc.req)
			if err != nil {
				t.Fatalf("answer: %v", err)
			}
			_, err = parseNegotiateResponse(resp, 0, clientDialects)
			var se *SMBStatusError
			if !errors.As(err, &se) || se.Status != tc.status {
				t.Fatalf("response: %v, want NTSTATUS 0x%08x", err, tc.status)
			}
		})
	}
}

func TestSMBMalformedDropped(t *testing.T) {
	addr := smbServer(t, "")
	valid := smbNegotiateRequestPDU(clientDialects)
	frame := func(msg []byte) []byte {
		var b bytes.Buffer
		writeSMBMessage(&b, msg)
		return b.Bytes()
	}
	for _, tc := range []struct {
		name string
		raw  []byte
	}{
		{"not SMB", frame([]byte("GET / HTTP/1.1\r\n\r\n"))},
		{"direct tcp first byte", append([]byte{0x85, 0, 0, 4}, 0xFE, 'S', 'M', 'B')},
		{"too long", []byte{0, 0xFF, 0xFF, 0xFF}},
		{"truncated body", frame(valid[:smb2HeaderLen+10])},
		{"response flag set", frame(func() []byte { m := bytes.Clone(valid); m[16] = 1; return m }())},
		{"not NEGOTIATE", frame(func() []byte { m := bytes.Clone(valid); m[12] = 1; return m }())},
		{"dialects overrun", frame(func() []byte { m := bytes.Clone(valid); m[smb2HeaderLen+2] = 200; return m }())},
		{"context offset outside", frame(func() []byte { m := bytes.Clone(valid); m[smb2HeaderLen+29] = 1; return m }())},
		{"SMB1 without SMB2 dialects", frame(smb1Negotiate("NT LM 0.12"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, addr)
			c.Write(tc.raw)
			if tc.name == "truncated body" {
				c.(*net.TCPConn).CloseWrite()
			}
			expectDropped(t, c)
		})
	}
}

// FuzzSMBNegotiate checks the server's NEGOTIATE handling: it never panics,
// and whatever it answers, the strict client parser accepts (as a dialect
// or an NTSTATUS error).
func FuzzSMBNegotiate(f *testing.F) {
	f.Add(smbNegotiateRequestPDU(clientDialects), uint8(0))
	f.Add(smbNegotiateRequestPDU([]uint16{smb202, smb21}), uint8(1))
	f.Add(smb1Negotiate("NT LM 0.12", "SMB 2.002", "SMB 2.???"), uint8(2))
	maxes := []uint16{smb311, smb302, smb21, smb202}
	f.Fuzz(func(t *testing.T, msg []byte, max uint8) {
		sc := &smbConn{max: smbDialect(maxes[int(max)%len(maxes)])}
		resp, _, err := sc.answer(msg)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		var offered []uint16
		var id uint64
		if bytes.HasPrefix(msg, smb1Magic) {
			offered = []uint16{smb202, smbWildcard}
		} else {
			req, _ := parseSMB2Negotiate(msg)
			offered, id = req.dialects, req.messageID
		}
		_, err = parseNegotiateResponse(resp, id, offered)
		var se *SMBStatusError
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("response %x to %x rejected by the client: %v", resp, msg, err)
		}
	})
}
