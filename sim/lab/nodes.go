package lab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/c2clab/c2clab/sim/agent"
	"github.com/c2clab/c2clab/sim/broker"
	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/endpoint"
	"github.com/c2clab/c2clab/sim/linkemu"
	"github.com/c2clab/c2clab/sim/netlab"
	"github.com/c2clab/c2clab/sim/peer"
	"github.com/c2clab/c2clab/sim/pki"
)

// Device is a simulated end-user device in the lab: its services and its
// agent (Client Connector), each a process.
type Device struct {
	Name        string
	Tenant      string
	Profile     *device.Profile
	InterfaceIP netip.Addr

	lab      *Lab
	host     host // the device's machine: its services and agent run there
	services *proc
	agent    *proc
	skew     time.Duration // of the clock that issued its certificate
}

func (l *Lab) makeCAs() error {
	cloud, err := pki.NewCA("c2clab cloud " + l.ID)
	if err != nil {
		return fmt.Errorf("lab: cloud CA: %w", err)
	}
	l.cloud = cloud
	for _, t := range l.spec.Tenants {
		ca, err := pki.NewCA("c2clab tenant " + t.ID)
		if err != nil {
			return fmt.Errorf("lab: tenant %q CA: %w", t.ID, err)
		}
		l.tenantCAs[t.ID] = ca
		if err := os.WriteFile(l.path("ca-"+t.ID+".pem"), ca.CertPEM(), 0o600); err != nil {
			return fmt.Errorf("lab: %w", err)
		}
	}
	return nil
}

func (l *Lab) path(name string) string { return filepath.Join(l.Dir, name) }

// issue writes a certificate and key for id under the run directory.
func (l *Lab) issue(ca *pki.CA, id pki.Identity, server bool, hosts ...string) (cert, key string, err error) {
	return l.issueAt(time.Now(), ca, id, server, hosts...)
}

// issueAt is issue by a CA whose clock reads now.
func (l *Lab) issueAt(now time.Time, ca *pki.CA, id pki.Identity, server bool, hosts ...string) (cert, key string, err error) {
	certPEM, keyPEM, err := ca.IssueAt(now, id, server, hosts...)
	if err != nil {
		return "", "", fmt.Errorf("lab: issue %q: %w", id.Name, err)
	}
	cert, key = l.path(id.Name+".crt"), l.path(id.Name+".key")
	if err := os.WriteFile(cert, certPEM, 0o600); err != nil {
		return "", "", fmt.Errorf("lab: %w", err)
	}
	if err := os.WriteFile(key, keyPEM, 0o600); err != nil {
		return "", "", fmt.Errorf("lab: %w", err)
	}
	return cert, key, nil
}

// brokerMachine is the broker's machine name, whatever the topology calls
// its node.
const brokerMachine = "broker"

// brokerServicer is a placer whose nodes reach the broker by a name of
// its own rather than by its address: the kubernetes backend's broker
// Service, which leads to the broker Pod's cluster address, not to its
// address on the lab network.
type brokerServicer interface {
	// brokerNames are the names the nodes dial, the first one in their
	// configs; the broker's certificate carries them all.
	brokerNames() []string
	// exposeBroker makes the broker on h, listening on ports (by name:
	// control, data, admin), reachable by those names; the lab calls it
	// once the broker is ready, before it places any other machine.
	exposeBroker(ctx context.Context, h host, ports map[string]uint16) error
}

func (l *Lab) startBroker(ctx context.Context) error {
	h, err := l.placer.place(ctx, brokerMachine)
	if err != nil {
		return err
	}
	ip := h.addr
	sans := []string{ip.String(), "broker"}
	// Where a Service leads to the broker it listens on every address of
	// its machine: the Service's way in is not its lab address.
	listen := ip.String()
	bs, serviced := l.placer.(brokerServicer)
	if serviced {
		sans, listen = append(sans, bs.brokerNames()...), ""
	}
	cert, key, err := l.issue(l.cloud, pki.Identity{Name: "broker", Kind: pki.KindBroker}, true, sans...)
	if err != nil {
		return err
	}
	var tok [16]byte
	rand.Read(tok[:])
	l.adminToken = hex.EncodeToString(tok[:])
	cfg := broker.Config{
		Control: listen + ":0", Data: listen + ":0", Admin: listen + ":0",
		AdminToken: l.adminToken, CertFile: cert, KeyFile: key,
		KeepaliveInterval: l.spec.KeepaliveInterval, KeepaliveTimeout: l.spec.KeepaliveTimeout,
		RelayDelay: l.spec.RelayDelay,
	}
	for _, t := range l.spec.Tenants {
		cfg.Tenants = append(cfg.Tenants, broker.Tenant{ID: t.ID, CAFile: l.path("ca-" + t.ID + ".pem"), Policy: t.Policy})
	}
	p, err := l.start(ctx, h, "broker", "broker", cfg)
	if err != nil {
		return err
	}
	l.broker, l.brokerHost, l.brokerCfg = p, h, cfg
	ports, err := brokerPorts(p)
	if err != nil {
		return err
	}
	if serviced {
		if err := bs.exposeBroker(ctx, h, ports); err != nil {
			return err
		}
		l.brokerName = bs.brokerNames()[0]
	}
	l.admin = Admin{Addr: netip.AddrPortFrom(ip, ports["admin"]).String(), Token: l.adminToken}
	return writeJSON(l.path(adminFile), l.admin)
}

