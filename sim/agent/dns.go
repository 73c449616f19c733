package agent

import (
	"errors"
	"log/slog"
	"net"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/c2clab/c2clab/sim/domain"
)

// dnsTTL is the TTL of the agent's answers, in seconds. A name keeps its
// address for the agent's life, so the TTL matters only across a restart,
// after which the old address means nothing: keep it short.
const dnsTTL = 5

// dnsServer is the agent's resolver for the names its segments cover. It
// answers A queries for such names with a synthetic address, AAAA and
// other types for them with no data (NOERROR, no answer: interception is
// IPv4 only), and everything else with REFUSED: the lab has no upstream
// resolver to forward to, and REFUSED says "not mine to answer" where
// NXDOMAIN would claim the name does not exist anywhere, an answer stub
// resolvers and caches remember.
type dnsServer struct {
	pool *synthPool
	// covers reports whether one of the agent's segments covers a
	// normalized name; it is called from the serving goroutine.
	covers func(name string) bool
	log    *slog.Logger
}

// serve answers queries on pc until it is closed. Answers come from memory,
// so one goroutine serves them all in turn.
func (s *dnsServer) serve(pc net.PacketConn) {
	buf := make([]byte, 4096)
	for {
		n, from, err := pc.ReadFrom(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			s.log.Warn("dns read failed", "reason", err)
			continue
		}
		if resp := s.answer(buf[:n]); resp != nil {
			if _, err := pc.WriteTo(resp, from); err != nil {
				s.log.Warn("dns reply failed", "to", from.String(), "reason", err)
			}
		}
	}
}

// answer returns the reply to the query msg, or nil for a datagram that
// gets none: one too short to carry an ID, or itself a response (answering
// those could start a loop).
func (s *dnsServer) answer(msg []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil || h.Response {
		return nil
	}
	rh := dnsmessage.Header{ID: h.ID, Response: true, OpCode: h.OpCode, RecursionDesired: h.RecursionDesired}
	if h.OpCode != 0 {
		rh.RCode = dnsmessage.RCodeNotImplemented
		return build(rh, nil, nil)
	}
	qs, err := p.AllQuestions()
	if err != nil || len(qs) != 1 {
		rh.RCode = dnsmessage.RCodeFormatError
		return build(rh, nil, nil)
	}
	q := qs[0]
	rh.RCode = dnsmessage.RCodeRefused
	name := domain.Normalize(q.Name.String())
	if q.Class != dnsmessage.ClassINET || !domain.ValidName(name) || !s.covers(name) {
		return build(rh, &q, nil)
	}
	rh.RCode, rh.Authoritative = dnsmessage.RCodeSuccess, true
	if q.Type != dnsmessage.TypeA {
		return build(rh, &q, nil)
	}
	a, err := s.pool.addr(name)
	if err != nil {
		s.log.Warn("dns: no synthetic address", "name", name, "reason", err)
		rh.RCode, rh.Authoritative = dnsmessage.RCodeServerFailure, false
		return build(rh, &q, nil)
	}
	s.log.Debug("dns answer", "name", name, "addr", a.String())
	return build(rh, &q, &dnsmessage.AResource{A: a.As4()})
}

// build encodes a reply echoing q (if any) with the answer a (if any).
func build(h dnsmessage.Header, q *dnsmessage.Question, a *dnsmessage.AResource) []byte {
	b := dnsmessage.NewBuilder(make([]byte, 0, 512), h)
	b.EnableCompression()
	// The builder fails only on sections out of order or names it cannot
	// encode; q's name came from the parser, so it encodes.
	if q != nil {
		b.StartQuestions()
		b.Question(*q)
	}
	if a != nil {
		b.StartAnswers()
		b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: dnsTTL}, *a)
	}
	out, err := b.Finish()
	if err != nil {
		return nil
	}
	return out
}
