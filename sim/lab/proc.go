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
	"strings"
	"sync"
	"time"
)

// Ready is what a node writes to its ready file once it listens.
type Ready struct {
	PID   int               `json:"pid"`
	Addrs map[string]string `json:"addrs"`
}

// ErrNodeExited means a node process ended before it was ready.
var ErrNodeExited = errors.New("node exited before it was ready")

// readyTimeout bounds how long a node may take to start listening.
const readyTimeout = 15 * time.Second

// stopGrace is how long a node has to stop after SIGTERM before SIGKILL.
const stopGrace = 3 * time.Second

// proc is one running node process.
type proc struct {
	name    string
	machine string // the backend's name of the machine it runs on
	logPath string
	cmd     *exec.Cmd
	ready   Ready
	done    chan struct{} // closed when the process has been waited for
	waitErr error         // set before done is closed

	stopOnce sync.Once
}

// startNode runs `command... ROLE --config CFG --ready-file READY` on h, with
// stderr and stdout in dir/NAME.log, and waits until the ready file appears
// or the process exits.
func startNode(ctx context.Context, sp *spawner, h host, command []string, env []string, dir, name, role string, cfg any) (*proc, error) {
	cfgPath := filepath.Join(dir, name+".json")
	if err := writeJSON(cfgPath, cfg); err != nil {
		return nil, fmt.Errorf("start %q: %w", name, err)
	}
	readyPath := filepath.Join(dir, name+".ready")
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %q: %w", name, err)
	}
	defer logf.Close() // the child holds its own descriptor
	full := h.command(append(append([]string(nil), command...), role, "--config", cfgPath, "--ready-file", readyPath))
	cmd := exec.Command(full[0], full[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	setNodeAttrs(cmd)
	if err := sp.start(cmd); err != nil {
		return nil, fmt.Errorf("start %q: %w", name, err)
	}
	p := &proc{name: name, machine: cmp.Or(h.name, h.addr.String()), logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() { p.waitErr = cmd.Wait(); close(p.done) }()
	if err := p.waitReady(ctx, readyPath); err != nil {
		p.stop()
		return nil, fmt.Errorf("start %q: %w\n%s", name, err, tail(logPath, 20))
	}
	return p, nil
}

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
// returns once the process is gone.
func (p *proc) stop() {
	p.stopOnce.Do(func() {
		p.terminate()
		select {
		case <-p.done:
		case <-time.After(stopGrace):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// kill ends the process at once, as a crash would.
func (p *proc) kill() {
	p.stopOnce.Do(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
}

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
