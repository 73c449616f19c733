package steps

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/c2clab/c2clab/sim/image"
)

// agentsAreExternalProgram makes every agent of the scenario the program
// built from pkg (a package of this module), started through the contract
// of docs/PROTOCOL.md section 12 instead of the lab's own node command. The
// build goes to a directory the scenario removes when it ends.
func agentsAreExternalProgram(ctx context.Context, pkg string) (context.Context, error) {
	root, ok := image.SourceTree()
	if !ok {
		return skip(ctx, "building the external agent needs the c2clab source tree and Go; run from a clone")
	}
	w := getWorld(ctx)
	dir, err := os.MkdirTemp("", "c2clab-external-agent-")
	if err != nil {
		return ctx, err
	}
	w.cleanups = append(w.cleanups, func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "agent")
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return ctx, fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
	}
	w.cfg.AgentCommand = []string{bin}
	return ctx, nil
}

// agentsRunTheProgram checks from /proc that every agent node runs the
// external program and no other.
func agentsRunTheProgram(ctx context.Context) error {
	w := getWorld(ctx)
	if len(w.cfg.AgentCommand) == 0 {
		return fmt.Errorf("no external agent program declared")
	}
	nodes, err := w.lab.Nodes(ctx)
	if err != nil {
		return err
	}
	agents := 0
	for _, n := range nodes {
		if !strings.HasSuffix(n.Name, "-agent") {
			continue
		}
		agents++
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", n.PID))
		if err != nil {
			return fmt.Errorf("%s: %w", n.Name, err)
		}
		if exe != w.cfg.AgentCommand[0] {
			return fmt.Errorf("%s runs %s, want the external agent %s", n.Name, exe, w.cfg.AgentCommand[0])
		}
	}
	if agents == 0 {
		return fmt.Errorf("the lab runs no agent")
	}
	note(ctx, "all %d agents run %s", agents, w.cfg.AgentCommand[0])
	return nil
}
