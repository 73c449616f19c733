package certify

import (
	"strings"
	"testing"
)

// TestSubset narrows the connector profile: the named requirements and
// CERT-1, as mandatory as in the profile, under a name that is not the
// profile's (so verify refuses it as a certification of the profile), and
// its tags select only their scenarios; unknown IDs and CERT-1 alone are
// refused with what would be accepted.
func TestSubset(t *testing.T) {
	p, err := Connector.Subset([]string{"DEV-6", "HV-5"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range p.Requirements {
		ids = append(ids, r.ID)
		if want, _ := Connector.Requirement(r.ID); want != r {
			t.Errorf("%s: %+v, want the profile's %+v", r.ID, r, want)
		}
	}
	if got := strings.Join(ids, " "); got != "HV-5 DEV-6 CERT-1" {
		t.Errorf("requirements %q, want HV-5 DEV-6 CERT-1 in the profile's order", got)
	}
	if p.Name == Connector.Name || !strings.Contains(p.Name, "subset") {
		t.Errorf("name %q: want one that says subset and is not %q", p.Name, Connector.Name)
	}
	expr := p.Tags()
	for _, tc := range []struct {
		tags []string
		want bool
	}{
		{[]string{"@HV-5", "@HV-4"}, true},
		{[]string{"@DEV-6"}, true},
		{[]string{"@HV-2"}, false},
	} {
		if got := matches(expr, tc.tags...); got != tc.want {
			t.Errorf("scenario tagged %v selected %v, want %v\nby %q", tc.tags, got, tc.want, expr)
		}
	}
	for _, bad := range [][]string{{"HV-99"}, {"CERT-1"}, {"POL-1"}} {
		if _, err := Connector.Subset(bad); err == nil || !strings.Contains(err.Error(), "HV-2, HV-3") {
			t.Errorf("Subset(%v): %v, want an error listing the profile's IDs", bad, err)
		}
	}
}
