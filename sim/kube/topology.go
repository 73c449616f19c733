package kube

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/c2clab/c2clab/sim/agent"
	"github.com/c2clab/c2clab/sim/broker"
	"github.com/c2clab/c2clab/sim/connector"
	"github.com/c2clab/c2clab/sim/endpoint"
	"github.com/c2clab/c2clab/sim/kube/kubenet"
	"github.com/c2clab/c2clab/sim/peer"
	"github.com/c2clab/c2clab/sim/pki"
	"github.com/c2clab/c2clab/sim/policy"
	"github.com/c2clab/c2clab/sim/topology"
)

// Fixed ports: a Pod's address is known before it starts, but the lab
// cannot read a ready file inside it, so nodes listen where the plan says.
const (
	PortControl = 8443 // broker: agents' control channel
	PortData    = 8444 // broker: data path
	PortAdmin   = 8080 // broker: admin API
	PortSOCKS   = 1080 // agent: SOCKS5 (source side)
	PortStatus  = 8081 // agent: status API
)

// Lab is a plan made from a topology, with what the user needs to reach
// it: the broker's admin token.
type Lab struct {
	Plan       Plan
	AdminToken string
}

// FromTopology plans the topology's lab for run runID: its CAs,
// certificates and node configs (the same node config types the other
// backends write), the addresses from the network's subnet, and each
// machine's site.
func FromTopology(top *topology.Topology, pol policy.Config, runID, image string) (Lab, error) {
	cni, err := top.CNIConfig()
	if err != nil {
		return Lab{}, err
	}
	if cni == nil {
		cni = defaultNetwork(runID)
	}
	prefix, err := Subnet(cni)
	if err != nil {
		return Lab{}, fmt.Errorf("%s: network.cni: %w", top.Path, err)
	}
	b := &planner{runID: runID, pol: pol, prefix: prefix, pool: kubenet.Pool{Prefix: prefix}}
	b.plan = Plan{RunID: runID, Image: image, Network: Network{Name: networkName(cni), CNI: cni, Prefix: prefix}}
	return b.place(top)
}

// place plans the topology's sites and machines onto b's plan, after the
// run's CAs.
func (b *planner) place(top *topology.Topology) (Lab, error) {
	b.plan.Sites = map[string]map[string]string{}
	for name, s := range top.Sites {
		b.plan.Sites[name] = s.NodeSelector
	}
	if err := b.cas(); err != nil {
		return Lab{}, err
	}
	for _, n := range top.Nodes {
		if err := b.add(n); err != nil {
			return Lab{}, fmt.Errorf("%s: %w", top.Path, err)
		}
	}
	return Lab{Plan: b.plan, AdminToken: b.token}, nil
}

// defaultNetwork is the lab network of a topology that names none: a
// bridge of its own per run on a /16 of the lab range, big enough for
// thousands of machines.
func defaultNetwork(runID string) []byte {
	return []byte(`{"cniVersion":"1.0.0","name":"lab","plugins":[{"type":"bridge","bridge":"` + runID + `","ipam":{"type":"host-local","subnet":"198.18.0.0/16"}}]}`)
}

func networkName(cni []byte) string { return kubenet.NetworkName(cni) }

// planner accumulates a plan; only FromTopology uses it.
type planner struct {
	runID  string
	pol    policy.Config
	prefix netip.Prefix
	pool   kubenet.Pool
	plan   Plan
	cloud  *pki.CA
	tenant *pki.CA
	token  string
}

func (b *planner) cas() error {
	var err error
	if b.cloud, err = pki.NewCA("c2clab cloud " + b.runID); err != nil {
		return fmt.Errorf("kube: cloud CA: %w", err)
	}
	if b.tenant, err = pki.NewCA("c2clab tenant " + b.pol.Tenant); err != nil {
		return fmt.Errorf("kube: tenant CA: %w", err)
	}
	var tok [16]byte
	rand.Read(tok[:])
	b.token = hex.EncodeToString(tok[:])
	return nil
}

// addr hands out the next address of the subnet, skipping the network
// address and .1 (a bridge's gateway).
func (b *planner) addr() (netip.Addr, error) {
	return b.pool.Next()
}

func (b *planner) add(n topology.Node) error {
	switch n.Role {
	case topology.RoleBroker:
		return b.broker(n)
	case topology.RoleAgent:
		return b.device(n)
	case topology.RoleConnector:
		return b.connector(n)
	}
	return fmt.Errorf("kube: node %q: role %q", n.Name, n.Role)
}

// brokerDNS is the broker Service's name as Pods resolve it.
func (b *planner) brokerDNS() string { return BrokerHost(b.runID) }

func (b *planner) brokerAddrs() peer.BrokerAddrs {
	return peer.BrokerAddrs{Control: fmt.Sprintf("%s:%d", b.brokerDNS(), PortControl), Data: fmt.Sprintf("%s:%d", b.brokerDNS(), PortData), ServerName: "broker"}
}

