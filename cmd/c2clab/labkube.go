package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/c2clab/c2clab/sim/kube"
	"github.com/c2clab/c2clab/sim/lab"
)

// kubeFlags are the kubernetes backend's own flags: which cluster, and
// for lab up and test, which image the machines' Pods run.
type kubeFlags struct {
	kubeconfig, context string
	image, pullPolicy   string
	podNetwork          bool
}

// addKubeFlags adds the cluster's flags; with up also the image's, which
// lab up and test take alike (both run the suite's Pod layout, sim/lab's
// kubernetes placer).
func addKubeFlags(fs *pflag.FlagSet, f *kubeFlags, up bool) {
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubernetes backend: kubeconfig file; default $KUBECONFIG, then ~/.kube/config, then in-cluster")
	fs.StringVar(&f.context, "context", "", "kubernetes backend: kubeconfig context; default its current one")
	if !up {
		return
	}
	fs.StringVar(&f.image, "image", defaultImageRef(), "kubernetes backend: the c2clab image the Pods run, on the cluster's nodes or pullable (c2clab image save writes it)")
	fs.StringVar(&f.pullPolicy, "pull-policy", "IfNotPresent", "kubernetes backend: the Pods' imagePullPolicy (IfNotPresent, Never, Always)")
}

// addPodNetworkFlag adds --pod-network, lab up's only: test's labs have
// no network of their own to leave out (their machines are on the Pod
// network whatever the flag), so test does not take it.
func addPodNetworkFlag(fs *pflag.FlagSet, f *kubeFlags) {
	fs.BoolVar(&f.podNetwork, "pod-network", false, "kubernetes backend: every machine on the cluster's Pod network only, its address its Pod's; without it a topology's network.cni becomes a Multus NetworkAttachmentDefinition and each machine's address is on its net1 (the cluster needs Multus' CRD)")
}

// spec is the lab's view of the flags (sim/lab's kubernetes placer).
func (f kubeFlags) spec() lab.KubeSpec {
	return lab.KubeSpec{Kubeconfig: f.kubeconfig, Context: f.context, Image: f.image, PullPolicy: f.pullPolicy, PodNetwork: f.podNetwork}
}

// args are the flags again, for lab up --detach's own process.
func (f kubeFlags) args() []string {
	var out []string
	for _, kv := range [][2]string{{"kubeconfig", f.kubeconfig}, {"context", f.context}, {"image", f.image}, {"pull-policy", f.pullPolicy}} {
		if kv[1] != "" {
			out = append(out, "--"+kv[0], kv[1])
		}
	}
	if f.podNetwork {
		out = append(out, "--pod-network")
	}
	return out
}

// labDownKube removes runs from the cluster: the named ones, or with all
// every run this host started whose process is gone. Runs of other hosts
// are only listed: the cluster cannot tell whether they are alive.
func labDownKube(cmd *cobra.Command, ids []string, all bool, f kubeFlags) error {
	if all == (len(ids) > 0) {
		return badInput(errors.New("lab down --backend kubernetes: name run IDs or give --all, not both or neither"))
	}
	c, err := kube.Connect(f.kubeconfig, f.context)
	if err != nil {
		return failed(err)
	}
	ctx := cmd.Context()
	runs, err := c.Runs(ctx)
	if err != nil {
		return failed(err)
	}
	w := cmd.OutOrStdout()
	var errs []error
	for _, r := range runs {
		named := slices.Contains(ids, r.ID)
		crashed, why := crashedHere(r)
		switch {
		case named || (all && crashed):
			fmt.Fprintf(w, "removing %s from %s (%s)\n", r.ID, c.Host, why)
			errs = append(errs, c.Delete(ctx, r.ID))
		case all:
			fmt.Fprintf(w, "keeping %s: %s; name it to remove it\n", r.ID, why)
		}
		ids = slices.DeleteFunc(ids, func(id string) bool { return id == r.ID })
	}
	for _, id := range ids {
		errs = append(errs, fmt.Errorf("lab down: no run %q on %s", id, c.Host))
	}
	if err := errors.Join(errs...); err != nil {
		return failed(err)
	}
	return nil
}

// crashedHere reports whether r was started on this host by a process
// that is gone, and says why or why not.
func crashedHere(r kube.Run) (bool, string) {
	host, pid, ok := strings.Cut(r.Owner, "/")
	me, _ := os.Hostname()
	n, err := strconv.Atoi(pid)
	switch {
	case !ok || err != nil:
		return false, fmt.Sprintf("no owner recorded (%q)", r.Owner)
	case host != me:
		return false, "started on host " + host
	case syscall.Kill(n, 0) == nil:
		return false, fmt.Sprintf("its lab up (pid %d) is live", n)
	}
	return true, fmt.Sprintf("its lab up (pid %d) is gone", n)
}
