// Package policy makes every client-to-client access decision the lab knows:
// hostname validation and device gates at registration, then segment, port,
// access rule and destination checks per connection. It is pure (no I/O) so
// the broker, the source agent (Route), `c2clab explain` and `c2clab check`
// all decide the same way.
//
// An Engine is one tenant: the broker keeps one Engine per organization, so
// no decision crosses organizations (POL-2).
//
// Segments (SEG-3, SEG-6..SEG-8): a name maps to its most specific segment
// (exact FQDN, then pattern domain, then the longest wildcard, sim/domain);
// when that segment is INCLUSIVE (Multimatch) the most specific INCLUSIVE
// segment whose ports include the request is chosen instead. A segment with
// bypassType ALWAYS, or ON_NET while the source is on a trusted network, is
// never carried (CLT_SEGMENT_BYPASSED).
//
// Rules (POL-1, POL-3 revised): in ascending ruleOrder, the first that
// matches decides. A rule's Operator (AND by default) combines its
// conditions; a condition's Operator (OR by default) combines all of its
// operands, whatever their object types, and Negated inverts it; a rule
// without conditions matches every request. So APP and APP_GROUP in one OR
// condition, the shape ZPA returns, match either.
//
// Operands (POL-4): every object type of ZPA's access-policy API is
// evaluated against the user (Config.Users: SCIM groups and attributes, SAML
// attributes, IdP, ZIA risk level), the source device (Request.Device:
// posture, trusted networks, country, machine group; Request.Platform and
// ClientType) and the segment (APP, APP_GROUP); see the Obj constants for
// what lhs and rhs carry. Values meet through Config.Objects, so an operand
// carrying an ID matches a user or device that names the object. An
// attribute the question does not describe is unknown (the zero Attr), and
// evaluation is three-valued: when the first rule that is not false needs an
// unknown attribute, the verdict is undecided (BRK_MT_SETUP_FAIL_POLICY_UNDECIDED,
// Decision.Undecided names the rule and the attribute), never a confident
// allow or deny. Criteria only other sources have (LOCATION,
// BRANCH_CONNECTOR_GROUP, ...) are none for a Client Connector; Chrome
// criteria and types the API does not list are never known.
//
// REQUIRE_APPROVAL (POL-5) allows only while one of Config.Approvals for the
// user and segment is in force at Request.Time
// (BRK_MT_SETUP_FAIL_APPROVAL_REQUIRED otherwise; undecided without a time).
//
// POL-2, the lab's reading: client-to-client is open to every user of the
// organization while no access rule applies to the segment (no rule whose
// APP/APP_GROUP criteria can match it, and no rule without such criteria).
// Once some rule applies, a request that no rule matches meets ZPA's
// implicit block (BRK_MT_SETUP_FAIL_NO_POLICY_FOUND), as it always does for
// a segment with server groups or when Config.ImplicitBlock is set.
package policy

import (
	"net/netip"
	"time"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/device"
)

// Action is an access rule's action, spelled as the ZPA API spells it.
type Action string

const (
	Allow Action = "ALLOW"
	Deny  Action = "DENY"
	// RequireApproval allows only while an approval for the user and the
	// segment is in force (POL-5), and denies otherwise.
	RequireApproval Action = "REQUIRE_APPROVAL"
)

// AccessType is the User Activity log's Access Type.
type AccessType string

const (
	ClientToClient AccessType = "Client to Client"
	ClientToServer AccessType = "Client to Server"
)

// Operand object types, as the ZPA access-policy API names them (POL-4).
// The list is the Terraform provider's (zscaler/terraform-provider-zpa,
// zpa/resource_zpa_policy_access_rule_v2.go and zpa/common.go). The comment
// says what LHS and RHS carry in a v1 operand.
const (
	ObjApp        = "APP"         // lhs "id", rhs: segment ID
	ObjAppGroup   = "APP_GROUP"   // lhs "id", rhs: segment group ID
	ObjUser       = "USER"        // lab extension (and old ZPA exports): rhs user name
	ObjSCIM       = "SCIM"        // lhs: SCIM attribute header ID, rhs: value, idpId: the IdP
	ObjSCIMGroup  = "SCIM_GROUP"  // lhs: IdP ID, rhs: SCIM group ID
	ObjSAML       = "SAML"        // lhs: SAML attribute ID, rhs: value
	ObjIDP        = "IDP"         // lhs "id", rhs: IdP ID
	ObjClientType = "CLIENT_TYPE" // lhs "id", rhs: e.g. zpn_client_type_zapp
	ObjPlatform   = "PLATFORM"    // lhs: windows|mac|linux|ios|android, rhs "true"
	ObjPosture    = "POSTURE"     // lhs: posture profile UDID, rhs "true"|"false"
	// ObjTrustedNetwork: lhs: trusted network ID (networkId), rhs "true"|"false".
	ObjTrustedNetwork = "TRUSTED_NETWORK"
	ObjMachineGroup   = "MACHINE_GRP"  // lhs "id", rhs: machine group ID
	ObjCountry        = "COUNTRY_CODE" // lhs: ISO 3166-1 alpha-2, rhs "true"
	// ObjRiskFactor: lhs "ZIA", rhs UNKNOWN|LOW|MEDIUM|HIGH|CRITICAL.
	ObjRiskFactor           = "RISK_FACTOR_TYPE"
	ObjLocation             = "LOCATION"               // lhs "id", rhs: ZIA location ID
	ObjBranchConnectorGroup = "BRANCH_CONNECTOR_GROUP" // lhs "id", rhs: group ID
	ObjEdgeConnectorGroup   = "EDGE_CONNECTOR_GROUP"   // lhs "id", rhs: Cloud Connector group ID
	ObjChromeEnterprise     = "CHROME_ENTERPRISE"      // lhs "managed", rhs "true"|"false"
	ObjChromePosture        = "CHROME_POSTURE_PROFILE" // lhs "id", rhs: profile ID
	ObjUserPortal           = "USER_PORTAL"            // lhs "id", rhs: user portal ID
	ObjConsole              = "CONSOLE"                // lhs "id", rhs: PRA console ID
	ObjPrivilegePortal      = "PRIVILEGE_PORTAL"       // lhs "id", rhs: PRA portal ID
	ObjWorkloadTagGroup     = "WORKLOAD_TAG_GROUP"     // lhs "id", rhs: tag group ID
)

