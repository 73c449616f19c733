package main

import (
	"fmt"

	"github.com/c2clab/c2clab/sim/kube"
)

// refuseKube says why bench ab (cmd) does not run with --backend
// kubernetes when backend names it, and nil otherwise. bench, test, lab
// up run there (sim/lab's kubernetes placer; certify as
// lab.Backend.Supports says); bench ab does not, because it runs two
// builds of c2clab against each other, and on a cluster each build would
// be an image of its own on the nodes, which it has no flags for.
// Measuring on the local backend instead and calling that a kubernetes
// run would be a lie, so it refuses (docs/NETWORK.md, Kubernetes, Limits).
func refuseKube(cmd, backend string) error {
	if backend != kube.Backend {
		return nil
	}
	return fmt.Errorf("%s: --backend %s: not in this build: it compares two c2clab binaries, and on a cluster each would "+
		"have to be an image on its nodes; compare them on --backend netns, and measure one build on the cluster with "+
		"`c2clab bench --backend %s` (docs/NETWORK.md, Kubernetes, Limits)", cmd, kube.Backend, kube.Backend)
}
