package lab

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"golang.org/x/sys/unix"

	"github.com/c2clab/c2clab/sim/image"
	"github.com/c2clab/c2clab/sim/netlab"
)

// containerPlacer gives every machine its own network namespace owned by
// a Docker container on one bridge network of the run. testcontainers-go
// finds the engine and builds the image; the lab creates the network and
// the containers with the engine's client (the library's own would start
// Ryuk, its reaper, unless the process environment says otherwise: the lab
// sweeps by its run label instead), picks the subnet, labels, streams
// logs, signals, pauses and sweeps. A machine's first container owns its network
// namespace and its later nodes join it (network mode container:FIRST).
// The lab stops nodes in reverse order, so the owner stops last.
type containerPlacer struct {
	runID string
	image string // tag of the run's FROM scratch image
	// agentImage, if set, runs the agents instead of image (a vendor's).
	agentImage string
	provider   *testcontainers.DockerProvider
	network    dockerNetwork
	subnet     netip.Prefix

	mu       sync.Mutex // guards seq, machines
	seq      int
	machines map[string]*machine // by host name
	once     sync.Once
	err      error
}

// dockerNetwork is the run's bridge network; the sweep removes it by the
// run's label.
type dockerNetwork struct{ id, name string }

// dockerTimeout bounds one step of the placer on the engine (a build, a
// network, a container start, a sweep).
const dockerTimeout = 60 * time.Second

// newContainerPlacer builds the run's image from binary, or uses the
// caller's image img when set (Spec.ContainerImage), which must be on the
// engine already: nothing is pulled.
func newContainerPlacer(ctx context.Context, runID, binary, img string) (placer, error) {
	prov, err := connectDocker(ctx)
	if err != nil {
		return nil, err
	}
	p := &containerPlacer{runID: runID, image: "c2clab:" + runID, provider: prov}
	start := time.Now()
	bctx, cancel := context.WithTimeout(ctx, dockerTimeout)
	defer cancel()
	if img != "" {
		if _, err := prov.Client().ImageInspect(bctx, img); err != nil {
			err = fmt.Errorf("lab: container image %q is not on the Docker engine (nothing is pulled; build it first): %w", img, err)
			return nil, errors.Join(err, p.close())
		}
		p.image = img
	} else if err := image.Build(bctx, prov, binary, p.image, runID); err != nil {
		return nil, errors.Join(fmt.Errorf("lab: container backend: %w", err), p.close())
	} else {
		debugf("lab: %s: image built in %v", runID, time.Since(start))
	}
	if err := p.createNetwork(bctx); err != nil {
		return nil, errors.Join(err, p.close())
	}
	return p, nil
}

// debugf logs through image.Debugf; the placers have no logger of their own.
var debugf = image.Debugf

// connectDocker returns the library's provider, or ErrNoDocker when no
// engine answers.
func connectDocker(ctx context.Context) (*testcontainers.DockerProvider, error) {
	p, err := image.Connect(ctx)
	if errors.Is(err, image.ErrNoEngine) {
		return nil, fmt.Errorf("%w: %w", ErrNoDocker, err)
	}
	if err != nil {
		return nil, fmt.Errorf("lab: container backend: %w", err)
	}
	return p, nil
}

// pingDocker checks that an engine answers.
func pingDocker(ctx context.Context) error {
	p, err := connectDocker(ctx)
	if err != nil {
		return err
	}
	return p.Close()
}

// createNetwork creates the run's bridge network on a free /24 of
// netlab.LabRange. It holds netlab's allocation lock, so the netns backend
// and concurrent runs never pick the same subnet: Docker's bridge adds a
// route, which is what they check.
func (p *containerPlacer) createNetwork(ctx context.Context) error {
	unlock, err := lockSubnets(ctx)
	if err != nil {
		return fmt.Errorf("lab: container network: %w", err)
	}
	defer unlock()
	used, err := usedSubnets(ctx, p.provider.Client())
	if err != nil {
		return fmt.Errorf("lab: container network: %w", err)
	}
	for k := range 512 {
		s := containerSubnet(p.runID, k)
		if slices.ContainsFunc(used, s.Overlaps) {
			continue
		}
		name := "c2clab-" + p.runID
		res, err := p.provider.Client().NetworkCreate(ctx, name, client.NetworkCreateOptions{
			Driver: "bridge",
			Labels: map[string]string{image.RunLabel: p.runID},
			IPAM:   &network.IPAM{Config: []network.IPAMConfig{{Subnet: s, Gateway: s.Addr().Next()}}},
		})
		if err != nil {
			return fmt.Errorf("lab: container network %s: %w", s, err)
		}
		p.network, p.subnet = dockerNetwork{id: res.ID, name: name}, s
		return nil
	}
	return fmt.Errorf("lab: container network: no free /24 in %s", netlab.LabRange())
}