// Client types (CLIENT_TYPE rhs) the lab's sources have.
const (
	// ClientTypeZapp is a Client Connector with a user logged in.
	ClientTypeZapp = "zpn_client_type_zapp"
	// ClientTypeMachineTunnel is a Client Connector's machine tunnel: the
	// connection comes from the device with no user logged in.
	ClientTypeMachineTunnel = "zpn_client_type_machine_tunnel"
)

// DefaultClientType is the CLIENT_TYPE of a Client Connector.
const DefaultClientType = ClientTypeZapp

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
	// Users are what the IdP and the SCIM directory say about each user
	// (POL-4). A user not listed has every identity attribute unknown.
	Users []User
	// Objects are what operands point at by ID (IdPs, SCIM groups and
	// attributes, SAML attributes, posture profiles, trusted networks,
	// machine groups, ...), so that an operand's ID and a name written in
	// users: or a device profile meet, and traces show names.
	Objects []Object
	// Approvals are the privileged approvals REQUIRE_APPROVAL rules look
	// for (POL-5).
	Approvals []Approval
	// C2CIPRanges are the tenant's client-to-client IP ranges (the API's
	// c2cIpRanges): with client IP assignment each enrolled device gets an
	// address from them (SEG-9).
	C2CIPRanges []netip.Prefix
}

// Attr is one attribute of a user or device that may be unknown (POL-4).
// The zero value is unknown: the profile or users: entry does not say.
// Known with no Values is "none": it says there is none.
type Attr struct {
	Known  bool
	Values []string
}

// Known returns a known Attr with the values vs (none if vs is empty).
func Known(vs ...string) Attr {
	if len(vs) == 0 {
		vs = nil
	}
	return Attr{Known: true, Values: vs}
}

// Attrs is a set of named, multi-valued attributes (a SAML assertion, a
// SCIM user): the zero value is unknown as a whole; when Known, a name
// missing from Values has no value. Names are the attribute's ID or name
// (see Object); both work.
type Attrs struct {
	Known  bool
	Values map[string][]string
}

// User is one user as the IdP and the SCIM directory describe them: what
// SAML, SCIM, SCIM_GROUP, IDP and RISK_FACTOR_TYPE operands look at.
type User struct {
	Name string
	// IdP is the IdP the user signs in with (ID or name), at most one value.
	IdP Attr
	// Groups are the SCIM groups (IDs or names).
	Groups Attr
	// SCIM are the SCIM attributes; SAML the SAML assertion's attributes.
	SCIM, SAML Attrs
	// Risk is ZIA's user risk level: UNKNOWN, LOW, MEDIUM, HIGH or
	// CRITICAL. ZIA's "UNKNOWN" is a value; the zero Attr is the lab not
	// knowing.
	Risk Attr
}

// Object is one thing operands point at. Type is the operand ObjectType it
// serves (IDP, SCIM_GROUP, SCIM for a SCIM attribute header, SAML for a
// SAML attribute, POSTURE, TRUSTED_NETWORK, MACHINE_GRP, LOCATION, ...).
// ID is the value the operand carries (see the Obj constants: rhs for IDP,
// SCIM_GROUP, MACHINE_GRP; lhs for SCIM, SAML, POSTURE (the posture UDID),
// TRUSTED_NETWORK (the networkId)). Aliases are other spellings that mean
// the same object (another ID the API gives it, samlName, ...): the engine
// maps ID, Name and Aliases to one key per Type.
type Object struct {
	Type    string
	ID      string
	Name    string
	Aliases []string
	// IdpID is the IdP of a SCIM group, SCIM attribute or SAML attribute.
	IdpID string
}

