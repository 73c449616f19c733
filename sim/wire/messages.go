package wire

import (
	"fmt"
	"slices"

	"github.com/c2clab/c2clab/sim/code"
)

// Type is a control message's "type" field.
type Type string

// Message types of c2c/1.
const (
	TypeHello          Type = "hello"
	TypeWelcome        Type = "welcome"
	TypeRegister       Type = "register"
	TypeRegistered     Type = "registered"
	TypeKeepalive      Type = "keepalive"
	TypeKeepaliveAck   Type = "keepalive_ack"
	TypeConnect        Type = "connect"
	TypeConnectResult  Type = "connect_result"
	TypeIncoming       Type = "incoming"
	TypeIncomingResult Type = "incoming_result"
	TypeError          Type = "error"
)

// Message is one control message. The concrete types are the pointers
// below; Check reports a message that decodes but breaks the protocol.
type Message interface {
	Type() Type
	Check() error
}

// newMessage returns an empty message of type t, or nil if t is unknown.
func newMessage(t Type) Message {
	switch t {
	case TypeHello:
		return new(Hello)
	case TypeWelcome:
		return new(Welcome)
	case TypeRegister:
		return new(Register)
	case TypeRegistered:
		return new(Registered)
	case TypeKeepalive:
		return new(Keepalive)
	case TypeKeepaliveAck:
		return new(KeepaliveAck)
	case TypeConnect:
		return new(Connect)
	case TypeConnectResult:
		return new(ConnectResult)
	case TypeIncoming:
		return new(Incoming)
	case TypeIncomingResult:
		return new(IncomingResult)
	case TypeError:
		return new(Error)
	}
	return nil
}

// Hello is the client's first message: the versions it speaks, best first.
type Hello struct {
	Versions []string `json:"versions"`
	Role     string   `json:"role"`               // agent or connector
	Software string   `json:"software,omitempty"` // e.g. "c2clab-agent dev"
}

// Welcome is the broker's answer to hello.
type Welcome struct {
	Version             string `json:"version"`
	SessionID           string `json:"sessionId"`
	Tenant              string `json:"tenant"` // as the broker verified it
	Name                string `json:"name"`   // the certificate's CN
	KeepaliveIntervalMs int64  `json:"keepaliveIntervalMs"`
	KeepaliveTimeoutMs  int64  `json:"keepaliveTimeoutMs"`
}

// Register carries the device profile as the connector reports it.
type Register struct {
	FQDN             string `json:"fqdn"` // "" when it collects no hostname
	OS               string `json:"os"`   // windows, mac or linux
	Platform         string `json:"platform,omitempty"`
	ConnectorVersion string `json:"connectorVersion"`
	JoinState        string `json:"joinState"`
	MachineTunnel    bool   `json:"machineTunnel"`
	LoggedIn         bool   `json:"loggedIn"`
	PrivateAccess    bool   `json:"privateAccess"`
	User             string `json:"user"`
	// Posture: null is unknown, [] none (POL-4); likewise the three below,
	// which are left out when unknown.
	Posture         []string  `json:"posture"`
	TrustedNetworks *[]string `json:"trustedNetworks,omitempty"`
	Country         *string   `json:"country,omitempty"`
	MachineGroup    *string   `json:"machineGroup,omitempty"`
	ClientType      string    `json:"clientType,omitempty"`
	// ServerGroups are the server groups an App Connector serves.
	ServerGroups []string `json:"serverGroups,omitempty"`
}

// Registered is the broker's registration decision and the tenant's
// segments, which the source side intercepts by.
type Registered struct {
	FQDNRegistered      bool      `json:"fqdnRegistered"`
	FQDNRegisteredError code.Code `json:"fqdnRegisteredError"`
	Available           bool      `json:"available"`
	Code                code.Code `json:"code,omitempty"`
	Segments            []Segment `json:"segments"`
}

// Segment is an application segment as the source side needs it.
type Segment struct {
	ID      string      `json:"id"`
	Name    string      `json:"name"`
	Enabled bool        `json:"enabled"`
	Domains []string    `json:"domains"`
	TCP     []PortRange `json:"tcp"`
	UDP     []PortRange `json:"udp,omitempty"`
	// MatchStyle is EXCLUSIVE (default when empty) or INCLUSIVE
	// (Multimatch, SEG-6); BypassType NEVER (default), ALWAYS or ON_NET
	// (SEG-8). The source side needs both to choose the segment.
	MatchStyle string `json:"matchStyle,omitempty"`
	BypassType string `json:"bypassType,omitempty"`
}

// PortRange is an inclusive port range.
type PortRange struct {
	From uint16 `json:"from"`
	To   uint16 `json:"to"`
}

// HasTCP reports whether port is in one of the segment's TCP ranges. It
// repeats policy.Segment.Allows on purpose: wire is the protocol a vendor
// implements and must not depend on the lab's decision engine, and the
// engine must not depend on the protocol.
func (s *Segment) HasTCP(port uint16) bool {
	for _, r := range s.TCP {
		if r.From <= port && port <= r.To {
			return true
		}
	}
	return false
}

// Keepalive proves the session is alive; the broker answers KeepaliveAck
// with the same Seq.
type Keepalive struct {
	Seq uint64 `json:"seq"`
}

// KeepaliveAck answers Keepalive.
type KeepaliveAck struct {
	Seq uint64 `json:"seq"`
}

// Connect asks the broker for a connection to FQDN:Port.
type Connect struct {
	ID    string `json:"id"` // chosen by the source, unique among its outstanding connects
	FQDN  string `json:"fqdn"`
	Port  uint16 `json:"port"`
	Proto string `json:"proto"` // "tcp"
}

