package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/c2clab/c2clab/fixtures"
	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/image"
	"github.com/c2clab/c2clab/sim/pki"
	"github.com/c2clab/c2clab/sim/tenant"
)

// containerTenant lets any user reach the echo service of *.example.com
// devices whose hostname matches the regex.
const containerTenant = `name: example
clientHostnameValidation: ['desktop-[a-zA-Z0-9]{5}-AC\.example\.com']
applicationSegments:
  - name: Echo
    domainNames: ["*.example.com"]
    tcpPortRange: [{from: 7007, to: 7007}]
`

// staticBinary builds the static c2clab binary the image holds, or skips
// the test when no Docker engine answers.
func staticBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("container backend: builds an image (-short)")
	}
	if err := pingDocker(context.Background()); err != nil {
		t.Skipf("container backend: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "c2clab")
	start := time.Now()
	if err := image.BuildBinary(context.Background(), "../..", bin); err != nil {
		t.Fatal(err)
	}
	t.Logf("static binary built in %v", time.Since(start).Round(time.Millisecond))
	return bin
}

// newContainerLab is New on the container backend, until newPlacer knows
// BackendContainer.
func newContainerLab(ctx context.Context, t *testing.T, spec Spec, binary string) *Lab {
	t.Helper()
	id, err := NewRunID()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "c2clab-"+id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	release, err := claimElsewhere(id, dir)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	pl, err := newContainerPlacer(ctx, id, binary, "")
	if err != nil {
		release()
		t.Fatal(err)
	}
	t.Logf("placer (image + network) ready in %v", time.Since(start).Round(time.Millisecond))
	l := &Lab{ID: id, Dir: dir, spec: spec, tenantCAs: map[string]*pki.CA{}, devices: map[string]*Device{}, placer: pl, spawner: newSpawner(), release: release}
	t.Cleanup(func() { l.Close() })
	if err := l.makeCAs(); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if err := l.startBroker(ctx); err != nil {
		t.Fatalf("%v\n%s", err, l.Logs(20))
	}
	t.Logf("broker machine started in %v", time.Since(start).Round(time.Millisecond))
	return l
}

func fixtureDevice(t *testing.T, name string) *device.Profile {
	t.Helper()
	data, err := fixtures.FS.ReadFile("devices/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := device.Parse(name+".yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	p.Name = name
	return p
}

// waitRegistered polls the agent's status until its FQDN is registered.
func waitRegistered(ctx context.Context, d *Device) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for {
		st, err := d.Status(ctx)
		if err == nil && st.FQDNRegistered {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("device %q not registered (last status %+v, %v): %w", d.Name, st, err, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestContainerLabRelaysAndLeavesNothing runs a broker and two devices in
// containers, connects the admin's device to the other's echo service
// through the relay, and checks Close removes every container, network
// and image of the run.
func TestContainerLabRelaysAndLeavesNothing(t *testing.T) {
	bin := staticBinary(t)
	ctx := context.Background()
	tn, _, err := tenant.Parse("tenant.yaml", []byte(containerTenant))
	if err != nil {
		t.Fatal(err)
	}
	spec := Spec{Command: []string{bin, "node"}, Tenants: []Tenant{{ID: tn.ID, Policy: tn.Policy()}}}
	l := newContainerLab(ctx, t, spec, bin)
	var devs []*Device
	for _, f := range []string{"admin-win-4.5", "win-4.5-ad"} {
		start := time.Now()
		d, err := l.AddDevice(ctx, tn.ID, fixtureDevice(t, f))
		if err != nil {
			t.Fatalf("%v\n%s", err, l.Logs(20))
		}
		if err := waitRegistered(ctx, d); err != nil {
			t.Fatalf("%v\n%s", err, l.Logs(20))
		}
		t.Logf("device machine %s (%s) started and registered in %v", d.Name, d.InterfaceIP, time.Since(start).Round(time.Millisecond))
		if !l.placer.(*containerPlacer).subnet.Contains(d.InterfaceIP) {
			t.Errorf("device %s has address %s outside the run's subnet", d.Name, d.InterfaceIP)
		}
		devs = append(devs, d)
	}
	echoThroughRelay(ctx, t, devs[0], "desktop-45AD0-AC.example.com")
	checkNamespace(ctx, t, devs[1])
	start := time.Now()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// Nodes stop on SIGTERM; a SIGKILL after the grace period would show
	// here as stopGrace per node.
	if d := time.Since(start); d > stopGrace {
		t.Errorf("Close took %v: nodes did not stop on SIGTERM", d)
	}
	t.Logf("Close (5 nodes, network, image) took %v", time.Since(start).Round(time.Millisecond))
	if left := leftovers(ctx, t, l.ID); left != "" {
		t.Errorf("after Close: %s", left)
	}
}

func echoThroughRelay(ctx context.Context, t *testing.T, from *Device, fqdn string) {
	t.Helper()
	c, err := from.Dial(ctx, fqdn, 7007)
	if err != nil {
		t.Fatalf("dial %s:7007 through %s: %v", fqdn, from.Name, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	msg := []byte("hello through the relay\n")
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != string(msg) {
		t.Fatalf("echo: got %q, %v; want %q", got, err, msg)
	}
}

// checkNamespace runs a host program on the device's machine: it must see
// the device's address on its own interface.
func checkNamespace(ctx context.Context, t *testing.T, d *Device) {
	t.Helper()
	out, err := d.Command(ctx, "ip", "-4", "-o", "addr", "show").CombinedOutput()
	if err != nil {
		t.Fatalf("%s: ip addr: %v\n%s", d.Shell(), err, out)
	}
	if !strings.Contains(string(out), d.InterfaceIP.String()+"/24") {
		t.Errorf("%s: ip addr shows no %s:\n%s", d.Shell(), d.InterfaceIP, out)
	}
}

// leftovers lists what Docker still holds with the run's label.
func leftovers(ctx context.Context, t *testing.T, runID string) string {
	t.Helper()
	prov, err := image.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer prov.Close()
	cli := prov.Client()
	filter := image.RunFilter(runID)
	var left []string
	ctrs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ctrs.Items {
		left = append(left, fmt.Sprintf("container %v (%s)", c.Names, c.State))
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: filter})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nets.Items {
		left = append(left, "network "+n.Name)
	}
	imgs, err := cli.ImageList(ctx, client.ImageListOptions{Filters: filter})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range imgs.Items {
		left = append(left, fmt.Sprintf("image %v", i.RepoTags))
	}
	return strings.Join(left, "; ")
}

// TestContainerSweepAfterKill restarts the broker (its machine's only
// container is killed, so the new one owns a new namespace at the same
// address), kills an agent as a crash would, leaves the lab as a crashed
// one would (its containers run on: they are not the lab's children), and
// checks that the run is found by its labels alone and that the sweep
// removes everything.
func TestContainerSweepAfterKill(t *testing.T) {
	bin := staticBinary(t)
	ctx := context.Background()
	tn, _, err := tenant.Parse("tenant.yaml", []byte(containerTenant))
	if err != nil {
		t.Fatal(err)
	}
	l := newContainerLab(ctx, t, Spec{Command: []string{bin, "node"}, Tenants: []Tenant{{ID: tn.ID, Policy: tn.Policy()}}}, bin)
	d, err := l.AddDevice(ctx, tn.ID, fixtureDevice(t, "win-4.5-ad"))
	if err != nil {
		t.Fatalf("%v\n%s", err, l.Logs(20))
	}
	restarted := time.Now()
	if err := l.RestartBroker(ctx, 0); err != nil {
		t.Fatalf("%v\n%s", err, l.Logs(20))
	}
	if err := waitSession(ctx, l, d.Name, restarted); err != nil {
		t.Fatalf("%v\n%s", err, l.Logs(20))
	}
	pid, err := d.agent.hostPID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d.KillAgent()
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
		t.Errorf("agent's process %d still runs after KillAgent", pid)
	}
	left := leftovers(ctx, t, l.ID)
	if !strings.Contains(left, "(running)") || !strings.Contains(left, "(exited)") {
		t.Fatalf("want the killed agent's container exited and the others running, have %s", left)
	}
	// Without its run directory, the run is still found by its labels.
	ids, err := containerRunIDs()
	if err != nil || !slices.Contains(ids, l.ID) {
		t.Fatalf("containerRunIDs = %v, %v; want %s among them", ids, err, l.ID)
	}
	if err := sweepContainers(l.ID); err != nil {
		t.Fatal(err)
	}
	if left := leftovers(ctx, t, l.ID); left != "" {
		t.Errorf("after sweep: %s", left)
	}
}

// waitSession polls the broker's User Status until name has a session
// connected after t.
func waitSession(ctx context.Context, l *Lab, name string, t time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		all, err := l.UserStatus(ctx)
		for _, s := range all {
			if s.Device == name && s.Connected && s.ConnectedAt.After(t) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no session of %q after the restart (last %v, %v): %w", name, all, err, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestContainerFreeze pauses the broker's container: it answers nothing
// while paused, and Close still stops it on SIGTERM (it exits 0), not by
// the SIGKILL at the end of the grace period.
func TestContainerFreeze(t *testing.T) {
	bin := staticBinary(t)
	ctx := context.Background()
	tn, _, err := tenant.Parse("tenant.yaml", []byte(containerTenant))
	if err != nil {
		t.Fatal(err)
	}
	l := newContainerLab(ctx, t, Spec{Command: []string{bin, "node"}, Tenants: []Tenant{{ID: tn.ID, Policy: tn.Policy()}}}, bin)
	if _, err := l.UserStatus(ctx); err != nil {
		t.Fatalf("broker does not answer before the freeze: %v", err)
	}
	if err := l.broker.freeze(); err != nil {
		t.Fatal(err)
	}
	qctx, cancel := context.WithTimeout(ctx, time.Second)
	_, err = l.UserStatus(qctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("frozen broker: UserStatus = %v, want a timeout", err)
	}
	start := time.Now()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Close took %v", time.Since(start))
	// Exit status 0, not 137: the node handled SIGTERM rather than being
	// killed at the end of the grace period (a duration would say so only
	// on a quiet machine). Docker 20.10 also stops a paused container so
	// without the lab's thaw; the thaw is for engines that do not.
	<-l.broker.done
	if err := l.broker.waitErr; err != nil {
		t.Errorf("frozen broker after Close: %v, want exit status 0: it did not thaw and stop on SIGTERM", err)
	}
	if left := leftovers(ctx, t, l.ID); left != "" {
		t.Errorf("after Close: %s", left)
	}
}

// TestNoDockerIsErrNoDocker runs itself again in a child process that sees
// no engine: a mount namespace with an empty /run hides the engine's
// socket, DOCKER_HOST names one that does not exist and HOME has no
// rootless socket. A child, because the library remembers for the life of
// a process the engine it found.
func TestNoDockerIsErrNoDocker(t *testing.T) {
	if os.Getenv("C2CLAB_TEST_NO_DOCKER") == "1" {
		_, err := newContainerPlacer(context.Background(), "c2c000000", "/nonexistent", "")
		if !errors.Is(err, ErrNoDocker) {
			t.Fatalf("err = %v, want ErrNoDocker", err)
		}
		if err := sweepContainers("c2c000000"); err != nil {
			t.Fatalf("sweep with no engine: %v, want nil", err)
		}
		if ids, err := containerRunIDs(); ids != nil || err != nil {
			t.Fatalf("containerRunIDs with no engine = %v, %v; want none", ids, err)
		}
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("hiding the Docker socket needs a mount namespace (root)")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("no unshare(1) to hide the Docker socket")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	cmd := exec.Command(unshare, "--mount", "sh", "-c", `mount -t tmpfs tmpfs /run && exec "$@"`, "sh",
		exe, "-test.run=^TestNoDockerIsErrNoDocker$", "-test.v")
	cmd.Env = append(os.Environ(), "C2CLAB_TEST_NO_DOCKER=1", "HOME="+tmp, "XDG_RUNTIME_DIR="+tmp,
		"DOCKER_HOST=unix://"+filepath.Join(tmp, "no.sock"))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestNoDockerIsErrNoDocker") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
