package steps

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/cucumber/godog"
	"go.yaml.in/yaml/v3"

	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/sim/linkemu"
	"github.com/c2clab/c2clab/sim/pki"
	"github.com/c2clab/c2clab/sim/policy"
	"github.com/c2clab/c2clab/sim/tenant"
	"github.com/c2clab/c2clab/sim/topology"
)

// setupState is what a scenario declares before its lab starts, and
// what starting it left for later steps.
type setupState struct {
	tenants []tenantDecl
	devices []deviceDecl
	conns   []connectorDecl
	// startErrs holds, per device expected not to register, why its
	// agent did not start (nil if it started).
	startErrs map[string]error
}

func newSetupState() setupState { return setupState{startErrs: map[string]error{}} }

type tenantDecl struct {
	id     string
	policy policy.Config
}

type deviceDecl struct {
	tenant  string
	profile *device.Profile
	link    linkemu.Impairments // the device's link, both ways
	// forwards are local listeners its agent tunnels to targets.
	forwards []lab.Forward
	// intercept makes its agent the resolver of its machine.
	intercept bool
	// skew is how far ahead the clock that issued its certificate runs;
	// beyond pki.Backdate the broker cannot accept it, so the lab does not
	// wait for it to register.
	skew time.Duration
	// admin: declared as an admin's machine, the source end of a pairing.
	admin bool
	// reference: runs the reference agent whatever the pairing.
	reference bool
}

// connectorDecl is an App Connector and the app servers behind it.
type connectorDecl struct {
	tenant, name string
	groups       []string
	apps         []lab.App
}

// currentTenant is the tenant declared last: devices join it, so a
// scenario can declare one organization, its devices, then another.
func (s *setupState) currentTenant() (string, error) {
	if len(s.tenants) == 0 {
		return "", fmt.Errorf("the scenario declares no tenant before its devices")
	}
	return s.tenants[len(s.tenants)-1].id, nil
}

func (s *setupState) declared(name string) (*deviceDecl, bool) {
	for i := range s.devices {
		if s.devices[i].profile.Name == name {
			return &s.devices[i], true
		}
	}
	return nil, false
}

func theTenant(ctx context.Context, doc *godog.DocString) error {
	t, _, err := tenant.Parse("<scenario tenant>", []byte(doc.Content))
	if err != nil {
		return err
	}
	return getWorld(ctx).addTenant(t)
}

func theTenantFile(ctx context.Context, path string) error {
	w := getWorld(ctx)
	t, _, err := tenant.ParseFS(w.cfg.Fixtures, strings.TrimPrefix(path, "fixtures/"))
	if err != nil {
		return err
	}
	return w.addTenant(t)
}

func (w *world) addTenant(t *tenant.Tenant) error {
	p := t.Policy()
	w.setup.tenants = append(w.setup.tenants, tenantDecl{id: p.Tenant, policy: p})
	return nil
}

// theDevice builds a profile from a two-column table of profile fields, as
// they are spelled in a device file.
func theDevice(ctx context.Context, name string, table *godog.Table) error {
	return getWorld(ctx).addDevice(name, nil, table)
}

func theDeviceFromFixture(ctx context.Context, name, fixture string) error {
	return theDeviceFromFixtureWith(ctx, name, fixture, nil)
}

func theDeviceFromFixtureWith(ctx context.Context, name, fixture string, table *godog.Table) error {
	w := getWorld(ctx)
	data, err := fs.ReadFile(w.cfg.Fixtures, "devices/"+fixture+".yaml")
	if err != nil {
		return fmt.Errorf("device fixture %q: %w", fixture, err)
	}
	return w.addDevice(name, data, table)
}

// theAdminLoggedInAs declares the admin's own device: Windows, a current
// connector, logged in, on a hostname no workstation regex of the fixtures
// matches by accident.
func theAdminLoggedInAs(ctx context.Context, name, user string) error {
	return theAdminLoggedInAsWith(ctx, name, user, nil)
}

