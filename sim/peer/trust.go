package peer

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/c2clab/c2clab/sim/pki"
)

// ErrTrustBundle is wrapped when the CA file cannot be split into a tenant
// CA and a cloud CA.
var ErrTrustBundle = errors.New("trust bundle")

// splitTrust splits the trust bundle in file (docs/PROTOCOL.md, section 2).
// The CAs that verify this device's own certificate are its tenant CA: only
// they verify data-path peers. Every other CA of the bundle is a cloud CA:
// only those verify the broker. So a certificate the cloud CA issued is no
// peer whatever its Subject says, and one the tenant CA issued is no broker
// whatever its OU says.
func splitTrust(file string, own tls.Certificate) (tenant, cloud *x509.CertPool, err error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, fmt.Errorf("load CA file: %w", err)
	}
	cas, err := pki.ParseCerts(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%w %q: %w", ErrTrustBundle, file, err)
	}
	chain := x509.NewCertPool() // intermediates sent with our own certificate
	for _, der := range own.Certificate[1:] {
		if c, err := x509.ParseCertificate(der); err == nil {
			chain.AddCert(c)
		}
	}
	tenant, cloud = x509.NewCertPool(), x509.NewCertPool()
	var nTenant, nCloud int
	for _, ca := range cas {
		roots := x509.NewCertPool()
		roots.AddCert(ca)
		_, err := own.Leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: chain, CurrentTime: time.Now(),
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		if err == nil {
			tenant.AddCert(ca)
			nTenant++
		} else {
			cloud.AddCert(ca)
			nCloud++
		}
	}
	switch {
	case nTenant == 0:
		return nil, nil, fmt.Errorf("%w %q: no CA in it verifies this device's certificate %q now (want its tenant CA; or has the certificate expired?)",
			ErrTrustBundle, file, own.Leaf.Subject.String())
	case nCloud == 0:
		return nil, nil, fmt.Errorf("%w %q: holds only the tenant CA; the cloud CA that issued the broker's certificate is missing",
			ErrTrustBundle, file)
	}
	return tenant, cloud, nil
}
