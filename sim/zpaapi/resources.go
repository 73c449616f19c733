package zpaapi

import (
	"fmt"
	"net/url"
	"strings"
)

// Resource is one collection `tenant pull` fetches. Paths are those of
// zscaler-sdk-go zscaler/zpa/services/<package> (named per entry) without
// the OneAPI "/zpa" prefix; {customerId} and {idpId} are filled in.
type Resource struct {
	// Name is the stem of the file its bodies are written to.
	Name string
	Path string
	// Paged collections answer {totalPages, totalCount, list} and take
	// page and pagesize; the others answer one body.
	Paged bool
	// PerIdP collections are fetched once for each IdP of the idp list.
	PerIdP bool
	// Optional collections may be refused (403, 404) on tenants without
	// the feature; that is reported in Result.Skipped, not an error.
	Optional bool
}

// Resources is every collection `tenant pull` fetches, in order (idp before
// the collections that need its IDs).
var Resources = []Resource{
	{Name: "application", Path: "/mgmtconfig/v1/admin/customers/{customerId}/application", Paged: true},                                      // applicationsegment
	{Name: "segmentGroup", Path: "/mgmtconfig/v1/admin/customers/{customerId}/segmentGroup", Paged: true},                                    // segmentgroup
	{Name: "serverGroup", Path: "/mgmtconfig/v1/admin/customers/{customerId}/serverGroup", Paged: true},                                      // servergroup
	{Name: "policySet.ACCESS_POLICY", Path: "/mgmtconfig/v1/admin/customers/{customerId}/policySet/policyType/ACCESS_POLICY"},                // policysetcontroller GetByPolicyType
	{Name: "rules.ACCESS_POLICY", Path: "/mgmtconfig/v1/admin/customers/{customerId}/policySet/rules/policyType/ACCESS_POLICY", Paged: true}, // policysetcontroller GetAllByType
	{Name: "idp", Path: "/mgmtconfig/v2/admin/customers/{customerId}/idp", Paged: true},                                                      // idpcontroller GetAll
	{Name: "scimgroup", Path: "/userconfig/v1/customers/{customerId}/scimgroup/idpId/{idpId}", Paged: true, PerIdP: true},                    // scimgroup GetAllByIdpId
	{Name: "scimattribute", Path: "/mgmtconfig/v1/admin/customers/{customerId}/idp/{idpId}/scimattribute", Paged: true, PerIdP: true},        // scimattributeheader GetAllByIdpId
	{Name: "samlAttribute", Path: "/mgmtconfig/v2/admin/customers/{customerId}/samlAttribute", Paged: true},                                  // samlattribute GetAll
	{Name: "posture", Path: "/mgmtconfig/v2/admin/customers/{customerId}/posture", Paged: true},                                              // postureprofile GetAll
	{Name: "network", Path: "/mgmtconfig/v2/admin/customers/{customerId}/network", Paged: true},                                              // trustednetwork GetAll
	{Name: "machineGroup", Path: "/mgmtconfig/v1/admin/customers/{customerId}/machineGroup", Paged: true},                                    // machinegroup GetAll
	{Name: "approval", Path: "/mgmtconfig/v1/admin/customers/{customerId}/approval", Paged: true, Optional: true},                            // privilegedremoteaccess/praapproval GetAll
	{Name: "ipRanges", Path: "/mgmtconfig/v1/admin/customers/{customerId}/v2/ipRanges", Optional: true},                                      // c2c_ip_ranges GetAll: a JSON array
}

// path fills in the placeholders; the IdP ID comes from an API answer and
// is escaped so it stays one path segment.
func (r Resource) path(customerID, idpID string) string {
	p := strings.ReplaceAll(r.Path, "{customerId}", url.PathEscape(customerID))
	return strings.ReplaceAll(p, "{idpId}", url.PathEscape(idpID))
}

// File is the name a body of r is written under:
// <name>[.idp-<idpId>][.page-<n>].json. Page 0 means an unpaged body.
func (r Resource) File(idpID string, page int) string {
	var b strings.Builder
	b.WriteString(r.Name)
	if r.PerIdP {
		b.WriteString(".idp-" + idpID)
	}
	if r.Paged {
		fmt.Fprintf(&b, ".page-%d", page)
	}
	b.WriteString(".json")
	return b.String()
}
