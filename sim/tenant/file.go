package tenant

import "github.com/c2clab/c2clab/sim/configfile"

// The types in this file are the tenant file's schema, spelled as the ZPA
// API spells its fields. Values that the ZPA API sends as strings but an
// admin may write as numbers or booleans (ports, ruleOrder, enabled,
// negated) are decoded as strings and checked by the loader, so both forms
// are accepted and a bad value gets an error that says what is accepted.

// fileTenant is the whole file.
type fileTenant struct {
	Name                     string        `yaml:"name"`
	ID                       string        `yaml:"id"`
	Description              string        `yaml:"description"`
	ClientHostnameValidation []string      `yaml:"clientHostnameValidation"`
	ImplicitPolicy           string        `yaml:"implicitPolicy"`
	Users                    []fileUser    `yaml:"users"`
	SegmentGroups            []fileGroup   `yaml:"segmentGroups"`
	ServerGroups             []fileGroup   `yaml:"serverGroups"`
	ApplicationSegments      []fileSegment `yaml:"applicationSegments"`
	Rules                    []fileRule    `yaml:"rules"`
	// Application and PolicySet are the bodies of ZPA's
	// GET .../application and GET .../policySet/policyType/ACCESS_POLICY,
	// pasted as they are: fields the lab does not model are ignored there
	// (and only there).
	Application configfile.Lax[fileApplicationPage] `yaml:"application"`
	PolicySet   configfile.Lax[filePolicySet]       `yaml:"policySet"`
	Tests       []fileTest                          `yaml:"tests"`
}

type fileUser struct {
	Name   string   `yaml:"name"`
	Groups []string `yaml:"groups"`
	// Identity attributes access rules look at (POL-4). Absent: unknown;
	// present and empty: none (see usersAndGroups).
	IdP            *string             `yaml:"idp"`
	SCIMAttributes map[string][]string `yaml:"scimAttributes"`
	SAMLAttributes map[string][]string `yaml:"samlAttributes"`
	RiskLevel      *string             `yaml:"riskLevel"`
}

// fileGroup is a segment group or a server group. In a ZPA export a server
// group carries many more fields (appConnectorGroups, ...); they are ignored.
type fileGroup struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
}

type fileSegment struct {
	ID          string `yaml:"id"`
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Enabled is nil when absent (which means true).
	Enabled          *string         `yaml:"enabled"`
	DomainNames      []string        `yaml:"domainNames"`
	TCPPortRange     []filePortRange `yaml:"tcpPortRange"`
	UDPPortRange     []filePortRange `yaml:"udpPortRange"`
	TCPPortRanges    []string        `yaml:"tcpPortRanges"`
	UDPPortRanges    []string        `yaml:"udpPortRanges"`
	SegmentGroupID   string          `yaml:"segmentGroupId"`
	SegmentGroupName string          `yaml:"segmentGroupName"`
	ServerGroups     []fileGroup     `yaml:"serverGroups"`
}

type filePortRange struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

// fileApplicationPage is one page of ZPA's application list.
type fileApplicationPage struct {
	TotalPages string        `yaml:"totalPages"`
	List       []fileSegment `yaml:"list"`
}

// filePolicySet is ZPA's policy set of type ACCESS_POLICY.
type filePolicySet struct {
	ID         string     `yaml:"id"`
	Name       string     `yaml:"name"`
	PolicyType string     `yaml:"policyType"`
	Rules      []fileRule `yaml:"rules"`
}

type fileRule struct {
	ID          string `yaml:"id"`
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	RuleOrder   string `yaml:"ruleOrder"`
	Action      string `yaml:"action"`
	Operator    string `yaml:"operator"`
	// Disabled is ZPA's "0"/"1" (or a boolean); a disabled rule is skipped.
	Disabled   string          `yaml:"disabled"`
	Conditions []fileCondition `yaml:"conditions"`
}

type fileCondition struct {
	Operator string        `yaml:"operator"`
	Negated  string        `yaml:"negated"`
	Operands []fileOperand `yaml:"operands"`
}

type fileOperand struct {
	ObjectType string `yaml:"objectType"`
	LHS        string `yaml:"lhs"`
	RHS        string `yaml:"rhs"`
	// Name and IdpID are informational in the ZPA API (the object's display
	// name and the identity provider of a SCIM operand).
	Name  string `yaml:"name"`
	IdpID string `yaml:"idpId"`
}

type fileTest struct {
	Name    string   `yaml:"name"`
	User    string   `yaml:"user"`
	From    string   `yaml:"from"`
	To      string   `yaml:"to"`
	Proto   string   `yaml:"proto"`
	Devices []string `yaml:"devices"`
	Expect  string   `yaml:"expect"`
	Code    string   `yaml:"code"`
}
