package seal

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/c2clab/c2clab/sim/pki"
)

// The key schedule's test vector of docs/PROTOCOL.md section 7.1: from a
// TLS 1.3 exporter secret (TLS_AES_128_GCM_SHA256, so SHA-256) to the
// exporter output, the keys and IVs of both directions, the nonces of the
// first two frames, and one sealed frame. Each hex string must also be in
// the document, byte for byte. The values were checked once against an
// independent implementation (Python's cryptography: HKDFExpand and
// AESGCM), and TestExporterMatchesOpenSSL checks the first step against
// OpenSSL on every run.
var vector = struct {
	exporterSecret, export         string
	c2sKey, c2sIV, s2cKey, s2cIV   string
	c2sNonce0, c2sNonce1, s2cNonce string
	plaintext                      string
	frame                          string
}{
	exporterSecret: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	export:         "c1251ad289ec1fdbe079be9d1c3debc699f1d6cee47ccf7d27800c28acaf6f1b78794ac994f824be3be87096a2c6b2aaf14ec43189502701",
	c2sKey:         "c1251ad289ec1fdbe079be9d1c3debc6",
	c2sIV:          "99f1d6cee47ccf7d27800c28",
	s2cKey:         "acaf6f1b78794ac994f824be3be87096",
	s2cIV:          "a2c6b2aaf14ec43189502701",
	c2sNonce0:      "99f1d6cee47ccf7d27800c28",
	c2sNonce1:      "99f1d6cee47ccf7d27800c29",
	s2cNonce:       "a2c6b2aaf14ec43189502701",
	plaintext:      "hello, device",
	frame:          "0000000db31b6e7c045c014c06cf807f301f2153001ad52c5d5acece34e914ed52",
}

// exporter is RFC 8446 section 7.5's TLS-Exporter(label, "", n) over SHA-256,
// written out from the RFC: HKDF-Expand-Label(Derive-Secret(secret, label,
// ""), "exporter", Hash(""), n).
func exporter(secret []byte, label string, n int) []byte {
	empty := sha256.Sum256(nil)
	derived := expandLabel(secret, label, empty[:], sha256.Size)
	return expandLabel(derived, "exporter", empty[:], n)
}

// expandLabel is HKDF-Expand-Label (RFC 8446 section 7.1).
func expandLabel(secret []byte, label string, context []byte, n int) []byte {
	full := "tls13 " + label
	info := []byte{byte(n >> 8), byte(n), byte(len(full))}
	info = append(info, full...)
	info = append(info, byte(len(context)))
	info = append(info, context...)
	out, err := hkdf.Expand(sha256.New, secret, string(info), n)
	if err != nil {
		panic(err)
	}
	return out
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKeyScheduleVector checks the vector step by step.
func TestKeyScheduleVector(t *testing.T) {
	m := exporter(unhex(t, vector.exporterSecret), Label, ExportLen)
	c2s, s2c := SplitExport(m)
	d := newDir(t, c2s)
	n0, _ := d.nonce()
	n1, _ := d.nonce()
	ds := newDir(t, s2c)
	sn0, _ := ds.nonce()
	var frame bytes.Buffer
	conn, err := New(nopConn{w: &frame}, c2s, s2c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write([]byte(vector.plaintext)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, got, want string }{
		{"exporter output", hex.EncodeToString(m), vector.export},
		{"client-to-server key", hex.EncodeToString(c2s.Key[:]), vector.c2sKey},
		{"client-to-server IV", hex.EncodeToString(c2s.IV[:]), vector.c2sIV},
		{"server-to-client key", hex.EncodeToString(s2c.Key[:]), vector.s2cKey},
		{"server-to-client IV", hex.EncodeToString(s2c.IV[:]), vector.s2cIV},
		{"client-to-server nonce of frame 0", hex.EncodeToString(n0[:]), vector.c2sNonce0},
		{"client-to-server nonce of frame 1", hex.EncodeToString(n1[:]), vector.c2sNonce1},
		{"server-to-client nonce of frame 0", hex.EncodeToString(sn0[:]), vector.s2cNonce},
		{"first client-to-server frame", hex.EncodeToString(frame.Bytes()), vector.frame},
	} {
		if c.got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, c.got, c.want)
		}
	}
}

