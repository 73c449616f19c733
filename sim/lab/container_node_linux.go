package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/c2clab/c2clab/sim/image"
)

// machine is one placed machine of the container backend: the containers
// of its nodes, named NAME-0, NAME-1, ... in start order.
type machine struct {
	placer *containerPlacer
	name   string
	addr   netip.Addr

	mu    sync.Mutex // guards nodes
	nodes []*containerNode
}

// apiTimeout bounds one quick call to the engine (inspect, pause, kill).
const apiTimeout = 10 * time.Second

// logDrain bounds how long a container's end waits for the rest of its log.
const logDrain = 2 * time.Second

// start runs a node as a container of the run's image: /c2clab node ROLE
// --config F --ready-file R, whatever binary runs nodes outside (the CLI, a
// test binary). The run directory is mounted at its own path, so the paths
// stay valid; a FROM scratch image has no /tmp of its own. A container
// joins the network namespace of a running container of its machine; when
// there is none (the machine's first node, or a node restarted after all
// the others ended) it owns a new one, on the run's network at the
// machine's address.
func (m *machine) start(ctx context.Context, n nodeRun) (runner, error) {
	m.mu.Lock()
	k := len(m.nodes)
	join := m.live()
	m.nodes = append(m.nodes, nil) // k is taken
	m.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, dockerTimeout)
	defer cancel()
	prov := m.placer.provider
	if join == nil && k > 0 {
		// Ended containers of the machine keep their endpoint at its
		// address; the new owner takes it.
		m.removeEnded(ctx)
	}
	logf, err := os.Create(n.logPath)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("%s-%d", m.name, k)
	cli := prov.Client()
	id, err := runContainer(ctx, cli, m.request(name, join, n))
	if err != nil {
		logf.Close()
		return nil, fmt.Errorf("container %s: %w", name, err)
	}
	c := &containerNode{cli: cli, id: id, name: name, owner: join == nil,
		logDone: make(chan struct{}), ended: make(chan struct{})}
	go c.follow(logf)
	m.mu.Lock()
	m.nodes[k] = c
	m.mu.Unlock()
	return c, nil
}

// live returns a running container of the machine, nil if none. Hold m.mu.
func (m *machine) live() *containerNode {
	for _, c := range m.nodes {
		if c == nil {
			continue
		}
		select {
		case <-c.ended:
		default:
			return c
		}
	}
	return nil
}

// owner returns the running container that owns the machine's network
// namespace (the one on the run's network), nil if it has ended. Hold m.mu.
func (m *machine) owner() *containerNode {
	for _, c := range slices.Backward(m.nodes) {
		if c == nil || !c.owner {
			continue
		}
		select {
		case <-c.ended:
			return nil
		default:
			return c
		}
	}
	return nil
}

// removeEnded removes the machine's containers that have ended.
func (m *machine) removeEnded(ctx context.Context) {
	m.mu.Lock()
	nodes := slices.Clone(m.nodes)
	m.mu.Unlock()
	for _, c := range nodes {
		if c == nil {
			continue
		}
		select {
		case <-c.ended:
			if _, err := c.cli.ContainerRemove(ctx, c.id, client.ContainerRemoveOptions{Force: true}); err != nil {
				debugf("lab: remove ended container %s: %v", c.name, err)
			}
		default:
		}
	}
}

// request is the engine's request for container name of the machine,
// joining join's network namespace, or owning one when join is nil.
func (m *machine) request(name string, join *containerNode, n nodeRun) client.ContainerCreateOptions {
	p := m.placer
	img, cmd := p.image, append([]string{"node"}, n.args...)
	if n.fromAgentImage(p.agentImage) {
		// A vendor's image: its own entrypoint is the agent command.
		img, cmd = p.agentImage, n.args
	}
	req := client.ContainerCreateOptions{
		Name: name,
		Config: &container.Config{
			Image:  img,
			Cmd:    cmd,
			Env:    n.env,
			Labels: map[string]string{image.RunLabel: p.runID},
		},
		HostConfig: &container.HostConfig{
			CapAdd:      []string{"NET_ADMIN"}, // shaping, routes
			Binds:       []string{n.dir + ":" + n.dir},
			NetworkMode: container.NetworkMode(p.network.name),
		},
	}
	if join != nil {
		req.HostConfig.NetworkMode = container.NetworkMode("container:" + join.id)
		return req
	}
	req.Config.Hostname = m.name
	req.NetworkingConfig = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
		p.network.name: {NetworkID: p.network.id, IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: m.addr}},
	}}
	return req
}

// runContainer creates and starts a container and returns its ID. One
// created but not started is removed; were that to fail, it carries the
// run's label and the placer's close sweeps it.
func runContainer(ctx context.Context, cli client.APIClient, req client.ContainerCreateOptions) (string, error) {
	res, err := cli.ContainerCreate(ctx, req)
	if err != nil {
		return "", err
	}
	if _, err := cli.ContainerStart(ctx, res.ID, client.ContainerStartOptions{}); err != nil {
		if _, rerr := cli.ContainerRemove(ctx, res.ID, client.ContainerRemoveOptions{Force: true}); rerr != nil {
			debugf("lab: remove container %s that did not start: %v", req.Name, rerr)
		}
		return "", fmt.Errorf("start: %w", err)
	}
	return res.ID, nil
}

