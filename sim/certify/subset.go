package certify

import (
	"fmt"
	"slices"
	"strings"
)

// Subset is the profile narrowed to the requirements ids names, and
// CERT-1, which is judged from the pairings of whatever runs: a shorter
// run for a backend where the whole profile takes long (a cluster's
// Pods). Its name says it is a subset, so that `certify verify` refuses a
// report of it as a certification of p: a subset certifies only what it
// names. An ID p does not have is an error that lists p's.
func (p Profile) Subset(ids []string) (Profile, error) {
	out := Profile{Name: p.Name}
	var names []string
	for _, r := range p.Requirements {
		if r.ID == Interop || slices.Contains(ids, r.ID) {
			out.Requirements = append(out.Requirements, r)
			names = append(names, r.ID)
		}
	}
	for _, id := range ids {
		if _, ok := p.Requirement(id); !ok {
			return Profile{}, fmt.Errorf("certify: requirement %q is not in the %s profile; want some of %s", id, p.Name, strings.Join(p.ids(), ", "))
		}
	}
	if len(out.Requirements) < 2 { // CERT-1 alone selects no scenario
		return Profile{}, fmt.Errorf("certify: a subset of the %s profile needs a requirement besides %s; want some of %s", p.Name, Interop, strings.Join(p.ids(), ", "))
	}
	out.Name = fmt.Sprintf("%s (subset: %s)", p.Name, strings.Join(names, ", "))
	return out, nil
}

func (p Profile) ids() []string {
	var out []string
	for _, r := range p.Requirements {
		out = append(out, r.ID)
	}
	return out
}
