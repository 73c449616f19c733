// Package wire is the c2c/1 protocol between agents, App Connectors and the
// broker, as docs/PROTOCOL.md specifies it: length-prefixed JSON control
// messages and the data path's preamble and pairing answer. It does no I/O of
// its own beyond the io.Reader and io.Writer it is given, so a vendor can
// check an implementation against it byte for byte.
package wire

import (
	"errors"
	"time"
)

// Version is the protocol version this package speaks.
const Version = "c2c/1"

// MaxMessage is the largest control message body in bytes (the length prefix
// excluded). A larger length prefix is a protocol error.
const MaxMessage = 1 << 20

// Timeouts and intervals of c2c/1 (docs/PROTOCOL.md, "Timeouts").
const (
	// HelloTimeout bounds the TLS handshake plus hello (from TCP accept to
	// welcome) and, separately, register after welcome.
	HelloTimeout = 5 * time.Second
	// DefaultKeepaliveInterval is how often an agent sends keepalive unless
	// welcome says otherwise.
	DefaultKeepaliveInterval = 5 * time.Second
	// DefaultKeepaliveTimeout is how long either side waits without
	// receiving any message before it drops the session.
	DefaultKeepaliveTimeout = 15 * time.Second
	// IncomingTimeout bounds the destination's answer to incoming; the
	// source then gets BRK_MT_SETUP_TIMEOUT.
	IncomingTimeout = 5 * time.Second
	// ConnectTimeout is how long a source waits for connect_result.
	ConnectTimeout = 10 * time.Second
	// TokenLifetime is how long a data-path token is valid after the broker
	// issues it; a side that arrived waits for its peer at most this long.
	TokenLifetime = 10 * time.Second
	// PreambleTimeout bounds reading the data-path preamble after accept.
	PreambleTimeout = 5 * time.Second
	// WriteTimeout bounds writing one control message.
	WriteTimeout = 10 * time.Second
)

// MaxSetupsInFlight is how many connection setups one source session may
// have in flight at once: from connect until both data sides are paired or
// the setup fails. The broker answers a connect above it at once with
// connect_result BRK_PROTOCOL_ERROR, without deciding it; the session stays
// up.
const MaxSetupsInFlight = 256

// ErrProtocol marks a malformed or out-of-order message: the receiver sends
// an error message with BRK_PROTOCOL_ERROR and closes the connection.
var ErrProtocol = errors.New("c2c protocol error")

// Role is what a control-channel client is; it must equal the OU of its
// certificate.
const (
	RoleAgent     = "agent"
	RoleConnector = "connector"
)

// ProtoTCP is the only transport c2c/1 relays.
const ProtoTCP = "tcp"
