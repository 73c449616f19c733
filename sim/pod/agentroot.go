package pod

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// A vendor's agent image runs in the device's Pod as a second container,
// "agent", next to the machine's. Its own entrypoint does not run there:
// the container keeps a root file system (the image's) alive with the
// hold role, a copy of c2clab the install role put on a volume the Pod
// shares, and the machine process starts the vendor's agent as one of its
// own nodes, chrooted into that root through /proc (the Pod shares one PID
// namespace, shareProcessNamespace). So the agent is a child of the
// machine process like every other node: it starts in the nodes' network
// namespace, impaired link or not, and stop, kill, freeze and restart
// work as for the reference agent.
const (
	// AgentBinDir is where the install role copies c2clab, on a volume
	// mounted in the agent container too.
	AgentBinDir = "/c2clab-lab"
	// HoldReady is the hold role's ready file, on the Pod's shared /tmp:
	// the machine finds the agent container's root through its PID.
	HoldReady = "/tmp/c2clab-agent-root.ready"
	// holdWait bounds how long a start waits for the hold's ready file:
	// the agent container starts just after the machine's.
	holdWait = 30 * time.Second
)

// InstallConfig is the install role's configuration: the directory to
// copy this executable into, as Dir/c2clab.
type InstallConfig struct {
	Dir string `json:"dir"`
}

// Install copies the running executable to cfg.Dir/c2clab and returns:
// an init container's work, so that a container of an image without
// c2clab (a vendor's) can run it.
func Install(_ context.Context, cfg InstallConfig, _ func(map[string]string)) error {
	if !filepath.IsAbs(cfg.Dir) {
		return fmt.Errorf("install: dir %q: want an absolute path", cfg.Dir)
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("install: %w", err)
	}
	in, err := os.Open(exe)
	if err != nil {
		return fmt.Errorf("install: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(filepath.Join(cfg.Dir, "c2clab"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return fmt.Errorf("install: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("install: %w", err)
	}
	return out.Close()
}

// HoldConfig is the hold role's configuration; it has nothing to set.
type HoldConfig struct{}

// Hold keeps its container alive until ctx ends. Its ready file gives
// its PID, whose /proc root is the container's file system, and its
// working directory under "cwd": the image's WORKDIR, which the kubelet
// set and the agent starts in.
func Hold(ctx context.Context, _ HoldConfig, ready func(map[string]string)) error {
	wd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("hold: %w", err)
	}
	ready(map[string]string{"cwd": wd})
	<-ctx.Done()
	return nil
}

// agentRoot is the agent container as the machine process sees it: the
// hold process's root, working directory and environment (the image's
// ENV and what the kubelet adds).
type agentRoot struct {
	root, cwd string
	env       []string
}

// findAgentRoot waits for the hold's ready file and reads the agent
// container's root through the hold's PID.
func findAgentRoot(ctx context.Context) (agentRoot, error) {
	ctx, cancel := context.WithTimeout(ctx, holdWait)
	defer cancel()
	for {
		data, err := os.ReadFile(HoldReady)
		if err == nil {
			return parseHold(data, "/proc")
		}
		if !errors.Is(err, os.ErrNotExist) {
			return agentRoot{}, fmt.Errorf("agent container: %w", err)
		}
		select {
		case <-ctx.Done():
			return agentRoot{}, fmt.Errorf("agent container: no ready file %s of its hold process within %v (is the Pod's agent container running?)", HoldReady, holdWait)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// parseHold reads the hold's ready file and its process under proc.
func parseHold(data []byte, proc string) (agentRoot, error) {
	var r struct {
		PID   int               `json:"pid"`
		Addrs map[string]string `json:"addrs"`
	}
	if err := json.Unmarshal(data, &r); err != nil || r.PID <= 0 {
		return agentRoot{}, fmt.Errorf("agent container: ready file %s: want {\"pid\": N, ...}: %v", HoldReady, err)
	}
	dir := filepath.Join(proc, fmt.Sprint(r.PID))
	env, err := os.ReadFile(filepath.Join(dir, "environ"))
	if err != nil {
		return agentRoot{}, fmt.Errorf("agent container: hold process %d (the Pod must share its PID namespace): %w", r.PID, err)
	}
	return agentRoot{root: filepath.Join(dir, "root"), cwd: cmp.Or(r.Addrs["cwd"], "/"), env: splitEnviron(env)}, nil
}

func splitEnviron(b []byte) []string {
	var out []string
	for _, kv := range strings.Split(string(b), "\x00") {
		if kv != "" {
			out = append(out, kv)
		}
	}
	return out
}

// program resolves the entrypoint's program inside the root: an absolute
// path as it is, a bare name on the image's PATH, as a container runtime
// does.
func (a agentRoot) program(name string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" // runc's default
	for _, kv := range a.env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(filepath.Join(a.root, p)); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("agent container: entrypoint %q is not on its PATH %q", name, path)
}

// agentCommand is the vendor's agent as the machine process starts it:
// entrypoint and args, chrooted into the agent container's root, in its
// working directory, with its environment plus env.
func agentCommand(ctx context.Context, entrypoint, args, env []string) (*exec.Cmd, error) {
	a, err := findAgentRoot(ctx)
	if err != nil {
		return nil, err
	}
	prog, err := a.program(entrypoint[0])
	if err != nil {
		return nil, err
	}
	cmd := &exec.Cmd{Path: prog, Args: append(append([]string{prog}, entrypoint[1:]...), args...), Dir: a.cwd}
	cmd.Env = append(a.env, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: a.root} // before the chdir to Dir, in the child
	return cmd, nil
}
