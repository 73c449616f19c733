package lab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/c2clab/c2clab/sim/agent"
	"github.com/c2clab/c2clab/sim/broker"
	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/endpoint"
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
	services *proc
	agent    *proc
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
	certPEM, keyPEM, err := ca.Issue(id, server, hosts...)
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

func (l *Lab) startBroker(ctx context.Context) error {
	ip, err := l.addrs.take()
	if err != nil {
		return err
	}
	cert, key, err := l.issue(l.cloud, pki.Identity{Name: "broker", Kind: pki.KindBroker}, true, ip.String(), "broker")
	if err != nil {
		return err
	}
	var tok [16]byte
	rand.Read(tok[:])
	l.adminToken = hex.EncodeToString(tok[:])
	cfg := broker.Config{
		Control: ip.String() + ":0", Data: ip.String() + ":0", Admin: ip.String() + ":0",
		AdminToken: l.adminToken, CertFile: cert, KeyFile: key,
		KeepaliveInterval: l.spec.KeepaliveInterval, KeepaliveTimeout: l.spec.KeepaliveTimeout,
	}
	for _, t := range l.spec.Tenants {
		cfg.Tenants = append(cfg.Tenants, broker.Tenant{ID: t.ID, CAFile: l.path("ca-" + t.ID + ".pem"), Policy: t.Policy})
	}
	p, err := startNode(ctx, l.spec.Command, l.spec.Env, l.Dir, "broker", "broker", cfg)
	if err != nil {
		return err
	}
	l.broker = p
	if err := l.track(p); err != nil {
		return err
	}
	addr, err := p.addr("admin")
	if err != nil {
		return err
	}
	l.admin = Admin{Addr: addr, Token: l.adminToken}
	return writeJSON(l.path(adminFile), l.admin)
}

// AddDevice starts a device's services and its agent. The device gets its
// own loopback interface address; the profile's InterfaceIP is ignored on
// this backend.
func (l *Lab) AddDevice(ctx context.Context, tenantID string, p *device.Profile) (*Device, error) {
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
	ip, err := l.addrs.take()
	if err != nil {
		return nil, err
	}
	d := &Device{Name: p.Name, Tenant: tenantID, Profile: p, InterfaceIP: ip, lab: l}
	if err := d.startServices(ctx); err != nil {
		return nil, err
	}
	if err := d.startAgent(ctx, ca); err != nil {
		return nil, err
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
	}
	p, err := startNode(ctx, d.lab.spec.Command, d.lab.spec.Env, d.lab.Dir, d.Name+"-services", "services", cfg)
	if err != nil {
		return err
	}
	d.services = p
	return d.lab.track(p)
}

func (d *Device) startAgent(ctx context.Context, ca *pki.CA) error {
	l := d.lab
	cert, key, err := l.issue(ca, pki.Identity{Tenant: d.Tenant, Name: d.Name, Kind: pki.KindAgent}, false)
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
	p, err := startNode(ctx, l.spec.Command, l.spec.Env, l.Dir, d.Name+"-agent", "agent", cfg)
	if err != nil {
		return err
	}
	d.agent = p
	return l.track(p)
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
func (l *Lab) brokerAddrs() peer.BrokerAddrs {
	b := peer.BrokerAddrs{ServerName: "broker"}
	b.Control, _ = l.broker.addr("control")
	b.Data, _ = l.broker.addr("data")
	return b
}

// Device returns the named device.
func (l *Lab) Device(name string) (*Device, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	d, ok := l.devices[name]
	return d, ok
}

// StopAgent stops the device's agent cleanly (SIGTERM).
func (d *Device) StopAgent() { d.agent.stop() }

// KillAgent kills the device's agent, as a crash would.
func (d *Device) KillAgent() { d.agent.kill() }

// FreezeAgent stops the agent's process (SIGSTOP): its connections stay
// open but it answers nothing, as a hung or suspended machine would.
func (d *Device) FreezeAgent() error { return d.agent.freeze() }
