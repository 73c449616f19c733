// Package policy makes every client-to-client access decision the lab knows:
// hostname validation and device gates at registration, then segment, port,
// access rule and destination checks per connection. It is pure (no I/O) so
// the broker, `c2clab explain` and `c2clab check` all decide the same way.
//
// An Engine is one tenant: the broker keeps one Engine per organization, so
// no decision crosses organizations (POL-2).
//
// Access rule operands the engine models (POL-3), by ZPA object type:
//   - APP: RHS is a segment ID; APP_GROUP: RHS is the segment's GroupID;
//   - SCIM_GROUP: RHS is one of Config.Groups[user];
//   - USER and SCIM: RHS is the user name;
//   - PLATFORM: LHS is the OS (windows, mac, linux, ios, android), RHS "true"
//     (must be) or "false" (must not be);
//   - CLIENT_TYPE: RHS is the client type (DefaultClientType when the request
//     names none);
//   - POSTURE: LHS is a posture profile, RHS "true" (the device must satisfy
//     it) or "false" (must not).
//
// ZPA exports hold other types (IDP, SAML, COUNTRY_CODE, MACHINE_GRP,
// LOCATION, BRANCH_CONNECTOR_GROUP, ...). A condition with such an operand
// never matches, negated or not, and the trace says when that kept a rule
// from deciding; Engine.Warnings lists them.
//
// Within a condition, operands of one type are ORed (all required if the
// condition's Operator is AND) and different types are ANDed; Negated
// inverts the condition. A rule's conditions are ANDed, or ORed when its
// Operator is OR; a rule without conditions matches every request.
//
// POL-2, the lab's reading: client-to-client is open to every user of the
// organization while no access rule applies to the segment (no rule whose
// APP/APP_GROUP criteria can match it, and no rule without such criteria).
// Once some rule applies, a request that no rule matches meets ZPA's
// implicit block (BRK_MT_SETUP_FAIL_NO_POLICY_FOUND), as it always does for
// a segment with server groups or when Config.ImplicitBlock is set.
package policy

import (
	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/device"
)

// Action is an access rule's action, spelled as the ZPA API spells it.
type Action string

const (
	Allow Action = "ALLOW"
	Deny  Action = "DENY"
)

// AccessType is the User Activity log's Access Type.
type AccessType string

const (
	ClientToClient AccessType = "Client to Client"
	ClientToServer AccessType = "Client to Server"
)

// Operand object types, as the ZPA API names them (POL-3).
const (
	ObjApp        = "APP"         // RHS: segment ID
	ObjAppGroup   = "APP_GROUP"   // RHS: segment group ID
	ObjSCIMGroup  = "SCIM_GROUP"  // RHS: group name or ID the user belongs to
	ObjUser       = "USER"        // lab extension of SAML/SCIM: RHS user name (also accepts ObjSCIM)
	ObjSCIM       = "SCIM"        // RHS: user name
	ObjPlatform   = "PLATFORM"    // LHS: windows|mac|linux|ios|android, RHS "true"
	ObjClientType = "CLIENT_TYPE" // RHS: e.g. zpn_client_type_zapp
	ObjPosture    = "POSTURE"     // LHS: posture profile name/ID, RHS "true"|"false"
)

// DefaultClientType is the CLIENT_TYPE of a Client Connector.
const DefaultClientType = "zpn_client_type_zapp"

// Config is one tenant's policy as the engine needs it. sim/tenant builds it
// from a tenant file; the zero value is a tenant with no regex (FQDN_NO_ENTRIES).
type Config struct {
	// Tenant is the organization's ID. Decisions never cross it (POL-2).
	Tenant string
	// HostnameRegexes is the client hostname validation list (HV-1): exactly
	// one must be present and compile.
	HostnameRegexes []string
	// ImplicitBlock switches POL-2's default: false (default) lets any user
	// of the organization reach any enrolled client when no rule matches;
	// true applies ZPA's general implicit block (BRK_MT_SETUP_FAIL_NO_POLICY_FOUND).
	ImplicitBlock bool
	Segments      []Segment
	Rules         []Rule
	// Groups maps a user name to the groups (SCIM_GROUP values) it belongs to.
	Groups map[string][]string
}

// Segment is an application segment.
type Segment struct {
	ID, Name string
	Enabled  bool
	// Domains are FQDNs or wildcard domains ("*.example.com").
	Domains []string
	TCP     []PortRange
	UDP     []PortRange
	// GroupID is the segment group's ID (APP_GROUP operand).
	GroupID string
	// ServerGroups are served by App Connectors (Client to Server). A
	// client-to-client segment needs none (SEG-2).
	ServerGroups []string
}

// PortRange is an inclusive range of ports.
type PortRange struct{ From, To uint16 }

// Rule is an access policy rule.
type Rule struct {
	ID, Name string
	// Order is ruleOrder: rules are evaluated in ascending order (POL-1).
	Order  int
	Action Action
	// Operator combines Conditions: "AND" (default) or "OR".
	Operator   string
	Conditions []Condition
}

// Condition is a group of operands. Operands of the same object type are
// ORed and different types are ANDed (POL-3), whatever Operator says, except
// that Operator "AND" within one type requires all of them.
type Condition struct {
	Operator string // "OR" (default) or "AND"
	Negated  bool
	Operands []Operand
}

// Operand is one criterion, as in the ZPA API.
type Operand struct {
	ObjectType string
	LHS, RHS   string
}

// Registration is what a device's connector reports to the broker.
type Registration struct {
	// ID is the broker's session ID for this connector.
	ID string
	// FQDN as the connector reports it: "" when it collects no hostname.
	FQDN             string
	OS               device.OS
	ConnectorVersion string
	JoinState        device.JoinState
	MachineTunnel    bool
	LoggedIn         bool
	// PrivateAccess is DEV-5. A conforming connector with Private Access
	// off never registers; Register makes one that reports it off not
	// available (C2C_NOT_AVAILABLE).
	PrivateAccess bool
	User          string
	Posture       []string
}

// Enrolment is the registration decision (HV-1..HV-6, DEV-1, DEV-2, DEV-4, DEV-5).
type Enrolment struct {
	// FQDNRegistered and FQDNRegisteredError are the User Status fields (HV-3).
	FQDNRegistered      bool
	FQDNRegisteredError code.Code
	// Available reports whether the device can take client-to-client
	// connections; when false, Code says why (e.g. C2C_CLIENT_VERSION_UNSUPPORTED).
	Available bool
	Code      code.Code
	// Regex is the validation regex used, if any.
	Regex string
	Trace []string
}

// Request is one connection attempt.
type Request struct {
	// Source identity.
	User       string
	Platform   device.OS
	ClientType string // empty: DefaultClientType
	Posture    []string
	// Destination.
	FQDN  string
	Port  uint16
	Proto string // "tcp" (default) or "udp"
}

// Decision is the answer to a Request.
type Decision struct {
	Allowed    bool
	AccessType AccessType
	// Code is the ZPA code; empty when allowed.
	Code    code.Code
	Segment *Segment // chosen segment, nil if none
	Rule    *Rule    // deciding rule, nil if the default decided
	// Destination is the Registration.ID of the destination client for
	// Client to Client, or "" otherwise.
	Destination string
	// Trace says in order which regex, segment, rule and gate decided, in
	// words an admin understands.
	Trace []string
}
