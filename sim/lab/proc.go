package lab

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Ready is what a node writes to its ready file once it listens.
type Ready struct {
	PID   int               `json:"pid"`
	Addrs map[string]string `json:"addrs"`
}

// ErrNodeExited means a node ended before it was ready.
var ErrNodeExited = errors.New("node exited before it was ready")

// readyTimeout bounds how long a node may take to start listening.
const readyTimeout = 15 * time.Second

// stopGrace is how long a node has to stop after SIGTERM before SIGKILL.
const stopGrace = 3 * time.Second

// proc is one running node: a process or a container, behind its runner.
type proc struct {
	name    string
	machine string // the backend's name of the machine it runs on
	logPath string
	run     runner
	ready   Ready
	done    chan struct{} // closed when the node has been waited for
	waitErr error         // set before done is closed

	stopOnce sync.Once
}

// runner is how one node runs: a process the lab started (loopback, netns)
// or a container (the container backend). proc drives both the same way,
// so the rest of the lab does not know which it has.
type runner interface {
	// wait blocks until the node has ended; nil is exit status 0. It is
	// called once, by proc.
	wait() error
	// terminate asks the node to stop (SIGTERM), thawing it first: a
	// frozen node would not handle the signal.
	terminate()
	// kill ends the node at once, as a crash would.
	kill()
	// freeze stops the node answering without ending it.
	freeze() error
	// hostPID is the node's process ID in the host's PID namespace.
	hostPID(ctx context.Context) (int, error)
}

// nodeRun is what a host needs to start a node: its arguments after the
// node command, its environment and its log file.
type nodeRun struct {
	command []string // the lab's node command, e.g. {"/usr/bin/c2clab", "node"}
	args    []string // ROLE --config CFG --ready-file READY
	env     []string
	dir     string // the run directory, which holds CFG and READY
	logPath string
	// reference: the lab's own agent, not Spec.AgentImage's (container
	// and kubernetes backends).
	reference bool
}

// fromAgentImage reports whether the node runs from the vendor's agent
// image agentImage (a placer's Spec.AgentImage, "" for none): an agent
// that is not the reference.
func (n nodeRun) fromAgentImage(agentImage string) bool {
	return agentImage != "" && len(n.args) > 0 && n.args[0] == "agent" && !n.reference
}

// startNode runs `command... ROLE --config CFG --ready-file READY` on h, with
// stderr and stdout in dir/NAME.log, and waits until the ready file appears
// or the node exits.
func startNode(ctx context.Context, sp *spawner, h host, command []string, env []string, dir, name, role string, cfg any) (*proc, error) {
	cfgPath := filepath.Join(dir, name+".json")
	if err := writeJSON(cfgPath, cfg); err != nil {
		return nil, fmt.Errorf("start %q: %w", name, err)
	}
	readyPath := filepath.Join(dir, name+".ready")
	n := nodeRun{
		command: command, env: env, dir: dir,
		args:    []string{role, "--config", cfgPath, "--ready-file", readyPath},
		logPath: filepath.Join(dir, name+".log"), reference: h.referenceAgent,
	}
	var r runner
	var err error
	if h.start != nil {
		r, err = h.start(ctx, n)
	} else {
		r, err = startProcess(sp, h, n)
	}
	if err != nil {
		return nil, fmt.Errorf("start %q: %w", name, err)
	}
	p := &proc{name: name, machine: cmp.Or(h.name, h.addr.String()), logPath: n.logPath, run: r, done: make(chan struct{})}
	go func() { p.waitErr = r.wait(); close(p.done) }()
	if err := p.waitReady(ctx, readyPath); err != nil {
		p.stop()
		return nil, fmt.Errorf("start %q: %w\n%s", name, err, tail(n.logPath, 20))
	}
	return p, nil
}

// processRunner is a node the lab started as its own child process.
type processRunner struct{ cmd *exec.Cmd }

// startProcess starts the node as a process of the lab, from the spawner's
// thread, wrapped by h (e.g. `ip netns exec NS`).
func startProcess(sp *spawner, h host, n nodeRun) (runner, error) {
	logf, err := os.Create(n.logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child holds its own descriptor
	full := h.command(append(slices.Clone(n.command), n.args...))
	cmd := exec.Command(full[0], full[1:]...)
	cmd.Env = append(os.Environ(), n.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	setNodeAttrs(cmd)
	if err := sp.start(cmd); err != nil {
		return nil, err
	}
	return processRunner{cmd}, nil
}

func (r processRunner) wait() error { return r.cmd.Wait() }

func (r processRunner) kill() { _ = r.cmd.Process.Kill() }

// hostPID is the started process: `ip netns exec` execs the node in place.
func (r processRunner) hostPID(context.Context) (int, error) { return r.cmd.Process.Pid, nil }

// waitReady polls for the ready file. Polling a local file every few
// milliseconds costs nothing next to process start and needs no protocol.
func (p *proc) waitReady(ctx context.Context, path string) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	tick := time.NewTicker(3 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := os.Stat(path); err == nil {
			if err := readJSON(path, &p.ready); err != nil {
				return fmt.Errorf("ready file %q: %w", path, err)
			}
			return nil
		}
		select {
		case <-p.done:
			if p.waitErr == nil {
				return fmt.Errorf("%w: exit status 0", ErrNodeExited)
			}
			return fmt.Errorf("%w: %w", ErrNodeExited, p.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("wait for ready file %q: %w", path, ctx.Err())
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM, then SIGKILL after stopGrace; it is idempotent and
// returns once the node is gone.
func (p *proc) stop() {
	p.stopOnce.Do(func() {
		p.run.terminate()
		select {
		case <-p.done:
		case <-time.After(stopGrace):
			p.run.kill()
			<-p.done
		}
	})
}

// kill ends the node at once, as a crash would.
func (p *proc) kill() {
	p.stopOnce.Do(func() {
		p.run.kill()
		<-p.done
	})
}

// freeze stops the node answering (SIGSTOP; a paused container) while its
// connections stay open, as a hung or suspended machine would.
func (p *proc) freeze() error {
	if err := p.run.freeze(); err != nil {
		return fmt.Errorf("freeze node %q: %w", p.name, err)
	}
	return nil
}

// hostPID is the node's process ID on the host.
func (p *proc) hostPID(ctx context.Context) (int, error) { return p.run.hostPID(ctx) }

func (p *proc) addr(key string) (string, error) {
	a, ok := p.ready.Addrs[key]
	if !ok {
		return "", fmt.Errorf("node %q: no %q address in its ready file (has %v)", p.name, key, p.ready.Addrs)
	}
	return a, nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %q: %w", path, err)
	}
	return os.WriteFile(path, data, 0o600)
}

// tail returns the last n lines of a file, indented, for error messages.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  | " + strings.Join(lines, "\n  | ") + "\n"
}
