package endpoint

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"time"
)

// After a Connection Confirm that selects PROTOCOL_SSL, PROTOCOL_HYBRID or
// PROTOCOL_HYBRID_EX, the client's next bytes are a TLS ClientHello on the
// same connection (MS-RDPBCGR 5.4.5.1; CredSSP runs inside that TLS for the
// hybrid protocols, MS-CSSP 3.1.5). The fake does the TLS server handshake,
// so a real client such as FreeRDP gets past negotiation and the security
// layer, and stops where the fake does: it reads the client's first PDU
// inside the new layer (a CredSSP TSRequest, or the MCS Connect Initial of
// 2.2.1.3) and closes, so the client fails there at once rather than
// waiting for an answer that never comes.

// rdpCertLifetime is how long the self-signed certificate is valid; like
// Windows' own RDP certificate it is made by the server, but it lives only
// as long as the service.
const rdpCertLifetime = 30 * 24 * time.Hour

// RDPCertCommonName is the subject common name of the fake RDP service's
// self-signed certificate.
const RDPCertCommonName = "c2clab fake RDP service"

// newRDPTLSConfig makes a self-signed ECDSA P-256 certificate, as Windows
// makes a self-signed one for Remote Desktop, and the TLS server config
// that presents it. The key exists in memory only, for one service start;
// nothing is written to disk. ip, when it parses, goes into the
// certificate as an IP SAN so a client that checks names can see whom it
// reached.
func newRDPTLSConfig(ip string, now time.Time) (*tls.Config, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("endpoint: rdp certificate: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("endpoint: rdp certificate: serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: RDPCertCommonName},
		NotBefore:             now.Add(-time.Hour), // tolerate a client clock slightly behind
		NotAfter:              now.Add(rdpCertLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	if a, err := netip.ParseAddr(ip); err == nil {
		tmpl.IPAddresses = []net.IP{a.AsSlice()}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("endpoint: rdp certificate: create: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("endpoint: rdp certificate: parse: %w", err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// usesTLS reports whether a selected protocol runs over TLS.
func usesTLS(selected uint32) bool { return selected != ProtocolRDP }

// nextPDUName names what a client sent after negotiation and the security
// layer, for the log line the service writes when it stops there.
func nextPDUName(b []byte) string {
	switch {
	case len(b) >= 9 && b[0] == tpktVersion && b[5] == x224Data && b[7] == 0x7f && b[8] == 0x65:
		return "MCS Connect Initial"
	case len(b) >= 1 && b[0] == tpktVersion:
		return "a TPKT packet"
	case len(b) >= 1 && b[0] == 0x30: // DER SEQUENCE: TSRequest, MS-CSSP 2.2.1
		return "a CredSSP TSRequest"
	case len(b) == 0:
		return "nothing"
	}
	return fmt.Sprintf("%d bytes starting 0x%02x", len(b), b[0])
}

// makeRDPCertificate gives the server its RDP certificate when one of its
// services speaks RDP: one per start, so no two runs share a key.
func (s *server) makeRDPCertificate() error {
	for _, svc := range s.services {
		if svc.Kind == KindRDP || svc.Kind == KindMSRA {
			cfg, err := newRDPTLSConfig(s.cfg.IP, time.Now())
			s.rdpTLS = cfg
			return err
		}
	}
	return nil
}
