package topology

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"

	"github.com/c2clab/c2clab/sim/configfile"
	"github.com/c2clab/c2clab/sim/device"
)

// labRange is the only address range a lab network may use.
var labRange = netip.MustParsePrefix("198.18.0.0/15")

// deviceLoader reads a device profile file.
type deviceLoader = func(path string) (*device.Profile, error)

func (t *Topology) validate(d *configfile.Doc, load deviceLoader) error {
	var errs []error
	if t.Name == "" {
		errs = append(errs, d.Errorf("name", "is missing; want a short name such as single-site"))
	}
	seen := map[string]int{}
	brokers := 0
	for i := range t.Nodes {
		n := &t.Nodes[i]
		f := fmt.Sprintf("nodes[%d]", i)
		if j, dup := seen[n.Name]; dup {
			errs = append(errs, d.Errorf(f+".name", "%q is also nodes[%d]; want unique names", n.Name, j))
		}
		seen[n.Name] = i
		if n.Role == RoleBroker {
			brokers++
		}
		errs = append(errs, t.validateNode(d, f, n, load)...)
	}
	if brokers != 1 {
		errs = append(errs, d.Errorf("nodes", "has %d nodes with role broker; want exactly one", brokers))
	}
	errs = append(errs, t.validateNetwork(d)...)
	errs = append(errs, t.validateSites(d)...)
	return errors.Join(errs...)
}

func (t *Topology) validateNode(d *configfile.Doc, f string, n *Node, load deviceLoader) []error {
	var errs []error
	if !nodeNameRE.MatchString(n.Name) {
		errs = append(errs, d.Errorf(f+".name", "is %q; want 1-24 lowercase letters, digits or '-', not starting or ending with '-'", n.Name))
	}
	switch n.Role {
	case RoleBroker:
	case RoleAgent:
		errs = append(errs, t.loadDevice(d, f, n, load)...)
	case RoleConnector:
		if len(n.ServerGroups) == 0 {
			errs = append(errs, d.Errorf(f+".serverGroups", "is empty; a connector serves at least one server group id"))
		}
		for j, a := range n.Apps {
			if a.FQDN == "" {
				errs = append(errs, d.Errorf(fmt.Sprintf("%s.apps[%d].fqdn", f, j), "is missing; want the app's FQDN"))
			}
		}
	default:
		errs = append(errs, d.Errorf(f+".role", "is %q; want broker, agent or connector", n.Role))
	}
	if n.Role != RoleAgent && n.Device != "" {
		errs = append(errs, d.Errorf(f+".device", "is set on a %s; only agents have a device profile", n.Role))
	}
	if err := n.Link.parse(); err != nil {
		errs = append(errs, d.Errorf(f+".link", "%v", err))
	}
	return errs
}

func (t *Topology) loadDevice(d *configfile.Doc, f string, n *Node, load deviceLoader) []error {
	if n.Device == "" {
		return []error{d.Errorf(f+".device", "is missing; an agent needs a device profile file, e.g. ../fixtures/devices/win-4.5-ad.yaml")}
	}
	p, err := load(t.resolve(n.Device))
	if err != nil {
		return []error{d.Errorf(f+".device", "%v", err)}
	}
	p.Name = n.Name
	n.Profile = p
	return nil
}

// validateNetwork checks the parts of a CNI config the lab relies on: its
// shape, and that any subnet it names lies in the lab's range.
func (t *Topology) validateNetwork(d *configfile.Doc) []error {
	c := t.Network.CNI
	if len(c) == 0 {
		return nil
	}
	// The lab hands the config to CNI as JSON; YAML can hold what JSON
	// cannot (.nan, .inf).
	if _, err := json.Marshal(c); err != nil {
		return []error{d.Errorf("network.cni", "cannot be written as JSON for CNI: %v; want plain JSON values", err)}
	}
	var errs []error
	for _, k := range []string{"cniVersion", "name"} {
		if s, _ := c[k].(string); s == "" {
			errs = append(errs, d.Errorf("network.cni."+k, "is missing; a CNI network config list needs cniVersion, name and plugins"))
		}
	}
	plugins, _ := c["plugins"].([]any)
	if len(plugins) == 0 {
		errs = append(errs, d.Errorf("network.cni.plugins", "is missing or empty; want a list such as [{type: bridge, ...}]"))
	}
	for i, p := range plugins {
		errs = append(errs, checkPlugin(d, fmt.Sprintf("network.cni.plugins[%d]", i), p)...)
	}
	return errs
}

func checkPlugin(d *configfile.Doc, f string, p any) []error {
	m, _ := p.(map[string]any)
	if s, _ := m["type"].(string); s == "" {
		return []error{d.Errorf(f+".type", "is missing; want a CNI plugin name such as bridge")}
	}
	ipam, _ := m["ipam"].(map[string]any)
	var errs []error
	if _, ok := ipam["subnet"]; ok {
		errs = append(errs, checkSubnet(d, f+".ipam", ipam)...)
	}
	// host-local's other form: ranges, a list of range sets, each a list
	// of ranges (https://www.cni.dev/plugins/current/ipam/host-local/).
	sets, _ := ipam["ranges"].([]any)
	for i, set := range sets {
		rs, _ := set.([]any)
		for j, r := range rs {
			if m, ok := r.(map[string]any); ok {
				errs = append(errs, checkSubnet(d, fmt.Sprintf("%s.ipam.ranges[%d][%d]", f, i, j), m)...)
			}
		}
	}
	return errs
}

// checkSubnet checks the subnet and gateway of one IPAM range (at field f),
// as the lab's network setup will: a subnet inside the lab's range and, if
// given, a gateway that is an address.
func checkSubnet(d *configfile.Doc, f string, r map[string]any) []error {
	const want = "want a subnet inside 198.18.0.0/15, the lab's range, such as 198.18.7.0/24"
	v, ok := r["subnet"]
	if !ok {
		return []error{d.Errorf(f+".subnet", "is missing; %s", want)}
	}
	sub, _ := v.(string)
	pfx, err := netip.ParsePrefix(sub)
	if err != nil || !labRange.Contains(pfx.Masked().Addr()) || pfx.Bits() < labRange.Bits() {
		return []error{d.Errorf(f+".subnet", "is %q; %s", fmt.Sprint(v), want)}
	}
	if g, ok := r["gateway"]; ok {
		if s, _ := g.(string); s != "" {
			if _, err := netip.ParseAddr(s); err == nil {
				return nil
			}
		}
		return []error{d.Errorf(f+".gateway", "is %q; want an address such as 198.18.7.1", fmt.Sprint(g))}
	}
	return nil
}
