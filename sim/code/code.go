// Package code defines the status codes the lab reports, spelled as ZPA spells
// them so that an admin recognises them, plus the few the lab adds where ZPA
// documents none (marked Lab in their Info).
package code

import "fmt"

// Code is a ZPA-style status code such as "C2C_CLIENT_NOT_FOUND".
// The zero value means "no error".
type Code string

// Registration codes: the User Status field FQDNRegisteredError (HV-1..HV-6).
const (
	FQDNMatch        Code = "FQDN_MATCH"
	FQDNNoMatch      Code = "FQDN_NO_MATCH"
	FQDNEmpty        Code = "FQDN_EMPTY"
	FQDNBadRegex     Code = "FQDN_BAD_REGEX"
	FQDNTooManyRegex Code = "FQDN_TOO_MANY_REGEX"
	FQDNNoEntries    Code = "FQDN_NO_ENTRIES"
	// FQDNDuplicate is the lab's code for HV-6: another enrolled device
	// already holds this FQDN; the first keeps it.
	FQDNDuplicate Code = "FQDN_DUPLICATE"
)

// Connection codes: the User Activity field InternalReason (LOG-2).
const (
	C2CClientNotFound        Code = "C2C_CLIENT_NOT_FOUND"
	C2CNotAvailable          Code = "C2C_NOT_AVAILABLE"
	C2CMtunnelFailedForward  Code = "C2C_MTUNNEL_FAILED_FORWARD"
	C2CClientConnExpired     Code = "C2C_CLIENT_CONN_EXPIRED"
	BrkRejectedByPolicy      Code = "BRK_MT_SETUP_FAIL_REJECTED_BY_POLICY"
	BrkNoPolicyFound         Code = "BRK_MT_SETUP_FAIL_NO_POLICY_FOUND"
	C2CVersionUnsupported    Code = "C2C_CLIENT_VERSION_UNSUPPORTED"
	C2CMacNotDomainJoined    Code = "C2C_MAC_NOT_DOMAIN_JOINED"
	BrkAppNotFound           Code = "BRK_MT_SETUP_FAIL_APP_NOT_FOUND"
	BrkPortNotInSegment      Code = "BRK_MT_SETUP_FAIL_PORT_NOT_IN_SEGMENT"
	CltPortNotInSegment      Code = "CLT_PORT_NOT_IN_SEGMENT"
	CltPrivateAccessDisabled Code = "CLT_PRIVATE_ACCESS_DISABLED"
	AstMtunnelFailedForward  Code = "AST_MT_SETUP_ERR_OPEN_SERVER_ERROR"
	BrkMtSetupTimeout        Code = "BRK_MT_SETUP_TIMEOUT"
	MtClosedTerminated       Code = "MT_CLOSED_TERMINATED"
	BrkProtocolError         Code = "BRK_PROTOCOL_ERROR"
	// MtClosedTLSConnGoneClientClosed: the source's session with the broker
	// was gone before the broker could answer its connect.
	MtClosedTLSConnGoneClientClosed Code = "MT_CLOSED_TLS_CONN_GONE_CLIENT_CLOSED"
	// BrkCannotSendMtComplete: both data connections arrived but the broker
	// could not send one of them the pairing answer.
	BrkCannotSendMtComplete Code = "BRK_MT_SETUP_FAIL_CANNOT_SEND_MT_COMPLETE"
	// CltNoBrokerSession: the source agent had no registered session with
	// the broker in time and dropped the connection locally.
	CltNoBrokerSession Code = "CLT_NO_BROKER_SESSION"
	// CltSegmentBypassed: the segment's bypassType makes the source send
	// the connection direct, outside Private Access (SEG-8).
	CltSegmentBypassed Code = "CLT_SEGMENT_BYPASSED"
	// BrkPolicyUndecided: an access rule needs an attribute of the user or
	// device that the lab is not told, and no earlier rule decided (POL-4).
	BrkPolicyUndecided Code = "BRK_MT_SETUP_FAIL_POLICY_UNDECIDED"
	// BrkApprovalRequired: a REQUIRE_APPROVAL rule matched and no approval
	// for the user and segment is in force (POL-5).
	BrkApprovalRequired Code = "BRK_MT_SETUP_FAIL_APPROVAL_REQUIRED"
)

// Codes above marked Lab in their Info are the lab's own, named in ZPA's style
// because ZPA's public documentation lists no code for the condition.

// Info describes a code for documentation and traces.
type Info struct {
	Code Code
	// Lab is true for codes the lab adds because ZPA documents none.
	Lab bool
	// Meaning is one sentence an admin understands.
	Meaning string
	// Requirement is the REQUIREMENTS.md ID the code proves, if any.
	Requirement string
}

