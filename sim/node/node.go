// Package node runs one lab node process, a broker, agent, App Connector or
// device services, from a JSON config file, and announces readiness with a
// ready file. The c2clab binary (`c2clab node ROLE`) and test binaries that
// re-exec themselves both enter here, so a node is the same code wherever
// the lab places it.
package node

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"syscall"

	"github.com/c2clab/c2clab/sim/agent"
	"github.com/c2clab/c2clab/sim/bench/splice"
	"github.com/c2clab/c2clab/sim/broker"
	"github.com/c2clab/c2clab/sim/connector"
	"github.com/c2clab/c2clab/sim/endpoint"
	"github.com/c2clab/c2clab/sim/linkemu"
	"github.com/c2clab/c2clab/sim/pod"
)

// runner starts one role from its config file.
type runner func(ctx context.Context, cfgPath string, ready func(map[string]string)) error

// roles lists every role; registered here explicitly, not by init().
var roles = map[string]runner{
	"broker":    runAs(broker.Run),
	"agent":     runAs(agent.Run),
	"connector": runAs(connector.Run),
	"services":  runAs(endpoint.Run),
	"linkemu":   runAs(linkemu.Run),
	"splice":    runAs(splice.Run),  // c2clab bench's reference relay
	"machine":   runAs(pod.Run),     // a machine's Pod on the kubernetes backend
	"install":   runAs(pod.Install), // its init container, for a vendor's agent image
	"hold":      runAs(pod.Hold),    // that image's container (sim/pod/agentroot.go)
}

// Roles returns the role names, sorted.
func Roles() []string {
	out := make([]string, 0, len(roles))
	for r := range roles {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// ErrUnknownRole is returned for a role Roles does not list.
var ErrUnknownRole = errors.New("unknown node role")

func runAs[C any](run func(context.Context, C, func(map[string]string)) error) runner {
	return func(ctx context.Context, cfgPath string, ready func(map[string]string)) error {
		var cfg C
		data, err := os.ReadFile(cfgPath)
		if err != nil {
			return fmt.Errorf("read config: %w", err)
		}
		if err := json.Unmarshal(data, &cfg); err != nil {
			return fmt.Errorf("config %q: %w", cfgPath, err)
		}
		return run(ctx, cfg, ready)
	}
}

// Run runs role until SIGTERM or SIGINT, writing readyPath once it listens.
func Run(role, cfgPath, readyPath string) error {
	r, ok := roles[role]
	if !ok {
		return fmt.Errorf("node %q: %w (want one of %v)", role, ErrUnknownRole, Roles())
	}
	setLog(role)
	keepSysmonAwake()
	setProcs()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return run(ctx, r, cfgPath, readyPath)
}

// setLog makes the node log one line per event, key=value, on stderr,
// whichever binary runs it (c2clab, c2clab-node, a test binary): the lab
// shows it when a scenario fails and reads some of it back
// (linkemu.ParseStats).
func setLog(role string) {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)).With("role", role))
}

// run runs r until ctx ends. If the ready file cannot be written the node
// stops at once and returns why: the launcher would otherwise wait for a
// ready file that never comes.
func run(ctx context.Context, r runner, cfgPath, readyPath string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var readyErr error // written before cancel, read after r returns
	err := r(ctx, cfgPath, withDebug(ctx, func(addrs map[string]string) {
		if readyErr = writeReady(readyPath, addrs); readyErr != nil {
			cancel()
		}
	}))
	return errors.Join(readyErr, err)
}

// Main parses `ROLE --config FILE --ready-file FILE` and runs the node; it
// returns the process exit code.
func Main(args []string) int { return mainWith(args, roles) }

// MainAgent is Main for the agent role only, with its config adjusted after
// it is read: how the deliberately broken agents of the certification
// self-test (testdata/brokenagents) switch on agent.Faults.
func MainAgent(args []string, adjust func(*agent.Config)) int {
	return mainWith(args, map[string]runner{"agent": runAs(func(ctx context.Context, cfg agent.Config, ready func(map[string]string)) error {
		adjust(&cfg)
		return agent.Run(ctx, cfg, ready)
	})})
}

func mainWith(args []string, rs map[string]runner) int {
	fs := flag.NewFlagSet("node", flag.ContinueOnError)
	cfg := fs.String("config", "", "JSON config file of the role")
	ready := fs.String("ready-file", "", "file to write {pid, addrs} to once listening")
	if len(args) < 1 {
		fmt.Fprintf(os.Stderr, "usage: node ROLE --config FILE --ready-file FILE (ROLE: %v)\n", Roles())
		return 2
	}
	if err := fs.Parse(args[1:]); err != nil || *cfg == "" {
		fmt.Fprintln(os.Stderr, "node: --config is required")
		return 2
	}
	r, ok := rs[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "node %q: %v\n", args[0], ErrUnknownRole)
		return 1
	}
	setLog(args[0])
	keepSysmonAwake()
	setProcs()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, r, *cfg, *ready); err != nil {
		fmt.Fprintf(os.Stderr, "node %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// Ready is the ready file's content (docs/PROTOCOL.md section 12).
type Ready struct {
	// PID is the node's process ID.
	PID int `json:"pid"`
	// Addrs names the addresses the node listens on, "ip:port" by name.
	Addrs map[string]string `json:"addrs"`
}

// writeReady writes the ready file atomically, so a reader never sees half of it.
func writeReady(path string, addrs map[string]string) error {
	if path == "" {
		return nil
	}
	data, err := json.Marshal(Ready{PID: os.Getpid(), Addrs: addrs})
	if err != nil {
		return fmt.Errorf("ready file: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ready-*")
	if err != nil {
		return fmt.Errorf("ready file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("ready file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("ready file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("ready file: %w", err)
	}
	return nil
}
