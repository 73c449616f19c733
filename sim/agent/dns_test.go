package agent

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/c2clab/c2clab/sim/domain"
)

// startDNS serves a dnsServer on a real UDP socket whose segments cover
// *.example.com, with a pool of max addresses; it returns a connected
// client socket.
func startDNS(t *testing.T, max int) *net.UDPConn {
	t.Helper()
	var ix domain.Index[int]
	if err := ix.Add(domain.MustParse("*.example.com"), 0); err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dnsServer{pool: newSynthPool(SyntheticRange, max), log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		covers: func(n string) bool { _, _, ok := ix.Lookup(n); return ok }}
	done := make(chan struct{})
	go func() { defer close(done); srv.serve(pc) }()
	t.Cleanup(func() { pc.Close(); <-done })
	c, err := net.DialUDP("udp", nil, pc.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// query builds a one-question query.
func query(t *testing.T, id uint16, name string, typ dnsmessage.Type, class dnsmessage.Class) []byte {
	t.Helper()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, RecursionDesired: true})
	b.StartQuestions()
	if err := b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName(name), Type: typ, Class: class}); err != nil {
		t.Fatal(err)
	}
	msg, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// exchangeDNS sends msg and returns the next reply.
func exchangeDNS(t *testing.T, c *net.UDPConn, msg []byte) dnsmessage.Message {
	t.Helper()
	m, err := dnsRoundTrip(c, msg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// dnsRoundTrip is exchangeDNS for goroutines other than the test's.
func dnsRoundTrip(c net.Conn, msg []byte) (dnsmessage.Message, error) {
	var m dnsmessage.Message
	if _, err := c.Write(msg); err != nil {
		return m, err
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	if err != nil {
		return m, fmt.Errorf("no reply: %w", err)
	}
	if err := m.Unpack(buf[:n]); err != nil {
		return m, fmt.Errorf("reply does not parse: %w", err)
	}
	return m, nil
}

func TestDNSAnswers(t *testing.T) {
	c := startDNS(t, 0)
	in := netip.MustParsePrefix("100.64.0.0/16")
	tests := []struct {
		name    string
		qname   string
		typ     dnsmessage.Type
		class   dnsmessage.Class
		rcode   dnsmessage.RCode
		answers int
	}{
		{"A in a segment", "desk.example.com.", dnsmessage.TypeA, dnsmessage.ClassINET, dnsmessage.RCodeSuccess, 1},
		{"A in a segment, other case", "DESK.Example.COM.", dnsmessage.TypeA, dnsmessage.ClassINET, dnsmessage.RCodeSuccess, 1},
		{"AAAA in a segment: no data", "desk.example.com.", dnsmessage.TypeAAAA, dnsmessage.ClassINET, dnsmessage.RCodeSuccess, 0},
		{"MX in a segment: no data", "desk.example.com.", dnsmessage.TypeMX, dnsmessage.ClassINET, dnsmessage.RCodeSuccess, 0},
		{"outside every segment", "desk.example.org.", dnsmessage.TypeA, dnsmessage.ClassINET, dnsmessage.RCodeRefused, 0},
		{"apex not covered by the wildcard (SEG-3)", "example.com.", dnsmessage.TypeA, dnsmessage.ClassINET, dnsmessage.RCodeRefused, 0},
		{"AAAA outside", "desk.example.org.", dnsmessage.TypeAAAA, dnsmessage.ClassINET, dnsmessage.RCodeRefused, 0},
		{"class CHAOS", "desk.example.com.", dnsmessage.TypeA, dnsmessage.ClassCHAOS, dnsmessage.RCodeRefused, 0},
	}
	var first netip.Addr
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := uint16(100 + i)
			m := exchangeDNS(t, c, query(t, id, tc.qname, tc.typ, tc.class))
			if m.ID != id || !m.Response || m.RCode != tc.rcode || len(m.Answers) != tc.answers {
				t.Fatalf("reply id %d response %v rcode %v answers %d; want id %d, response, %v, %d answers",
					m.ID, m.Response, m.RCode, len(m.Answers), id, tc.rcode, tc.answers)
			}
			if len(m.Questions) != 1 || m.Questions[0].Name.String() != tc.qname {
				t.Errorf("reply questions %v, want the query's", m.Questions)
			}
			if tc.answers == 0 {
				return
			}
			rr, ok := m.Answers[0].Body.(*dnsmessage.AResource)
			if !ok || m.Answers[0].Header.TTL != dnsTTL || !m.Authoritative {
				t.Fatalf("answer %+v, want an authoritative A with TTL %d", m.Answers[0], dnsTTL)
			}
			a := netip.AddrFrom4(rr.A)
			if !in.Contains(a) {
				t.Fatalf("answer %s not in %s", a, in)
			}
			if !first.IsValid() {
				first = a
			} else if a != first {
				t.Errorf("the same name got %s, earlier %s", a, first)
			}
		})
	}
}

