package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/c2clab/c2clab/sim/kube"
	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/sim/tenant"
	"github.com/c2clab/c2clab/sim/topology"
)

// kubeFlags are the kubernetes backend's own flags.
type kubeFlags struct {
	kubeconfig, context string
	image, pullPolicy   string
	wait                string
	timeout             time.Duration
	podNetwork          bool
}

func addKubeFlags(fs *pflag.FlagSet, f *kubeFlags, up bool) {
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubernetes backend: kubeconfig file; default $KUBECONFIG, then ~/.kube/config, then in-cluster")
	fs.StringVar(&f.context, "context", "", "kubernetes backend: kubeconfig context; default its current one")
	if !up {
		return
	}
	fs.StringVar(&f.image, "image", defaultImageRef(), "kubernetes backend: the c2clab image the Pods run (c2clab image save writes it)")
	fs.StringVar(&f.pullPolicy, "pull-policy", "IfNotPresent", "kubernetes backend: the Pods' imagePullPolicy (IfNotPresent, Never, Always)")
	fs.StringVar(&f.wait, "wait", "ready", "kubernetes backend: wait until every Pod is ready, scheduled (bound to a node) or none")
	fs.DurationVar(&f.timeout, "timeout", 5*time.Minute, "kubernetes backend: how long to wait for the Pods")
	fs.BoolVar(&f.podNetwork, "pod-network", false, "kubernetes backend: the cluster's Pod network only, for a cluster without Multus: no lab network, each machine at 127.0.0.2 in its Pod, the broker found by a host alias to its Pod; App Connectors refused")
}

// addKubeRunFlags adds the flags of a suite run on the kubernetes backend
// (test): the cluster and the image, as lab up names them.
func addKubeRunFlags(fs *pflag.FlagSet, f *kubeFlags) {
	addKubeFlags(fs, f, false)
	fs.StringVar(&f.image, "image", defaultImageRef(), "kubernetes backend: the c2clab image the Pods run, on the cluster's nodes or pullable (c2clab image save writes it)")
	fs.StringVar(&f.pullPolicy, "pull-policy", "IfNotPresent", "kubernetes backend: the Pods' imagePullPolicy (IfNotPresent, Never, Always)")
}

// spec is the lab's view of the flags (sim/lab's kubernetes placer).
func (f kubeFlags) spec() lab.KubeSpec {
	return lab.KubeSpec{Kubeconfig: f.kubeconfig, Context: f.context, Image: f.image, PullPolicy: f.pullPolicy}
}

func (f kubeFlags) until() (kube.Until, bool, error) {
	switch f.wait {
	case "ready":
		return kube.Ready, true, nil
	case "scheduled":
		return kube.Scheduled, true, nil
	case "none":
		return 0, false, nil
	}
	return 0, false, fmt.Errorf("--wait %q: want ready, scheduled or none", f.wait)
}

func owner() string {
	h, _ := os.Hostname()
	return h + "/" + strconv.Itoa(os.Getpid())
}

// planKube plans a topology's lab for the cluster, refusing what this
// backend does not do rather than running something else silently.
func planKube(f labUpFlags, args []string) (kube.Lab, *topology.Topology, error) {
	if len(args) != 1 {
		return kube.Lab{}, nil, errors.New("lab up --backend kubernetes: give a topology file (the backend places its sites onto nodes)")
	}
	if len(f.devices) > 0 {
		return kube.Lab{}, nil, errors.New("lab up --backend kubernetes: --device is not taken; list the devices in the topology")
	}
	top, err := topology.Load(args[0])
	if err != nil {
		return kube.Lab{}, nil, err
	}
	for _, n := range top.Nodes {
		if n.Link.Impaired() && !f.ignoreLinks {
			return kube.Lab{}, nil, fmt.Errorf("%s: node %q has an impaired link; the kubernetes backend does not apply link impairments in this build (docs/NETWORK.md): rerun with --ignore-links to run it unimpaired, or use --backend netns", args[0], n.Name)
		}
	}
	tenantPath := f.tenant
	if tenantPath == "" {
		tenantPath = top.TenantPath()
	}
	t, _, err := tenant.Load(tenantPath)
	if err != nil {
		return kube.Lab{}, nil, err
	}
	id, err := lab.NewRunID()
	if err != nil {
		return kube.Lab{}, nil, err
	}
	l, err := kube.FromTopologyWith(top, t.Policy(), id, f.kube.image, kube.Options{PodNetwork: f.kube.podNetwork})
	l.Plan.PullPolicy = f.kube.pullPolicy
	return l, top, err
}

func labUpKube(cmd *cobra.Command, f labUpFlags, args []string) error {
	until, wait, err := f.kube.until()
	if err != nil {
		return badInput(err)
	}
	l, _, err := planKube(f, args)
	if err != nil {
		return badInput(err)
	}
	objs, err := kube.Build(l.Plan)
	if err != nil {
		return badInput(err)
	}
	objs.Namespace.Annotations = map[string]string{kube.AnnotationOwner: owner()}
	c, err := kube.Connect(f.kube.kubeconfig, f.kube.context)
	if err != nil {
		return failed(err)
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "lab %s: creating namespace %s on %s (%d pods)\n", l.Plan.RunID, objs.Namespace.Name, c.Host, len(objs.Pods))
	defer deleteRun(w, c, l.Plan.RunID)
	start := time.Now()
	if err := c.Create(ctx, objs); err != nil {
		return failed(err)
	}
	states := map[string]kube.PodState{}
	if wait {
		wctx, cancel := context.WithTimeout(ctx, f.kube.timeout)
		states, err = c.Wait(wctx, l.Plan.RunID, len(objs.Pods), until)
		cancel()
		if err != nil {
			return failed(fmt.Errorf("lab %s: %w", l.Plan.RunID, err))
		}
	}
	fmt.Fprintf(w, "lab %s up in %v (waited for: %s); Ctrl-C deletes it\n\n", l.Plan.RunID, time.Since(start).Round(time.Millisecond), f.kube.wait)
	printKubeLab(w, l, states)
	<-ctx.Done()
	return nil
}

// deleteRun deletes the run's namespace, whatever stopped the lab.
func deleteRun(w io.Writer, c *kube.Cluster, runID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fmt.Fprintf(w, "deleting lab %s (namespace %s)\n", runID, kube.Namespace(runID))
	if err := c.Delete(ctx, runID); err != nil {
		fmt.Fprintf(w, "%v; c2clab lab down --backend kubernetes %s retries\n", err, runID)
	}
}

func printKubeLab(w io.Writer, l kube.Lab, states map[string]kube.PodState) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MACHINE\tROLE\tSITE\tLAB ADDRESS\tNODE\tPHASE")
	for _, m := range l.Plan.Machines {
		s := states[m.Name]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Name, m.Role, orDash(m.Site), m.Addr, orDash(s.Node), orDash(string(s.Phase)))
	}
	tw.Flush()
	ns := kube.Namespace(l.Plan.RunID)
	fmt.Fprintf(w, "\nbroker admin API: kubectl -n %s port-forward svc/broker %d, then\n  curl -H 'Authorization: Bearer %s' http://127.0.0.1:%d/api/v1/userStatus\n", ns, kube.PortAdmin, l.AdminToken, kube.PortAdmin)
	if l.Plan.PodNetwork {
		fmt.Fprintf(w, "an agent's SOCKS5 listens on port %d of its Pod's address (kubectl -n %s get pods -o wide)\n", kube.PortSOCKS, ns)
		return
	}
	fmt.Fprintf(w, "an agent's SOCKS5 listens on its lab address, port %d, for machines on the lab network\n", kube.PortSOCKS)
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
