package broker

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/pki"
	"github.com/c2clab/c2clab/sim/policy"
	"github.com/c2clab/c2clab/sim/wire"
)

// errWrongTenant: a tenant CA verified the chain but the Subject's O names
// another tenant.
var errWrongTenant = errors.New("certificate names another tenant than its CA's")

// session is one authenticated control channel. Fields above mu are set
// before the session is published in broker.sessions and read-only after.
type session struct {
	id       string
	t        *tenant
	ident    pki.Identity
	conn     *wire.Conn
	remoteIP string
	reg      wire.Register
	preg     policy.Registration // reg as the policy engine sees it (agents)
	status   *UserStatus         // changed only under broker.logs.update
	log      *slog.Logger        // with session, tenant and device
	ready    chan struct{}       // closed once registered was sent: incoming may follow
	done     chan struct{}       // closed when the session has ended
	seq      uint64              // registration order; set under broker.mu before publishing

	mu       sync.Mutex                           // guards pending, inflight and waits
	pending  map[string]bool                      // outstanding connect IDs from this source
	inflight int                                  // setups from this source not yet paired or failed
	waits    map[string]chan *wire.IncomingResult // setups waiting for this destination, by conn ID
}

func newID(prefix string) string {
	var b [8]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func (b *broker) serveControl(l net.Listener) error {
	for {
		c, err := l.Accept()
		if err != nil {
			return ignoreClosed(err)
		}
		b.wg.Add(1)
		go b.handleControl(c)
	}
}

// identify finds the tenant whose CA verifies chain and checks that the
// certificate's O names that same tenant and its OU a client kind.
func (b *broker) identify(chain []*x509.Certificate) (*tenant, pki.Identity, error) {
	var mismatch error
	for _, t := range b.tenants {
		id, err := t.verifier.Verify(chain, time.Now())
		if errors.Is(err, pki.ErrIdentity) {
			return nil, id, err
		}
		if err != nil {
			continue
		}
		if id.Kind != pki.KindAgent && id.Kind != pki.KindConnector {
			return nil, id, fmt.Errorf("%w: kind %q may not open a control channel", pki.ErrIdentity, id.Kind)
		}
		if id.Tenant != t.id {
			mismatch = fmt.Errorf("%w: %s verified by the CA of tenant %q", errWrongTenant, id, t.id)
			continue
		}
		return t, id, nil
	}
	if mismatch != nil {
		return nil, pki.Identity{}, mismatch
	}
	subj := "none"
	if len(chain) > 0 {
		subj = chain[0].Subject.String()
	}
	return nil, pki.Identity{}, fmt.Errorf("%w: no tenant CA verifies %q", pki.ErrUntrusted, subj)
}

// handshake runs TLS and hello/welcome within wire.HelloTimeout of accept.
func (b *broker) handshake(raw net.Conn) (*session, error) {
	raw.SetDeadline(time.Now().Add(wire.HelloTimeout))
	s := &session{id: newID("s-"), ready: make(chan struct{}), done: make(chan struct{}),
		pending: map[string]bool{}, waits: map[string]chan *wire.IncomingResult{}}
	s.remoteIP, _, _ = net.SplitHostPort(raw.RemoteAddr().String())
	cfg := b.tlsConfig.Clone()
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		t, id, err := b.identify(cs.PeerCertificates)
		s.t, s.ident = t, id
		return err
	}
	tc := tls.Server(raw, cfg)
	if err := tc.HandshakeContext(b.ctx); err != nil {
		return nil, fmt.Errorf("tls handshake: %w", err)
	}
	s.conn = wire.NewConn(tc)
	s.log = b.log.With("session", s.id, "tenant", s.t.id, "device", s.ident.Name, "kind", s.ident.Kind)
	m, err := s.conn.Recv(time.Now().Add(wire.HelloTimeout))
	if err != nil {
		return s, fmt.Errorf("read hello: %w", err)
	}
	hello, ok := m.(*wire.Hello)
	switch {
	case !ok:
		return s, fmt.Errorf("%w: got %s, want hello", wire.ErrProtocol, m.Type())
	case !hello.Supports(wire.Version):
		return s, fmt.Errorf("%w: hello offers %q, broker speaks %q", wire.ErrProtocol, hello.Versions, wire.Version)
	case hello.Role != string(s.ident.Kind):
		return s, fmt.Errorf("%w: hello role %q, certificate says %q", wire.ErrProtocol, hello.Role, s.ident.Kind)
	}
	raw.SetDeadline(time.Time{})
	err = s.conn.Send(&wire.Welcome{Version: wire.Version, SessionID: s.id, Tenant: s.t.id, Name: s.ident.Name,
		KeepaliveIntervalMs: b.interval.Milliseconds(), KeepaliveTimeoutMs: b.timeout.Milliseconds()})
	return s, err
}

