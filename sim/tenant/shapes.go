package tenant

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A saved ZPA API response is recognized by its shape, never by the name
// of the file it was saved in: a page is a mapping with list (and
// totalPages, totalCount), anything else one object, and an object's kind
// follows from the fields only that kind of object has. The shapes follow
// the responses recorded in Zscaler's SDK integration tests
// (zscaler/zscaler-sdk-python tests/integration/zpa/cassettes/*.yaml) and
// the JSON tags of zscaler/zscaler-sdk-go zpa/services/*.

// bodyKind is what a saved object is.
type bodyKind int

const (
	kindUnknown bodyKind = iota
	kindApplication
	kindSegmentGroup
	kindServerGroup
	kindRule
	kindPolicySet
	kindSCIMGroup
	kindSCIMAttribute
	kindSCIMValues
	kindSAMLAttribute
	kindIdP
	kindPosture
	kindTrustedNetwork
	kindMachineGroup
	kindIPRange
	kindApproval
)

// kindInfo names a kind as an admin knows it and says where its bodies
// come from (paths under https://config.private.zscaler.com, or the
// OneAPI's /zpa prefix).
type kindInfo struct {
	what     string // "application segment"
	endpoint string
	// section is the tenant file's section for objects of this kind.
	section string
}

var kinds = map[bodyKind]kindInfo{
	kindUnknown:        {"unrecognized object", "", ""},
	kindApplication:    {"application segment", "GET /mgmtconfig/v1/admin/customers/{customerId}/application", "applicationSegments"},
	kindSegmentGroup:   {"segment group", "GET /mgmtconfig/v1/admin/customers/{customerId}/segmentGroup", "segmentGroups"},
	kindServerGroup:    {"server group", "GET /mgmtconfig/v1/admin/customers/{customerId}/serverGroup", "serverGroups"},
	kindRule:           {"access rule", "GET /mgmtconfig/v1/admin/customers/{customerId}/policySet/rules/policyType/ACCESS_POLICY", "rules"},
	kindPolicySet:      {"access policy set", "GET /mgmtconfig/v1/admin/customers/{customerId}/policySet/policyType/ACCESS_POLICY", ""},
	kindSCIMGroup:      {"SCIM group", "GET /userconfig/v1/customers/{customerId}/scimgroup/idpId/{idpId}", "scimGroups"},
	kindSCIMAttribute:  {"SCIM attribute", "GET /mgmtconfig/v1/admin/customers/{customerId}/idp/{idpId}/scimattribute", "scimAttributes"},
	kindSCIMValues:     {"SCIM attribute value", "GET /userconfig/v1/customers/{customerId}/scimattribute/idpId/{idpId}/attributeId/{attributeId}", ""},
	kindSAMLAttribute:  {"SAML attribute", "GET /mgmtconfig/v2/admin/customers/{customerId}/samlAttribute", "samlAttributes"},
	kindIdP:            {"identity provider", "GET /mgmtconfig/v2/admin/customers/{customerId}/idp", "idps"},
	kindPosture:        {"posture profile", "GET /mgmtconfig/v2/admin/customers/{customerId}/posture", "postureProfiles"},
	kindTrustedNetwork: {"trusted network", "GET /mgmtconfig/v2/admin/customers/{customerId}/network", "trustedNetworks"},
	kindMachineGroup:   {"machine group", "GET /mgmtconfig/v1/admin/customers/{customerId}/machineGroup", "machineGroups"},
	kindIPRange:        {"client-to-client IP range", "GET /mgmtconfig/v1/admin/customers/{customerId}/v2/ipRanges", "c2cIpRanges"},
	kindApproval:       {"privileged approval", "GET /mgmtconfig/v1/admin/customers/{customerId}/approval", "approvals"},
}

// ownSection: kinds whose objects another part of the loader reads from
// their own section (c2cIpRanges:, approvals:), not from bodies:.
func ownSection(k bodyKind) bool { return k == kindIPRange || k == kindApproval }

func (k bodyKind) String() string { return kinds[k].what }

// a is the kind with its article: "an application segment".
func (k bodyKind) a() string {
	if w := kinds[k].what; strings.ContainsRune("aeiou", rune(w[0])) {
		return "an " + w
	}
	return "a " + kinds[k].what
}

