package main

import (
	"fmt"

	"github.com/c2clab/c2clab/sim/kube"
)

// refuseKube says why command cmd does not run with --backend kubernetes
// when backend names it, and nil otherwise. It is the one place that
// knows what test, certify and bench would need on a cluster: they drive
// a lab from this process (sim/lab) and reach each agent's SOCKS5, status
// API and the broker's admin API directly, and a netns link emulator for
// impairments. On a cluster those live on Pod addresses this process
// cannot reach unless it runs inside the cluster, and sim/lab has no
// placer that starts machines as Pods. Running the scenarios on the local
// backend instead and calling that a kubernetes run would be a lie, so
// they refuse (docs/NETWORK.md, Kubernetes, Limits).
func refuseKube(cmd, backend string) error {
	if backend != kube.Backend {
		return nil
	}
	return fmt.Errorf("%s: --backend %s: not in this build: %s drives its labs from this process through sim/lab, "+
		"which places machines on loopback, in network namespaces or in containers but has no placer for Pods, "+
		"and reaches every agent's SOCKS5 and status API and the broker's admin API directly, which on a cluster "+
		"needs this process inside the cluster network; run a lab on a cluster with `c2clab lab up --backend %s TOPOLOGY` "+
		"and the suite with --backend netns (docs/NETWORK.md, Kubernetes, Limits)", cmd, kube.Backend, cmd, kube.Backend)
}