func (b *broker) handleControl(raw net.Conn) {
	defer b.wg.Done()
	defer raw.Close()
	stop := b.closeOnDone(raw)
	defer stop()
	s, err := b.handshake(raw)
	if err != nil {
		b.endEarly(s, raw, err)
		return
	}
	m, err := s.conn.Recv(time.Now().Add(wire.HelloTimeout))
	if err == nil && m.Type() != wire.TypeRegister {
		err = fmt.Errorf("%w: got %s, want register", wire.ErrProtocol, m.Type())
	}
	if err != nil {
		b.endEarly(s, raw, err)
		return
	}
	b.register(s, m.(*wire.Register))
	defer b.endSession(s)
	if err := s.conn.Send(b.registered(s)); err != nil {
		s.log.Info("session ended", "reason", err)
		return
	}
	close(s.ready)
	err = b.serveSession(s)
	s.log.Info("session ended", "reason", err)
}

// endEarly logs a connection that failed before registering and sends the
// protocol error message when the peer broke the protocol.
func (b *broker) endEarly(s *session, raw net.Conn, err error) {
	log := b.log.With("remote", raw.RemoteAddr().String())
	if s != nil && s.log != nil {
		log = s.log
	}
	log.Warn("control connection refused", "reason", err)
	if s != nil && s.conn != nil && errors.Is(err, wire.ErrProtocol) {
		s.conn.Send(&wire.Error{Code: code.BrkProtocolError, Message: err.Error()})
	}
}

// register records the registration: agents go through the tenant's policy
// engine (HV-*, DEV-*), connectors just announce their server groups.
func (b *broker) register(s *session, m *wire.Register) {
	s.reg = *m
	if s.reg.Platform == "" {
		s.reg.Platform = s.reg.OS
	}
	st := &UserStatus{Tenant: s.t.id, SessionID: s.id, Kind: string(s.ident.Kind), User: m.User,
		Device: s.ident.Name, RemoteIP: s.remoteIP, FQDN: m.FQDN, OS: m.OS,
		ConnectorVersion: m.ConnectorVersion, ServerGroups: slices.Clone(m.ServerGroups),
		Connected: true, ConnectedAt: time.Now()}
	b.publish(s)
	if s.ident.Kind == pki.KindAgent {
		s.preg = policy.Registration{ID: s.id, FQDN: m.FQDN, OS: device.OS(m.OS),
			ConnectorVersion: m.ConnectorVersion, JoinState: device.JoinState(m.JoinState),
			MachineTunnel: m.MachineTunnel, LoggedIn: m.LoggedIn, PrivateAccess: m.PrivateAccess,
			User: m.User, Posture: slices.Clone(m.Posture), ClientType: m.ClientType,
			Device: policy.DeviceAttrs{Posture: policy.AttrOf(m.Posture), TrustedNetworks: policy.AttrOfList(m.TrustedNetworks),
				Country: policy.AttrOfPtr(m.Country), MachineGroup: policy.AttrOfPtr(m.MachineGroup)}}
		en := s.t.engine.Register(s.preg)
		st.FQDNRegistered, st.FQDNRegisteredError = en.FQDNRegistered, en.FQDNRegisteredError
		st.ValidHostname = en.FQDNRegisteredError == code.FQDNMatch
		st.ClientToClientEnrolled = en.FQDNRegistered
		st.Available, st.Code, st.Trace = en.Available, en.Code, en.Trace
		if en.ClientIP.IsValid() {
			st.ClientIP = en.ClientIP.String()
		}
	} else {
		st.Available = true
		st.Trace = []string{fmt.Sprintf("App Connector serving server groups %q", m.ServerGroups)}
	}
	s.status = st
	b.logs.addStatus(st)
	s.log.Info("registered", "fqdn", m.FQDN, "fqdnRegistered", st.FQDNRegistered,
		"fqdnRegisteredError", st.FQDNRegisteredError, "available", st.Available, "code", st.Code, "remote", s.remoteIP)
}

func (b *broker) registered(s *session) *wire.Registered {
	var m wire.Registered
	b.logs.update(func() {
		m = wire.Registered{FQDNRegistered: s.status.FQDNRegistered, FQDNRegisteredError: s.status.FQDNRegisteredError,
			Available: s.status.Available, Code: s.status.Code, Segments: s.t.segments}
	})
	return &m
}

// serveSession reads messages until the session ends.
func (b *broker) serveSession(s *session) error {
	for {
		m, err := s.conn.Recv(time.Now().Add(b.timeout))
		if err != nil {
			if errors.Is(err, wire.ErrProtocol) {
				s.conn.Send(&wire.Error{Code: code.BrkProtocolError, Message: err.Error()})
			}
			return err
		}
		switch m := m.(type) {
		case *wire.Keepalive:
			if err := s.conn.Send(&wire.KeepaliveAck{Seq: m.Seq}); err != nil {
				return err
			}
		case *wire.Connect:
			admitted, err := s.startConnect(m.ID)
			if err != nil {
				s.conn.Send(&wire.Error{Code: code.BrkProtocolError, Message: err.Error()})
				return err
			}
			if !admitted {
				b.refuseBusy(s, m)
				continue
			}
			b.wg.Add(1)
			go b.connect(s, m)
		case *wire.IncomingResult:
			s.deliver(m)
		default:
			err := fmt.Errorf("%w: %s is not allowed from a client in a registered session", wire.ErrProtocol, m.Type())
			s.conn.Send(&wire.Error{Code: code.BrkProtocolError, Message: err.Error()})
			return err
		}
	}
}

