package pki

import (
	"bytes"
	"strings"
	"testing"
)

// TestPoolFromPEMBadInput: a CA file that is not what the lab wrote gives
// an error naming the file and, for a broken certificate, which one.
func TestPoolFromPEMBadInput(t *testing.T) {
	ca, err := NewCA("tenant acme")
	if err != nil {
		t.Fatal(err)
	}
	good := ca.CertPEM()
	corrupt := bytes.Replace(good, []byte("MII"), []byte("MIJ"), 1) // DER length changed
	keyOnly := []byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n")
	for _, tt := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, `load CA "ca.pem": no PEM CERTIFICATE block`},
		{"not PEM", []byte("hello"), `load CA "ca.pem": no PEM CERTIFICATE block`},
		{"a key, no certificate", keyOnly, `load CA "ca.pem": no PEM CERTIFICATE block`},
		{"corrupt certificate", corrupt, `load CA "ca.pem": certificate 1: x509: `},
		{"second certificate corrupt", append(append([]byte{}, good...), corrupt...), `load CA "ca.pem": certificate 2: x509: `},
		{"cut short", good[:len(good)/2], `load CA "ca.pem": no PEM CERTIFICATE block`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := PoolFromPEM("ca.pem", tt.data)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to start with %q", err, tt.want)
			}
		})
	}
	if _, err := PoolFromPEM("ca.pem", append(keyOnly, good...)); err != nil {
		t.Fatalf("a key before the certificate: %v", err)
	}
}
