package peer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/c2clab/c2clab/sim/wire"
)

// ErrSessionLost is returned for a connect whose session ended first.
var ErrSessionLost = errors.New("session with the broker lost")

// ErrSetupTimeout is returned when connect_result did not come in time.
var ErrSetupTimeout = errors.New("no connect_result in time")

// Session is one registered control session. Welcome and Registered are
// read-only.
type Session struct {
	Welcome    wire.Welcome
	Registered wire.Registered

	conn *wire.Conn
	done chan struct{} // closed when the session has ended
	seq  atomic.Uint64 // connect IDs

	mu      sync.Mutex // guards pending
	pending map[string]chan *wire.ConnectResult
}

// dial connects, says hello and registers, all within wire.HelloTimeout.
func (c *Client) dial(ctx context.Context) (*Session, error) {
	ctx, cancel := context.WithTimeout(ctx, wire.HelloTimeout)
	defer cancel()
	d := tls.Dialer{Config: c.control}
	nc, err := d.DialContext(ctx, "tcp", c.cfg.Broker.Control)
	if err != nil {
		return nil, fmt.Errorf("dial broker %q: %w", c.cfg.Broker.Control, err)
	}
	s := &Session{conn: wire.NewConn(nc), done: make(chan struct{}), pending: map[string]chan *wire.ConnectResult{}}
	if err := c.hello(ctx, s); err != nil {
		nc.Close()
		return nil, err
	}
	return s, nil
}

func (c *Client) hello(ctx context.Context, s *Session) error {
	deadline, _ := ctx.Deadline()
	stop := context.AfterFunc(ctx, func() { s.conn.Close() })
	defer stop()
	if err := s.conn.Send(&wire.Hello{Versions: []string{wire.Version}, Role: c.cfg.Role, Software: c.cfg.Software}); err != nil {
		return err
	}
	m, err := s.conn.Recv(deadline)
	if err != nil {
		return fmt.Errorf("read welcome: %w", err)
	}
	w, ok := m.(*wire.Welcome)
	if !ok {
		return unexpected(m, wire.TypeWelcome)
	}
	if w.Version != wire.Version {
		return fmt.Errorf("%w: broker chose version %q, want %q", wire.ErrProtocol, w.Version, wire.Version)
	}
	s.Welcome = *w
	reg := c.cfg.Register
	if err := s.conn.Send(&reg); err != nil {
		return err
	}
	if m, err = s.conn.Recv(deadline); err != nil {
		return fmt.Errorf("read registered: %w", err)
	}
	r, ok := m.(*wire.Registered)
	if !ok {
		return unexpected(m, wire.TypeRegistered)
	}
	s.Registered = *r
	c.log.Info("registered", "session", w.SessionID, "tenant", w.Tenant, "fqdn", reg.FQDN,
		"fqdnRegistered", r.FQDNRegistered, "fqdnRegisteredError", r.FQDNRegisteredError,
		"available", r.Available, "code", r.Code, "segments", len(r.Segments))
	return nil
}

// unexpected describes a message that is not the one wanted; an error
// message from the broker says why it refused.
func unexpected(m wire.Message, want wire.Type) error {
	if e, ok := m.(*wire.Error); ok {
		return fmt.Errorf("broker refused: %w: %s", e.Code, e.Message)
	}
	return fmt.Errorf("%w: got %s, want %s", wire.ErrProtocol, m.Type(), want)
}

// serve reads messages and sends keepalives until the session ends.
func (s *Session) serve(ctx context.Context, c *Client) error {
	stop := context.AfterFunc(ctx, func() { s.conn.Close() })
	defer stop()
	var kw sync.WaitGroup
	kw.Add(1)
	go func() {
		defer kw.Done()
		s.keepalive()
	}()
	err := s.read(ctx, c)
	close(s.done)
	s.conn.Close()
	kw.Wait()
	return err
}

func (s *Session) read(ctx context.Context, c *Client) error {
	timeout := time.Duration(s.Welcome.KeepaliveTimeoutMs) * time.Millisecond
	for {
		m, err := s.conn.Recv(time.Now().Add(timeout))
		if err != nil {
			return err
		}
		switch m := m.(type) {
		case *wire.KeepaliveAck:
		case *wire.ConnectResult:
			s.deliver(m)
		case *wire.Incoming:
			if c.cfg.Incoming == nil {
				return fmt.Errorf("%w: incoming for a client that takes none", wire.ErrProtocol)
			}
			c.wg.Add(1)
			go func() {
				defer c.wg.Done()
				c.cfg.Incoming(ctx, s, m)
			}()
		case *wire.Error:
			return fmt.Errorf("broker error: %w: %s", m.Code, m.Message)
		default:
			return fmt.Errorf("%w: unexpected %s", wire.ErrProtocol, m.Type())
		}
	}
}

func (s *Session) keepalive() {
	t := time.NewTicker(time.Duration(s.Welcome.KeepaliveIntervalMs) * time.Millisecond)
	defer t.Stop()
	for seq := uint64(1); ; seq++ {
		select {
		case <-t.C:
			if err := s.conn.Send(&wire.Keepalive{Seq: seq}); err != nil {
				s.conn.Close()
				return
			}
		case <-s.done:
			return
		}
	}
}

func (s *Session) deliver(m *wire.ConnectResult) {
	s.mu.Lock()
	ch, ok := s.pending[m.ID]
	delete(s.pending, m.ID)
	s.mu.Unlock()
	if ok {
		ch <- m
	}
}

// Connect asks the broker for fqdn:port and waits for connect_result, at
// most wire.ConnectTimeout.
func (s *Session) Connect(ctx context.Context, fqdn string, port uint16) (*wire.ConnectResult, error) {
	id := strconv.FormatUint(s.seq.Add(1), 10)
	ch := make(chan *wire.ConnectResult, 1)
	s.mu.Lock()
	s.pending[id] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, id)
		s.mu.Unlock()
	}()
	if err := s.conn.Send(&wire.Connect{ID: id, FQDN: fqdn, Port: port, Proto: wire.ProtoTCP}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSessionLost, err)
	}
	t := time.NewTimer(wire.ConnectTimeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r, nil
	case <-s.done:
		return nil, ErrSessionLost
	case <-t.C:
		return nil, ErrSetupTimeout
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Answer sends an incoming_result.
func (s *Session) Answer(m *wire.IncomingResult) error { return s.conn.Send(m) }

// Done is closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return s.done }

// LocalAddr is the local address of the control connection.
func (s *Session) LocalAddr() net.Addr { return s.conn.NetConn().LocalAddr() }