func (b *planner) broker(n topology.Node) error {
	a, err := b.addr()
	if err != nil {
		return err
	}
	certPEM, keyPEM, err := b.cloud.Issue(pki.Identity{Name: "broker", Kind: pki.KindBroker}, true, "broker", b.brokerDNS(), b.brokerDNS()+".cluster.local", a.String())
	if err != nil {
		return fmt.Errorf("kube: broker certificate: %w", err)
	}
	caFile := "ca-" + b.pol.Tenant + ".pem"
	cfg := broker.Config{
		// Every address of the Pod: the Service reaches it on the
		// cluster network, the lab network's machines on net1.
		Control: fmt.Sprintf(":%d", PortControl), Data: fmt.Sprintf(":%d", PortData), Admin: fmt.Sprintf(":%d", PortAdmin),
		AdminToken: b.token, CertFile: ConfigDir + "/broker.crt", KeyFile: ConfigDir + "/broker.key",
		Tenants: []broker.Tenant{{ID: b.pol.Tenant, CAFile: ConfigDir + "/" + caFile, Policy: b.pol}},
	}
	files := map[string][]byte{"broker.crt": certPEM, "broker.key": keyPEM, caFile: b.tenant.CertPEM()}
	m := Machine{Name: n.Name, Role: RoleBroker, Site: n.Site, Addr: a, Files: files,
		Ports: map[string]int32{"control": PortControl, "data": PortData, "admin": PortAdmin}}
	return b.machine(m, node{"broker", cfg})
}

// node is a node and its config, before it is encoded.
type node struct {
	role string
	cfg  any
}

// machine encodes m's node configs into its files and adds it.
func (b *planner) machine(m Machine, nodes ...node) error {
	for _, n := range nodes {
		data, err := json.MarshalIndent(n.cfg, "", "  ")
		if err != nil {
			return fmt.Errorf("kube: machine %q: %s config: %w", m.Name, n.role, err)
		}
		m.Files[n.role+".json"] = data
		m.Nodes = append(m.Nodes, Node{Role: n.role, Config: n.role + ".json"})
	}
	b.plan.Machines = append(b.plan.Machines, m)
	return nil
}

// identity issues a tenant certificate and the trust bundle of a
// connector (agent or App Connector): cloud CA for the broker, tenant CA
// for peers.
func (b *planner) identity(name string, kind pki.Kind) (map[string][]byte, error) {
	certPEM, keyPEM, err := b.tenant.Issue(pki.Identity{Tenant: b.pol.Tenant, Name: name, Kind: kind}, false)
	if err != nil {
		return nil, fmt.Errorf("kube: %q certificate: %w", name, err)
	}
	return map[string][]byte{"id.crt": certPEM, "id.key": keyPEM, "trust.pem": append(b.cloud.CertPEM(), b.tenant.CertPEM()...)}, nil
}

func (b *planner) device(n topology.Node) error {
	a, err := b.addr()
	if err != nil {
		return err
	}
	p := n.Profile
	files, err := b.identity(p.Name, pki.KindAgent)
	if err != nil {
		return err
	}
	services := endpoint.Config{IP: a.String(), Services: p.ServicesOrDefault(), RDP: p.RDP, SMB: p.SMB,
		BlockInterfaceIP: p.Firewall.BlockInterfaceIP, InboundRules: p.Firewall.InboundRules}
	listen := a.String()
	ag := agent.Config{Name: p.Name, Broker: b.brokerAddrs(), CAFile: ConfigDir + "/trust.pem",
		CertFile: ConfigDir + "/id.crt", KeyFile: ConfigDir + "/id.key", Profile: *p, InterfaceIP: a.String(),
		SOCKS: net.JoinHostPort(listen, strconv.Itoa(PortSOCKS)), Status: net.JoinHostPort(listen, strconv.Itoa(PortStatus))}
	m := Machine{Name: n.Name, Role: RoleDevice, Site: n.Site, Addr: a, Files: files,
		Ports: map[string]int32{"socks": PortSOCKS, "status": PortStatus}}
	return b.machine(m, node{"services", services}, node{"agent", ag})
}

// connector adds the connector's app servers, each a machine in the
// connector's site (they share its piece of the lab network), then the
// connector.
func (b *planner) connector(n topology.Node) error {
	hosts := map[string]string{}
	for i, app := range n.Apps {
		a, err := b.addr()
		if err != nil {
			return err
		}
		m := Machine{Name: fmt.Sprintf("%s-app%d", n.Name, i+1), Role: RoleApp, Site: n.Site, Addr: a, Files: map[string][]byte{}}
		if err := b.machine(m, node{"services", endpoint.Config{IP: a.String(), Services: app.Services}}); err != nil {
			return err
		}
		hosts[app.FQDN] = a.String()
	}
	a, err := b.addr()
	if err != nil {
		return err
	}
	files, err := b.identity(n.Name, pki.KindConnector)
	if err != nil {
		return err
	}
	cfg := connector.Config{Name: n.Name, Broker: b.brokerAddrs(), CAFile: ConfigDir + "/trust.pem",
		CertFile: ConfigDir + "/id.crt", KeyFile: ConfigDir + "/id.key", ServerGroups: n.ServerGroups, Hosts: hosts}
	m := Machine{Name: n.Name, Role: RoleConnector, Site: n.Site, Addr: a, Files: files}
	return b.machine(m, node{"connector", cfg})
}