// enter runs a program of the host (an unmodified client: the image has
// only c2clab) in the machine's network namespace, through the PID of a
// running container of the machine. Before one runs there is no
// namespace: the command fails rather than run outside it.
func (m *machine) enter(cmd []string) []string {
	m.mu.Lock()
	c := m.live()
	m.mu.Unlock()
	fail := []string{"sh", "-c", `echo "machine $0 has no running container" >&2; exit 1`, m.name}
	if c == nil {
		return fail
	}
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	pid, err := c.hostPID(ctx)
	if err != nil {
		return fail
	}
	return append([]string{"nsenter", "--target", strconv.Itoa(pid), "--net"}, cmd...)
}

// containerNode is a node running as a container. The lab talks to it
// through the Docker API: there is no client process to signal.
type containerNode struct {
	cli     client.APIClient
	id      string
	name    string
	owner   bool          // on the run's network, owning the machine's namespace
	frozen  atomic.Bool   // paused by freeze, not yet unpaused
	logDone chan struct{} // closed when follow has copied the whole log
	ended   chan struct{} // closed when wait has seen the container end
}

// follow copies the container's output into its log file until the
// container ends.
func (c *containerNode) follow(logf *os.File) {
	defer close(c.logDone)
	defer logf.Close()
	rc, err := c.cli.ContainerLogs(context.Background(), c.id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: true})
	if err != nil {
		fmt.Fprintf(logf, "lab: logs of container %s: %v\n", c.name, err)
		return
	}
	defer rc.Close()
	if _, err := stdcopy.StdCopy(logf, logf, rc); err != nil {
		fmt.Fprintf(logf, "lab: logs of container %s: %v\n", c.name, err)
	}
}

func (c *containerNode) wait() error {
	defer close(c.ended)
	res := c.cli.ContainerWait(context.Background(), c.id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	var err error
	select {
	case r := <-res.Result:
		switch {
		case r.Error != nil:
			err = fmt.Errorf("container %s: %s", c.name, r.Error.Message)
		case r.StatusCode != 0:
			err = fmt.Errorf("container %s: exit status %d", c.name, r.StatusCode)
		}
	case werr := <-res.Error:
		err = fmt.Errorf("wait for container %s: %w", c.name, werr)
	}
	select { // the log's tail is what explains an early exit
	case <-c.logDone:
	case <-time.After(logDrain):
	}
	return err
}

// terminate stops the container as docker stop does: SIGTERM, then
// SIGKILL after stopGrace; it returns when the container has stopped.
func (c *containerNode) terminate() {
	ctx, cancel := context.WithTimeout(context.Background(), stopGrace+apiTimeout)
	defer cancel()
	c.thaw(ctx)
	grace := int(stopGrace / time.Second)
	if _, err := c.cli.ContainerStop(ctx, c.id, client.ContainerStopOptions{Timeout: &grace}); err != nil {
		debugf("lab: stop container %s: %v", c.name, err)
	}
}

func (c *containerNode) kill() {
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	c.thaw(ctx)
	if _, err := c.cli.ContainerKill(ctx, c.id, client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil {
		debugf("lab: kill container %s: %v", c.name, err)
	}
}

// freeze pauses the container (the cgroup freezer, as docker pause): every
// process of the node stops, its connections stay open.
func (c *containerNode) freeze() error {
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	if _, err := c.cli.ContainerPause(ctx, c.id, client.ContainerPauseOptions{}); err != nil {
		return fmt.Errorf("pause container %s: %w", c.name, err)
	}
	c.frozen.Store(true)
	return nil
}

// thaw unpauses a frozen container: a paused node would handle no signal.
func (c *containerNode) thaw(ctx context.Context) {
	if !c.frozen.Swap(false) {
		return
	}
	if _, err := c.cli.ContainerUnpause(ctx, c.id, client.ContainerUnpauseOptions{}); err != nil {
		debugf("lab: unpause container %s: %v", c.name, err)
	}
}

// hostPID is the PID of the container's process (the node) on the host.
func (c *containerNode) hostPID(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	return containerPID(ctx, c.cli, c.id)
}

// containerPID is the host PID of a running container's process.
func containerPID(ctx context.Context, cli client.APIClient, ref string) (int, error) {
	res, err := cli.ContainerInspect(ctx, ref, client.ContainerInspectOptions{})
	if err != nil {
		return 0, fmt.Errorf("inspect container %s: %w", ref, err)
	}
	st := res.Container.State
	if st == nil || st.Pid <= 0 {
		return 0, errors.New("container " + ref + " has no running process")
	}
	return st.Pid, nil
}