// brokerPorts are the ports the broker's ready file says it listens on.
func brokerPorts(p *proc) (map[string]uint16, error) {
	ports := map[string]uint16{}
	for _, name := range []string{"control", "data", "admin"} {
		a, err := p.addr(name)
		if err != nil {
			return nil, err
		}
		_, port, err := net.SplitHostPort(a)
		n, perr := strconv.ParseUint(port, 10, 16)
		if err != nil || perr != nil {
			return nil, fmt.Errorf("lab: broker's %s address %q has no port", name, a)
		}
		ports[name] = uint16(n)
	}
	return ports, nil
}

// AddDevice starts a device's services and its agent on a machine of its
// own; its address there is its interface IP (the profile's InterfaceIP is
// not used: the backend assigns addresses).
func (l *Lab) AddDevice(ctx context.Context, tenantID string, p *device.Profile) (*Device, error) {
	return l.AddDeviceWith(ctx, tenantID, p, DeviceOptions{})
}

// DeviceOptions are a device's optional settings in the lab; the zero value
// is an unimpaired device without forwards.
type DeviceOptions struct {
	// Link impairs the device's link both ways, before any of its
	// processes start (netns backend only).
	Link linkemu.Impairments
	// Forwards are local listeners the device's agent tunnels to their
	// targets, for clients that cannot speak SOCKS5.
	Forwards []Forward
	// ClockSkew is how far ahead of the lab's clock the clock of the CA
	// that issues the device's certificate runs (negative: behind).
	ClockSkew time.Duration
	// Intercept makes the device's agent the resolver of its machine for
	// the names its segments cover, with synthetic addresses whose
	// connections it tunnels, so unmodified clients connect by name
	// (netns backend only: ErrInterceptNeedsNetns elsewhere).
	Intercept bool
	// ReferenceAgent runs the lab's own agent (Spec.Command) on this device
	// even when Spec.AgentCommand or Spec.AgentImage sets a vendor's, so
	// certification can pair the agent under test with the reference
	// (CERT-1).
	ReferenceAgent bool
}

// Forward is one local listener of a device's agent.
type Forward struct {
	// Port to listen on at the device's address; 0 picks a free one.
	Port uint16
	// To is the "FQDN:PORT" target.
	To string
}

// AddDeviceWith is AddDevice with options.
func (l *Lab) AddDeviceWith(ctx context.Context, tenantID string, p *device.Profile, opts DeviceOptions) (*Device, error) {
	ca, ok := l.tenantCAs[tenantID]
	if !ok {
		return nil, fmt.Errorf("lab: add device %q: unknown tenant %q", p.Name, tenantID)
	}
	l.mu.Lock()
	_, dup := l.devices[p.Name]
	l.mu.Unlock()
	if dup {
		return nil, fmt.Errorf("lab: add device %q: name already used in this run", p.Name)
	}
	if err := l.checkIntercept(opts); err != nil {
		return nil, err
	}
	h, err := l.placeDevice(ctx, p.Name, opts.ReferenceAgent)
	if err != nil {
		return nil, err
	}
	if !opts.Link.IsZero() {
		if err := l.impair(ctx, h, p.Name, opts.Link); err != nil {
			return nil, err
		}
	}
	d := &Device{Name: p.Name, Tenant: tenantID, Profile: p, InterfaceIP: h.addr, host: h, lab: l, skew: opts.ClockSkew}
	if err := d.startServices(ctx); err != nil {
		return nil, err
	}
	if err := d.startAgent(ctx, ca, opts.Forwards, opts.Intercept, opts.ReferenceAgent); err != nil {
		return nil, err
	}
	if opts.Intercept {
		if err := d.intercept(ctx); err != nil {
			return nil, err
		}
	}
	l.mu.Lock()
	l.devices[p.Name] = d
	l.mu.Unlock()
	return d, nil
}

func (d *Device) startServices(ctx context.Context) error {
	cfg := endpoint.Config{
		IP:               d.InterfaceIP.String(),
		Services:         d.Profile.ServicesOrDefault(),
		RDP:              d.Profile.RDP,
		SMB:              d.Profile.SMB,
		BlockInterfaceIP: d.Profile.Firewall.BlockInterfaceIP,
		InboundRules:     d.Profile.Firewall.InboundRules,
	}
	p, err := d.lab.start(ctx, d.host, d.Name+"-services", "services", cfg)
	d.services = p
	return err
}