// Approval is a privileged approval (ZPA's /approval): the users
// (emailIds) may reach the segments (applications[].id) between Start and
// End (POL-5).
type Approval struct {
	ID       string
	Emails   []string
	Segments []string
	Start    time.Time
	End      time.Time
	// Hours, if set, narrows the approval to working hours (ZPA's
	// workingHours); nil means all day, every day between Start and End.
	Hours *WorkingHours
}

// WorkingHours is ZPA's workingHours of an approval: the days (MON ... SUN)
// and the local time of day, From up to To ("HH:MM"), in TimeZone (an IANA
// name such as Europe/Berlin). A To at or before From runs past midnight
// into the next day. ZPA also sends the same hours as startTimeCron and
// endTimeCron; the lab reads these fields, which say it plainly.
type WorkingHours struct {
	Days     []string
	From, To string
	TimeZone string
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
	// MatchStyle is "EXCLUSIVE" (the default when empty, SEG-3) or
	// "INCLUSIVE" (Multimatch, SEG-6).
	MatchStyle string
	// BypassType is "NEVER" (the default when empty), "ALWAYS" or
	// "ON_NET" (SEG-8).
	BypassType string
	// Addrs are the IP addresses and CIDRs of domainNames (SEG-9).
	Addrs []netip.Prefix
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

// Condition is a group of operands, combined by Operator over all of them
// (POL-3 revised), then inverted when Negated.
type Condition struct {
	// ID is the condition's id in the ZPA API, for traces; "" when the
	// tenant file gives none.
	ID       string
	Operator string // "OR" (default) or "AND"
	Negated  bool
	Operands []Operand
}

// Operand is one criterion, as in the ZPA API.
type Operand struct {
	ObjectType string
	LHS, RHS   string
	// IdpID is the IdP of a SCIM or SCIM_GROUP operand, as the API gives it.
	IdpID string
	// Name is the display name of what the operand points at (the API's
	// name, or the Object it resolves to), for traces; it never decides.
	Name string
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
	// Posture is Device.Posture's values, for User Status.
	Posture []string
	// ClientType is what the connector reports; empty: derived (a machine
	// tunnel without a logged-in user is zpn_client_type_machine_tunnel,
	// otherwise zpn_client_type_zapp).
	ClientType string
	// Device is what access rules look at on this device when it is the
	// source (POL-4).
	Device DeviceAttrs
}

// DeviceAttrs is what the source's connector reports that access rule
// operands look at (POL-4); each zero Attr is unknown.
type DeviceAttrs struct {
	// Posture: the posture profiles (UDIDs or names) the device satisfies.
	Posture Attr
	// TrustedNetworks: the trusted networks (network IDs or names) the
	// device is on.
	TrustedNetworks Attr
	// Country: ISO 3166-1 alpha-2 code of where the device connects from.
	Country Attr
	// MachineGroup: the machine group (ID or name) of the device's machine
	// tunnel.
	MachineGroup Attr
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
	// ClientIP is the device's address from the tenant's client-to-client
	// IP ranges (SEG-9); invalid when the tenant has none or the device is
	// not available.
	ClientIP netip.Addr
	Trace    []string
}

// Request is one connection attempt.
type Request struct {
	// Source identity.
	User       string
	Platform   device.OS
	ClientType string // empty: DefaultClientType
	// Device is the source device's attributes (POL-4).
	Device DeviceAttrs
	// Time is when the connection is asked for: an approval must be in
	// force then (POL-5). Zero is unknown.
	Time time.Time
	// Destination.
	FQDN  string
	Port  uint16
	Proto string // "tcp" (default) or "udp"
	// TraceMisses adds a trace line for every rule evaluated that did not
	// match, naming the condition and operands that failed (explain and
	// check ask for it; the broker does not, so its decisions pay nothing).
	TraceMisses bool
}

// Decision is the answer to a Request.
type Decision struct {
	Allowed bool
	// Verdict is allowed, denied or undecided (POL-4): undecided is
	// neither, and Allowed is then false.
	Verdict Verdict
	// Undecided names the rule and the attribute when Verdict is
	// VerdictUndecided.
	Undecided  *Undecided
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

// Verdict is a decision's outcome.
type Verdict string

const (
	VerdictAllowed Verdict = "allowed"
	VerdictDenied  Verdict = "denied"
	// VerdictUndecided: a rule needs an attribute the question does not
	// describe and no earlier rule decided (POL-4). It carries
	// code.BrkPolicyUndecided.
	VerdictUndecided Verdict = "undecided"
)

// Undecided says which rule needed which unknown attribute.
type Undecided struct {
	Rule *Rule
	// ObjectType is the operand type, e.g. COUNTRY_CODE.
	ObjectType string
	// Attribute says what is unknown, e.g. "the source device's country (country)".
	Attribute string
}
