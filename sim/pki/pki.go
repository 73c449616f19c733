// Package pki issues the lab's certificates: a cloud CA for the broker and one
// CA per tenant for its agents and App Connectors. The identity of every
// certificate is in its Subject (O = tenant, OU = kind, CN = device name), as
// docs/PROTOCOL.md specifies, so any TLS stack can read it.
package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Kind is the role a certificate identifies (its OU).
type Kind string

const (
	KindAgent     Kind = "agent"     // a Client Connector (source or destination device)
	KindConnector Kind = "connector" // an App Connector (Client to Server)
	KindBroker    Kind = "broker"    // the broker, issued by the cloud CA
)

// Validity is how long issued certificates and CAs are valid: a lab run is
// short, and a short validity keeps leaked lab keys useless.
const Validity = 7 * 24 * time.Hour

// ErrIdentity is returned when a certificate's Subject is not a lab identity.
var ErrIdentity = errors.New("certificate identity")

// Identity is who a certificate names.
type Identity struct {
	// Tenant is the organization's ID (Subject O); empty for the broker.
	Tenant string
	// Name is the device, connector or broker name (Subject CN).
	Name string
	// Kind is agent, connector or broker (Subject OU).
	Kind Kind
}

func (id Identity) String() string {
	return fmt.Sprintf("%s %q of tenant %q", id.Kind, id.Name, id.Tenant)
}

// Validate checks that id can be put into a certificate.
func (id Identity) Validate() error {
	switch id.Kind {
	case KindAgent, KindConnector:
		if id.Tenant == "" {
			return fmt.Errorf("%w: %s has no tenant", ErrIdentity, id.Kind)
		}
	case KindBroker:
	default:
		return fmt.Errorf("%w: kind %q, want agent, connector or broker", ErrIdentity, id.Kind)
	}
	if id.Name == "" {
		return fmt.Errorf("%w: empty name", ErrIdentity)
	}
	return nil
}

// IdentityOf reads the identity from a certificate's Subject. It checks the
// shape only; the caller verifies the chain.
func IdentityOf(c *x509.Certificate) (Identity, error) {
	s := c.Subject
	if len(s.Organization) > 1 || len(s.OrganizationalUnit) != 1 {
		return Identity{}, fmt.Errorf("%w: subject %q: want at most one O and exactly one OU", ErrIdentity, s.String())
	}
	id := Identity{Name: s.CommonName, Kind: Kind(s.OrganizationalUnit[0])}
	if len(s.Organization) == 1 {
		id.Tenant = s.Organization[0]
	}
	if err := id.Validate(); err != nil {
		return Identity{}, fmt.Errorf("subject %q: %w", s.String(), err)
	}
	return id, nil
}

// CA is a certificate authority held in memory. Its methods are safe for
// concurrent use.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

// NewCA makes a self-signed ECDSA P-256 CA named name (its CN and O).
func NewCA(name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("new CA %q: %w", name, err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, fmt.Errorf("new CA %q: %w", name, err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{name}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(Validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("new CA %q: %w", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("new CA %q: %w", name, err)
	}
	return &CA{cert: cert, key: key, pem: pemBlock("CERTIFICATE", der)}, nil
}

// CertPEM returns the CA certificate, PEM encoded.
func (ca *CA) CertPEM() []byte { return append([]byte(nil), ca.pem...) }

// Cert returns the CA certificate.
func (ca *CA) Cert() *x509.Certificate { return ca.cert }

// Backdate is how far before its issue a certificate becomes valid, so a
// verifier whose clock runs behind the issuer's by less still accepts it.
const Backdate = time.Hour

// Issue makes a certificate and a fresh ECDSA P-256 key for id. Every
// certificate may authenticate a TLS client; agents and connectors are also
// TLS servers on the data path, so they always get serverAuth too. With
// server, the certificate gets serverAuth and hosts as DNS names or IP
// addresses (what the broker's clients check against ServerName).
func (ca *CA) Issue(id Identity, server bool, hosts ...string) (certPEM, keyPEM []byte, err error) {
	return ca.IssueAt(time.Now(), id, server, hosts...)
}

// IssueAt is Issue by a CA whose clock reads now: a clock ahead of the
// verifier's gives a certificate that is not yet valid there.
func (ca *CA) IssueAt(now time.Time, id Identity, server bool, hosts ...string) (certPEM, keyPEM []byte, err error) {
	if err := id.Validate(); err != nil {
		return nil, nil, fmt.Errorf("issue: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("issue %q: %w", id.Name, err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, fmt.Errorf("issue %q: %w", id.Name, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject(id),
		NotBefore:    now.Add(-Backdate),
		NotAfter:     now.Add(Validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server || id.Kind != KindBroker {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	}
	if server {
		addHosts(tmpl, hosts)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("issue %q: %w", id.Name, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("issue %q: %w", id.Name, err)
	}
	return pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", keyDER), nil
}

func subject(id Identity) pkix.Name {
	n := pkix.Name{CommonName: id.Name, OrganizationalUnit: []string{string(id.Kind)}}
	if id.Tenant != "" {
		n.Organization = []string{id.Tenant}
	}
	return n
}

func addHosts(tmpl *x509.Certificate, hosts []string) {
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
}

func newSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// WriteFiles writes certPEM to DIR/NAME.crt (0644) and keyPEM to DIR/NAME.key
// (0600, created with that mode so the key is never readable by others) and
// returns both paths.
func WriteFiles(dir, name string, certPEM, keyPEM []byte) (certFile, keyFile string, err error) {
	if name == "" || strings.ContainsAny(name, `/\`) {
		return "", "", fmt.Errorf("write certificate files: name %q: want a plain file name", name)
	}
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := writeFile(certFile, certPEM, 0o644); err != nil {
		return "", "", err
	}
	if err := writeFile(keyFile, keyPEM, 0o600); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

func writeFile(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	if err := f.Chmod(mode); err != nil { // an existing file keeps its mode otherwise
		f.Close()
		return fmt.Errorf("write %q: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %q: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	return nil
}
