package conform

import (
	"fmt"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/device"
)

// ForwardFailure is the code the destination side answers when it cannot
// deliver a connection to the local service (EP-1).
const ForwardFailure = code.C2CMtunnelFailedForward

// Deliver is what the destination side of a conforming connector on p
// does with a connection the broker hands it for port over proto: it dials
// the local service at the device's interface IP, never 127.0.0.1 (EP-1).
// That fails when the host firewall blocks the connector's connections to
// the interface IP, or when none of the device's services
// (p.ServicesOrDefault, which the lab starts) listens on port. It returns
// "" and the line saying which service takes the connection, or
// ForwardFailure and why. UDP is not modelled: the device's services are
// TCP, and the answer is "" with no line.
func Deliver(p *device.Profile, proto string, port uint16) (code.Code, string) {
	if p.Firewall.BlockInterfaceIP {
		return ForwardFailure, ForwardFailure.Sentence(fmt.Sprintf("the policy allows it, but the host firewall of %s blocks connections from its connector to its interface IP, so it cannot forward to the local service", p.Name), "EP-1")
	}
	if proto != "" && proto != "tcp" {
		return "", ""
	}
	for _, s := range p.ServicesOrDefault() {
		if s.Port == int(port) {
			return "", fmt.Sprintf("%s forwards to its local %s service on port %d at its interface IP", p.Name, s.Kind, s.Port)
		}
	}
	return ForwardFailure, ForwardFailure.Sentence(fmt.Sprintf("the policy allows it, but nothing listens on port %d on %s, so its connector cannot forward", port, p.Name), "EP-1")
}
