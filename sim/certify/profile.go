// Package certify judges a connector against a certification profile: the
// requirements an agent must (or may) meet, the scenarios that prove them,
// and a report a vendor can submit, with the connector's identity and the
// evidence each scenario recorded. Like the core and extended profiles of
// Kubernetes Gateway API conformance, a mandatory requirement that fails,
// skips or has no scenario denies certification; an optional one is
// reported but does not.
package certify

import "strings"

// Requirement is one requirement of a profile.
type Requirement struct {
	ID        string `json:"id"` // a REQUIREMENTS.md ID, e.g. "HV-2"
	Mandatory bool   `json:"mandatory"`
	// Why says what the agent does for it: the part of the requirement a
	// connector is judged on.
	Why string `json:"why"`
}

// Profile is a named list of requirements.
type Profile struct {
	Name         string        `json:"name"`
	Requirements []Requirement `json:"requirements"`
}

// Connector is the profile that certifies a client connector: what the
// agent reports at registration, the gates it must respect, where it
// delivers, the codes it surfaces and how fast and intact it relays, with
// the agent under test on both ends of every connection and paired with
// the reference agent on either end (CERT-1).
var Connector = Profile{
	Name: "connector",
	Requirements: []Requirement{
		{"HV-2", true, "reports its FQDN so that a matching device is enrolled"},
		{"HV-3", true, "shows its FQDN as Client only when registration succeeded"},
		{"HV-4", true, "reports hostname + primary DNS suffix, a bare hostname without one, nothing when it has nothing"},
		{"HV-5", true, "reports no FQDN when it is not set to collect the hostname"},
		{"HV-6", false, "reports its FQDN so that a duplicate is detected"},
		{"SEG-4", true, "drops a connection to a port its segment lacks, locally, without asking the broker"},
		{"DEV-1", true, "reports its connector version, so an old destination is not available"},
		{"DEV-2", true, "reports a Mac's join state"},
		{"DEV-3", false, "reports hybrid and Azure AD join states"},
		{"DEV-4", true, "reports machine tunnel and login state"},
		{"DEV-5", true, "does not connect with Private Access off"},
		{"DEV-6", true, "shows its FQDN on its status after success"},
		{"EP-1", true, "delivers to the device's interface IP, and reports a refused forward with its code"},
		{"EP-2", true, "carries RDP and SMB to the device's services"},
		{"LOG-1", true, "relays every byte, so the broker's activity record counts them each way"},
		{"LOG-2", true, "surfaces the broker's failure codes to the client side"},
		{"RA-1", false, "carries MSRA to the port of an invitation"},
		{"NET-3", true, "relays intact, at a throughput and round trip no worse than the reference agent's on the same path (docs/CERTIFICATION.md)"},
		{"CERT-1", true, "passes every scenario that carries a connection with the reference agent on the other end, both ways"},
	},
}

// Tags is the godog tag expression that selects the profile's scenarios
// (CERT-1 has none of its own: it is judged from the pairings).
func (p Profile) Tags() string {
	var tags []string
	for _, r := range p.Requirements {
		if r.ID != Interop {
			tags = append(tags, "@"+r.ID)
		}
	}
	return strings.Join(tags, ",")
}

// Requirement returns the profile's entry for id.
func (p Profile) Requirement(id string) (Requirement, bool) {
	for _, r := range p.Requirements {
		if r.ID == id {
			return r, true
		}
	}
	return Requirement{}, false
}