// containerSubnet is the k-th /24 of netlab.LabRange to try for a run,
// starting at a slot derived from the run ID.
func containerSubnet(runID string, k int) netip.Prefix {
	h := fnv.New32a()
	h.Write([]byte("container/" + runID))
	slots := 1 << (24 - netlab.LabRange().Bits())
	slot := (int(h.Sum32()%uint32(slots)) + k) % slots
	a := netlab.LabRange().Addr().As4()
	a[1] += byte(slot / 256)
	a[2] = byte(slot % 256)
	return netip.PrefixFrom(netip.AddrFrom4(a), 24)
}

// lockSubnets takes netlab's cross-process subnet allocation lock (the
// same file, so both backends exclude each other).
func lockSubnets(ctx context.Context) (func(), error) {
	if err := os.MkdirAll(netlab.StateRoot, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(netlab.StateRoot, "alloc.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// usedSubnets lists the IPv4 routes of the root namespace (other bridges,
// interfaces) and the subnets of every Docker network (a network whose
// bridge is down has no route).
func usedSubnets(ctx context.Context, cli client.APIClient) ([]netip.Prefix, error) {
	out, err := exec.CommandContext(ctx, "ip", "-4", "route", "show", "table", "all").Output()
	if err != nil {
		return nil, fmt.Errorf("ip route: %w", err)
	}
	var used []netip.Prefix
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && (f[0] == "local" || f[0] == "broadcast" || f[0] == "unicast") {
			f = f[1:]
		}
		if len(f) == 0 {
			continue
		}
		if p, err := netip.ParsePrefix(f[0]); err == nil && p.Bits() > 0 {
			used = append(used, p.Masked())
		}
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list Docker networks: %w", err)
	}
	for _, n := range nets.Items {
		for _, c := range n.IPAM.Config {
			if c.Subnet.IsValid() && c.Subnet.Addr().Is4() {
				used = append(used, c.Subnet.Masked())
			}
		}
	}
	return used, nil
}

// place gives the machine the next address of the run's subnet (the
// gateway is .1); its first node's container takes it.
func (p *containerPlacer) place(_ context.Context, name string) (host, error) {
	p.mu.Lock()
	p.seq++
	seq := p.seq
	p.mu.Unlock()
	addr := p.subnet.Addr().Next()
	for range seq {
		addr = addr.Next()
	}
	if !p.subnet.Contains(addr) || addr == lastAddr(p.subnet) {
		return host{}, fmt.Errorf("lab: place %q: subnet %s is full", name, p.subnet)
	}
	m := &machine{placer: p, name: p.runID + "-" + hostName(name, seq), addr: addr}
	p.mu.Lock()
	if p.machines == nil {
		p.machines = map[string]*machine{}
	}
	p.machines[m.name] = m
	p.mu.Unlock()
	return host{name: m.name, addr: addr, wrap: m.enter, start: m.start}, nil
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	a[3] |= byte(0xff >> (p.Bits() - 24))
	return netip.AddrFrom4(a)
}

// setLinkUp takes the machine off the run's network (up false), as a pulled
// cable would: the engine removes its interface, and connections through
// it hang. Up plugs it back at the machine's address.
func (p *containerPlacer) setLinkUp(name string, up bool) error {
	p.mu.Lock()
	m := p.machines[name]
	p.mu.Unlock()
	if m == nil {
		return fmt.Errorf("lab: set the link of %q: no such machine", name)
	}
	m.mu.Lock()
	c := m.owner()
	m.mu.Unlock()
	if c == nil {
		return fmt.Errorf("lab: set the link of %q: the container owning its network namespace has ended", name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	cli := p.provider.Client()
	var err error
	if up {
		ep := &network.EndpointSettings{IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: m.addr}}
		_, err = cli.NetworkConnect(ctx, p.network.id, client.NetworkConnectOptions{Container: c.id, EndpointConfig: ep})
	} else {
		_, err = cli.NetworkDisconnect(ctx, p.network.id, client.NetworkDisconnectOptions{Container: c.id, Force: true})
	}
	if err != nil {
		return fmt.Errorf("lab: set the link of %q up=%t: %w", name, up, err)
	}
	return nil
}

func (*containerPlacer) impair(context.Context, host, netlab.Impairment, netlab.EmuStarter) error {
	return ErrNeedsNetns
}

// close removes the run's containers, its network and its image. The lab
// has stopped the nodes.
func (p *containerPlacer) close() error {
	p.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
		defer cancel()
		p.err = sweepRun(ctx, p.provider.Client(), p.runID)
		p.provider.Close()
	})
	return p.err
}

// sweepContainers removes every container, network and image labelled
// with runID, also after a crash; a run without any is fine, and so is a
// machine where no Docker engine answers: there is nothing to ask, and
// lab down --all finds the run again once one does.
func sweepContainers(runID string) error {
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	prov, err := connectDocker(ctx)
	if errors.Is(err, ErrNoDocker) {
		return nil
	}
	if err != nil {
		return err
	}
	defer prov.Close()
	return sweepRun(ctx, prov.Client(), runID)
}

// sweepRun removes what carries the run's label: containers (running or
// not) first, then the network they were on, then the image.
func sweepRun(ctx context.Context, cli client.APIClient, runID string) error {
	if runID == "" {
		return errors.New("lab: sweep containers: empty run ID would select every run")
	}
	filter := image.RunFilter(runID)
	ctrs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	errs := []error{err}
	// In parallel: each removal waits for the engine to tear down a
	// namespace and a mount, a few hundred ms apiece on a busy machine.
	rm := make([]error, len(ctrs.Items))
	var wg sync.WaitGroup
	for i, c := range ctrs.Items {
		wg.Go(func() {
			_, rm[i] = cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		})
	}
	wg.Wait()
	errs = append(errs, rm...)
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: filter})
	errs = append(errs, err)
	for _, n := range nets.Items {
		_, err := cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{})
		errs = append(errs, err)
	}
	errs = append(errs, image.Remove(ctx, cli, runID))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("lab: sweep containers of %s: %w", runID, err)
	}
	return nil
}

