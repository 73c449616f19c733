package endpoint

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/device"
)

// mcsConnectInitial is the start of an MCS Connect Initial as FreeRDP sends
// it (MS-RDPBCGR 2.2.1.3): TPKT, X.224 Data, BER application tag 101; the
// rest of the announced 0x1a bytes is padding here.
func mcsConnectInitial() []byte {
	b := []byte{3, 0, 0, 0x1a, 2, x224Data, 0x80, 0x7f, 0x65, 0x82, 0x01, 0x00}
	return append(b, make([]byte, 0x1a-len(b))...)
}

// tsRequest is the start of a CredSSP TSRequest (MS-CSSP 2.2.1): a DER
// SEQUENCE; the fake reads no further than its first byte.
var tsRequest = []byte{0x30, 0x37, 0xa0, 0x03, 0x02, 0x01, 0x06}

// serverCert checks the certificate of a TLS session with the fake and
// returns it: one self-signed ECDSA certificate for server authentication,
// valid now, naming the service and its IP.
func serverCert(t *testing.T, tc *tls.Conn, ip string) *x509.Certificate {
	t.Helper()
	st := tc.ConnectionState()
	if len(st.PeerCertificates) != 1 {
		t.Fatalf("server sent %d certificates, want 1 (self-signed)", len(st.PeerCertificates))
	}
	cert := st.PeerCertificates[0]
	// Not CheckSignatureFrom: that wants the issuer to be a CA, and the
	// leaf, like Windows' self-signed RDP certificate, is not one.
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil || !bytes.Equal(cert.RawIssuer, cert.RawSubject) {
		t.Errorf("certificate is not self-signed: issuer %q, %v", cert.Issuer, err)
	}
	if cert.Subject.CommonName != RDPCertCommonName || cert.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("certificate CN %q key %v, want %q ECDSA", cert.Subject.CommonName, cert.PublicKeyAlgorithm, RDPCertCommonName)
	}
	if len(cert.IPAddresses) != 1 || cert.IPAddresses[0].String() != ip {
		t.Errorf("certificate IP SANs %v, want [%s]", cert.IPAddresses, ip)
	}
	if now := time.Now(); now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		t.Errorf("certificate valid %v to %v, not now", cert.NotBefore, cert.NotAfter)
	}
	if len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Errorf("certificate extended key usage %v, want server authentication", cert.ExtKeyUsage)
	}
	if st.Version < tls.VersionTLS12 {
		t.Errorf("TLS version %s, want 1.2 or later", tls.VersionName(st.Version))
	}
	return cert
}

// expectClosedAfter reads from c and fails unless the server ends the
// session cleanly (EOF: FIN, or close_notify under TLS) without a byte.
func expectClosedAfter(t *testing.T, c net.Conn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	b, err := io.ReadAll(c)
	if len(b) != 0 || err != nil {
		t.Fatalf("after %s: read %x, %v; want the server to close cleanly without answering", what, b, err)
	}
}

func TestRDPTLSAfterConnectionConfirm(t *testing.T) {
	for _, tc := range []struct {
		name      string
		kind      string
		server    []string
		requested uint32
		selected  uint32
		next      []byte
	}{
		{"ssl, then MCS", KindRDP, []string{"ssl", "hybrid"}, ProtocolSSL | ProtocolHybrid, ProtocolSSL, mcsConnectInitial()},
		{"hybrid, then CredSSP", KindRDP, []string{"hybrid"}, ProtocolSSL | ProtocolHybrid, ProtocolHybrid, tsRequest},
		{"hybrid_ex, then CredSSP", KindRDP, []string{"hybrid_ex"}, ProtocolSSL | ProtocolHybrid | ProtocolHybridEx, ProtocolHybridEx, tsRequest},
		{"msra service, ssl", KindMSRA, nil, ProtocolSSL, ProtocolSSL, mcsConnectInitial()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{IP: "127.0.0.1", Services: []device.Service{{Kind: tc.kind}}, RDP: device.RDP{Protocols: tc.server}, IdleTimeout: 5 * time.Second}
			c := dial(t, start(t, cfg)[tc.kind+":0"])
			r, err := RDPConnect(testCtx(t), c, tc.requested)
			if err != nil || r.Failed || r.Selected != tc.selected {
				t.Fatalf("Connect: %v, %v; want %s selected", r, err, RDPProtocolName(tc.selected))
			}
			tlsConn, err := RDPStartTLS(testCtx(t), c)
			if err != nil {
				t.Fatalf("TLS handshake after the Connection Confirm: %v", err)
			}
			cert := serverCert(t, tlsConn, "127.0.0.1")
			t.Logf("%s, %s, certificate serial %x", tls.VersionName(tlsConn.ConnectionState().Version), tls.CipherSuiteName(tlsConn.ConnectionState().CipherSuite), cert.SerialNumber)
			if _, err := tlsConn.Write(tc.next); err != nil {
				t.Fatal(err)
			}
			expectClosedAfter(t, tlsConn, nextPDUName(tc.next))
		})
	}
}

