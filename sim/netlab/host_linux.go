package netlab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/containernetworking/cni/libcni"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/vishvananda/netlink"
)

// AddHost creates the namespace RUNID-NAME with loopback up and attaches it
// to the given networks through CNI ADD, as eth0, eth1, ... in that order.
// On error everything it created is removed again.
func (l *Lab) AddHost(ctx context.Context, name string, networks ...string) (*Host, error) {
	if err := checkName("host", name); err != nil {
		return nil, err
	}
	nets, err := l.reserveHost(name, networks)
	if err != nil {
		return nil, err
	}
	h := &Host{
		Name:    name,
		NS:      nsName(l.runID, name),
		Addrs:   map[string]netip.Addr{},
		IfNames: map[string]string{},
	}
	var undo undoStack
	if err := l.setUpHost(ctx, h, nets, &undo); err != nil {
		err = errors.Join(fmt.Errorf("add host %q: %w", name, err), undo.run())
		l.mu.Lock()
		delete(l.hosts, name)
		l.mu.Unlock()
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed { // Close ran meanwhile and could not see this host
		return nil, errors.Join(fmt.Errorf("add host %q: %w", name, ErrClosed), undo.run())
	}
	undo.moveTo(&l.undo)
	l.hosts[name] = h
	out := *h
	return &out, nil
}

// reserveHost claims the host's name and looks up its networks.
func (l *Lab) reserveHost(name string, networks []string) ([]*network, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, fmt.Errorf("add host %q: %w", name, ErrClosed)
	}
	if _, ok := l.hosts[name]; ok {
		return nil, fmt.Errorf("add host %q: %w", name, ErrExists)
	}
	nets := make([]*network, len(networks))
	for i, nn := range networks {
		n, ok := l.networks[nn]
		if !ok {
			return nil, fmt.Errorf("add host %q: network %q: %w", name, nn, ErrUnknownNetwork)
		}
		nets[i] = n
	}
	l.hosts[name] = nil // reserved; filled on success
	return nets, nil
}

func (l *Lab) setUpHost(ctx context.Context, h *Host, nets []*network, undo *undoStack) error {
	undo.push(func() error { return deleteNetns(h.NS) })
	path, err := createNetns(h.NS)
	h.Path = path
	if err != nil {
		return err
	}
	for i, n := range nets {
		ifname := fmt.Sprintf("eth%d", i)
		if err := l.attach(ctx, h, n, ifname, undo); err != nil {
			return err
		}
	}
	return nil
}

// attach runs CNI ADD for one network and records the address. CNI DEL is
// registered before ADD runs: the spec wants DEL after a failed ADD too.
func (l *Lab) attach(ctx context.Context, h *Host, n *network, ifname string, undo *undoStack) error {
	rt := &libcni.RuntimeConf{ContainerID: h.NS, NetNS: h.Path, IfName: ifname}
	undo.push(func() error {
		if err := l.cni.DelNetworkList(context.Background(), n.list, rt); err != nil {
			return fmt.Errorf("cni del %q %s: %w", n.CNIName, ifname, err)
		}
		return nil
	})
	res, err := l.cni.AddNetworkList(ctx, n.list, rt)
	if err != nil {
		return fmt.Errorf("cni add %q %s: %w", n.CNIName, ifname, err)
	}
	r, err := current.NewResultFromResult(res)
	if err != nil {
		return fmt.Errorf("cni add %q %s: result: %w", n.CNIName, ifname, err)
	}
	addr, err := resultAddr(r, ifname)
	if err != nil {
		return fmt.Errorf("cni add %q %s: %w", n.CNIName, ifname, err)
	}
	h.Addrs[n.Name], h.IfNames[n.Name] = addr, ifname
	return tagHostVeths(r, h.NS+"/"+ifname)
}

// resultAddr returns the first IPv4 address of ifname in a CNI result.
func resultAddr(r *current.Result, ifname string) (netip.Addr, error) {
	for _, ip := range r.IPs {
		if ip.Interface == nil || *ip.Interface >= len(r.Interfaces) || r.Interfaces[*ip.Interface].Name != ifname {
			continue
		}
		if a, ok := netip.AddrFromSlice(ip.Address.IP.To4()); ok {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("no IPv4 address for %s in result", ifname)
}

// tagHostVeths gives root-namespace veths of a result an alias carrying the
// run ID: CNI names them randomly, and Sweep must find them after a crash.
func tagHostVeths(r *current.Result, alias string) error {
	for _, iface := range r.Interfaces {
		if iface.Sandbox != "" {
			continue
		}
		link, err := linkByName(iface.Name)
		if err != nil {
			return fmt.Errorf("tag veth %q: %w", iface.Name, err)
		}
		if _, ok := link.(*netlink.Veth); !ok {
			continue // the bridge itself
		}
		if err := netlink.LinkSetAlias(link, alias); err != nil {
			return fmt.Errorf("tag veth %q: %w", iface.Name, err)
		}
	}
	return nil
}

// Host returns the named host.
func (l *Lab) Host(name string) (*Host, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.hosts[name]
	if h == nil {
		return nil, fmt.Errorf("host %q: %w", name, ErrUnknownHost)
	}
	out := *h
	return &out, nil
}

// SetLinkUp sets the host's interface on network down (a partition) or up
// again.
func (l *Lab) SetLinkUp(host, network string, up bool) error {
	h, err := l.Host(host)
	if err != nil {
		return fmt.Errorf("set link: %w", err)
	}
	ifname, ok := h.IfNames[network]
	if !ok {
		return fmt.Errorf("set link: host %q network %q: %w", host, network, ErrUnknownNetwork)
	}
	if err := linkUpIn(h.Path, ifname, up); err != nil {
		return fmt.Errorf("set link: host %q: %w", host, err)
	}
	return nil
}
