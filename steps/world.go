// Package steps holds the godog step definitions of the conformance suite.
// Each scenario gets its own world (in the context, never a package
// variable): the tenant, the devices it declares, the running lab, and the
// connections its admin made; steps drive real agents through the real
// broker and assert what the admin's client, the broker's diagnostics and
// the agents' status show.
package steps

import (
	"context"
	"fmt"
	"io"
	"io/fs"

	"github.com/c2clab/c2clab/sim/lab"
)

// Config is what the suite needs from its runner.
type Config struct {
	// Command starts a node process (see lab.Spec.Command).
	Command []string
	// AgentCommand, when set, starts the agents: a vendor's agent under
	// certification (see lab.Spec.AgentCommand).
	AgentCommand []string
	// AgentImage, when set, runs the agents from this image on the
	// container or kubernetes backend (see lab.Spec.AgentImage).
	AgentImage string
	Env        []string
	// Fixtures is the fixtures/ tree (device profiles, tenants).
	Fixtures fs.FS
	// LogDir, when set, keeps each failed scenario's node logs there.
	LogDir string
	// Backend is where the lab runs its nodes (lab.BackendLocal,
	// lab.BackendNetns, lab.BackendContainer or lab.BackendKubernetes);
	// empty means local.
	Backend string
	// ContainerBinary is the static c2clab binary the container backend
	// puts in its image.
	ContainerBinary string
	// ContainerImage, when set, is an image of ContainerBinary that every
	// scenario's lab runs (lab.Spec.ContainerImage), built once.
	ContainerImage string
	// Kube is the cluster and image of lab.BackendKubernetes.
	Kube lab.KubeSpec
	// Pairing says which ends run the reference agent instead of the
	// agent under test; the zero value: none.
	Pairing Pairing
}

// backend is the typed backend, which says what the run can do
// (lab.Backend.Supports).
func (c Config) backend() lab.Backend { return lab.Backend(c.Backend) }

// world is one scenario's state: its config, the run's output and the
// running lab, which every step uses, and one state per feature, each
// declared and owned by the file whose steps use it. newWorld makes them
// all afresh for each scenario, so nothing leaks from one to the next.
type world struct {
	cfg Config
	// out is the run's output (RunOptions.Output): everything the steps
	// print goes there.
	out io.Writer
	// lab is the running lab; nil until "the lab starts".
	lab *lab.Lab

	setup    setupState    // setup.go: the tenants, devices and connectors declared
	connect  connectState  // connect.go: the admin's last connection
	seeds    transferSeeds // connect.go: a fresh byte stream per transfer
	client   clientState   // realclient.go: the last real client's run
	measure  measureState  // measure.go: round trips measured
	perf     perf          // relayperf.go, netref.go: relay performance
	soak     soak          // load.go: nodes' use before and after load
	faults   faultState    // faults.go: when faults were injected
	freerdp  *freerdpRun   // freerdp.go: the last xfreerdp run
	external externalState // external.go: the agent image under test
	ra       raState       // ra.go: remote assistance (RA-1, RA-2)
	pull     *zpaPull      // zpapull.go: the replaying ZPA API; nil until one starts
	scenario scenarioState // run.go, evidence.go: skips, evidence, clean-ups
}

func newWorld(cfg Config, out io.Writer) *world {
	return &world{cfg: cfg, out: out, setup: newSetupState(), seeds: newTransferSeeds()}
}

type worldKey struct{}

func getWorld(ctx context.Context) *world { return ctx.Value(worldKey{}).(*world) }

func (w *world) device(name string) (*lab.Device, error) {
	if w.lab == nil {
		return nil, fmt.Errorf("the lab is not running (add \"When the lab starts\")")
	}
	d, ok := w.lab.Device(name)
	if !ok {
		return nil, fmt.Errorf("no device %q in the lab", name)
	}
	return d, nil
}

// close ends the scenario: its last connection, then the lab, then every
// clean-up a step registered.
func (w *world) close() {
	w.connect.close()
	if w.lab != nil {
		w.scenario.carried = w.carriedConnection(context.Background())
		w.lab.Close()
	}
	w.scenario.runCleanups()
}
