package seal

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/c2clab/c2clab/sim/pki"
)

var benchSizes = []int{1 << 10, 16 << 10, 64 << 10, 256 << 10}

// BenchmarkFrame streams b.N writes of each size one way over a loopback
// TCP connection; the reader opens every frame (WriteTo to io.Discard).
// Compare with BenchmarkTLS, the same stream in TLS 1.3 records. cpu-ns/B
// is the CPU both ends spent per byte (user and kernel), steadier than
// MB/s on a shared machine.
func BenchmarkFrame(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("write=%dK", size>>10), func(b *testing.B) {
			a, c := sealedPair(b)
			benchStream(b, size, a, c, func() error { return a.CloseWrite() })
		})
	}
}

// BenchmarkTLS is BenchmarkFrame's stream in TLS 1.3 records (AES-128-GCM),
// as the data path ran before sealed frames.
func BenchmarkTLS(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("write=%dK", size>>10), func(b *testing.B) {
			a, c := tlsTCPPair(b, false)
			benchStream(b, size, a, c, func() error { return a.CloseWrite() })
		})
	}
}

func benchStream(b *testing.B, size int, w io.Writer, r io.Reader, closeWrite func() error) {
	buf := make([]byte, size)
	done := make(chan error, 1)
	go func() { done <- drain(r) }()
	b.SetBytes(int64(size))
	b.ResetTimer()
	cpu0, _ := processCPU()
	for range b.N {
		if _, err := w.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	if err := closeWrite(); err != nil {
		b.Fatal(err)
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	if cpu1, ok := processCPU(); ok { // sender and receiver, user and kernel
		b.ReportMetric(float64(cpu1-cpu0)/float64(b.N*size), "cpu-ns/B")
	}
}

// tlsTCPPair returns the two ends of a TLS 1.3 connection over loopback
// TCP; with records, each TLS stack reads through Records.
func tlsTCPPair(b testing.TB, records bool) (client, server *tls.Conn) {
	b.Helper()
	ca, err := pki.NewCA("bench")
	if err != nil {
		b.Fatal(err)
	}
	certPEM, keyPEM, err := ca.Issue(pki.Identity{Tenant: "t", Name: "dst", Kind: pki.KindAgent}, true, "dst")
	if err != nil {
		b.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		b.Fatal(err)
	}
	ra, rb := tcpPair(b)
	na, nb := net.Conn(ra), net.Conn(rb)
	if records {
		na, nb = Records(ra), Records(rb)
	}
	client = tls.Client(na, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13})
	server = tls.Server(nb, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13})
	errc := make(chan error, 1)
	go func() { errc <- server.Handshake() }()
	if err := client.Handshake(); err != nil {
		b.Fatal(err)
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	return client, server
}

// drain reads r to its end as peer.Pipe does: WriteTo where r has it, else
// Reads into a 256 KiB buffer.
func drain(r io.Reader) error {
	if wt, ok := r.(io.WriterTo); ok {
		_, err := wt.WriteTo(io.Discard)
		return err
	}
	buf := make([]byte, 256<<10)
	for {
		if _, err := r.Read(buf); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}
