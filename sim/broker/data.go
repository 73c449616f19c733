package broker

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/wire"
)

// Pairing states.
const (
	waiting = iota
	paired
	failed
)

// side is what a token grants: one side (0 source, 1 destination) of one
// pairing.
type side struct {
	p *pairing
	i int
}

// pairing joins the two data connections of one allowed connection.
type pairing struct {
	act    *Activity
	start  time.Time // connect received
	tokens [2]wire.Token
	done   chan struct{} // closed when paired or failed

	// release returns the source's in-flight slot (session.releaseSetup);
	// called once, when the pairing leaves waiting.
	release func()
	// ends are closed when the source's or the destination's session
	// ends: a relay whose party is gone is cut, not left half open.
	ends [2]<-chan struct{}

	mu    sync.Mutex // guards the fields below
	state int
	conns [2]*net.TCPConn
	code  code.Code // why it failed
	timer *time.Timer
}

// newPairing issues the two tokens; they expire after wire.TokenLifetime.
// release is called once the pairing is paired or has failed. srcEnd and
// dstEnd are the two sessions' done channels.
func (b *broker) newPairing(act *Activity, start time.Time, release func(), srcEnd, dstEnd <-chan struct{}) (*pairing, error) {
	p := &pairing{act: act, start: start, done: make(chan struct{}), release: release, ends: [2]<-chan struct{}{srcEnd, dstEnd}}
	for i := range p.tokens {
		t, err := wire.NewToken()
		if err != nil {
			return nil, err
		}
		p.tokens[i] = t
	}
	p.mu.Lock()
	p.timer = time.AfterFunc(wire.TokenLifetime, func() { p.fail(b, code.BrkMtSetupTimeout) })
	p.mu.Unlock()
	b.mu.Lock()
	b.tokens[p.tokens[0]] = &side{p, 0}
	b.tokens[p.tokens[1]] = &side{p, 1}
	b.pairings[act.ID] = p
	b.mu.Unlock()
	return p, nil
}

// forget removes p's tokens and p itself from the broker.
func (b *broker) forget(p *pairing) {
	b.mu.Lock()
	delete(b.tokens, p.tokens[0])
	delete(b.tokens, p.tokens[1])
	delete(b.pairings, p.act.ID)
	b.mu.Unlock()
}

// cancel withdraws a pairing whose setup failed before the source got its
// token; the caller logs the reason.
func (p *pairing) cancel(b *broker) { p.fail(b, "") }

// fail ends a pairing that is still waiting: sides that arrived get c and
// are closed by their goroutines; the activity is closed with c (unless c is
// empty: the caller closes it).
func (p *pairing) fail(b *broker, c code.Code) {
	p.mu.Lock()
	if p.state != waiting {
		p.mu.Unlock()
		return
	}
	p.state, p.code = failed, c
	p.timer.Stop()
	close(p.done)
	p.mu.Unlock()
	p.release()
	b.forget(p)
	if c == "" {
		return
	}
	now := time.Now()
	b.logs.update(func() { p.act.Status, p.act.Code, p.act.EndUs = StatusClosed, c, micros(now) })
	b.log.Info("pairing failed", "conn", p.act.ID, "code", c)
}

// arrive adds side i's connection. It returns the other side's connection
// when this one completes the pair, and ok false when the pairing has failed.
func (p *pairing) arrive(i int, c *net.TCPConn) (other *net.TCPConn, ok bool) {
	p.mu.Lock()
	if p.state != waiting || p.conns[i] != nil {
		p.mu.Unlock()
		return nil, false
	}
	p.conns[i] = c
	if p.conns[1-i] == nil {
		p.mu.Unlock()
		return nil, true
	}
	p.state = paired
	p.timer.Stop()
	close(p.done)
	other = p.conns[1-i]
	p.mu.Unlock()
	p.release()
	return other, true
}

func (b *broker) serveData(l net.Listener) error {
	for {
		c, err := l.Accept()
		if err != nil {
			return ignoreClosed(err)
		}
		b.wg.Add(1)
		go b.handleData(c.(*net.TCPConn))
	}
}