// Peer names the other end of a connection as its certificate does.
type Peer struct {
	Tenant string `json:"tenant"`
	Name   string `json:"name"`
	Kind   string `json:"kind"` // agent or connector
	FQDN   string `json:"fqdn,omitempty"`
	User   string `json:"user,omitempty"`
}

// ConnectResult answers Connect.
type ConnectResult struct {
	ID      string    `json:"id"`
	OK      bool      `json:"ok"`
	Code    code.Code `json:"code,omitempty"`
	ConnID  string    `json:"connId,omitempty"`
	Token   Token     `json:"token,omitzero"`
	Peer    *Peer     `json:"peer,omitempty"`
	Segment string    `json:"segment,omitempty"`
	Rule    string    `json:"rule,omitempty"`
	Message string    `json:"message,omitempty"`
}

// Incoming asks a destination to accept a connection to its local port.
type Incoming struct {
	ConnID string `json:"connId"`
	FQDN   string `json:"fqdn"`
	Port   uint16 `json:"port"`
	Proto  string `json:"proto"`
	Source Peer   `json:"source"`
	Token  Token  `json:"token"`
}

// IncomingResult answers Incoming.
type IncomingResult struct {
	ConnID  string    `json:"connId"`
	OK      bool      `json:"ok"`
	Code    code.Code `json:"code,omitempty"`
	Message string    `json:"message,omitempty"`
}

// Error reports a fatal problem; the sender closes the connection after it.
type Error struct {
	Code    code.Code `json:"code"`
	Message string    `json:"message,omitempty"`
}

func (*Hello) Type() Type          { return TypeHello }
func (*Welcome) Type() Type        { return TypeWelcome }
func (*Register) Type() Type       { return TypeRegister }
func (*Registered) Type() Type     { return TypeRegistered }
func (*Keepalive) Type() Type      { return TypeKeepalive }
func (*KeepaliveAck) Type() Type   { return TypeKeepaliveAck }
func (*Connect) Type() Type        { return TypeConnect }
func (*ConnectResult) Type() Type  { return TypeConnectResult }
func (*Incoming) Type() Type       { return TypeIncoming }
func (*IncomingResult) Type() Type { return TypeIncomingResult }
func (*Error) Type() Type          { return TypeError }

func protoErr(t Type, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrProtocol, t, fmt.Sprintf(format, args...))
}

// Check implements Message.
func (m *Hello) Check() error {
	if len(m.Versions) == 0 {
		return protoErr(m.Type(), "no versions")
	}
	if m.Role != RoleAgent && m.Role != RoleConnector {
		return protoErr(m.Type(), "role %q, want agent or connector", m.Role)
	}
	return nil
}

// Supports reports whether the hello lists v.
func (m *Hello) Supports(v string) bool { return slices.Contains(m.Versions, v) }

// Check implements Message.
func (m *Welcome) Check() error {
	if m.Version == "" || m.SessionID == "" {
		return protoErr(m.Type(), "version and sessionId are required")
	}
	if m.KeepaliveIntervalMs <= 0 || m.KeepaliveTimeoutMs <= m.KeepaliveIntervalMs {
		return protoErr(m.Type(), "keepalive interval %d ms, timeout %d ms: want 0 < interval < timeout",
			m.KeepaliveIntervalMs, m.KeepaliveTimeoutMs)
	}
	return nil
}

// Check implements Message.
func (m *Register) Check() error {
	switch m.OS {
	case "windows", "mac", "linux", "":
	default:
		return protoErr(m.Type(), "os %q, want windows, mac or linux", m.OS)
	}
	return nil
}

// Check implements Message.
func (m *Registered) Check() error { return nil }

// Check implements Message.
func (m *Keepalive) Check() error { return nil }

// Check implements Message.
func (m *KeepaliveAck) Check() error { return nil }

// Check implements Message.
func (m *Connect) Check() error {
	if m.ID == "" || len(m.ID) > 64 {
		return protoErr(m.Type(), "id %q: want 1 to 64 characters", m.ID)
	}
	if m.FQDN == "" || len(m.FQDN) > 255 {
		return protoErr(m.Type(), "fqdn %q: want 1 to 255 characters", m.FQDN)
	}
	if m.Port == 0 {
		return protoErr(m.Type(), "port 0")
	}
	if m.Proto != ProtoTCP {
		return protoErr(m.Type(), "proto %q, want tcp", m.Proto)
	}
	return nil
}

// Check implements Message.
func (m *ConnectResult) Check() error {
	if m.ID == "" {
		return protoErr(m.Type(), "id is required")
	}
	if m.OK && (m.ConnID == "" || m.Token.IsZero() || m.Peer == nil) {
		return protoErr(m.Type(), "ok without connId, token and peer")
	}
	if !m.OK && m.Code == "" {
		return protoErr(m.Type(), "refusal without code")
	}
	return nil
}

// Check implements Message.
func (m *Incoming) Check() error {
	if m.ConnID == "" || m.Token.IsZero() || m.Port == 0 {
		return protoErr(m.Type(), "connId, token and port are required")
	}
	if m.Proto != ProtoTCP {
		return protoErr(m.Type(), "proto %q, want tcp", m.Proto)
	}
	return nil
}

// Check implements Message.
func (m *IncomingResult) Check() error {
	if m.ConnID == "" {
		return protoErr(m.Type(), "connId is required")
	}
	if !m.OK && m.Code == "" {
		return protoErr(m.Type(), "refusal without code")
	}
	return nil
}

// Check implements Message.
func (m *Error) Check() error {
	if m.Code == "" {
		return protoErr(m.Type(), "code is required")
	}
	return nil
}
