package bench

import "github.com/c2clab/c2clab/sim/lab"

// kubeHop is Result.Notes' line for the kubernetes backend: the runner
// dials every path from its own host, since a socket cannot be made
// inside a Pod's network namespace from there (Device.DialFrom), so the
// relay starts at the admin's Pod, not inside it.
const kubeHop = "kubernetes: every path starts at the runner on this host, whose hop into the Pod network is part of each alike: " +
	"relay to the admin agent's forward in its Pod, then the broker's and the desktop's Pods; " +
	"direct to the desktop's Pod; splice to the splice node in the broker's Pod, then the desktop's"

// where says, on the kubernetes backend, where every node of the lab ran
// (lab.Lab.NodeWhere) and how the runner reaches the paths; elsewhere the
// machines are this host's and there is nothing to say.
func (b *bench) where() (map[string]string, []string) {
	if b.backend != lab.BackendKubernetes {
		return nil, nil
	}
	out := map[string]string{}
	for _, n := range b.lab.NodeNames() {
		out[n] = b.lab.NodeWhere(n)
	}
	return out, []string{kubeHop}
}