// containerRunIDs lists the run IDs on containers, networks and images of
// the lab; a machine where no Docker engine answers has none to tell.
func containerRunIDs() ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	prov, err := connectDocker(ctx)
	if errors.Is(err, ErrNoDocker) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer prov.Close()
	cli := prov.Client()
	filter := image.RunFilter("")
	var ids []string
	ctrs, err1 := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	for _, c := range ctrs.Items {
		ids = append(ids, c.Labels[image.RunLabel])
	}
	nets, err2 := cli.NetworkList(ctx, client.NetworkListOptions{Filters: filter})
	for _, n := range nets.Items {
		ids = append(ids, n.Labels[image.RunLabel])
	}
	imgs, err3 := cli.ImageList(ctx, client.ImageListOptions{Filters: filter})
	for _, i := range imgs.Items {
		ids = append(ids, i.Labels[image.RunLabel])
	}
	return ids, errors.Join(err1, err2, err3)
}

// useAgentImage makes the agents run from ref, which must already be on the
// engine: nothing is pulled, so a missing image is an error here rather
// than a pull attempt later.
func (p *containerPlacer) useAgentImage(ctx context.Context, ref string) error {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	if _, err := p.provider.Client().ImageInspect(ctx, ref); err != nil {
		return fmt.Errorf("lab: agent image %q is not on the Docker engine (nothing is pulled; build or load it first): %w", ref, err)
	}
	p.agentImage = ref
	return nil
}
