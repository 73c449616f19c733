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

	"github.com/c2clab/c2clab/sim/image"
	"github.com/c2clab/c2clab/sim/netlab"
	"golang.org/x/sys/unix"
)

// containerPlacer gives every machine its own network namespace owned by
// a Docker container on one bridge network of the run. Each node is its own
// `docker run --rm` in the foreground: the client is the node's process for
// the lab, so SIGTERM reaches the node (--sig-proxy) and the container goes
// when the node exits. A machine's first container owns its network
// namespace; its later nodes join it (--network container:FIRST). The lab
// stops nodes in reverse order, so the owner stops last.
type containerPlacer struct {
	runID   string
	image   string // tag of the run's FROM scratch image
	network string
	subnet  netip.Prefix

	mu   sync.Mutex // guards seq
	seq  int
	once sync.Once
	err  error
}

// dockerTimeout bounds a single docker CLI call of the placer.
const dockerTimeout = 60 * time.Second

func newContainerPlacer(ctx context.Context, runID, binary string) (placer, error) {
	if err := pingDocker(ctx); err != nil {
		return nil, err
	}
	p := &containerPlacer{runID: runID, image: "c2clab:" + runID, network: runID}
	start := time.Now()
	if err := image.Build(ctx, binary, p.image, runID); err != nil {
		return nil, fmt.Errorf("lab: container backend: %w", err)
	}
	debugf("lab: %s: image built in %v", runID, time.Since(start))
	if err := p.createNetwork(ctx); err != nil {
		return nil, errors.Join(err, p.close())
	}
	return p, nil
}

