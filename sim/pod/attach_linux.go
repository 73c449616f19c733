package pod

import (
	"fmt"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// moveAttachments moves the Pod's other attachments (net1, the lab
// network Multus added) into the nodes' namespace, with their addresses
// and gateway routes: the nodes listen on their lab address there. They
// are moved, not impaired: the emulator shapes eth0, the way to the
// broker's Service, which every relayed byte of the machine crosses.
// Links without an IPv4 address (the emulator's own veth end, eth0 once
// its address went) stay.
func moveAttachments(inner netns.NsHandle) error {
	links, err := netlink.LinkList()
	if err != nil {
		return fmt.Errorf("impair: list links: %w", err)
	}
	h, err := netlink.NewHandleAt(inner)
	if err != nil {
		return fmt.Errorf("impair: %w", err)
	}
	defer h.Close()
	for _, l := range links {
		name := l.Attrs().Name
		if name == "lo" || name == "eth0" || name == emuOuter {
			continue
		}
		addrs, err := netlink.AddrList(l, netlink.FAMILY_V4)
		if err != nil || len(addrs) == 0 {
			continue
		}
		routes, err := gatewayRoutes(l)
		if err != nil {
			return err
		}
		if err := netlink.LinkSetNsFd(l, int(inner)); err != nil {
			return fmt.Errorf("impair: move %s into the nodes' namespace: %w", name, err)
		}
		if err := readd(h, name, addrs, routes); err != nil {
			return err
		}
	}
	return nil
}

// readd gives the link named name in h's namespace its addresses and
// routes again: a link that changes namespace loses them.
func readd(h *netlink.Handle, name string, addrs []netlink.Addr, routes []netlink.Route) error {
	l, err := h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("impair: %s in the nodes' namespace: %w", name, err)
	}
	for _, a := range addrs {
		if err := h.AddrAdd(l, &netlink.Addr{IPNet: a.IPNet}); err != nil {
			return fmt.Errorf("impair: %s: address %s: %w", name, a.IPNet, err)
		}
	}
	if err := h.LinkSetUp(l); err != nil {
		return fmt.Errorf("impair: %s up: %w", name, err)
	}
	for _, r := range routes {
		r.LinkIndex = l.Attrs().Index
		if err := h.RouteAdd(&r); err != nil {
			return fmt.Errorf("impair: %s: route %v: %w", name, r, err)
		}
	}
	return nil
}
