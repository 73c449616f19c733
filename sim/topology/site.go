package topology

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/c2clab/c2clab/sim/configfile"
)

// Site is a place machines run in on a cluster: a region, a zone, a rack.
// The kubernetes backend puts each machine of the site on a cluster node
// whose labels match NodeSelector.
type Site struct {
	// NodeSelector is the node labels a site's machines need, as in a
	// Pod's nodeSelector (topology.kubernetes.io/region: eu-west-1).
	// Empty means any node.
	NodeSelector map[string]string `yaml:"nodeSelector"`
}

// labelKeyRE and labelValueRE are Kubernetes' label syntax (the optional
// DNS prefix, then a name of at most 63 characters), checked here so a
// topology's mistake names its line rather than coming back from a cluster.
var (
	labelKeyRE   = regexp.MustCompile(`^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`)
	labelValueRE = regexp.MustCompile(`^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$`)
)

func (t *Topology) validateSites(d *configfile.Doc) []error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(t.Sites)) {
		f := "sites." + name
		if !nodeNameRE.MatchString(name) {
			errs = append(errs, d.Errorf(f, "site name %q: want 1-24 lowercase letters, digits or '-'", name))
		}
		for k, v := range t.Sites[name].NodeSelector {
			if !labelKeyRE.MatchString(k) {
				errs = append(errs, d.Errorf(f+".nodeSelector", "key %q is no Kubernetes label key; want [prefix/]name, name up to 63 of A-Z a-z 0-9 - _ .", k))
			}
			if !labelValueRE.MatchString(v) {
				errs = append(errs, d.Errorf(f+".nodeSelector."+k, "value %q is no Kubernetes label value; want up to 63 of A-Z a-z 0-9 - _ .", v))
			}
		}
	}
	for i, n := range t.Nodes {
		if _, ok := t.Sites[n.Site]; n.Site != "" && !ok {
			errs = append(errs, d.Errorf(fmt.Sprintf("nodes[%d].site", i), "is %q; want one of the sites: %s", n.Site, siteList(t.Sites)))
		}
	}
	return errs
}

func siteList(sites map[string]Site) string {
	if len(sites) == 0 {
		return "(none declared under sites:)"
	}
	return strings.Join(slices.Sorted(maps.Keys(sites)), ", ")
}