// theAdminLoggedInAsWith is theAdminLoggedInAs with profile fields (posture,
// trustedNetworks, country, ...) merged over it.
func theAdminLoggedInAsWith(ctx context.Context, name, user string, table *godog.Table) error {
	base := fmt.Sprintf("hostname: %s\nprimaryDnsSuffix: it.example.net\nos: windows\nconnectorVersion: 4.5.0.300\njoinState: ad\nloggedIn: true\nuser: %s\n", name, user)
	w := getWorld(ctx)
	if err := w.addDevice(name, []byte(base), table); err != nil {
		return err
	}
	w.setup.devices[len(w.setup.devices)-1].admin = true
	return nil
}

// addDevice merges table rows over base (YAML of a profile) and parses the
// result, so the profile is validated exactly as a device file would be.
// Cells are merged as YAML nodes, never through Go values, so "3.10" stays
// the text 3.10 and does not become the number 3.1.
func (w *world) addDevice(name string, base []byte, table *godog.Table) error {
	doc, err := mergeFields(base, table)
	if err != nil {
		return fmt.Errorf("device %q: %w", name, err)
	}
	setField(doc, "name", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: name})
	data, err := yaml.Marshal(doc)
	if err != nil {
		return fmt.Errorf("device %q: %w", name, err)
	}
	p, err := device.Parse("device "+name, data)
	if err != nil {
		return err
	}
	tid, err := w.setup.currentTenant()
	if err != nil {
		return err
	}
	if _, dup := w.setup.declared(name); dup {
		return fmt.Errorf("device %q declared twice", name)
	}
	w.setup.devices = append(w.setup.devices, deviceDecl{tenant: tid, profile: p})
	return nil
}

// mergeFields returns the mapping node of base with each | field | value |
// row of table set on it.
func mergeFields(base []byte, table *godog.Table) (*yaml.Node, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(base, &root); err != nil {
		return nil, err
	}
	doc := &yaml.Node{Kind: yaml.MappingNode}
	if len(root.Content) == 1 && root.Content[0].Kind == yaml.MappingNode {
		doc = root.Content[0]
	}
	if table == nil {
		return doc, nil
	}
	for i, row := range table.Rows {
		if len(row.Cells) != 2 {
			return nil, fmt.Errorf("table row %d: want | field | value |", i+1)
		}
		var v yaml.Node
		if err := yaml.Unmarshal([]byte(row.Cells[1].Value), &v); err != nil {
			return nil, fmt.Errorf("field %q: %w", row.Cells[0].Value, err)
		}
		val := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
		if len(v.Content) == 1 {
			val = v.Content[0]
		}
		setField(doc, row.Cells[0].Value, val)
	}
	return doc, nil
}

// setField sets key to val in the mapping node m, replacing an old value.
func setField(m *yaml.Node, key string, val *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = val
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, val)
}

// anAppConnector declares an App Connector serving one server group, with
// one app server behind it running an echo service (Client to Server).
func anAppConnector(ctx context.Context, name, group, fqdn string, port int) error {
	w := getWorld(ctx)
	tid, err := w.setup.currentTenant()
	if err != nil {
		return err
	}
	app := lab.App{FQDN: fqdn, Services: []device.Service{{Kind: "echo", Port: port}}}
	w.setup.conns = append(w.setup.conns, connectorDecl{tenant: tid, name: name, groups: []string{group}, apps: []lab.App{app}})
	return nil
}

// The suite's broker expects a keepalive every 300 ms and drops a silent
// session after 2 s, so expiry scenarios finish in seconds; 2 s is many
// intervals, so a busy machine does not drop live sessions.
const (
	keepaliveInterval = 300 * time.Millisecond
	keepaliveTimeout  = 2 * time.Second
)

// registerTimeout bounds how long an agent may take to register.
const registerTimeout = 10 * time.Second