func (d *Device) startAgent(ctx context.Context, ca *pki.CA, forwards []Forward, intercept, reference bool) error {
	l := d.lab
	cert, key, err := l.issueAt(time.Now().Add(d.skew), ca, pki.Identity{Tenant: d.Tenant, Name: d.Name, Kind: pki.KindAgent}, false)
	if err != nil {
		return err
	}
	bundle, err := l.trustBundle(d.Name, ca)
	if err != nil {
		return err
	}
	cfg := agent.Config{
		Name: d.Name, Broker: l.brokerAddrs(), CAFile: bundle, CertFile: cert, KeyFile: key,
		Profile: *d.Profile, InterfaceIP: d.InterfaceIP.String(),
		SOCKS: d.InterfaceIP.String() + ":0", Status: d.InterfaceIP.String() + ":0",
	}
	if intercept {
		cfg.DNS = net.JoinHostPort(d.InterfaceIP.String(), interceptDNSPort)
		cfg.Intercept = "127.0.0.1:0" // where REDIRECT sends the machine's own connections
	}
	for _, f := range forwards {
		listen := netip.AddrPortFrom(d.InterfaceIP, f.Port).String()
		cfg.Forwards = append(cfg.Forwards, agent.Forward{Listen: listen, To: f.To})
	}
	command, h := l.spec.Command, d.host
	switch {
	case reference:
		h.referenceAgent = true
	case len(l.spec.AgentCommand) > 0:
		command = l.spec.AgentCommand
	}
	p, err := l.startWith(ctx, h, command, d.Name+"-agent", "agent", cfg)
	d.agent = p
	return err
}

// impair splices the link emulator into h's attachment, running it as a
// linkemu node in the emulator's namespace, started and stopped like every
// other node.
func (l *Lab) impair(ctx context.Context, h host, name string, link linkemu.Impairments) error {
	imp := netlab.Impairment{ToHost: link, FromHost: link, PerPacket: link.Loss.Probability > 0}
	return l.placer.impair(ctx, h, imp, func(ctx context.Context, emu netlab.Emu, cfg linkemu.Config) (func() error, error) {
		ns := emu.NS
		at := host{wrap: func(cmd []string) []string { return append([]string{"ip", "netns", "exec", ns}, cmd...) }}
		_, err := l.start(ctx, at, name+"-linkemu", "linkemu", cfg)
		return nil, err // Close stops it with the other nodes
	})
}

// trustBundle writes the CAs a connector trusts: the cloud CA (the broker)
// and its tenant's CA (its peers on the data path).
func (l *Lab) trustBundle(name string, ca *pki.CA) (string, error) {
	bundle := l.path(name + "-trust.pem")
	if err := os.WriteFile(bundle, append(l.cloud.CertPEM(), ca.CertPEM()...), 0o600); err != nil {
		return "", fmt.Errorf("lab: %w", err)
	}
	return bundle, nil
}

// brokerAddrs is where agents and connectors reach the broker.
// Where the placer names the broker (brokerServicer), they dial that
// name at the broker's ports.
func (l *Lab) brokerAddrs() peer.BrokerAddrs {
	b := peer.BrokerAddrs{ServerName: "broker"}
	b.Control, _ = l.broker.addr("control")
	b.Data, _ = l.broker.addr("data")
	if l.brokerName != "" {
		for _, a := range []*string{&b.Control, &b.Data} {
			if _, port, err := net.SplitHostPort(*a); err == nil {
				*a = net.JoinHostPort(l.brokerName, port)
			}
		}
	}
	return b
}

// Device returns the named device.
func (l *Lab) Device(name string) (*Device, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	d, ok := l.devices[name]
	return d, ok
}

// Command runs a program on the device's machine: in its network
// namespace on the netns backend, as is on loopback. The program needs no
// knowledge of the lab: this is how an unmodified client runs "on" a device.
func (d *Device) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	full := d.host.command(append([]string{name}, args...))
	return exec.CommandContext(ctx, full[0], full[1:]...)
}

// Shell is the command prefix that runs a program on the device's machine,
// e.g. "ip netns exec c2c1a2b3c-admin-2"; empty on loopback.
func (d *Device) Shell() string {
	return strings.Join(d.host.command(nil), " ")
}

// StopAgent stops the device's agent cleanly (SIGTERM).
func (d *Device) StopAgent() { d.agent.stop() }

// KillAgent kills the device's agent, as a crash would.
func (d *Device) KillAgent() { d.agent.kill() }

// FreezeAgent stops the agent's process (SIGSTOP; a paused container on
// the container backend): its connections stay open but it answers
// nothing, as a hung or suspended machine would.
func (d *Device) FreezeAgent() error { return d.agent.freeze() }

// RemoveDevice stops the device's agent and services and forgets it, so
// its name can be used again. The broker ends the agent's session when its
// connection closes; UserStatus shows when it has.
func (l *Lab) RemoveDevice(name string) error {
	l.mu.Lock()
	d, ok := l.devices[name]
	delete(l.devices, name)
	l.mu.Unlock()
	if !ok {
		return fmt.Errorf("lab: remove device %q: no such device", name)
	}
	d.agent.stop()
	d.services.stop()
	return nil
}