// handleData reads the preamble, finds the token's pairing and either waits
// for the other side or, as the second to arrive, relays both.
func (b *broker) handleData(c *net.TCPConn) {
	defer b.wg.Done()
	stop := b.closeOnDone(c)
	defer stop()
	c.SetReadDeadline(time.Now().Add(wire.PreambleTimeout))
	tok, err := wire.ReadPreamble(c)
	if err != nil {
		switch {
		case errors.Is(err, wire.ErrProtocol):
			refuseData(c, code.BrkProtocolError)
			b.log.Warn("data connection refused", "remote", c.RemoteAddr().String(), "reason", err)
		case errors.Is(err, io.EOF):
			// A source's pre-dialed connection whose connect was refused.
			b.log.Debug("data connection closed before its preamble", "remote", c.RemoteAddr().String())
		default:
			b.log.Warn("data connection refused", "remote", c.RemoteAddr().String(), "reason", err)
		}
		c.Close()
		return
	}
	c.SetReadDeadline(time.Time{})
	b.mu.Lock()
	sd := b.tokens[tok]
	delete(b.tokens, tok) // single use
	b.mu.Unlock()
	if sd == nil {
		b.log.Warn("data connection refused", "remote", c.RemoteAddr().String(), "reason", "unknown, used or expired token")
		refuseData(c, code.BrkMtSetupTimeout)
		c.Close()
		return
	}
	p := sd.p
	other, ok := p.arrive(sd.i, c)
	if ok && other == nil {
		<-p.done // paired (the other side's goroutine relays) or failed
		p.mu.Lock()
		ok = p.state == paired
		p.mu.Unlock()
		if ok {
			return
		}
	}
	if !ok {
		refuseData(c, code.BrkMtSetupTimeout)
		c.Close()
		return
	}
	src, dst := p.conns[0], p.conns[1] // fixed once paired
	b.relay(p, src, dst)
}

func refuseData(c net.Conn, reason code.Code) {
	c.SetWriteDeadline(time.Now().Add(time.Second))
	wire.WriteAnswer(c, reason)
}

// relay answers both sides and splices them until both directions end.
func (b *broker) relay(p *pairing, src, dst *net.TCPConn) {
	b.forget(p)
	stopSrc, stopDst := b.closeOnDone(src), b.closeOnDone(dst)
	defer stopSrc()
	defer stopDst()
	now := time.Now()
	for _, c := range []*net.TCPConn{src, dst} {
		c.SetWriteDeadline(now.Add(wire.PreambleTimeout))
		if err := wire.WriteAnswer(c, ""); err != nil {
			src.Close()
			dst.Close()
			p.closeActivity(b, code.BrkCannotSendMtComplete, 0, 0)
			b.log.Info("pairing answer failed", "conn", p.act.ID, "code", code.BrkCannotSendMtComplete, "reason", err)
			return
		}
		c.SetWriteDeadline(time.Time{})
	}
	setup := time.Since(p.start)
	b.logs.update(func() { p.act.Status, p.act.SetupUs = StatusActive, setup.Microseconds() })
	b.log.Info("relay started", "conn", p.act.ID, "setupUs", setup.Microseconds())
	stopWatch := p.cutWhenAPartyLeaves(src, dst)
	up, down := splice(src, dst, b.cfg.RelayDelay)
	stopWatch()
	p.closeActivity(b, code.MtClosedTerminated, up, down)
	b.log.Info("relay ended", "conn", p.act.ID, "bytesFromClient", up, "bytesToClient", down)
}

// cutWhenAPartyLeaves closes both connections when the source's or the
// destination's session ends: TCP would keep the other direction open for
// as long as the surviving client keeps its end, holding the relay and its
// record Active for a party that is gone.
func (p *pairing) cutWhenAPartyLeaves(src, dst *net.TCPConn) (stop func()) {
	quit := make(chan struct{})
	go func() {
		select {
		case <-p.ends[0]:
		case <-p.ends[1]:
		case <-quit:
			return
		}
		src.Close()
		dst.Close()
	}()
	return func() { close(quit) }
}

func (p *pairing) closeActivity(b *broker, c code.Code, up, down int64) {
	now := time.Now()
	b.logs.update(func() {
		p.act.Status, p.act.Code, p.act.EndUs = StatusClosed, c, micros(now)
		p.act.BytesFromClient, p.act.BytesToClient = up, down
	})
}

// splice copies both directions between raw TCP connections, so the kernel
// moves the bytes (splice(2)) without user-space copies. A direction that
// ends cleanly half-closes its destination; an error aborts both. It returns
// when both directions are done, with both connections closed. delay is
// Config.RelayDelay.
func splice(a, b *net.TCPConn, delay time.Duration) (ab, ba int64) {
	done := make(chan int64, 1)
	go func() { done <- pipe(b, a, delay) }()
	ba = pipe(a, b, delay)
	ab = <-done
	a.Close()
	b.Close()
	return ab, ba
}

func pipe(dst, src *net.TCPConn, delay time.Duration) int64 {
	var r io.Reader = src
	if delay > 0 {
		r = delayed{src, delay}
	}
	n, err := io.Copy(dst, r) // *TCPConn.ReadFrom: splice(2) on Linux, unless delayed
	if err != nil {
		src.Close()
		dst.Close()
		return n
	}
	dst.CloseWrite()
	return n
}

// delayed is Config.RelayDelay's reader: a pause after every read.
type delayed struct {
	r     io.Reader
	delay time.Duration
}

func (d delayed) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	time.Sleep(d.delay)
	return n, err
}