// theLinkOfHas sets a declared device's link impairments from a table of
// topology link fields (rate, delay, jitter, loss).
func theLinkOfHas(ctx context.Context, name string, table *godog.Table) error {
	w := getWorld(ctx)
	d, ok := w.setup.declared(name)
	if !ok {
		return fmt.Errorf("no device %q declared before its link", name)
	}
	var l topology.Link
	for _, row := range table.Rows {
		if len(row.Cells) != 2 {
			return fmt.Errorf("link of %q: want rows of | field | value |", name)
		}
		v := row.Cells[1].Value
		switch row.Cells[0].Value {
		case "rate":
			l.Rate = v
		case "delay":
			l.Delay = v
		case "jitter":
			l.Jitter = v
		case "loss":
			l.Loss = v
		default:
			return fmt.Errorf("link of %q: field %q: want rate, delay, jitter or loss", name, row.Cells[0].Value)
		}
	}
	im, err := l.Parsed()
	if err != nil {
		return fmt.Errorf("link of %q: %w", name, err)
	}
	d.link = im
	return nil
}

// theLabStarts starts the broker, then each device in declared order and
// waits for its registration, so "first" and "later" (HV-6) are the order
// of the scenario's lines. A device with an impaired link on a backend
// without links skips the scenario: there is nothing to shape.
func theLabStarts(ctx context.Context) (context.Context, error) {
	w := getWorld(ctx)
	for _, d := range w.setup.devices {
		if err := w.cfg.backend().Supports(lab.FeatureLinks); !d.link.IsZero() && err != nil {
			return skip(ctx, err.Error())
		}
	}
	if w.scenario.timing != nil {
		if err := w.scenario.timing(); err != nil {
			return ctx, err
		}
	}
	err := w.startLab(ctx)
	if errors.Is(err, lab.ErrNoDocker) || errors.Is(err, lab.ErrNeedsRoot) || errors.Is(err, lab.ErrAgentCommandInContainer) || errors.Is(err, lab.ErrNoCluster) {
		// The machine (or this backend) cannot run the scenario: that
		// proves nothing either way, so it is skipped, never passed or failed.
		return skip(ctx, err.Error())
	}
	return ctx, err
}

func (w *world) startLab(ctx context.Context) error {
	spec := lab.Spec{Command: w.cfg.Command, AgentCommand: w.cfg.AgentCommand, AgentImage: w.cfg.AgentImage, Env: w.cfg.Env, Backend: w.cfg.backend(), ContainerBinary: w.cfg.ContainerBinary, ContainerImage: w.cfg.ContainerImage, Kube: w.cfg.Kube,
		KeepaliveInterval: keepaliveInterval, KeepaliveTimeout: keepaliveTimeout}
	var plan lab.Plan
	for _, t := range w.setup.tenants {
		spec.Tenants = append(spec.Tenants, lab.Tenant{ID: t.id, Policy: t.policy})
	}
	for _, c := range w.setup.conns {
		plan.Connectors = append(plan.Connectors, lab.PlannedConnector{Tenant: c.tenant, Name: c.name, ServerGroups: c.groups, Apps: c.apps})
	}
	for _, d := range w.setup.devices {
		plan.Devices = append(plan.Devices, lab.PlannedDevice{Tenant: d.tenant, Profile: d.profile,
			Options: lab.DeviceOptions{Link: d.link, Forwards: d.forwards, ClockSkew: d.skew, Intercept: d.intercept,
				ReferenceAgent: w.cfg.Pairing.reference(d)},
			Started: func(dev *lab.Device, err error) error {
				if d.skew > pki.Backdate {
					// Its certificate is not valid yet: it cannot register,
					// and an agent that checks its own certificate does not
					// start.
					w.setup.startErrs[d.profile.Name] = err
					return nil
				}
				if err != nil {
					return err
				}
				return waitRegistered(ctx, dev)
			}})
	}
	l, err := lab.New(ctx, spec)
	if err != nil {
		return err
	}
	w.lab = l // kept on a failed start: its nodes' logs explain it
	return l.StartPlan(ctx, plan)
}

// waitRegistered waits until the agent has its registration answer; an
// agent with Private Access off never connects, by design (DEV-5).
func waitRegistered(ctx context.Context, d *lab.Device) error {
	if !d.Profile.PrivateAccessEnabled() {
		return nil
	}
	err := eventually(ctx, registerTimeout, 5*time.Millisecond, func() error {
		st, err := d.Status(ctx)
		if err == nil && !st.Connected {
			err = errors.New("not connected")
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("agent of %q did not register: %w", d.Name, err)
	}
	return nil
}
