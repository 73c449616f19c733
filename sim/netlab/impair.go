package netlab

import (
	"context"
	"errors"

	"github.com/c2clab/c2clab/sim/linkemu"
)

// Interface names inside an emulator namespace.
const (
	EmuIfaceA = "a0" // faces the host: the old bridge-side end of its veth
	EmuIfaceB = "b0" // faces the bridge: a new veth to a new bridge port
)

// ErrImpaired means the attachment already has an emulator.
var ErrImpaired = errors.New("attachment already impaired")

// ErrNoBridge means the network has no bridge device to splice into (its
// configuration list has no bridge plugin).
var ErrNoBridge = errors.New("network has no bridge")

// Impairment is what Impair asks of the emulator on one attachment. The zero
// value is a perfect link through the emulator.
type Impairment struct {
	ToHost   linkemu.Impairments // frames from the bridge to the host
	FromHost linkemu.Impairments // frames from the host to the bridge
	// Seed seeds loss and jitter; 0 lets the emulator pick (it reports it).
	Seed int64
	// PerPacket turns TSO, GSO and GRO off on the host's interface, a0, b0
	// and the bridge port, so the emulator sees one frame per packet and
	// loss and queueing act per packet, not on 64 KiB super-frames. Set it
	// whenever there is loss; it costs throughput above a few 100 Mbit/s.
	PerPacket bool
}

// Emu is a link emulator spliced into a host's attachment to a network.
type Emu struct {
	Host, Network string
	NS            string // emulator namespace, RUNID-HOST-NETWORK-emu
	Path          string // /var/run/netns/NS, for linkemu.Config.Netns
	IfaceA        string // EmuIfaceA, faces the host
	IfaceB        string // EmuIfaceB, faces the bridge
	Port          string // the bridge port in the root namespace, b0's peer
}

// EmuStarter starts the emulator with cfg (interfaces, directions, seed and
// Netns already filled in from emu) and returns once it forwards frames. The
// stop it returns ends the emulator and waits for it; the lab calls it
// before it removes the namespace (nil: nothing to stop, for example a
// process inside emu.NS, which removing the namespace kills). A process
// started with `ip netns exec emu.NS` may ignore cfg.Netns or keep it:
// entering the namespace it is already in changes nothing.
type EmuStarter func(ctx context.Context, emu Emu, cfg linkemu.Config) (stop func() error, err error)

// config is the emulator configuration of an attachment: A faces the host,
// so AtoB carries frames from the host.
func (imp Impairment) config(e Emu) linkemu.Config {
	return linkemu.Config{
		IfaceA: e.IfaceA, IfaceB: e.IfaceB,
		AtoB: imp.FromHost, BtoA: imp.ToHost,
		Seed: imp.Seed, Netns: e.Path,
	}
}
