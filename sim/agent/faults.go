package agent

import (
	"io"
	"net"
	"sync"

	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/seal"
	"github.com/c2clab/c2clab/sim/wire"
)

// Faults are deliberate breaches of the agent's contract. Only the broken
// agents of the certification self-test (testdata/brokenagents) switch
// them on, to prove that `c2clab certify` fails exactly the requirements
// each one breaks; the reference agent has none, and no config file can
// set them.
type Faults struct {
	// IgnoreVersionGate reports the minimum connector version of the
	// device's OS instead of its own, as if the gate did not apply (DEV-1).
	IgnoreVersionGate bool
	// DialLoopback delivers connections to 127.0.0.1 instead of the
	// device's interface IP (EP-1).
	DialLoopback bool
	// BareHostname reports the machine's hostname without its primary DNS
	// suffix (HV-4).
	BareHostname bool
	// CorruptEvery, when positive, flips one byte in every CorruptEvery
	// bytes the local service sends back through the relay.
	CorruptEvery int64
	// Seal changes the data path's key schedule or frame format, or slows
	// it (seal.Dialect): wrong the same way on both ends (CERT-2).
	Seal seal.Dialect
}

// corrupter relays a local service's connection through a loopback proxy
// that flips one byte in every n the service sends: the destination side
// still hands the relay a *net.TCPConn, as it would without the fault.
func corrupter(svc *net.TCPConn, n int64) (*net.TCPConn, error) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	type res struct {
		c   *net.TCPConn
		err error
	}
	accepted := make(chan res, 1)
	go func() { c, err := ln.AcceptTCP(); accepted <- res{c, err} }()
	near, err := net.DialTCP("tcp", nil, ln.Addr().(*net.TCPAddr))
	if err != nil {
		return nil, err
	}
	far := <-accepted
	if far.err != nil {
		near.Close()
		return nil, far.err
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { io.Copy(svc, far.c); svc.CloseWrite(); wg.Done() }()
	go func() { io.Copy(&flipWriter{w: far.c, every: n}, svc); far.c.CloseWrite(); wg.Done() }()
	go func() { wg.Wait(); far.c.Close(); svc.Close() }()
	return near, nil
}

// flipWriter inverts the last bit of every byte at an offset that is a
// multiple of every, counting from every-1.
type flipWriter struct {
	w     io.Writer
	every int64
	off   int64
}

func (f *flipWriter) Write(p []byte) (int, error) {
	for i := range p {
		if (f.off+int64(i)+1)%f.every == 0 {
			p[i] ^= 1
		}
	}
	f.off += int64(len(p))
	return f.w.Write(p)
}

// applyTo changes what the agent reports at registration.
func (f Faults) applyTo(reg *wire.Register, p *device.Profile) {
	if f.IgnoreVersionGate {
		if min, ok := device.MinVersion[p.OS]; ok {
			reg.ConnectorVersion = min.String()
		}
	}
	if f.BareHostname && reg.FQDN != "" {
		reg.FQDN = p.Hostname
	}
}
