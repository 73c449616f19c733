package main

import (
	"fmt"

	"github.com/c2clab/c2clab/sim/kube"
)

// refuseKube says why bench (cmd: "bench", "bench ab") does not run with
// --backend kubernetes when backend names it, and nil otherwise. test,
// lab up and certify run there (sim/lab's kubernetes placer; certify with
// a vendor's image only, as lab.Backend.Supports says); the bench does not,
// because what it measures is the relay against peer paths that run on
// the host or in its namespaces (a direct path, a splice relay, socat,
// iperf3, the routed reference through the broker's kernel), and its CPU
// cost from the nodes' /proc: on a cluster each peer path would have to be
// a Pod of its own and the CPU read inside the Pods. Measuring on the
// local backend instead and calling that a kubernetes run would be a lie,
// so it refuses (docs/NETWORK.md, Kubernetes, Limits).
func refuseKube(cmd, backend string) error {
	if backend != kube.Backend {
		return nil
	}
	return fmt.Errorf("%s: --backend %s: not in this build: the bench compares the relay with peer paths (direct, "+
		"splice relay, socat, iperf3, routed through the broker) that run on the host or in its network namespaces and reads "+
		"each path's CPU from the host's /proc; on a cluster those would have to be Pods too; measure on --backend netns, and run "+
		"the suite on the cluster with `c2clab test --backend %s` (docs/NETWORK.md, Kubernetes, Limits)", cmd, kube.Backend, kube.Backend)
}
