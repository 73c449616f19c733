// Package topology reads the lab's topology files: the machines of a lab
// (broker, admin and device agents, App Connectors with their app servers),
// the network they share, an ordinary CNI network config, and each
// machine's link impairments. Every error names the file, the line and the
// field, and says what is accepted.
package topology

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/c2clab/c2clab/sim/configfile"
	"github.com/c2clab/c2clab/sim/device"
)

// Roles of a node.
const (
	RoleBroker    = "broker"
	RoleAgent     = "agent"
	RoleConnector = "connector"
)

// Topology is one topology file.
type Topology struct {
	Name string `yaml:"name"`
	// Tenant is the tenant file, relative to the topology file.
	Tenant string `yaml:"tenant"`
	// Network is the network every node is attached to.
	Network Network `yaml:"network"`
	Nodes   []Node  `yaml:"nodes"`
	// Sites name where machines run on a cluster (the kubernetes
	// backend); other backends run every site on this machine.
	Sites map[string]Site `yaml:"sites"`

	// Path is the file it was read from; Dir its directory.
	Path string `yaml:"-"`
}

// Network is the lab network.
type Network struct {
	// CNI is an ordinary CNI network configuration list (cniVersion, name,
	// plugins). Empty: a bridge with host-local addresses on a /24 of
	// 198.18.0.0/15, unique per run.
	CNI map[string]any `yaml:"cni"`
}

// Node is one machine of the lab.
type Node struct {
	Name string `yaml:"name"`
	// Role is broker, agent or connector.
	Role string `yaml:"role"`
	// Device is the device profile file of an agent, relative to the
	// topology file.
	Device string `yaml:"device"`
	// ServerGroups and Apps belong to a connector: the server groups it
	// serves and the app servers behind it.
	ServerGroups []string `yaml:"serverGroups"`
	Apps         []App    `yaml:"apps"`
	// Link impairs the node's attachment to the network, both ways.
	Link Link `yaml:"link"`
	// Site is one of the topology's sites; empty means anywhere.
	Site string `yaml:"site"`

	// Profile is the loaded device profile of an agent.
	Profile *device.Profile `yaml:"-"`
}

// App is an app server behind a connector.
type App struct {
	FQDN     string           `yaml:"fqdn"`
	Services []device.Service `yaml:"services"`
}

// Load reads and validates a topology file, and the device files it names.
func Load(path string) (*Topology, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load topology: %w", err)
	}
	return Parse(path, data)
}

// Parse is Load for data already read; device files are read relative to
// path's directory.
func Parse(path string, data []byte) (*Topology, error) {
	return parse(path, data, device.Load)
}

// parse is Parse with the device loader injected, so that fuzzing never
// reads files a random input names.
func parse(path string, data []byte, loadDevice func(path string) (*device.Profile, error)) (*Topology, error) {
	var t Topology
	doc, err := configfile.Parse(path, data, &t)
	if err != nil {
		return nil, err
	}
	t.Path = path
	if err := t.validate(doc, loadDevice); err != nil {
		return nil, err
	}
	return &t, nil
}

// TenantPath is the tenant file's path, resolved against the topology file.
func (t *Topology) TenantPath() string { return t.resolve(t.Tenant) }

func (t *Topology) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(t.Path), p)
}

// CNIConfig returns the network's CNI config list as JSON, nil for the default.
func (t *Topology) CNIConfig() ([]byte, error) {
	if len(t.Network.CNI) == 0 {
		return nil, nil
	}
	return json.Marshal(t.Network.CNI)
}

// nodeNameRE keeps names short and plain: they become parts of namespace
// and file names.
var nodeNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,22}[a-z0-9])?$`)
