package pki

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func parseCert(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(certPEM)
	if b == nil {
		t.Fatal("no PEM block")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestIssueAndVerify(t *testing.T) {
	acme, err := NewCA("tenant acme")
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewCA("tenant other")
	if err != nil {
		t.Fatal(err)
	}
	id := Identity{Tenant: "acme", Name: "pc1", Kind: KindAgent}
	certPEM, keyPEM, err := acme.Issue(id, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Fatalf("key pair: %v", err)
	}
	leaf := parseCert(t, certPEM)
	acmePool, _ := PoolFromPEM("acme", acme.CertPEM())
	otherPool, _ := PoolFromPEM("other", other.CertPEM())
	now := time.Now()
	tests := []struct {
		name  string
		roots *x509.CertPool
		want  Identity
		err   error
	}{
		{"same CA and identity", acmePool, id, nil},
		{"other tenant's CA", otherPool, id, ErrUntrusted},
		{"wrong name", acmePool, Identity{Tenant: "acme", Name: "pc2", Kind: KindAgent}, ErrWrongPeer},
		{"wrong kind", acmePool, Identity{Tenant: "acme", Name: "pc1", Kind: KindConnector}, ErrWrongPeer},
		{"wrong tenant", acmePool, Identity{Tenant: "evil", Name: "pc1", Kind: KindAgent}, ErrWrongPeer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifyPeer([]*x509.Certificate{leaf}, tc.roots, tc.want, now)
			if !errors.Is(err, tc.err) {
				t.Fatalf("VerifyPeer = %v, want %v", err, tc.err)
			}
		})
	}
}

func TestServerCertificate(t *testing.T) {
	cloud, err := NewCA("cloud")
	if err != nil {
		t.Fatal(err)
	}
	certPEM, _, err := cloud.Issue(Identity{Name: "broker", Kind: KindBroker}, true, "127.0.0.2", "broker")
	if err != nil {
		t.Fatal(err)
	}
	c := parseCert(t, certPEM)
	pool, _ := PoolFromPEM("cloud", cloud.CertPEM())
	for _, host := range []string{"127.0.0.2", "broker"} {
		if _, err := c.Verify(x509.VerifyOptions{Roots: pool, DNSName: host}); err != nil {
			t.Errorf("verify for %q: %v", host, err)
		}
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: pool, DNSName: "other"}); err == nil {
		t.Error("verify for \"other\" succeeded, want a name mismatch")
	}
	id, err := IdentityOf(c)
	if err != nil || id != (Identity{Name: "broker", Kind: KindBroker}) {
		t.Errorf("IdentityOf = %v, %v", id, err)
	}
}

func TestIssueRejectsBadIdentity(t *testing.T) {
	ca, err := NewCA("t")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		id   Identity
	}{
		{"agent without tenant", Identity{Name: "pc", Kind: KindAgent}},
		{"no name", Identity{Tenant: "t", Kind: KindAgent}},
		{"unknown kind", Identity{Tenant: "t", Name: "pc", Kind: "admin"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := ca.Issue(tc.id, false); !errors.Is(err, ErrIdentity) {
				t.Fatalf("Issue = %v, want ErrIdentity", err)
			}
		})
	}
}

func TestWriteFilesModes(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, err := WriteFiles(dir, "pc1", []byte("cert"), []byte("key"))
	if err != nil {
		t.Fatal(err)
	}
	for path, mode := range map[string]os.FileMode{certFile: 0o644, keyFile: 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", filepath.Base(path), fi.Mode().Perm(), mode)
		}
	}
	if _, _, err := WriteFiles(dir, "../x", nil, nil); err == nil {
		t.Error("WriteFiles accepted a name with a slash")
	}
}