func TestDNSMalformed(t *testing.T) {
	c := startDNS(t, 0)
	twoQuestions := func() []byte {
		b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 7})
		b.StartQuestions()
		for _, n := range []string{"a.example.com.", "b.example.com."} {
			b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName(n), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET})
		}
		m, _ := b.Finish()
		return m
	}
	notify := query(t, 8, "a.example.com.", dnsmessage.TypeA, dnsmessage.ClassINET)
	notify[2] |= 4 << 3 // opcode NOTIFY
	tests := []struct {
		name  string
		msg   []byte
		id    uint16
		rcode dnsmessage.RCode
	}{
		// Header says one question, the question is missing.
		{"truncated question", []byte{0, 5, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}, 5, dnsmessage.RCodeFormatError},
		{"question cut short", query(t, 6, "a.example.com.", dnsmessage.TypeA, dnsmessage.ClassINET)[:20], 6, dnsmessage.RCodeFormatError},
		{"two questions", twoQuestions(), 7, dnsmessage.RCodeFormatError},
		{"opcode other than QUERY", notify, 8, dnsmessage.RCodeNotImplemented},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := exchangeDNS(t, c, tc.msg)
			if m.ID != tc.id || !m.Response || m.RCode != tc.rcode || len(m.Answers) != 0 {
				t.Fatalf("reply id %d rcode %v answers %d; want id %d, %v, none", m.ID, m.RCode, len(m.Answers), tc.id, tc.rcode)
			}
		})
	}
	// No reply to what has no ID or is itself a response: a valid query
	// sent right after is the next datagram to come back (loopback UDP
	// keeps the order), which also shows the server is still serving.
	resp := query(t, 9, "a.example.com.", dnsmessage.TypeA, dnsmessage.ClassINET)
	resp[2] |= 0x80
	for _, junk := range [][]byte{{1, 2, 3}, resp} {
		if _, err := c.Write(junk); err != nil {
			t.Fatal(err)
		}
	}
	if m := exchangeDNS(t, c, query(t, 10, "a.example.com.", dnsmessage.TypeA, dnsmessage.ClassINET)); m.ID != 10 {
		t.Fatalf("next reply has id %d, want 10: the server answered junk or a response", m.ID)
	}
}

func TestDNSPoolFull(t *testing.T) {
	c := startDNS(t, 1)
	if m := exchangeDNS(t, c, query(t, 1, "a.example.com.", dnsmessage.TypeA, dnsmessage.ClassINET)); m.RCode != dnsmessage.RCodeSuccess || len(m.Answers) != 1 {
		t.Fatalf("first name: rcode %v, %d answers", m.RCode, len(m.Answers))
	}
	if m := exchangeDNS(t, c, query(t, 2, "b.example.com.", dnsmessage.TypeA, dnsmessage.ClassINET)); m.RCode != dnsmessage.RCodeServerFailure || len(m.Answers) != 0 {
		t.Fatalf("name beyond the pool: rcode %v, %d answers; want SERVFAIL, none", m.RCode, len(m.Answers))
	}
	if m := exchangeDNS(t, c, query(t, 3, "a.example.com.", dnsmessage.TypeA, dnsmessage.ClassINET)); m.RCode != dnsmessage.RCodeSuccess || len(m.Answers) != 1 {
		t.Fatalf("first name again: rcode %v, %d answers", m.RCode, len(m.Answers))
	}
}
