package steps

import (
	"context"
	"fmt"

	"github.com/c2clab/c2clab/sim/policy"
)

// Pairing places the agent under test (Config.AgentCommand or AgentImage)
// and the reference agent (Config.Command's) on the two ends of every
// connection: sources are the admins' machines ("the admin ... logged in
// as"), destinations every other device. The zero value puts the agent
// under test on both ends (docs/CERTIFICATION.md, CERT-1).
type Pairing struct {
	// ReferenceSource runs the reference agent on the admins' machines.
	ReferenceSource bool
	// ReferenceDestination runs the reference agent on the other devices.
	ReferenceDestination bool
}

// Pairings returns the three pairings certification runs, in report
// order: T->T, T->R, R->T.
func Pairings() []Pairing {
	return []Pairing{{}, {ReferenceDestination: true}, {ReferenceSource: true}}
}

// String names the pairing as the report does: T is the agent under test,
// R the reference, source first.
func (p Pairing) String() string {
	end := func(ref bool) string {
		if ref {
			return "R"
		}
		return "T"
	}
	return end(p.ReferenceSource) + "->" + end(p.ReferenceDestination)
}

// reference says whether the declared device runs the reference agent.
func (p Pairing) reference(d deviceDecl) bool {
	if d.reference {
		return true
	}
	if d.admin {
		return p.ReferenceSource
	}
	return p.ReferenceDestination
}

// carriedConnection reports whether the scenario's broker asked a
// destination agent to take a client-to-client connection: the scenarios
// for which the pairing of source and destination agent matters, and
// which certification runs in every pairing. Called before the lab closes.
func (w *world) carriedConnection(ctx context.Context) bool {
	if w.lab == nil {
		return false
	}
	acts, err := w.lab.Activity(ctx)
	if err != nil {
		return false
	}
	for _, a := range acts {
		if a.AccessType == string(policy.ClientToClient) && a.Destination != "" {
			return true
		}
	}
	return false
}

// runsTheReferenceAgent makes a device run the reference agent whatever
// the pairing: the yardstick the agent under test is measured against on
// the same path in the same run (NET-3).
func runsTheReferenceAgent(ctx context.Context, name string) error {
	d, ok := getWorld(ctx).setup.declared(name)
	if !ok {
		return fmt.Errorf("no device %q declared before this step", name)
	}
	d.reference = true
	return nil
}