// debugf logs when C2CLAB_DEBUG is set; the placer has no logger of its own.
func debugf(format string, args ...any) {
	if os.Getenv("C2CLAB_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	}
}

// pingDocker checks that the CLI exists and an engine answers it.
func pingDocker(ctx context.Context) error {
	if _, err := exec.LookPath("docker"); err != nil {
		return fmt.Errorf("%w: %w", ErrNoDocker, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := image.Docker(ctx, "version", "--format", "{{.Server.Version}}"); err != nil {
		return fmt.Errorf("%w: %w", ErrNoDocker, err)
	}
	return nil
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
	used, err := usedSubnets(ctx)
	if err != nil {
		return fmt.Errorf("lab: container network: %w", err)
	}
	for k := range 512 {
		s := containerSubnet(p.runID, k)
		if slices.ContainsFunc(used, s.Overlaps) {
			continue
		}
		gw := s.Addr().Next()
		_, err := image.Docker(ctx, "network", "create", "--driver", "bridge",
			"--subnet", s.String(), "--gateway", gw.String(),
			"--label", image.RunLabel+"="+p.runID, p.network)
		if err != nil {
			return fmt.Errorf("lab: container network %s: %w", s, err)
		}
		p.subnet = s
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
func usedSubnets(ctx context.Context) ([]netip.Prefix, error) {
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
	ids, err := image.Docker(ctx, "network", "ls", "-q")
	if err != nil {
		return nil, err
	}
	if ids == "" {
		return used, nil
	}
	subnets, err := image.Docker(ctx, append([]string{"network", "inspect", "--format",
		"{{range .IPAM.Config}}{{.Subnet}} {{end}}"}, strings.Fields(ids)...)...)
	if err != nil {
		return nil, err
	}
	for _, s := range strings.Fields(subnets) {
		if p, err := netip.ParsePrefix(s); err == nil && p.Addr().Is4() {
			used = append(used, p.Masked())
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
	return host{name: m.name, addr: addr, wrap: m.wrap}, nil
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	a[3] |= byte(0xff >> (p.Bits() - 24))
	return netip.AddrFrom4(a)
}

// machine is one placed machine: the containers of its nodes.
type machine struct {
	placer *containerPlacer
	name   string
	addr   netip.Addr

	mu    sync.Mutex // guards nodes
	nodes int
}

// wrap turns `COMMAND... ROLE --config F --ready-file R` into a foreground
// `docker run` of the image's c2clab binary with the same role and files.
// The command's own binary is replaced: whatever runs nodes outside (the
// CLI, a test binary), inside there is only /c2clab, whose node command
// takes the same arguments. The run directory is mounted at its own path,
// so the paths stay valid; a FROM scratch image has no /tmp of its own.
func (m *machine) wrap(cmd []string) []string {
	i := slices.Index(cmd, "--config")
	if i < 1 || i+1 >= len(cmd) {
		return m.enter(cmd)
	}
	dir := filepath.Dir(cmd[i+1])
	m.mu.Lock()
	k := m.nodes
	m.nodes++
	m.mu.Unlock()
	p := m.placer
	args := []string{"docker", "run", "--rm", "--sig-proxy=true",
		"--name", fmt.Sprintf("%s-%d", m.name, k),
		"--label", image.RunLabel + "=" + p.runID,
		"--cap-add", "NET_ADMIN",
		"-v", dir + ":" + dir}
	if k == 0 {
		args = append(args, "--network", p.network, "--ip", m.addr.String(), "--hostname", m.name)
	} else {
		args = append(args, "--network", "container:"+m.name+"-0")
	}
	args = append(args, p.image, "node")
	return append(args, cmd[i-1:]...)
}

// enter runs a program of the host (an unmodified client: the image has
// only c2clab) in the machine's network namespace, through the PID of the
// container that owns it. Before that container runs there is no
// namespace: the command fails rather than run outside it.
func (m *machine) enter(cmd []string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pid, err := image.Docker(ctx, "inspect", "--format", "{{.State.Pid}}", m.name+"-0")
	if err != nil || pid == "" || pid == "0" {
		return []string{"sh", "-c", `echo "machine $0 has no running container" >&2; exit 1`, m.name}
	}
	return append([]string{"nsenter", "--target", pid, "--net"}, cmd...)
}

func (*containerPlacer) impair(context.Context, host, netlab.Impairment, netlab.EmuStarter) error {
	return ErrNeedsNetns
}

// close removes the run's containers (those whose client was killed
// outlive it), its network and its image. The lab has stopped the nodes.
func (p *containerPlacer) close() error {
	p.once.Do(func() { p.err = sweepContainers(p.runID) })
	return p.err
}

// sweepContainers removes every container, network and image labelled with
// runID, also after a crash; a run without any is fine, and so is a
// machine without the docker CLI: no run there made any.
func sweepContainers(runID string) error {
	if _, err := exec.LookPath("docker"); err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	filter := "label=" + image.RunLabel + "=" + runID
	var errs []error
	if ids, err := image.Docker(ctx, "ps", "-aq", "--filter", filter); err != nil {
		errs = append(errs, err)
	} else if ids != "" {
		_, err := image.Docker(ctx, append([]string{"rm", "-f", "-v"}, strings.Fields(ids)...)...)
		errs = append(errs, err)
	}
	if ids, err := image.Docker(ctx, "network", "ls", "-q", "--filter", filter); err != nil {
		errs = append(errs, err)
	} else if ids != "" {
		_, err := image.Docker(ctx, append([]string{"network", "rm"}, strings.Fields(ids)...)...)
		errs = append(errs, err)
	}
	errs = append(errs, image.Remove(ctx, runID))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("lab: sweep containers of %s: %w", runID, err)
	}
	return nil
}

// containerRunIDs lists the run IDs on containers, networks and images of
// the lab; a machine without the docker CLI has none.
func containerRunIDs() ([]string, error) {
	if _, err := exec.LookPath("docker"); err != nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	filter := "label=" + image.RunLabel
	label := `{{.Label "` + image.RunLabel + `"}}`
	var ids []string
	var errs []error
	for _, args := range [][]string{
		{"ps", "-a", "--filter", filter, "--format", label},
		{"network", "ls", "--filter", filter, "--format", label},
		{"images", "--filter", filter, "--format", "{{.Tag}}"}, // tagged with the run ID
	} {
		out, err := image.Docker(ctx, args...)
		errs = append(errs, err)
		ids = append(ids, strings.Fields(out)...)
	}
	return ids, errors.Join(errs...)
}
