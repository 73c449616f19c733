package policy

import "strings"

// objKind is how the engine evaluates an operand object type.
type objKind uint8

const (
	kindOther objKind = iota // a type not in the access-policy API's list: never known

	// Values every request has, compared as written.
	kindApp        // the chosen segment's ID
	kindAppGroup   // its segment group
	kindUser       // the user name
	kindClientType // zapp, machine tunnel, ...
	kindPlatform   // the source's OS (lhs), rhs true or false

	// Attributes of the user (Config.Users), unknown for a user not listed.
	kindSCIM      // (attribute, value) pairs
	kindSAML      // (attribute, value) pairs
	kindSCIMGroup // groups
	kindIDP       // the IdP
	kindRisk      // ZIA risk level

	// Attributes of the source device (Request.Device).
	kindPosture        // lhs, rhs true or false
	kindTrustedNetwork // lhs, rhs true or false
	kindCountry        // lhs, rhs true or false
	kindMachineGroup   // rhs

	// kindNotClientConnector: criteria only sources other than a Client
	// Connector have (LOCATION, BRANCH_CONNECTOR_GROUP, ...): none for a
	// Client Connector (zapp or machine tunnel), unknown for others.
	kindNotClientConnector
	// kindChrome: Chrome Enterprise criteria; the lab models no browser,
	// so never known.
	kindChrome

	numKinds
)

// shape says where an operand's value is and whether rhs is a flag.
type shape uint8

const (
	valueInRHS shape = iota // rhs is the value (lhs is "id", an IdP, ...)
	flagInRHS               // lhs is the value, rhs "true" (must have) or "false" (must not)
	pairLHSRHS              // lhs is the attribute, rhs its value
)

// kindInfo is what the engine knows about one kind.
type kindInfo struct {
	shape shape
	// fold: values compare case-insensitively (names and IDs of directory
	// objects, countries, risk levels, platforms); otherwise exactly.
	fold bool
	// attr names what the lab must be told for the kind, for the trace of an
	// undecided answer: the field of users: or of the device profile.
	attr string
}

var kindInfos = [numKinds]kindInfo{
	kindOther:              {valueInRHS, false, "an operand type the lab does not know"},
	kindApp:                {valueInRHS, false, "the segment"},
	kindAppGroup:           {valueInRHS, false, "the segment group"},
	kindUser:               {valueInRHS, false, "the user name"},
	kindClientType:         {valueInRHS, true, "the client type"},
	kindPlatform:           {flagInRHS, true, "the source's platform"},
	kindSCIM:               {pairLHSRHS, true, "the user's SCIM attributes (users[].scimAttributes)"},
	kindSAML:               {pairLHSRHS, false, "the user's SAML attributes (users[].samlAttributes)"},
	kindSCIMGroup:          {valueInRHS, true, "the user's SCIM groups (users[].groups)"},
	kindIDP:                {valueInRHS, true, "the user's IdP (users[].idp)"},
	kindRisk:               {valueInRHS, true, "the user's ZIA risk level (users[].riskLevel)"},
	kindPosture:            {flagInRHS, true, "the source device's posture profiles (posture)"},
	kindTrustedNetwork:     {flagInRHS, true, "the trusted networks the source device is on (trustedNetworks)"},
	kindCountry:            {flagInRHS, true, "the source device's country (country)"},
	kindMachineGroup:       {valueInRHS, true, "the source device's machine group (machineGroup)"},
	kindNotClientConnector: {valueInRHS, true, "a criterion of sources other than a Client Connector"},
	kindChrome:             {valueInRHS, true, "the source's Chrome Enterprise state, which the lab does not model"},
}

// kinds maps every object type of the access-policy API to its kind.
var kinds = map[string]objKind{
	ObjApp: kindApp, ObjAppGroup: kindAppGroup, ObjUser: kindUser, ObjClientType: kindClientType,
	ObjPlatform: kindPlatform, ObjSCIM: kindSCIM, ObjSAML: kindSAML, ObjSCIMGroup: kindSCIMGroup,
	ObjIDP: kindIDP, ObjRiskFactor: kindRisk, ObjPosture: kindPosture, ObjTrustedNetwork: kindTrustedNetwork,
	ObjCountry: kindCountry, ObjMachineGroup: kindMachineGroup,
	ObjLocation: kindNotClientConnector, ObjBranchConnectorGroup: kindNotClientConnector,
	ObjEdgeConnectorGroup: kindNotClientConnector, ObjUserPortal: kindNotClientConnector,
	ObjConsole: kindNotClientConnector, ObjPrivilegePortal: kindNotClientConnector,
	ObjWorkloadTagGroup: kindNotClientConnector,
	ObjChromeEnterprise: kindChrome, ObjChromePosture: kindChrome,
}

func kindOf(objectType string) objKind { return kinds[strings.ToUpper(objectType)] }

// isSegmentKind: the operand depends only on the chosen segment.
func (k objKind) isSegmentKind() bool { return k == kindApp || k == kindAppGroup }

// isSetKind: the request carries a set of values for the kind that may be
// unknown (request.sets).
func (k objKind) isSetKind() bool { return k >= kindSCIM }

// clientConnectorTypes are the client types of a Client Connector source.
func isClientConnector(clientType string) bool {
	return clientType == ClientTypeZapp || clientType == ClientTypeMachineTunnel
}
