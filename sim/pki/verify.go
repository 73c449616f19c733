package pki

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// ErrUntrusted is returned when a certificate chain does not verify.
var ErrUntrusted = errors.New("certificate not trusted")

// ErrWrongPeer is returned when a verified certificate names someone other
// than the peer expected.
var ErrWrongPeer = errors.New("certificate names the wrong peer")

// LoadPool reads one or more PEM certificates from file into a new pool.
func LoadPool(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("load CA file: %w", err)
	}
	return PoolFromPEM(file, data)
}

// ParseCerts reads every PEM CERTIFICATE block of data, in order; other
// block types are skipped.
func ParseCerts(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return out, nil
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
}

// PoolFromPEM parses PEM certificates into a new pool; name is used in errors.
func PoolFromPEM(name string, data []byte) (*x509.CertPool, error) {
	certs, err := ParseCerts(data)
	if err != nil {
		return nil, fmt.Errorf("load CA %q: %w", name, err)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("load CA %q: no PEM CERTIFICATE block", name)
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// Verify checks that chain (leaf first, as TLS presents it) leads to roots
// and returns the leaf's identity. Key usage is not checked: the lab's
// identities, not EKUs, say who may do what.
func Verify(chain []*x509.Certificate, roots *x509.CertPool, now time.Time) (Identity, error) {
	if len(chain) == 0 {
		return Identity{}, fmt.Errorf("%w: no certificate presented", ErrUntrusted)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}
	if _, err := chain[0].Verify(opts); err != nil {
		return Identity{}, fmt.Errorf("%w: %q: %w", ErrUntrusted, chain[0].Subject.String(), err)
	}
	return IdentityOf(chain[0])
}

// VerifyPeer is Verify plus a check that the leaf names want exactly.
func VerifyPeer(chain []*x509.Certificate, roots *x509.CertPool, want Identity, now time.Time) error {
	got, err := Verify(chain, roots, now)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%w: got %s, want %s", ErrWrongPeer, got, want)
	}
	return nil
}

// verifierCacheSize bounds a Verifier's cache; when full it starts over.
const verifierCacheSize = 4096

// Verifier verifies chains against fixed roots and remembers the result
// per chain until the chain's earliest expiry, so that a peer seen before
// costs a hash instead of a signature check. It is safe for concurrent use.
type Verifier struct {
	roots *x509.CertPool

	mu    sync.Mutex // guards cache
	cache map[[sha256.Size]byte]verified
}

type verified struct {
	id       Identity
	notAfter time.Time
}

// NewVerifier returns a Verifier for roots.
func NewVerifier(roots *x509.CertPool) *Verifier {
	return &Verifier{roots: roots, cache: map[[sha256.Size]byte]verified{}}
}

// Verify is Verify with the cache.
func (v *Verifier) Verify(chain []*x509.Certificate, now time.Time) (Identity, error) {
	if len(chain) == 0 {
		return Identity{}, fmt.Errorf("%w: no certificate presented", ErrUntrusted)
	}
	h := sha256.New()
	notAfter := chain[0].NotAfter
	for _, c := range chain {
		h.Write(c.Raw)
		if c.NotAfter.Before(notAfter) {
			notAfter = c.NotAfter
		}
	}
	var key [sha256.Size]byte
	h.Sum(key[:0])
	v.mu.Lock()
	e, ok := v.cache[key]
	v.mu.Unlock()
	if ok && now.Before(e.notAfter) {
		return e.id, nil
	}
	id, err := Verify(chain, v.roots, now)
	if err != nil {
		return id, err
	}
	v.mu.Lock()
	if len(v.cache) >= verifierCacheSize {
		clear(v.cache)
	}
	v.cache[key] = verified{id, notAfter}
	v.mu.Unlock()
	return id, nil
}

// VerifyPeer is VerifyPeer with the cache.
func (v *Verifier) VerifyPeer(chain []*x509.Certificate, want Identity, now time.Time) error {
	got, err := v.Verify(chain, now)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%w: got %s, want %s", ErrWrongPeer, got, want)
	}
	return nil
}