// handshakeCert connects to addr, negotiates TLS and returns the
// certificate the server presented.
func handshakeCert(t *testing.T, addr string) *x509.Certificate {
	t.Helper()
	c := dial(t, addr)
	if r, err := RDPConnect(testCtx(t), c, ProtocolSSL); err != nil || r.Selected != ProtocolSSL {
		t.Fatalf("Connect: %v, %v", r, err)
	}
	tlsConn, err := RDPStartTLS(testCtx(t), c)
	if err != nil {
		t.Fatal(err)
	}
	return tlsConn.ConnectionState().PeerCertificates[0]
}

func TestRDPCertificateIsMadePerStart(t *testing.T) {
	first := rdpServer(t)
	a, b := handshakeCert(t, first), handshakeCert(t, first)
	if !a.Equal(b) {
		t.Errorf("one service start presented two certificates (serials %x, %x), want one", a.SerialNumber, b.SerialNumber)
	}
	c := handshakeCert(t, rdpServer(t))
	if a.Equal(c) || bytes.Equal(a.RawSubjectPublicKeyInfo, c.RawSubjectPublicKeyInfo) {
		t.Errorf("two service starts share a certificate or key, want a new one per start")
	}
}

// TestRDPCertificateKeyNotOnDisk runs the service with the working
// directory and TMPDIR pointing at empty directories, completes a TLS
// handshake, and checks that both stay empty: the key lives in memory.
func TestRDPCertificateKeyNotOnDisk(t *testing.T) {
	wd, tmp := t.TempDir(), t.TempDir()
	t.Chdir(wd)
	t.Setenv("TMPDIR", tmp)
	cert := handshakeCert(t, rdpServer(t))
	for _, dir := range []string{wd, tmp} {
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) != 0 {
			t.Errorf("%s after a TLS handshake: %d entries, %v; want it empty", dir, len(entries), err)
		}
	}
	if cert == nil {
		t.Fatal("no certificate")
	}
}

func TestRDPStandardSecurityClosesAtMCS(t *testing.T) {
	c := dial(t, rdpServer(t, "rdp"))
	if r, err := RDPConnect(testCtx(t), c, ProtocolRDP); err != nil || r.Failed || r.Selected != ProtocolRDP {
		t.Fatalf("Connect: %v, %v; want rdp selected", r, err)
	}
	if _, err := c.Write(mcsConnectInitial()); err != nil {
		t.Fatal(err)
	}
	expectClosedAfter(t, c, "an MCS Connect Initial in the clear")
}

func TestRDPTLSHandshakeFailureEndsTheConnection(t *testing.T) {
	c := dial(t, rdpServer(t, "ssl"))
	if _, err := RDPConnect(testCtx(t), c, ProtocolSSL); err != nil {
		t.Fatal(err)
	}
	c.Write(mcsConnectInitial()) // MCS in the clear where TLS was agreed
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	b, err := io.ReadAll(c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the server kept the connection open after a failed TLS handshake")
	}
	if len(b) > 7 { // at most one TLS alert record
		t.Fatalf("server sent %x after a failed TLS handshake, want at most an alert", b)
	}
}

func TestNextPDUName(t *testing.T) {
	for _, tc := range []struct {
		b    []byte
		want string
	}{
		{mcsConnectInitial(), "MCS Connect Initial"},
		{mstsc(), "a TPKT packet"},
		{tsRequest, "a CredSSP TSRequest"},
		{[]byte("GET"), "3 bytes starting 0x47"},
		{nil, "nothing"},
	} {
		if got := nextPDUName(tc.b); got != tc.want {
			t.Errorf("nextPDUName(%x) = %q, want %q", tc.b, got, tc.want)
		}
	}
}
