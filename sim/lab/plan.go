package lab

import (
	"context"
	"errors"
	"fmt"

	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/tenant"
	"github.com/c2clab/c2clab/sim/topology"
)

// Plan is a lab described once: its tenants, network, App Connectors and
// devices in start order. LoadPlan reads one from a topology file or from
// tenant and device files; scenarios and the bench build one in code.
// Start runs it, for cmd, steps and bench alike.
type Plan struct {
	Tenants []Tenant
	// CNIConfig is the lab network for BackendNetns; nil means the default
	// (Spec.CNIConfig).
	CNIConfig  []byte
	Connectors []PlannedConnector
	// Devices start in this order, each once the one before is ready, so
	// "first" and "later" (HV-6) are their order here.
	Devices []PlannedDevice
	// NodeSelectors are the topology's sites by machine name, for
	// BackendKubernetes (KubeSpec.NodeSelectors, when the spec has none).
	NodeSelectors map[string]map[string]string
}

// PlannedConnector is an App Connector and its app servers.
type PlannedConnector struct {
	Tenant, Name string
	ServerGroups []string
	Apps         []App
}

// PlannedDevice is one device with its options.
type PlannedDevice struct {
	Tenant  string
	Profile *device.Profile
	Options DeviceOptions
	// Started, if set, is told each device's start and decides whether the
	// lab goes on (nil error) or fails; without it a failed start fails.
	Started func(*Device, error) error
}

// PlanFiles name the files a lab is planned from: a topology, or a tenant
// and device files, or both (Tenant then overrides the topology's).
type PlanFiles struct {
	Topology string
	Tenant   string
	Devices  []string
	// IgnoreLinks runs a topology's impaired links unimpaired.
	IgnoreLinks bool
}

// LoadPlan reads f for backend b. An impaired link that b cannot shape is
// an error naming the file and node, unless f.IgnoreLinks.
func LoadPlan(f PlanFiles, b Backend) (Plan, error) {
	var p Plan
	var top *topology.Topology
	tenantPath := f.Tenant
	if f.Topology != "" {
		var err error
		if top, err = topology.Load(f.Topology); err != nil {
			return p, err
		}
		if tenantPath == "" {
			tenantPath = top.TenantPath()
		}
		if p.CNIConfig, err = top.CNIConfig(); err != nil {
			return p, err
		}
	}
	if tenantPath == "" {
		return p, errors.New("lab: plan: give a topology file or a tenant file")
	}
	t, _, err := tenant.Load(tenantPath)
	if err != nil {
		return p, err
	}
	pol := t.Policy()
	p.Tenants = []Tenant{{ID: pol.Tenant, Policy: pol}}
	if top != nil {
		if err := p.addTopology(f, top, b, pol.Tenant); err != nil {
			return p, err
		}
	}
	for _, path := range f.Devices {
		d, err := device.Load(path)
		if err != nil {
			return p, err
		}
		p.Devices = append(p.Devices, PlannedDevice{Tenant: pol.Tenant, Profile: d})
	}
	return p, nil
}

func (p *Plan) addTopology(f PlanFiles, top *topology.Topology, b Backend, tenantID string) error {
	for _, n := range top.Nodes {
		if n.Link.Impaired() && !f.IgnoreLinks {
			if err := b.Supports(FeatureLinks); err != nil {
				return fmt.Errorf("%s: node %q has an impaired link: %w; give --backend netns, or rerun with --ignore-links to run it unimpaired", f.Topology, n.Name, err)
			}
			if n.Role != topology.RoleAgent {
				return fmt.Errorf("%s: node %q: link impairments are applied to agents' devices only in this build; rerun with --ignore-links", f.Topology, n.Name)
			}
		}
		p.placeSite(top, n)
		switch n.Role {
		case topology.RoleAgent:
			d := PlannedDevice{Tenant: tenantID, Profile: n.Profile}
			if !f.IgnoreLinks {
				d.Options.Link = n.Link.Impairments()
			}
			p.Devices = append(p.Devices, d)
		case topology.RoleConnector:
			c := PlannedConnector{Tenant: tenantID, Name: n.Name, ServerGroups: n.ServerGroups}
			for _, a := range n.Apps {
				c.Apps = append(c.Apps, App{FQDN: a.FQDN, Services: a.Services})
			}
			p.Connectors = append(p.Connectors, c)
		}
	}
	return nil
}

// placeSite records the node selector of n's site, if it has one, under
// the names its machines get: an agent's is its device's, an App
// Connector's app servers go with it.
func (p *Plan) placeSite(top *topology.Topology, n topology.Node) {
	sel := top.Sites[n.Site].NodeSelector
	if n.Site == "" || len(sel) == 0 {
		return
	}
	if p.NodeSelectors == nil {
		p.NodeSelectors = map[string]map[string]string{}
	}
	switch n.Role {
	case topology.RoleAgent:
		p.NodeSelectors[n.Profile.Name] = sel
	case topology.RoleConnector:
		p.NodeSelectors[n.Name] = sel
		for i := range n.Apps {
			p.NodeSelectors[appServerName(n.Name, i)] = sel
		}
	case topology.RoleBroker:
		p.NodeSelectors[brokerMachine] = sel
	}
}

// Start starts the lab of spec with plan's tenants and network (when spec
// names none), then its App Connectors, then its devices in order. On an
// error the lab is closed and nothing is left.
func Start(ctx context.Context, spec Spec, plan Plan) (*Lab, error) {
	if len(spec.Tenants) == 0 {
		spec.Tenants = plan.Tenants
	}
	if spec.CNIConfig == nil {
		spec.CNIConfig = plan.CNIConfig
	}
	if spec.Kube.NodeSelectors == nil {
		spec.Kube.NodeSelectors = plan.NodeSelectors
	}
	l, err := New(ctx, spec)
	if err != nil {
		return nil, err
	}
	if err := l.StartPlan(ctx, plan); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// StartPlan starts plan's App Connectors, then its devices in order, on a
// lab already made with plan's tenants. A caller that keeps the lab on an
// error (to show its nodes' logs) uses it instead of Start.
func (l *Lab) StartPlan(ctx context.Context, plan Plan) error {
	for _, c := range plan.Connectors {
		if err := l.AddAppConnector(ctx, c.Tenant, c.Name, c.ServerGroups, c.Apps); err != nil {
			return err
		}
	}
	for _, d := range plan.Devices {
		dev, err := l.AddDeviceWith(ctx, d.Tenant, d.Profile, d.Options)
		if d.Started != nil {
			err = d.Started(dev, err)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
