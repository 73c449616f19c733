// Package certify judges a connector against a certification profile: the
// requirements an agent must (or may) meet, the scenarios that prove them,
// and a report a vendor can submit, with the connector's identity and the
// evidence each scenario recorded. Like the core and extended profiles of
// Kubernetes Gateway API conformance, a mandatory requirement that fails,
// skips or has no scenario denies certification; an optional one is
// reported but does not.
package certify

import (
	"slices"
	"strings"
)

// Requirement is one requirement of a profile.
type Requirement struct {
	ID        string `json:"id"` // a REQUIREMENTS.md ID, e.g. "HV-2"
	Mandatory bool   `json:"mandatory"`
	// Why says what the agent does for it: the part of the requirement a
	// connector is judged on.
	Why string `json:"why"`
	// Only, when set, is a tag (with "@") a scenario must carry besides
	// "@ID" to count for the requirement here: the profile takes the part
	// of a broader requirement that is about the agent.
	Only string `json:"only,omitempty"`
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
		{ID: "HV-2", Mandatory: true, Why: "reports its FQDN so that a matching device is enrolled"},
		{ID: "HV-3", Mandatory: true, Why: "shows its FQDN as Client only when registration succeeded"},
		{ID: "HV-4", Mandatory: true, Why: "reports hostname + primary DNS suffix, a bare hostname without one, nothing when it has nothing"},
		{ID: "HV-5", Mandatory: true, Why: "reports no FQDN when it is not set to collect the hostname"},
		{ID: "HV-6", Mandatory: false, Why: "reports its FQDN so that a duplicate is detected"},
		{ID: "SEG-4", Mandatory: true, Why: "drops a connection to a port its segment lacks, locally, without asking the broker"},
		{ID: "DEV-1", Mandatory: true, Why: "reports its connector version, so an old destination is not available"},
		{ID: "DEV-2", Mandatory: true, Why: "reports a Mac's join state"},
		{ID: "DEV-3", Mandatory: false, Why: "reports hybrid and Azure AD join states"},
		{ID: "DEV-4", Mandatory: true, Why: "reports machine tunnel and login state"},
		{ID: "DEV-5", Mandatory: true, Why: "does not connect with Private Access off"},
		{ID: "DEV-6", Mandatory: true, Why: "shows its FQDN on its status after success"},
		{ID: "EP-1", Mandatory: true, Why: "delivers to the device's interface IP, and reports a refused forward with its code"},
		{ID: "EP-2", Mandatory: true, Why: "carries RDP and SMB to the device's services"},
		{ID: "LOG-1", Mandatory: true, Why: "relays every byte, so the broker's activity record counts them each way"},
		{ID: "LOG-2", Mandatory: true, Why: "surfaces the broker's failure codes to the client side"},
		{ID: "RA-1", Mandatory: false, Why: "carries MSRA to the port of an invitation"},
		{ID: "NET-1", Why: "answers DNS for the names its segments cover and tunnels the connections the machine's firewall redirects to it, so an unmodified client reaches a device by name (netns backend; docs/PROTOCOL.md section 12)", Only: "@interception"},
		{ID: "NET-3", Mandatory: true, Why: "relays intact, at a throughput and round trip no worse than the reference agent's on the same path (docs/CERTIFICATION.md)"},
		{ID: "CERT-1", Mandatory: true, Why: "passes every scenario that carries a connection with the reference agent on the other end, both ways"},
	},
}

// Tags is the godog tag expression that selects the profile's scenarios
// (CERT-1 has none of its own: it is judged from the pairings). godog's
// expressions are ANDs of ORs, so "X or (@ID and ONLY)" is written
// "X,@ID && X,ONLY".
func (p Profile) Tags() string {
	var any []string
	var only []Requirement
	for _, r := range p.Requirements {
		switch {
		case r.ID == Interop:
		case r.Only != "":
			only = append(only, r)
		default:
			any = append(any, "@"+r.ID)
		}
	}
	// X or (A1 and B1) or (A2 and B2) ... is the AND, over every way of
	// picking one of Ai, Bi from each pair, of X or the picks.
	clauses := []string{strings.Join(any, ",")}
	for _, r := range only {
		var next []string
		for _, c := range clauses {
			next = append(next, c+",@"+r.ID, c+","+r.Only)
		}
		clauses = next
	}
	return strings.Join(clauses, " && ")
}

// counts reports whether a scenario with tags counts for r.
func (r Requirement) counts(tags []string) bool {
	return r.Only == "" || slices.Contains(tags, r.Only)
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