// TestKeyScheduleVectorInProtocol checks that docs/PROTOCOL.md states the
// vector exactly as this test checks it.
func TestKeyScheduleVectorInProtocol(t *testing.T) {
	doc, err := os.ReadFile("../../docs/PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(doc)), "")
	for _, h := range []string{vector.exporterSecret, vector.export, vector.c2sKey, vector.c2sIV, vector.s2cKey,
		vector.s2cIV, vector.c2sNonce0, vector.c2sNonce1, vector.s2cNonce, vector.frame} {
		if !strings.Contains(text, h) {
			t.Errorf("docs/PROTOCOL.md does not state %s", h)
		}
	}
	if !strings.Contains(string(doc), `"`+vector.plaintext+`"`) {
		t.Errorf("docs/PROTOCOL.md does not name the plaintext %q", vector.plaintext)
	}
}

// TestExporterMatchesOpenSSL checks the exporter written out above, Go's
// crypto/tls and OpenSSL against each other on a live TLS 1.3 handshake
// over loopback: openssl s_client exports with the protocol's label and
// logs the exporter secret, the Go server exports too. So the vector's
// first step is what two independent TLS stacks compute, and an
// implementer on OpenSSL (SSL_export_keying_material with an empty
// context, use_context 1 or 0 alike in TLS 1.3) gets the same keys.
func TestExporterMatchesOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("needs the openssl command")
	}
	cert := serverCert(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		export []byte
		suite  uint16
		err    error
	}
	got := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- result{err: err}
			return
		}
		defer c.Close()
		tc := c.(*tls.Conn)
		if err := tc.Handshake(); err != nil {
			got <- result{err: err}
			return
		}
		cs := tc.ConnectionState()
		m, err := cs.ExportKeyingMaterial(Label, nil, ExportLen)
		got <- result{m, cs.CipherSuite, err}
		io.Copy(io.Discard, c)
	}()
	keylog := filepath.Join(t.TempDir(), "keylog")
	cmd := exec.Command(openssl, "s_client", "-connect", ln.Addr().String(), "-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256",
		"-keylogfile", keylog, "-keymatexport", Label, "-keymatexportlen", fmt.Sprint(ExportLen))
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	r := <-got
	if r.err != nil {
		t.Fatalf("Go server: %v\nopenssl:\n%s", r.err, out)
	}
	m := regexp.MustCompile(`(?m)^\s*Keying material: ([0-9A-Fa-f]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("openssl printed no keying material (%v):\n%s", err, out)
	}
	fromOpenSSL := unhex(t, strings.ToLower(string(m[1])))
	log, err := os.ReadFile(keylog)
	if err != nil {
		t.Fatal(err)
	}
	var secret []byte
	for _, line := range strings.Split(string(log), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "EXPORTER_SECRET" {
			secret = unhex(t, f[2])
		}
	}
	if secret == nil {
		t.Fatalf("no EXPORTER_SECRET in openssl's key log:\n%s", log)
	}
	if r.suite != tls.TLS_AES_128_GCM_SHA256 {
		t.Fatalf("handshake chose %s, want TLS_AES_128_GCM_SHA256", tls.CipherSuiteName(r.suite))
	}
	written := exporter(secret, Label, ExportLen)
	if !bytes.Equal(fromOpenSSL, r.export) || !bytes.Equal(written, r.export) {
		t.Errorf("exporter output differs:\n crypto/tls %x\n openssl    %x\n RFC 8446   %x", r.export, fromOpenSSL, written)
	}
}

// serverCert is a throwaway certificate for the handshake.
func serverCert(t *testing.T) tls.Certificate {
	t.Helper()
	ca, err := pki.NewCA("test")
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.Issue(pki.Identity{Tenant: "t", Name: "dst", Kind: pki.KindAgent}, true, "dst")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func newDir(t *testing.T, k Keys) direction {
	t.Helper()
	d, err := newDirection(k)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// nopConn is a net.Conn that only writes, to w.
type nopConn struct {
	net.Conn
	w *bytes.Buffer
}

func (c nopConn) Write(b []byte) (int, error) { return c.w.Write(b) }
