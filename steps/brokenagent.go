package steps

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/c2clab/c2clab/sim/buildcache"
	"github.com/c2clab/c2clab/sim/image"
)

// brokenAgentsDir is where the certification self-test keeps its
// deliberately broken agents, one package each (cmd/c2clab's testdata).
const brokenAgentsDir = "cmd/c2clab/testdata/brokenagents"

// brokenBuilds remembers each broken agent this test binary built: the
// scenarios of an outline share a binary instead of each asking go build.
var brokenBuilds struct {
	mu   sync.Mutex
	bins map[string]string // agent name -> executable
}

// agentUnderTestIsBroken makes every agent of the scenario the broken
// agent called name (a directory of brokenAgentsDir), in place of the
// agent under test; the pairing steps ("X runs the reference agent") put
// the reference agent on chosen machines beside it (CERT-2).
func agentUnderTestIsBroken(ctx context.Context, name string) (context.Context, error) {
	root, ok := image.SourceTree()
	if !ok {
		return skip(ctx, "building a broken agent needs the c2clab source tree and Go; run from a clone")
	}
	bin, err := buildBrokenAgent(root, name)
	if err != nil {
		return ctx, err
	}
	getWorld(ctx).cfg.AgentCommand = []string{bin}
	note(ctx, "every agent not told to run the reference agent is the broken agent %q (%s)", name, bin)
	return ctx, nil
}

// buildBrokenAgent returns the executable of the broken agent name,
// building it the first time it is asked for.
func buildBrokenAgent(root, name string) (string, error) {
	pkg := filepath.Join(root, brokenAgentsDir, name)
	if strings.ContainsAny(name, `/\`) || name == "" || name[0] == '.' {
		return "", fmt.Errorf("broken agent %q: want the name of a directory of %s", name, brokenAgentsDir)
	}
	if _, err := os.Stat(filepath.Join(pkg, "main.go")); err != nil {
		return "", fmt.Errorf("broken agent %q: no %s/%s/main.go: %w", name, brokenAgentsDir, name, err)
	}
	b := &brokenBuilds
	b.mu.Lock()
	defer b.mu.Unlock()
	if bin, ok := b.bins[name]; ok {
		return bin, nil
	}
	// Built once for every test binary of this tree (sim/buildcache):
	// cmd/c2clab's certification self-test builds the same agents.
	bin, err := buildcache.Build(context.Background(), root, "./"+brokenAgentsDir+"/"+name, name)
	if err != nil {
		return "", fmt.Errorf("broken agent %q: %w", name, err)
	}
	if b.bins == nil {
		b.bins = map[string]string{}
	}
	b.bins[name] = bin
	return bin, nil
}

// RemoveBuiltAgents forgets the broken agents this test binary asked for;
// their builds stay in sim/buildcache's directory for the next test
// binary. The test binary's main calls it after the tests ran.
func RemoveBuiltAgents() {
	b := &brokenBuilds
	b.mu.Lock()
	defer b.mu.Unlock()
	b.bins = nil
}

// probeBytes is how much relayFailsAfterSetup sends: enough that a
// receiver which misreads a frame header as a longer frame still gets
// the bytes it waits for, and then fails the tag.
const probeBytes = 1 << 20

// relayFailsAfterSetup checks how a connection set up between two agents
// whose data paths disagree fails (docs/PROTOCOL.md section 7 and 7.1):
// no byte echoed comes back, since a receiver delivers only plaintext
// whose tag verified; the admin's client sees a reset, not a FIN; the
// agent of device logged that a frame of this connection is not
// authentic; and, the connection having been set up, the source agent
// records no code for it. (The broker relays the frames unread, so its
// record ends as any relay's does; the feature checks it with the User
// Activity step.)
func relayFailsAfterSetup(ctx context.Context, device, logged string) error {
	w := getWorld(ctx)
	a, err := openConn(ctx)
	if err != nil {
		return err
	}
	rec, err := sourceRecord(ctx, a.from, a)
	if err != nil {
		return err
	}
	if rec.ID == "" || rec.Local {
		return fmt.Errorf("the source agent's record of %s:%d has no conn ID from the broker (%+v)", a.fqdn, a.port, rec)
	}
	defer a.closeConn()
	a.conn.SetDeadline(time.Now().Add(20 * time.Second))
	werr := make(chan error, 1)
	go func() { _, err := io.CopyN(a.conn, rand.Reader, probeBytes); werr <- err }()
	n, rerr := io.Copy(io.Discard, a.conn)
	var errs []error
	if n > 0 {
		errs = append(errs, fmt.Errorf("%d bytes came back through conn %s, want none: a receiver delivers only frames whose tag verified", n, rec.ID))
	}
	// The kernel reports a reset once, to whichever call comes first: the
	// writer's, or the reader's (which then reads end-of-file).
	reset, wErr := rerr, <-werr
	if !errors.Is(reset, syscall.ECONNRESET) {
		reset = wErr
	}
	if !errors.Is(reset, syscall.ECONNRESET) {
		errs = append(errs, fmt.Errorf("conn %s: reading ended with %v and writing with %v, want a reset (docs/PROTOCOL.md section 7.1)", rec.ID, orEOF(rerr), wErr))
	}
	if rec.Code != "" {
		errs = append(errs, fmt.Errorf("the source agent recorded code %q for conn %s, want none: it was set up", rec.Code, rec.ID))
	}
	if err := w.agentLoggedFor(ctx, device, logged, rec.ID); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	note(ctx, "conn %s: 0 of the bytes sent came back, the client saw %v, no code recorded by the source agent, and the agent of %s logged %q for it", rec.ID, reset, device, logged)
	return nil
}

// agentLoggedFor waits until the agent of device logged a line holding
// both want and the conn ID.
func (w *world) agentLoggedFor(ctx context.Context, device, want, connID string) error {
	var line string
	err := eventually(ctx, logTimeout, 20*time.Millisecond, func() error {
		log, ok := w.lab.NodeLog(device + "-agent")
		if !ok {
			return fmt.Errorf("the lab has no log of the agent of %q", device)
		}
		for l := range strings.Lines(log) {
			if strings.Contains(l, want) && strings.Contains(l, connID) {
				line = strings.TrimSpace(l)
				return nil
			}
		}
		return fmt.Errorf("the agent of %q logged no line with %q for conn %s", device, want, connID)
	})
	if err == nil {
		note(ctx, "the agent of %s logged: %s", device, line)
	}
	return err
}

// orEOF names a read that ended without an error: the peer's FIN.
func orEOF(err error) error {
	if err == nil {
		return io.EOF
	}
	return err
}
