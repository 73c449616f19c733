package seal

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/hex"
	"net"
	"os"
	"strings"
	"testing"
)

// tlsPair runs a handshake of version v over a pipe and returns both
// states.
func tlsPair(t *testing.T, v uint16) (client, server tls.ConnectionState) {
	t.Helper()
	cert := serverCert(t)
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	cc := tls.Client(a, &tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
	sc := tls.Server(b, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: v, MaxVersion: v})
	errc := make(chan error, 1)
	go func() { errc <- sc.HandshakeContext(context.Background()) }()
	if err := cc.HandshakeContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return cc.ConnectionState(), sc.ConnectionState()
}

// TestDerive: the two ends agree on each direction's keys, the directions
// differ, and the layout is the documented one.
func TestDerive(t *testing.T) {
	cs, ss := tlsPair(t, tls.VersionTLS13)
	cSend, cRecv, err := Derive(&cs, true)
	if err != nil {
		t.Fatal(err)
	}
	sSend, sRecv, err := Derive(&ss, false)
	if err != nil {
		t.Fatal(err)
	}
	if cSend != sRecv || sSend != cRecv {
		t.Fatal("the two ends derived different keys")
	}
	if cSend.Key == cRecv.Key || cSend.IV == cRecv.IV {
		t.Fatal("both directions have the same key or IV")
	}
	m, err := cs.ExportKeyingMaterial("c2c/1 data frames", nil, 56)
	if err != nil {
		t.Fatal(err)
	}
	layout := [][]byte{cSend.Key[:], cSend.IV[:], cRecv.Key[:], cRecv.IV[:]}
	if !bytes.Equal(m, bytes.Join(layout, nil)) {
		t.Fatal("exported material is not client key | client IV | server key | server IV")
	}
	tls12c, _ := tlsPair(t, tls.VersionTLS12)
	if _, _, err := Derive(&tls12c, true); err == nil {
		t.Fatal("Derive accepted a TLS 1.2 connection")
	}
}

// TestProtocolDocVector: the test vector in docs/PROTOCOL.md section 7.1
// is what this package sends, so a vendor can check their framing with it.
func TestProtocolDocVector(t *testing.T) {
	doc, err := os.ReadFile("../../docs/PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "<!-- example: sealed-frames -->")
	if !ok {
		t.Fatal("PROTOCOL.md has no <!-- example: sealed-frames --> marker")
	}
	_, rest, _ = strings.Cut(rest, "```\n")
	block, _, _ := strings.Cut(rest, "```")
	vec := map[string][]byte{}
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		name, val, ok := strings.Cut(line, ":")
		b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(val), " ", ""))
		if !ok || err != nil {
			t.Fatalf("PROTOCOL.md vector line %q: want `name: hex`", line)
		}
		vec[strings.TrimSpace(name)] = b
	}
	var k Keys
	copy(k.Key[:], vec["key"])
	copy(k.IV[:], vec["iv"])
	d, _ := newDirection(k)
	if n, _ := d.nonce(); !bytes.Equal(n[:], vec["nonce 0"]) {
		t.Errorf("nonce 0 %x, PROTOCOL.md says %x", n, vec["nonce 0"])
	}
	if n, _ := d.nonce(); !bytes.Equal(n[:], vec["nonce 1"]) {
		t.Errorf("nonce 1 %x, PROTOCOL.md says %x", n, vec["nonce 1"])
	}
	f := frames(t, k, string(vec["plaintext 0"]))
	if !bytes.Equal(f[0], vec["frame 0"]) {
		t.Errorf("frame 0\n%x\nPROTOCOL.md says\n%x", f[0], vec["frame 0"])
	}
	if !bytes.Equal(f[1], vec["frame 1"]) {
		t.Errorf("frame 1 (end-of-stream)\n%x\nPROTOCOL.md says\n%x", f[1], vec["frame 1"])
	}
}
