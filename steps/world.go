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
	"io/fs"
	"net"
	"time"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/sim/linkemu"
	"github.com/c2clab/c2clab/sim/policy"
)

// Config is what the suite needs from its runner.
type Config struct {
	// Command starts a node process (see lab.Spec.Command).
	Command []string
	// AgentCommand, when set, starts the agents: a vendor's agent under
	// certification (see lab.Spec.AgentCommand).
	AgentCommand []string
	// AgentImage, when set, runs the agents from this local image on the
	// container backend (see lab.Spec.AgentImage).
	AgentImage string
	Env        []string
	// Fixtures is the fixtures/ tree (device profiles, tenants).
	Fixtures fs.FS
	// LogDir, when set, keeps each failed scenario's node logs there.
	LogDir string
	// Backend is where the lab runs its nodes (lab.BackendLocal,
	// lab.BackendNetns or lab.BackendContainer); empty means local.
	Backend string
	// ContainerBinary is the static c2clab binary the container backend
	// puts in its image.
	ContainerBinary string
	// Pairing says which ends run the reference agent instead of the
	// agent under test; the zero value: none.
	Pairing Pairing
}

// world is one scenario's state.
type world struct {
	cfg     Config
	tenants []tenantDecl
	devices []deviceDecl
	conns   []connectorDecl
	lab     *lab.Lab
	last    *attempt
	// bulkSeed varies the byte stream per transfer, so data replayed from
	// an earlier transfer does not match (within one transfer the pattern
	// repeats every ~4 MiB; see sim/endpoint's bulk service).
	bulkSeed uint64
	// clientOut and clientErr are what the last real client printed and how it ended.
	clientOut string
	clientErr error
	// evidence holds the running step's notes (figures, codes), attached
	// to it when it ends.
	evidence []string
	// freerdp is the last xfreerdp run.
	freerdp *freerdpRun
	// skipReason is set when a step skipped the scenario.
	skipReason string
	// startErrs holds, per device expected not to register, why its
	// agent did not start (nil if it started).
	startErrs map[string]error
	// soak holds what the load steps saw.
	soak soak
	// agentBin is the binary inside the scenario's agent image.
	agentBin string
	// cleanups run when the scenario ends, after the lab is closed.
	cleanups []func()
	// perf holds the relay performance steps' measurements.
	perf perf
	// restartedAt is when the broker was last restarted.
	restartedAt time.Time
	// linkRestoredAt is when a device's link was last restored.
	linkRestoredAt time.Time
	// rtts holds the round trips measured per target, sorted.
	rtts map[string][]time.Duration
	// carried is set when the scenario ends: whether it carried a
	// connection between two agents (see carriedConnection).
	carried bool
}

type tenantDecl struct {
	id     string
	policy policy.Config
}

type deviceDecl struct {
	tenant  string
	profile *device.Profile
	link    linkemu.Impairments // the device's link, both ways
	// forwards are local listeners its agent tunnels to targets.
	forwards []lab.Forward
	// intercept makes its agent the resolver of its machine.
	intercept bool
	// skew is how far ahead the clock that issued its certificate runs;
	// beyond pki.Backdate the broker cannot accept it, so the lab does not
	// wait for it to register.
	skew time.Duration
	// admin: declared as an admin's machine, the source end of a pairing.
	admin bool
	// reference: runs the reference agent whatever the pairing.
	reference bool
}

// connectorDecl is an App Connector and the app servers behind it.
type connectorDecl struct {
	tenant, name string
	groups       []string
	apps         []lab.App
}

// attempt is one connection an admin made through its agent.
type attempt struct {
	from      *lab.Device
	fqdn      string
	port      uint16
	conn      net.Conn
	err       error
	code      code.Code // from the source agent's record; "" when it succeeded
	local     bool      // dropped by the source agent, never sent to the broker
	started   time.Time
	activityN int // activity records before the attempt
}

type worldKey struct{}

func getWorld(ctx context.Context) *world { return ctx.Value(worldKey{}).(*world) }

// currentTenant is the tenant declared last: devices join it, so a
// scenario can declare one organization, its devices, then another.
func (w *world) currentTenant() (string, error) {
	if len(w.tenants) == 0 {
		return "", fmt.Errorf("the scenario declares no tenant before its devices")
	}
	return w.tenants[len(w.tenants)-1].id, nil
}

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

func (w *world) declared(name string) (*deviceDecl, bool) {
	for i := range w.devices {
		if w.devices[i].profile.Name == name {
			return &w.devices[i], true
		}
	}
	return nil, false
}

func (w *world) close() {
	if w.last != nil && w.last.conn != nil {
		w.last.conn.Close()
	}
	if w.lab != nil {
		w.carried = w.carriedConnection(context.Background())
		w.lab.Close()
	}
	for _, f := range w.cleanups {
		f()
	}
}
