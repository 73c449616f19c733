package steps

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/c2clab/c2clab/sim/buildcache"
	"github.com/c2clab/c2clab/sim/certify"
	"github.com/c2clab/c2clab/sim/image"
	"github.com/c2clab/c2clab/sim/lab"
)

// externalState is the agent image a scenario built for its agents.
type externalState struct {
	// agentBin is the binary inside the scenario's agent image.
	agentBin string
}

// agentsAreExternalProgram makes every agent of the scenario the program
// built from pkg (a package of this module), started through the contract
// of docs/PROTOCOL.md section 12 instead of the lab's own node command. It
// is built once for every test binary of this tree (sim/buildcache).
func agentsAreExternalProgram(ctx context.Context, pkg string) (context.Context, error) {
	root, ok := image.SourceTree()
	if !ok {
		return skip(ctx, "building the external agent needs the c2clab source tree and Go; run from a clone")
	}
	w := getWorld(ctx)
	bin, err := buildcache.Build(ctx, root, pkg, "external-"+strings.ReplaceAll(strings.Trim(pkg, "./"), "/", "-"))
	if err != nil {
		return ctx, err
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
	return agentsRun(ctx, w.cfg.AgentCommand[0], w.cfg.AgentCommand[0])
}

// agentsRun checks that every agent node's executable has the content of
// the file at want (compared by SHA-256 of /proc/PID/exe, so a container's
// binary is recognised too, whatever its path inside the image).
func agentsRun(ctx context.Context, want, what string) error {
	return agentsOf(ctx, "", want, what)
}

// agentOfRunsTheProgram checks one device's agent runs the external
// program (when a pairing or a step put the reference agent elsewhere).
func agentOfRunsTheProgram(ctx context.Context, device string) error {
	w := getWorld(ctx)
	if len(w.cfg.AgentCommand) == 0 {
		return fmt.Errorf("no external agent program declared")
	}
	return agentsOf(ctx, device, w.cfg.AgentCommand[0], w.cfg.AgentCommand[0])
}

// agentOfRunsTheReference checks one device's agent runs the lab's own
// node command: the reference agent.
func agentOfRunsTheReference(ctx context.Context, device string) error {
	w := getWorld(ctx)
	exe := w.cfg.Command[0]
	if w.cfg.backend().Supports(lab.FeatureAgentImage) == nil && w.cfg.ContainerBinary != "" {
		// A backend that runs agents from images runs the reference
		// agent from the lab's own image, which holds ContainerBinary.
		exe = w.cfg.ContainerBinary
	}
	return agentsOf(ctx, device, exe, "the reference agent ("+exe+")")
}

// agentsOf checks the agent node of device (every agent node when device
// is "") against the file at want.
func agentsOf(ctx context.Context, device, want, what string) error {
	w := getWorld(ctx)
	wantSum, err := certify.FileSHA256(want)
	if err != nil {
		return err
	}
	nodes, err := w.lab.Nodes(ctx)
	if err != nil {
		return err
	}
	agents := 0
	for _, n := range nodes {
		if !strings.HasSuffix(n.Name, "-agent") || (device != "" && n.Name != device+"-agent") {
			continue
		}
		agents++
		sum, err := certify.FileSHA256(fmt.Sprintf("/proc/%d/exe", n.PID))
		if err != nil {
			return fmt.Errorf("%s: %w", n.Name, err)
		}
		if sum != wantSum {
			return fmt.Errorf("%s runs an executable with SHA-256 %s, want %s's %s", n.Name, sum, what, wantSum)
		}
	}
	if agents == 0 {
		return fmt.Errorf("the lab runs no agent %s", device)
	}
	note(ctx, "all %d agents run %s (SHA-256 %s)", agents, what, wantSum)
	return nil
}

// agentsAreImage makes every agent of the scenario a container of an image
// holding the program built from pkg, as a vendor ships an agent image
// (container backend only). The image is removed when the scenario ends.
func agentsAreImage(ctx context.Context, pkg string) (context.Context, error) {
	w := getWorld(ctx)
	if err := w.cfg.backend().Supports(lab.FeatureEngineAgentImage); err != nil {
		return skip(ctx, err.Error())
	}
	root, ok := image.SourceTree()
	if !ok {
		return skip(ctx, "building the agent image needs the c2clab source tree and Go; run from a clone")
	}
	prov, err := image.Connect(ctx)
	if err != nil {
		return ctx, err
	}
	dir, err := os.MkdirTemp("", "c2clab-agent-image-")
	if err != nil {
		return ctx, err
	}
	w.scenario.cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "agent")
	if err := image.BuildAgent(ctx, root, pkg, bin); err != nil {
		return ctx, err
	}
	id, err := lab.NewRunID() // labels the image, so a sweep finds it after a crash
	if err != nil {
		return ctx, err
	}
	// Claimed while the scenario runs: a lab down --all beside it would
	// take the image, which no lab of its own holds, for an orphan's.
	release, err := lab.ClaimRun(id)
	if err != nil {
		return ctx, err
	}
	tag := "c2clab-agent:" + id
	if err := image.Build(ctx, prov, bin, tag, id); err != nil {
		release()
		return ctx, err
	}
	w.scenario.cleanup(func() { image.Remove(context.Background(), prov.Client(), id); release() })
	w.cfg.AgentImage, w.external.agentBin = tag, bin
	return ctx, nil
}

// agentsRunTheImage checks that every agent node runs the binary the
// agent image was built from, not the lab's own c2clab (which the lab's
// image holds at the same path).
func agentsRunTheImage(ctx context.Context) error {
	w := getWorld(ctx)
	if w.external.agentBin == "" {
		return fmt.Errorf("no agent image declared")
	}
	return agentsRun(ctx, w.external.agentBin, "the binary of image "+w.cfg.AgentImage)
}

// agentOfRunsTheImage checks one device's agent runs the binary of the
// scenario's agent image.
func agentOfRunsTheImage(ctx context.Context, device string) error {
	w := getWorld(ctx)
	if w.external.agentBin == "" {
		return fmt.Errorf("no agent image declared")
	}
	return agentsOf(ctx, device, w.external.agentBin, "the binary of image "+w.cfg.AgentImage)
}
