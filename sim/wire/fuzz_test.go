package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/c2clab/c2clab/sim/code"
)

// FuzzReadMessage reads a stream of frames as a receiver does, until the
// first error. Every message it returns re-encodes to a frame that decodes
// to the same message; the error that ends the stream is io.EOF exactly at
// a frame boundary, io.ErrUnexpectedEOF inside a frame, and otherwise a
// protocol error, and no frame is accepted from a length prefix outside
// 1..MaxMessage.
//
//	go test -run '^$' -fuzz '^FuzzReadMessage$' -fuzztime 30s ./sim/wire
func FuzzReadMessage(f *testing.F) {
	var stream []byte
	for _, m := range sampleMessages() {
		fr, err := Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(fr)
		stream = append(stream, fr...)
	}
	f.Add(stream)
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, '{'})
	f.Add(frame(`{"Type":"keepalive"}`))
	f.Add(frame(`{"type":"keepalive","seq":1}`)[:7])
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		for {
			start := r.Len()
			m, err := ReadMessage(r)
			if err != nil {
				checkStreamEnd(t, in, start, err)
				return
			}
			if n := start - r.Len(); n < 5 {
				t.Fatalf("message %#v from %d bytes", m, n)
			}
			fr, err := Marshal(m)
			if err != nil {
				continue // re-encoding may grow past MaxMessage (escapes)
			}
			again, err := ReadMessage(bytes.NewReader(fr))
			if err != nil || !reflect.DeepEqual(m, again) {
				t.Fatalf("%#v re-encodes to %q, which reads as %#v, %v", m, fr, again, err)
			}
		}
	})
}

// checkStreamEnd checks the error that ended a stream read from in, whose
// last frame started with start bytes left.
func checkStreamEnd(t *testing.T, in []byte, start int, err error) {
	t.Helper()
	switch {
	case start == 0:
		if err != io.EOF {
			t.Fatalf("at the end of the stream: %v, want io.EOF", err)
		}
	case errors.Is(err, io.ErrUnexpectedEOF):
		// Only a frame that claims more than is left may be cut.
		hdr := in[len(in)-start:]
		if len(hdr) >= 4 && 4+int(uint32(hdr[0])<<24|uint32(hdr[1])<<16|uint32(hdr[2])<<8|uint32(hdr[3])) <= len(hdr) {
			t.Fatalf("frame %x reported cut short, but all of it was there", hdr)
		}
	case !errors.Is(err, ErrProtocol):
		t.Fatalf("error %v is neither a protocol error nor a cut frame", err)
	}
}

// sampleMessages is one valid message of each type.
func sampleMessages() []Message {
	tok := Token{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	return []Message{
		&Hello{Versions: []string{Version}, Role: RoleAgent, Software: "x"},
		&Welcome{Version: Version, SessionID: "s1", Tenant: "acme", Name: "pc1", KeepaliveIntervalMs: 5000, KeepaliveTimeoutMs: 15000},
		&Register{FQDN: "pc1.example.com", OS: "windows", ConnectorVersion: "4.1", JoinState: "ad", Posture: []string{"p"}},
		&Registered{FQDNRegistered: true, FQDNRegisteredError: code.FQDNMatch, Segments: []Segment{{ID: "1", Domains: []string{"*.example.com"}, TCP: []PortRange{{3389, 3389}}}}},
		&Keepalive{Seq: 7},
		&KeepaliveAck{Seq: 7},
		&Connect{ID: "r1", FQDN: "pc2.example.com", Port: 3389, Proto: ProtoTCP},
		&ConnectResult{ID: "r1", OK: true, ConnID: "c1", Token: tok, Peer: &Peer{Tenant: "acme", Name: "pc2", Kind: "agent"}},
		&Incoming{ConnID: "c1", FQDN: "pc2.example.com", Port: 3389, Proto: ProtoTCP, Token: tok},
		&IncomingResult{ConnID: "c1", Code: code.C2CMtunnelFailedForward},
		&Error{Code: code.BrkProtocolError, Message: "bad"},
	}
}

// FuzzPreamble: a preamble ReadPreamble accepts is exactly the one
// AppendPreamble writes for its token, and it reads no more than
// PreambleLen bytes.
func FuzzPreamble(f *testing.F) {
	f.Add(AppendPreamble(nil, Token{0xab, 0xcd}))
	f.Add([]byte("C2CD\x02 0123456789abcdef"))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		tok, err := ReadPreamble(r)
		if read := len(in) - r.Len(); read > PreambleLen {
			t.Fatalf("read %d bytes", read)
		}
		if err != nil {
			if len(in) >= PreambleLen && !errors.Is(err, ErrProtocol) {
				t.Fatalf("whole preamble %x: %v, want ErrProtocol", in[:PreambleLen], err)
			}
			return
		}
		if want := AppendPreamble(nil, tok); !bytes.Equal(in[:PreambleLen], want) {
			t.Fatalf("accepted %x as token %s, which is written %x", in[:PreambleLen], tok, want)
		}
	})
}

// FuzzAnswer: an answer ReadAnswer accepts is exactly what WriteAnswer
// writes for its result.
func FuzzAnswer(f *testing.F) {
	f.Add([]byte{0, 0})
	f.Add(append([]byte{1, byte(len(code.C2CClientConnExpired))}, code.C2CClientConnExpired...))
	f.Add([]byte{1, 0})
	f.Add([]byte{1, 5, 'a'})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		c, err := ReadAnswer(r)
		if err != nil {
			return
		}
		var want bytes.Buffer
		if err := WriteAnswer(&want, c); err != nil {
			t.Fatalf("accepted code %q that WriteAnswer refuses: %v", c, err)
		}
		if got := in[:len(in)-r.Len()]; !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("accepted %x as %q, which is written %x", got, c, want.Bytes())
		}
	})
}

// FuzzToken: a token's text form is 32 hex characters; what UnmarshalText
// accepts prints back as the same characters, lowercase, and a token
// survives JSON.
func FuzzToken(f *testing.F) {
	f.Add("ab000000000000000000000000000000")
	f.Add("AB000000000000000000000000000000")
	f.Add("ab00000000000000000000000000000")
	f.Add("zz000000000000000000000000000000")
	f.Fuzz(func(t *testing.T, s string) {
		var tok Token
		if err := tok.UnmarshalText([]byte(s)); err != nil {
			return
		}
		if tok.String() != strings.ToLower(s) {
			t.Fatalf("token %q prints as %q", s, tok.String())
		}
		b, err := json.Marshal(tok)
		var back Token
		if err != nil || json.Unmarshal(b, &back) != nil || back != tok {
			t.Fatalf("token %s through JSON %s: %s", tok, b, back)
		}
	})
}
