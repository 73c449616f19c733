package pki

import (
	"bytes"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
)

// FuzzParseCerts feeds the PEM reader of CA files any bytes, seeded with a
// lab CA and certificates it issued. It must never panic; an error names
// the certificate it is about, and PoolFromPEM's names the file; the
// certificates it returns, written back as PEM, read back the same; and
// reading the identity of any of them either works and validates or fails
// with ErrIdentity.
//
//	go test -run '^$' -fuzz '^FuzzParseCerts$' -fuzztime 30s ./sim/pki
func FuzzParseCerts(f *testing.F) {
	ca, err := NewCA("tenant acme")
	if err != nil {
		f.Fatal(err)
	}
	certPEM, keyPEM, err := ca.Issue(Identity{Tenant: "acme", Name: "pc1", Kind: KindAgent}, false)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ca.CertPEM())
	f.Add(append(append(certPEM, keyPEM...), ca.CertPEM()...))
	f.Add(bytes.Replace(certPEM, []byte("MII"), []byte("MIJ"), 1))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("not PEM"))
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := ParseCerts(data)
		_, poolErr := PoolFromPEM("ca.pem", data)
		if poolErr != nil && !strings.HasPrefix(poolErr.Error(), `load CA "ca.pem": `) {
			t.Fatalf("PoolFromPEM error %q does not name the file", poolErr)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "certificate ") || poolErr == nil {
				t.Fatalf("error %q does not name the certificate, or the pool took the file (%v)", err, poolErr)
			}
			return
		}
		var again []byte
		for _, c := range certs {
			again = append(again, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
			if id, err := IdentityOf(c); err != nil && !errors.Is(err, ErrIdentity) || err == nil && id.Validate() != nil {
				t.Fatalf("IdentityOf = %+v, %v", id, err)
			}
		}
		back, err := ParseCerts(again)
		if err != nil || len(back) != len(certs) {
			t.Fatalf("%d certificates written back read as %d, %v", len(certs), len(back), err)
		}
		for i := range back {
			if !bytes.Equal(back[i].Raw, certs[i].Raw) {
				t.Fatalf("certificate %d changed in a round trip", i+1)
			}
		}
	})
}
