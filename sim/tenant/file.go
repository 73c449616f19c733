package tenant

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/c2clab/c2clab/sim/configfile"
	"go.yaml.in/yaml/v3"
)

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
	// Application and PolicySet are saved bodies of ZPA's GET .../application
	// (pages or single segments) and of its access rules (pages of
	// GET .../policySet/rules/policyType/ACCESS_POLICY, single rules, or a
	// policy set that carries rules), pasted as they are: fields the lab
	// does not model are ignored there (and only there), with a warning.
	Application pasted     `yaml:"application"`
	PolicySet   pasted     `yaml:"policySet"`
	Tests       []fileTest `yaml:"tests"`

	// Imported ZPA objects (imp): any saved body, recognized by its shape,
	// and the objects operands refer to, so that ids resolve to names.
	Bodies          pasted       `yaml:"bodies"`
	SCIMGroups      []fileObject `yaml:"scimGroups"`
	SCIMAttributes  []fileObject `yaml:"scimAttributes"`
	SAMLAttributes  []fileObject `yaml:"samlAttributes"`
	IdPs            []fileObject `yaml:"idps"`
	PostureProfiles []fileObject `yaml:"postureProfiles"`
	TrustedNetworks []fileObject `yaml:"trustedNetworks"`
	MachineGroups   []fileObject `yaml:"machineGroups"`

	// pol (POL-5, SEG-9): privileged approvals and the client-to-client
	// IP ranges, as ZPA's API spells them.
	Approvals   []fileApproval `yaml:"approvals"`
	C2CIPRanges []fileIPRange  `yaml:"c2cIpRanges"`
}

// fileObject is an object an operand refers to by id: a SCIM group or
// attribute, a SAML attribute, an IdP, a posture profile, a trusted network
// or a machine group. Each kind uses the fields its ZPA object has:
// postureUdid (posture profiles) and networkId (trusted networks) are what
// the operands' lhs hold; idpId is the IdP of SCIM groups and attributes
// and SAML attributes.
type fileObject struct {
	ID          string `yaml:"id"`
	Name        string `yaml:"name"`
	IdpID       string `yaml:"idpId"`
	PostureUdid string `yaml:"postureUdid"`
	NetworkID   string `yaml:"networkId"`
	SamlName    string `yaml:"samlName"`
}

// fileEntryValue is one lhs/rhs pair of a v2 operand's entryValues.
type fileEntryValue struct {
	LHS string `yaml:"lhs"`
	RHS string `yaml:"rhs"`
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

	// pol (SEG-6, SEG-8): Multimatch and bypass, as the API spells them.
	MatchStyle string `yaml:"matchStyle"`
	BypassType string `yaml:"bypassType"`
}

type filePortRange struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
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
	// ID is the condition's id in the ZPA API; traces name it.
	ID       string        `yaml:"id,omitempty"`
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
	// Values and EntryValues are the v2 API's operand (one objectType,
	// several rhs, or several lhs/rhs pairs); each becomes one operand.
	Values      []string         `yaml:"values"`
	EntryValues []fileEntryValue `yaml:"entryValues"`
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
	// At is when the test's connection is asked for (approvals, POL-5).
	At string `yaml:"at"`
}

// fileApproval is one item of ZPA's GET .../approval; fields the lab does
// not model besides workingHours (status, modifiedTime, ...) are ignored.
type fileApproval struct {
	ID       string   `yaml:"id"`
	EmailIDs []string `yaml:"emailIds"`
	// Applications are full segment objects in ZPA's body; only their id
	// names the segment, so the rest is taken laxly.
	Applications configfile.Lax[[]fileGroup]       `yaml:"applications"`
	StartTime    string                            `yaml:"startTime"`
	EndTime      string                            `yaml:"endTime"`
	WorkingHours configfile.Lax[*fileWorkingHours] `yaml:"workingHours"`
	Status       string                            `yaml:"status"`
	ModifiedTime string                            `yaml:"modifiedTime"`
	CreationTime string                            `yaml:"creationTime"`
	ModifiedBy   string                            `yaml:"modifiedBy"`
}

// fileWorkingHours is an approval's workingHours as ZPA returns it;
// startTimeCron and endTimeCron repeat startTime and endTime (in UTC), so
// they are read laxly and not used.
type fileWorkingHours struct {
	Days      []string `yaml:"days"`
	StartTime string   `yaml:"startTime"`
	EndTime   string   `yaml:"endTime"`
	TimeZone  string   `yaml:"timeZone"`
}

// fileIPRange is a CIDR string or an item of ZPA's GET .../v2/ipRanges,
// taken leniently (only subnetCidr, ipRangeBegin and ipRangeEnd matter).
type fileIPRange struct {
	cidr, begin, end string
}

func (r *fileIPRange) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		r.cidr = n.Value
		return nil
	}
	var m map[string]any
	if err := n.Decode(&m); err != nil {
		return err
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	r.cidr, r.begin, r.end = str("subnetCidr"), str("ipRangeBegin"), str("ipRangeEnd")
	return nil
}

func (r fileIPRange) prefix() (netip.Prefix, error) {
	if r.cidr != "" {
		p, err := netip.ParsePrefix(strings.TrimSpace(r.cidr))
		if err != nil {
			return p, fmt.Errorf("%q is not a CIDR", r.cidr)
		}
		return p.Masked(), nil
	}
	b, err1 := netip.ParseAddr(strings.TrimSpace(r.begin))
	e, err2 := netip.ParseAddr(strings.TrimSpace(r.end))
	if err1 != nil || err2 != nil {
		return netip.Prefix{}, fmt.Errorf("has no subnetCidr and ipRangeBegin %q, ipRangeEnd %q are not addresses", r.begin, r.end)
	}
	for bits := b.BitLen(); bits >= 0; bits-- {
		p, _ := b.Prefix(bits)
		if p.Addr() == b && lastAddr(p) == e {
			return p, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("ipRangeBegin %s to ipRangeEnd %s is not one CIDR block", b, e)
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().AsSlice()
	host := a[:]
	for i := p.Bits(); i < len(host)*8; i++ {
		host[i/8] |= 0x80 >> (i % 8)
	}
	last, _ := netip.AddrFromSlice(host)
	return last
}
