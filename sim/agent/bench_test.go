package agent

import (
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// The relay's setup and small round trips in one process on loopback:
// the broker, both agents, the client and the service. Each reports
// cpu-ns/op (the whole process, user + system): on this shared machine
// the time per op swings with load, the CPU an op costs far less.
//
//	go test -run X -bench 'Setup|RoundTrip' -count 6 ./sim/agent > new.txt
//	benchstat old.txt new.txt
//
// What they buy is measured end to end by c2clab bench (docs/PERFORMANCE.md).

// BenchmarkSetup opens a relayed connection through SOCKS, has the
// service echo 32 bytes and closes it: connect, pairing, the end-to-end
// TLS handshake (resumed after the first) and one request, like bench's
// setup probe.
func BenchmarkSetup(b *testing.B) {
	e := newEnv(b, testPolicy())
	socks, _, _ := e.pair()
	port := serveEcho(b, "127.0.0.3:0")
	msg := make([]byte, 32)
	back := make([]byte, len(msg))
	c, err := dialSOCKS(socks, "dst.example.com", port) // the first: a full handshake
	if err != nil {
		b.Fatal(err)
	}
	c.Close()
	cpu0 := cpuNow()
	b.ResetTimer()
	for i := range b.N {
		c, err := dialSOCKS(socks, "dst.example.com", port)
		if err != nil {
			b.Fatal(err)
		}
		msg[0] = byte(i)
		if err := echoOnce(c, msg, back); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
	b.StopTimer()
	reportCPU(b, cpu0)
}

// BenchmarkRoundTrip sends 64 bytes through one relayed connection and
// waits for them to come back: one frame each way through both agents.
func BenchmarkRoundTrip(b *testing.B) {
	e := newEnv(b, testPolicy())
	socks, _, _ := e.pair()
	port := serveEcho(b, "127.0.0.3:0")
	c, err := dialSOCKS(socks, "dst.example.com", port)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	msg := make([]byte, 64)
	back := make([]byte, len(msg))
	cpu0 := cpuNow()
	b.ResetTimer()
	for i := range b.N {
		msg[0] = byte(i)
		if err := echoOnce(c, msg, back); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportCPU(b, cpu0)
}

// echoOnce writes msg and reads it back into back, checking every byte.
func echoOnce(c net.Conn, msg, back []byte) error {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(msg); err != nil {
		return err
	}
	if _, err := io.ReadFull(c, back); err != nil {
		return err
	}
	for i := range msg {
		if msg[i] != back[i] {
			return fmt.Errorf("echo: byte %d of %d differs", i, len(msg))
		}
	}
	return nil
}

func reportCPU(b *testing.B, cpu0 time.Duration) {
	if cpu := cpuNow(); cpu > 0 && b.N > 0 {
		b.ReportMetric(float64(cpu-cpu0)/float64(b.N), "cpu-ns/op")
	}
}

// serveEcho is an echo service on addr until the test ends.
func serveEcho(t testing.TB, addr string) uint16 {
	t.Helper()
	return serveConns(t, addr, func(c net.Conn) { io.Copy(c, c) })
}
