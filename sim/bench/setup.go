package bench

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"strconv"
	"time"

	"github.com/c2clab/c2clab/sim/bench/splice"
	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/sim/measure"
	"github.com/c2clab/c2clab/sim/measure/cpuacct"
	"github.com/c2clab/c2clab/sim/node"
	"github.com/c2clab/c2clab/sim/tenant"
)

//go:embed lab/*.yaml
var labFS embed.FS

// Ports of the desktop's services.
const (
	bulkPort  = 5201
	iperfPort = 5202
	echoPort  = 7007
)

// ErrBackend is returned for a backend the bench cannot place its
// reference paths on.
var ErrBackend = errors.New("bench: backend must be local or netns")

// bench is one run's lab and the ways to its desktop's services.
type bench struct {
	backend lab.Backend
	lab     *lab.Lab
	admin   *lab.Device
	desktop *lab.Device
	fqdn    string
	paths   []Path
	bulk    map[string]measure.Dialer // per available path
	echo    map[string]measure.Dialer
	stops   []func() // helper processes to end, in reverse

	socatPIDs []int             // socat's listeners; their children join their cgroup
	meter     map[string]*meter // per path with processes of its own
	// relayDebug is the debug address (sim/node.DebugEnv) of each of
	// the relay's nodes, by node name: where --profile reads from.
	relayDebug map[string]string
	groups     []*cpuacct.Group // closed after the lab
}

// start runs the lab: the broker, the desktop with its services, and the
// admin with forwards to the desktop's bulk and iperf3 ports.
func start(ctx context.Context, c Config) (*bench, error) {
	if err := lab.Backend(c.Backend).Supports(lab.FeatureBench); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBackend, err)
	}
	t, _, err := tenant.ParseFS(labFS, "lab/tenant.yaml")
	if err != nil {
		return nil, fmt.Errorf("bench: tenant: %w", err)
	}
	pol := t.Policy()
	desktop, err := profile("desktop")
	if err != nil {
		return nil, err
	}
	admin, err := profile("admin")
	if err != nil {
		return nil, err
	}
	if err := lab.Backend(c.Backend).Supports(lab.FeatureLinks); !c.Link.IsZero() && err != nil {
		return nil, fmt.Errorf("bench: an impaired link (%s): %w", c.Link, err)
	}
	b := &bench{backend: lab.Backend(c.Backend), bulk: map[string]measure.Dialer{}, echo: map[string]measure.Dialer{}, fqdn: desktop.ReportedFQDN()}
	fwd := lab.DeviceOptions{Forwards: []lab.Forward{{To: b.target(bulkPort)}, {To: b.target(iperfPort)}, {To: b.target(echoPort)}}}
	plan := lab.Plan{Tenants: []lab.Tenant{{ID: pol.Tenant, Policy: pol}},
		Devices: []lab.PlannedDevice{{Tenant: pol.Tenant, Profile: desktop, Options: lab.DeviceOptions{Link: c.Link}}, {Tenant: pol.Tenant, Profile: admin, Options: fwd}}}
	// The nodes serve their allocation counters (sim/node.DebugEnv).
	env := append(slices.Clone(c.Env), node.DebugEnv+"=1")
	if b.lab, err = lab.Start(ctx, lab.Spec{Command: c.Command, Env: env, Backend: lab.Backend(c.Backend), Kube: c.Kube, Dir: c.Dir, RelayDelay: c.RelayDelay}, plan); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			b.close()
		}
	}()
	b.desktop, _ = b.lab.Device("desktop")
	b.admin, _ = b.lab.Device("admin")
	l := b.lab
	if c.Backend == lab.BackendNetns {
		// "Direct" is routed direct (DESIGN.md): the same hops as the
		// relay, with the broker's kernel forwarding.
		if err := l.RouteThroughBroker(ctx, b.admin, b.desktop); err != nil {
			return nil, err
		}
	}
	if err := b.routes(ctx, c.relayOnly); err != nil {
		return nil, err
	}
	if err := b.meters(ctx); err != nil {
		return nil, err
	}
	ok = true
	return b, nil
}

// profile is the bench's device profile name, named name.
func profile(name string) (*device.Profile, error) {
	data, err := labFS.ReadFile("lab/" + name + ".yaml")
	if err != nil {
		return nil, err
	}
	p, err := device.Parse(name+".yaml", data)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	p.Name = name
	return p, nil
}

