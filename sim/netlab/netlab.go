// Package netlab builds lab networks from Linux network namespaces and
// ordinary CNI networks, places node processes in them and removes it all
// again, also after a crashed run.
//
// A Lab belongs to one run ID ("c2c" + 6 hex). Every thing it creates carries
// that ID so Sweep can find a crashed run's leftovers:
//
//   - namespaces      RUNID-HOST, bind-mounted under /var/run/netns (so
//     `ip netns exec RUNID-HOST ...` works)
//   - bridges         "c2" + 6 hex + "b" + N (15 characters at most)
//   - host-side veths alias "RUNID-HOST/ethN" (CNI names them randomly)
//   - emulators       namespace RUNID-HOST-NETWORK-emu (see Impair); its
//     bridge port "c2" + 6 hex + "e" + N, alias "RUNID-HOST-NETWORK-emu/b0"
//   - CNI networks    name "RUNID-NETWORK", container ID "RUNID-HOST"
//   - an iptables FORWARD accept rule for 198.18.0.0/15 -> 198.18.0.0/15,
//     comment "c2clab:RUNID" (hosts with Docker drop bridged traffic otherwise)
//   - state           StateRoot/RUNID: host-local IPAM data and libcni's cache
//
// Usage:
//
//	dir := filepath.Join(os.TempDir(), "c2clab-cni")
//	err := netlab.BuildPlugins(ctx, dir)           // once; cached by module version
//	l, err := netlab.New(runID, dir)
//	defer l.Close()
//	lan, err := l.AddNetwork(ctx, "lan", nil)     // default bridge network
//	a, err := l.AddHost(ctx, "admin", "lan")       // a.Addrs["lan"]
//	cmd := a.Command(ctx, "c2clab", "node", "agent", ...)
//	err = l.SetLinkUp("admin", "lan", false)       // partition
//
// Addresses are only ever taken from 198.18.0.0/15 (RFC 2544 benchmarking
// space); a configuration list with any other subnet is refused.
package netlab

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// StateRoot holds one directory per run with its IPAM state and CNI cache.
// It is under /run (tmpfs) so nothing survives a reboot and Sweep finds it
// from any process.
const StateRoot = "/run/c2clab-netlab"

// labRange is the only address range lab networks may use; unexported so
// no importer can widen it.
var labRange = netip.MustParsePrefix("198.18.0.0/15")

// LabRange is the only address range lab networks may use.
func LabRange() netip.Prefix { return labRange }

// Errors callers branch on.
var (
	ErrRunID          = errors.New("invalid run id (want c2c + 6 lowercase hex)")
	ErrName           = errors.New("invalid name (want [a-z0-9][a-z0-9-]*, at most 32 characters)")
	ErrExists         = errors.New("already exists")
	ErrUnknownNetwork = errors.New("unknown network")
	ErrUnknownHost    = errors.New("unknown host")
	ErrAddressRange   = errors.New("subnet outside 198.18.0.0/15")
	ErrNoSubnet       = errors.New("no free subnet in 198.18.0.0/15")
	ErrClosed         = errors.New("lab closed")
	ErrUnsupported    = errors.New("netlab needs Linux")
)

// Network is one CNI network of a lab. Subnet, Gateway and Bridge are zero
// when the configuration list does not say (for example no host-local IPAM).
type Network struct {
	Name    string       // as given to AddNetwork
	CNIName string       // RUNID-NAME, the name CNI plugins see
	Subnet  netip.Prefix // host-local subnet
	Gateway netip.Addr   // the bridge's address, reachable from the root namespace
	Bridge  string       // bridge device in the root namespace
}

// Host is one network namespace of a lab with its attachments.
type Host struct {
	Name  string                // as given to AddHost
	NS    string                // namespace name, RUNID-NAME
	Path  string                // /var/run/netns/NS
	Addrs map[string]netip.Addr // per network name, from the CNI result
	// IfNames gives the interface inside the namespace per network
	// (eth0, eth1, ... in the order given to AddHost).
	IfNames map[string]string
}

var (
	runIDRE = regexp.MustCompile(`^c2c[0-9a-f]{6}$`)
	nameRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
	nsRE    = regexp.MustCompile(`^(c2c[0-9a-f]{6})-[a-z0-9-]+$`)
	linkRE  = regexp.MustCompile(`^c2([0-9a-f]{6})[be][0-9]+$`) // bridges, emulator ports
	aliasRE = regexp.MustCompile(`^(c2c[0-9a-f]{6})-`)
)

func checkRunID(id string) error {
	if !runIDRE.MatchString(id) {
		return fmt.Errorf("netlab: run id %q: %w", id, ErrRunID)
	}
	return nil
}

func checkName(kind, name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("netlab: %s %q: %w", kind, name, ErrName)
	}
	return nil
}

// nsName is the namespace of host in run.
func nsName(runID, host string) string { return runID + "-" + host }

// bridgeName is the n-th bridge of run: "c2" + 6 hex + "b" + n, so it fits
// IFNAMSIZ (15) for n < 100000.
func bridgeName(runID string, n int) string {
	return fmt.Sprintf("c2%sb%d", runID[3:], n)
}

// emuPortName is the bridge-side end of the n-th emulator's veth pair of
// run, named like the bridges so it fits IFNAMSIZ and carries the run ID
// from the moment it exists.
func emuPortName(runID string, n int) string {
	return fmt.Sprintf("c2%se%d", runID[3:], n)
}

// emuNSName is the namespace of the emulator on host's attachment to
// network.
func emuNSName(runID, host, network string) string {
	return runID + "-" + host + "-" + network + "-emu"
}

// runIDOfNS returns the run ID a namespace name carries, or "".
func runIDOfNS(name string) string {
	if m := nsRE.FindStringSubmatch(name); m != nil {
		return m[1]
	}
	return ""
}

// runIDOfLink returns the run ID a link carries in its name (bridges,
// emulator ports) or alias (host-side veths), or "".
func runIDOfLink(name, alias string) string {
	if m := linkRE.FindStringSubmatch(name); m != nil {
		return "c2c" + m[1]
	}
	if m := aliasRE.FindStringSubmatch(alias); m != nil {
		return m[1]
	}
	return ""
}

// fwComment tags the run's iptables rule.
func fwComment(runID string) string { return "c2clab:" + runID }

// fwRuleRunID returns the run ID of an `iptables -S` line that is one of
// ours, or "".
func fwRuleRunID(line string) string {
	const tag = `--comment "c2clab:`
	i := strings.Index(line, tag)
	if i < 0 || !strings.HasPrefix(line, "-A FORWARD ") {
		return ""
	}
	rest := line[i+len(tag):]
	if j := strings.IndexByte(rest, '"'); j > 0 && runIDRE.MatchString(rest[:j]) {
		return rest[:j]
	}
	return ""
}
