package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/c2clab/c2clab/sim/code"
)

func TestRoundTrip(t *testing.T) {
	tok := Token{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	msgs := []Message{
		&Hello{Versions: []string{Version}, Role: RoleAgent, Software: "x"},
		&Welcome{Version: Version, SessionID: "s1", Tenant: "acme", Name: "pc1", KeepaliveIntervalMs: 5000, KeepaliveTimeoutMs: 15000},
		&Register{FQDN: "pc1.example.com", OS: "windows", ConnectorVersion: "4.1", JoinState: "ad", LoggedIn: true, PrivateAccess: true, User: "u@example.com", Posture: []string{"p"}},
		&Registered{FQDNRegistered: true, FQDNRegisteredError: code.FQDNMatch, Available: true,
			Segments: []Segment{{ID: "1", Name: "ws", Enabled: true, Domains: []string{"*.example.com"}, TCP: []PortRange{{3389, 3389}}}}},
		&Keepalive{Seq: 7},
		&KeepaliveAck{Seq: 7},
		&Connect{ID: "r1", FQDN: "pc2.example.com", Port: 3389, Proto: ProtoTCP},
		&ConnectResult{ID: "r1", OK: true, ConnID: "c1", Token: tok, Peer: &Peer{Tenant: "acme", Name: "pc2", Kind: "agent"}},
		&ConnectResult{ID: "r2", Code: code.BrkRejectedByPolicy},
		&Incoming{ConnID: "c1", FQDN: "pc2.example.com", Port: 3389, Proto: ProtoTCP, Source: Peer{Tenant: "acme", Name: "pc1", Kind: "agent"}, Token: tok},
		&IncomingResult{ConnID: "c1", OK: true},
		&IncomingResult{ConnID: "c1", Code: code.C2CMtunnelFailedForward},
		&Error{Code: code.BrkProtocolError, Message: "bad"},
	}
	for _, m := range msgs {
		t.Run(string(m.Type()), func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteMessage(&buf, m); err != nil {
				t.Fatal(err)
			}
			got, err := ReadMessage(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, m) {
				t.Fatalf("got %#v, want %#v", got, m)
			}
			if buf.Len() != 0 {
				t.Fatalf("%d bytes left over", buf.Len())
			}
		})
	}
}

// TestFrameBytes pins the exact bytes of the example in docs/PROTOCOL.md.
func TestFrameBytes(t *testing.T) {
	frame, err := Marshal(&Keepalive{Seq: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte{0, 0, 0, 28}, `{"type":"keepalive","seq":1}`...)
	if !bytes.Equal(frame, want) {
		t.Fatalf("frame %q, want %q", frame, want)
	}
	token, _ := (&Token{0xab}).MarshalText()
	if string(token) != "ab000000000000000000000000000000" {
		t.Fatalf("token text %q", token)
	}
}

func frame(body string) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name  string
		input []byte
	}{
		{"zero length", []byte{0, 0, 0, 0}},
		{"too long", []byte{0, 0x10, 0, 1}},
		{"not JSON", frame("hello")},
		{"JSON array", frame(`[1]`)},
		{"no type", frame(`{"seq":1}`)},
		{"unknown type", frame(`{"type":"shutdown"}`)},
		{"wrong field type", frame(`{"type":"keepalive","seq":"one"}`)},
		{"connect without port", frame(`{"type":"connect","id":"1","fqdn":"a.b","proto":"tcp"}`)},
		{"connect udp", frame(`{"type":"connect","id":"1","fqdn":"a.b","port":53,"proto":"udp"}`)},
		{"hello bad role", frame(`{"type":"hello","versions":["c2c/1"],"role":"admin"}`)},
		{"refusal without code", frame(`{"type":"incoming_result","connId":"c","ok":false}`)},
		{"bad token", frame(`{"type":"incoming","connId":"c","port":1,"proto":"tcp","token":"xyz"}`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadMessage(bytes.NewReader(tc.input))
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("ReadMessage = %v, want ErrProtocol", err)
			}
		})
	}
}

func TestReadIOErrorsAreNotProtocolErrors(t *testing.T) {
	for name, in := range map[string][]byte{"empty": nil, "short body": frame(`{"type":"keepalive"}`)[:10]} {
		_, err := ReadMessage(bytes.NewReader(in))
		if err == nil || errors.Is(err, ErrProtocol) {
			t.Errorf("%s: ReadMessage = %v, want an I/O error", name, err)
		}
	}
}

func TestUnknownFieldsIgnored(t *testing.T) {
	m, err := ReadMessage(bytes.NewReader(frame(`{"type":"keepalive","seq":3,"vendorExtra":{"a":1}}`)))
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := m.(*Keepalive); !ok || k.Seq != 3 {
		t.Fatalf("got %#v", m)
	}
}

func TestPreambleAndAnswer(t *testing.T) {
	tok, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WritePreamble(&buf, tok); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != PreambleLen || !strings.HasPrefix(buf.String(), "C2CD\x01") {
		t.Fatalf("preamble %x", buf.Bytes())
	}
	got, err := ReadPreamble(&buf)
	if err != nil || got != tok {
		t.Fatalf("ReadPreamble = %v, %v", got, err)
	}
	if _, err := ReadPreamble(strings.NewReader("HTTP/1.1 GET / xxxxxxxxxxxxxxx")); !errors.Is(err, ErrProtocol) {
		t.Fatalf("bad magic: %v", err)
	}
	for _, c := range []code.Code{"", code.C2CClientConnExpired} {
		buf.Reset()
		if err := WriteAnswer(&buf, c); err != nil {
			t.Fatal(err)
		}
		got, err := ReadAnswer(&buf)
		if err != nil || got != c {
			t.Fatalf("answer %q: got %q, %v", c, got, err)
		}
	}
	if _, err := ReadAnswer(bytes.NewReader([]byte{0, 3})); !errors.Is(err, ErrProtocol) {
		t.Fatalf("bad answer: %v", err)
	}
	if _, err := ReadAnswer(bytes.NewReader(nil)); !errors.Is(err, io.EOF) {
		t.Fatalf("empty answer: %v", err)
	}
}

func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte(`{"type":"connect","id":"1","fqdn":"a.b","port":1,"proto":"tcp"}`))
	f.Add([]byte(`{"type":"registered","fqdnRegisteredError":"FQDN_MATCH","segments":[{"tcp":[{"from":1,"to":2}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := Unmarshal(body)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v does not wrap ErrProtocol", err)
			}
			return
		}
		// What decodes must encode and decode to the same message.
		fr, err := Marshal(m)
		if err != nil {
			return // e.g. larger than MaxMessage after re-encoding
		}
		m2, err := Unmarshal(fr[4:])
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("re-decode: %#v vs %#v (%v)", m, m2, err)
		}
	})
}