// publish makes a registered session findable: by ID, and an App
// Connector by each server group it serves, in registration order.
func (b *broker) publish(s *session) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.regSeq++
	s.seq = b.regSeq
	b.sessions[s.id] = s
	if s.ident.Kind == pki.KindConnector {
		for _, g := range uniq(s.reg.ServerGroups) {
			k := groupKey{s.t, g}
			b.connectors[k] = append(b.connectors[k], s)
		}
	}
}

// unpublish undoes publish.
func (b *broker) unpublish(s *session) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.sessions, s.id)
	if s.ident.Kind == pki.KindConnector {
		for _, g := range uniq(s.reg.ServerGroups) {
			k := groupKey{s.t, g}
			b.connectors[k] = slices.DeleteFunc(b.connectors[k], func(o *session) bool { return o == s })
			if len(b.connectors[k]) == 0 {
				delete(b.connectors, k)
			}
		}
	}
}

func uniq(groups []string) []string {
	out := slices.Clone(groups)
	slices.Sort(out)
	return slices.Compact(out)
}

// endSession unpublishes s. The policy engine forgets it first, so that a
// connect from then on gets C2C_CLIENT_NOT_FOUND (docs/PROTOCOL.md section
// 6); only a setup the policy had already sent to s finds the session gone
// and gets C2C_CLIENT_CONN_EXPIRED (those in flight watch done).
func (b *broker) endSession(s *session) {
	if s.ident.Kind == pki.KindAgent {
		s.t.engine.Unregister(s.id)
	}
	if b.cfg.afterUnregister != nil {
		b.cfg.afterUnregister()
	}
	b.unpublish(s)
	close(s.done) // before the status: who sees it disconnected sees done
	b.logs.update(func() {
		s.status.Connected = false
		s.status.DisconnectedAt = time.Now()
	})
	s.conn.Close() // last: whoever sees the close sees the status too
}

// startConnect admits a connect: false (and no error) when the session
// already has wire.MaxSetupsInFlight setups in flight. A connect from an App
// Connector or with an outstanding ID is a protocol error.
func (s *session) startConnect(id string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ident.Kind != pki.KindAgent {
		return false, fmt.Errorf("%w: connect from a %s", wire.ErrProtocol, s.ident.Kind)
	}
	if s.pending[id] {
		return false, fmt.Errorf("%w: connect id %q is already outstanding", wire.ErrProtocol, id)
	}
	if s.inflight >= wire.MaxSetupsInFlight {
		return false, nil
	}
	s.pending[id] = true
	s.inflight++
	return true, nil
}

// releaseSetup ends one setup admitted by startConnect: it was refused, or
// its pairing was paired or failed.
func (s *session) releaseSetup() {
	s.mu.Lock()
	s.inflight--
	s.mu.Unlock()
}

func (s *session) endConnect(id string) {
	s.mu.Lock()
	delete(s.pending, id)
	s.mu.Unlock()
}

// errSessionEnded is returned for a message to a session that has ended.
var errSessionEnded = errors.New("session has ended")

// answer sends a connect_result. The ID stops being outstanding first: the
// source may reuse it as soon as it reads the result.
func (s *session) answer(res *wire.ConnectResult) error {
	s.endConnect(res.ID)
	select {
	case <-s.done:
		return errSessionEnded
	default:
	}
	return s.conn.Send(res)
}

// expect registers a wait for the incoming_result of connID.
func (s *session) expect(connID string) chan *wire.IncomingResult {
	ch := make(chan *wire.IncomingResult, 1)
	s.mu.Lock()
	s.waits[connID] = ch
	s.mu.Unlock()
	return ch
}

func (s *session) unexpect(connID string) {
	s.mu.Lock()
	delete(s.waits, connID)
	s.mu.Unlock()
}

// deliver hands an incoming_result to its waiting setup; a late one (the
// setup timed out) is ignored, as docs/PROTOCOL.md says.
func (s *session) deliver(m *wire.IncomingResult) {
	s.mu.Lock()
	ch, ok := s.waits[m.ConnID]
	delete(s.waits, m.ConnID)
	s.mu.Unlock()
	if !ok {
		s.log.Info("late incoming_result ignored", "conn", m.ConnID)
		return
	}
	ch <- m
}

func (s *session) peer() *wire.Peer {
	return &wire.Peer{Tenant: s.t.id, Name: s.ident.Name, Kind: string(s.ident.Kind), FQDN: s.reg.FQDN, User: s.reg.User}
}