var infos = []Info{
	{FQDNMatch, false, "The device's reported FQDN matches the tenant's client hostname validation regex.", "HV-2"},
	{FQDNNoMatch, false, "The device's reported FQDN does not match the tenant's client hostname validation regex.", "HV-2"},
	{FQDNEmpty, false, "The device reported no FQDN (hostname collection off, or nothing to report).", "HV-4"},
	{FQDNBadRegex, false, "The tenant's client hostname validation regex does not compile; no device is enrolled.", "HV-1"},
	{FQDNTooManyRegex, false, "The tenant has more than one client hostname validation regex; no device is enrolled.", "HV-1"},
	{FQDNNoEntries, false, "The tenant has no client hostname validation regex; no device is enrolled.", "HV-1"},
	{FQDNDuplicate, true, "Another enrolled device already holds this FQDN; the first registration keeps it.", "HV-6"},
	{C2CClientNotFound, false, "No enrolled client of this organization holds the requested FQDN.", "LOG-2"},
	{C2CNotAvailable, false, "The destination client is enrolled but cannot take client-to-client connections now.", "DEV-4"},
	{C2CMtunnelFailedForward, false, "The destination client could not forward the connection to the local service at its interface IP.", "EP-1"},
	{C2CClientConnExpired, false, "The destination client's connection to the broker expired before the connection was set up.", "LOG-2"},
	{BrkRejectedByPolicy, false, "An access policy rule with action DENY matched the request.", "POL-1"},
	{BrkNoPolicyFound, false, "No access policy allows the request (implicit block, or the segment is disabled).", "SEG-5"},
	{C2CVersionUnsupported, true, "The destination's Client Connector is older than the minimum for its OS (Windows 3.9.0.169, Linux 1.4, macOS 3.7).", "DEV-1"},
	{C2CMacNotDomainJoined, true, "The destination is a Mac that is not domain-joined.", "DEV-2"},
	{BrkAppNotFound, true, "No application segment covers the requested FQDN.", "SEG-3"},
	{BrkPortNotInSegment, true, "The chosen segment does not include the requested port (a conforming source agent drops this locally).", "SEG-4"},
	{CltPortNotInSegment, true, "The source agent dropped the connection locally: the chosen segment does not include the port.", "SEG-4"},
	{CltPrivateAccessDisabled, true, "The source agent has Private Access disabled and does not intercept.", "DEV-5"},
	{AstMtunnelFailedForward, true, "The App Connector could not open a connection to the application server.", "SEG-2"},
	{BrkMtSetupTimeout, true, "Connection setup did not complete in time.", ""},
	{MtClosedTerminated, true, "The connection ended normally.", "LOG-1"},
	{BrkProtocolError, true, "A peer sent a malformed or out-of-order protocol message.", ""},
	{MtClosedTLSConnGoneClientClosed, false, "The source Client Connector's session with the broker was gone before the broker could answer its connection request.", "LOG-1"},
	{BrkCannotSendMtComplete, false, "Both sides' data connections arrived, but the broker could not send one of them the pairing answer; nothing was relayed.", "LOG-1"},
	{CltSegmentBypassed, true, "The chosen segment's bypassType is ALWAYS, or ON_NET while the source is on a trusted network: the source's Client Connector sends the connection direct, outside Private Access, so there is no client-to-client through it.", "SEG-8"},
	{BrkPolicyUndecided, true, "An access rule needs an attribute of the user or device (country, SAML attribute, posture, ...) that the lab is not told, and no earlier rule decided: the lab cannot say what ZPA would decide, so it refuses rather than guess.", "POL-4"},
	{BrkApprovalRequired, true, "The matching access rule's action is REQUIRE_APPROVAL and no approval for this user and segment is in force now.", "POL-5"},
	{CltNoBrokerSession, true, "The source agent had no registered session with the broker within the connect timeout and dropped the connection locally; nothing reached the broker.", ""},
}

var byCode = func() map[Code]Info {
	m := make(map[Code]Info, len(infos))
	for _, i := range infos {
		m[i.Code] = i
	}
	return m
}()

// All returns every known code with its description, in documentation order.
func All() []Info { return append([]Info(nil), infos...) }

// Lookup returns the description of c and whether c is known.
func Lookup(c Code) (Info, bool) {
	i, ok := byCode[c]
	return i, ok
}

// Known reports whether c is a code the lab defines.
func (c Code) Known() bool { _, ok := byCode[c]; return ok }

// Error makes a Code usable as an error value that callers can match with errors.Is.
func (c Code) Error() string { return string(c) }

// Err wraps c with detail so that errors.Is(err, c) holds.
func Err(c Code, format string, args ...any) error {
	return fmt.Errorf("%w: %s", c, fmt.Sprintf(format, args...))
}