func (b *bench) target(port uint16) string { return b.fqdn + ":" + strconv.Itoa(int(port)) }

func (b *bench) deviceAddr(port uint16) string {
	return netip.AddrPortFrom(b.desktop.InterfaceIP, port).String()
}

// routes sets up the dialers of every path to the bulk and echo services.
// Every path starts with a socket in the admin's machine (its network
// namespace on netns): the relay through the admin agent's forward, the
// others to the broker's machine or, routed through it, the desktop.
// With relayOnly (bench ab) there is only the relay's path.
func (b *bench) routes(ctx context.Context, relayOnly bool) error {
	for _, port := range []uint16{bulkPort, echoPort} {
		m := b.dialers(port)
		fwd, err := b.admin.ForwardAddr(b.target(port))
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		m[PathRelay] = b.fromAdmin(fwd)
		if relayOnly {
			continue
		}
		m[PathDirect] = b.fromAdmin(b.deviceAddr(port))
		addrs, err := b.lab.StartOnBroker(ctx, "splice-"+strconv.Itoa(int(port)), "splice",
			splice.Config{Listen: netip.AddrPortFrom(b.lab.BrokerIP(), 0).String(), To: b.deviceAddr(port)})
		if err != nil {
			return fmt.Errorf("bench: splice relay: %w", err)
		}
		m[PathSplice] = b.fromAdmin(addrs["relay"])
	}
	if relayOnly {
		b.paths = []Path{{Name: PathRelay, Available: true}}
		return nil
	}
	b.paths = []Path{{Name: PathRelay, Available: true}, {Name: PathDirect, Available: true}, {Name: PathSplice, Available: true}}
	socat := Path{Name: PathSocat, Available: true}
	if err := b.startSocat(ctx); err != nil {
		socat = Path{Name: PathSocat, Note: err.Error()}
	}
	b.paths = append(b.paths, socat)
	return nil
}

func (b *bench) dialers(port uint16) map[string]measure.Dialer {
	if port == bulkPort {
		return b.bulk
	}
	return b.echo
}

// fromAdmin dials addr from the admin's machine.
func (b *bench) fromAdmin(addr string) measure.Dialer {
	ap := netip.MustParseAddrPort(addr)
	return func(ctx context.Context) (net.Conn, error) { return b.admin.DialFrom(ctx, ap) }
}

// errNotInstalled marks an optional reference tool missing from PATH.
var errNotInstalled = errors.New("not installed")

// startSocat runs socat on the broker's machine in front of each service.
func (b *bench) startSocat(ctx context.Context) error {
	if err := b.backend.Supports(lab.FeatureHostCommands); err != nil {
		return fmt.Errorf("not measured: socat cannot run on the broker's machine: %w", err)
	}
	if _, err := exec.LookPath("socat"); err != nil {
		return errNotInstalled
	}
	for _, port := range []uint16{bulkPort, echoPort} {
		listen := netip.AddrPortFrom(b.lab.BrokerIP(), 10000+port)
		cmd := b.lab.BrokerCommand(context.WithoutCancel(ctx), "socat",
			fmt.Sprintf("TCP-LISTEN:%d,bind=%s,reuseaddr,fork", listen.Port(), listen.Addr()), "TCP:"+b.deviceAddr(port))
		if err := b.helper(ctx, cmd, listen.String()); err != nil {
			return fmt.Errorf("socat: %w", err)
		}
		b.socatPIDs = append(b.socatPIDs, cmd.Process.Pid)
		b.dialers(port)[PathSocat] = b.fromAdmin(listen.String())
	}
	return nil
}

// helper starts cmd, to be ended by close, and waits until addr accepts
// connections.
func (b *bench) helper(ctx context.Context, cmd *exec.Cmd, addr string) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	b.stops = append(b.stops, func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s does not listen on %s: %w", cmd.Path, addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (b *bench) close() error {
	for i := len(b.stops) - 1; i >= 0; i-- {
		b.stops[i]()
	}
	b.stops = nil
	err := b.lab.Close()
	for _, g := range b.groups {
		err = errors.Join(err, g.Close())
	}
	return err
}