// marks are the fields that only one kind of object has, tried in order:
// the first kind with one of its marks present wins. A rule is tried
// first because it carries policyType too; an application before the
// groups because a segment group's applications hold applications.
var marks = []struct {
	kind   bodyKind
	fields []string
}{
	{kindRule, []string{"action", "conditions", "ruleOrder", "policySetId"}},
	{kindPolicySet, []string{"policyType", "sorted", "rules"}},
	{kindApplication, []string{"domainNames", "tcpPortRanges", "tcpPortRange", "udpPortRanges", "udpPortRange", "segmentGroupId", "bypassType"}},
	{kindServerGroup, []string{"appConnectorGroups", "servers", "dynamicDiscovery"}},
	{kindIPRange, []string{"ipRangeBegin", "ipRangeEnd", "subnetCidr"}},
	{kindApproval, []string{"emailIds", "workingHours"}},
	{kindSegmentGroup, []string{"applications", "tcpKeepAliveEnabled", "policyMigrated"}},
	{kindSCIMGroup, []string{"internalId", "idpGroupId"}},
	{kindSCIMAttribute, []string{"schemaURI", "dataType", "canonicalValues"}},
	{kindSAMLAttribute, []string{"samlName", "userAttribute"}},
	{kindIdP, []string{"idpEntityId", "loginUrl", "ssoType", "certificates", "scimEnabled"}},
	{kindPosture, []string{"postureUdid"}},
	{kindTrustedNetwork, []string{"networkId"}},
	{kindMachineGroup, []string{"machines"}},
}

// genericFields are the fields every ZPA object may have. A machine group
// has nothing else (zscaler-sdk-python TestMachineGroups.yaml), so an
// object of only these fields is taken as one.
var genericFields = []string{"id", "name", "description", "enabled", "creationTime", "modifiedTime",
	"modifiedBy", "readOnly", "zscalerManaged", "microtenantId", "microtenantName"}

// pageFields are the fields of a page of a paged GET.
var pageFields = []string{"totalPages", "totalCount", "currentCount", "list"}

// objectKind recognizes one object by its fields.
func objectKind(n *yaml.Node) bodyKind {
	if n.Kind != yaml.MappingNode {
		return kindUnknown
	}
	keys := mappingKeys(n)
	for _, m := range marks {
		for _, f := range m.fields {
			if slices.Contains(keys, f) {
				return m.kind
			}
		}
	}
	for _, k := range keys {
		if !slices.Contains(genericFields, k) {
			return kindUnknown
		}
	}
	if slices.Contains(keys, "id") {
		return kindMachineGroup
	}
	return kindUnknown
}

// isPage reports whether n is a page of a paged GET: a mapping with list,
// or with nothing but the page's counts (ZPA leaves list out of an empty
// page).
func isPage(n *yaml.Node) bool {
	if n.Kind != yaml.MappingNode {
		return false
	}
	keys := mappingKeys(n)
	if slices.Contains(keys, "list") {
		return true
	}
	for _, k := range keys {
		if !slices.Contains(pageFields, k) {
			return false
		}
	}
	return len(keys) > 0
}

func mappingKeys(n *yaml.Node) []string {
	keys := make([]string, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		keys = append(keys, n.Content[i].Value)
	}
	return keys
}

// mappingValue returns the value of key in the mapping n, or nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// shapeOf describes what a node looks like, for errors about a body the
// lab does not recognize.
func shapeOf(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		keys := mappingKeys(n)
		if len(keys) > 8 {
			keys = append(keys[:8], "...")
		}
		return fmt.Sprintf("a mapping with fields %s", strings.Join(keys, ", "))
	case yaml.SequenceNode:
		return fmt.Sprintf("a list of %d entries", len(n.Content))
	case yaml.AliasNode:
		return "an alias"
	}
	return fmt.Sprintf("the value %q", n.Value)
}

// recognizedShapes lists what a body may be, for the same errors.
const recognizedShapes = "a page {totalPages, totalCount, list} or one object of GET /application, /segmentGroup, " +
	"/serverGroup, /policySet/rules/policyType/ACCESS_POLICY, /policySet/{id}/rule/{ruleId}, " +
	"/scimgroup, /scimattribute, /samlAttribute, /idp, /posture, /network or /machineGroup, or a list of these"
