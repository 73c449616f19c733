package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/c2clab/c2clab/sim/kube"
	"github.com/c2clab/c2clab/sim/kube/kubenet"
	"github.com/c2clab/c2clab/sim/lab"
)

func newLabCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Start, inspect and remove labs of broker and agent processes",
		Long: `A lab is a broker, and per device its fake services and its agent (the
reference Client Connector), each a process of this binary on its own
loopback address, or with --backend netns in its machine's own network
namespace. "lab up" runs one in the foreground until Ctrl-C and prints how
to reach every node, or with --detach starts it in the background and
returns; "lab status" lists the labs, "lab down RUN" stops one and "lab down
--all" removes what crashed runs left behind.`,
	}
	cmd.AddCommand(newLabUpCmd(), newLabStatusCmd(), newLabUsersCmd(), newLabActivityCmd(), newLabDownCmd())
	return cmd
}

type labUpFlags struct {
	tenant      string
	devices     []string
	ignoreLinks bool
	backend     string
	detach      bool // start the lab in a process of its own and return
	asJSON      bool // print the table as JSON
	// detachedChild: this process is that lab's own process; it reports
	// the table, or why it failed, on file descriptor 3 (labdetach.go).
	detachedChild bool
	kube          kubeFlags // --backend kubernetes only
}

func newLabUpCmd() *cobra.Command {
	var f labUpFlags
	cmd := &cobra.Command{
		Use:   "up [TOPOLOGY] [--tenant FILE] [--device FILE...]",
		Short: "Run a lab in the foreground until interrupted, or in the background (--detach)",
		Long: `Run a lab until Ctrl-C: a broker, and per device its fake services and its
agent, on its own loopback address or (--backend netns) in its own network
namespace; then print every node, its address and how to reach it.

The lab comes from a topology file (topologies/*.yaml: nodes, the tenant,
App Connectors and their app servers) or from --tenant and --device files.
Link impairments (rate, delay, jitter, loss) of agents' devices are applied
on the netns backend by the lab's user-space link emulator (on kubernetes,
by the same emulator inside the device's Pod); on loopback there is no
link, so a topology with impaired links is refused unless --ignore-links
runs it unimpaired.

With --backend kubernetes every machine is a Pod of a namespace named by
the run ID on the cluster --kubeconfig names, running --image's machine
process, which starts the machine's nodes as the lab asks, as "c2clab test
--backend kubernetes" does. A topology's network.cni becomes a Multus
NetworkAttachmentDefinition carrying that config (its IPAM made static),
and each machine's address is on its Pod's net1, picked from the config's
subnet; this needs Multus' CRD on the cluster, and lab up refuses the
topology without it. --pod-network puts every machine on the cluster's Pod
network instead, its address its Pod's (a topology without a network gets
that anyway). Agents and App Connectors reach the broker by its Service,
broker.RUN.svc, over the cluster's network; on a cluster without DNS
(no kube-system/kube-dns) by a host alias to the broker's Pod. The table
gives the machines' addresses, so this process must route the Pod network
and the lab network (run it on a node). Ctrl-C or "lab down RUN" deletes
the namespace; "lab down --backend kubernetes --all" removes the
namespaces of runs whose lab up crashed.

With --detach (-d) the lab runs in a process of its own (in its own session,
so closing the shell does not stop it); lab up prints the table once every
node is ready and returns 0, or the reason it could not start and returns 1.
"c2clab lab status" lists it, "c2clab lab status RUN" prints its table again,
"c2clab lab down RUN" stops it and removes its run directory. --json prints
the table as JSON: run, dir, pid, backend, admin {addr, token}, devices
[{name, fqdn, interfaceIP, socks, status, shell}].`,
		Example: `  c2clab lab up topologies/single-site.yaml
  c2clab lab up --tenant fixtures/tenants/shared-namespace.yaml \
      --device fixtures/devices/admin-win-4.5.yaml --device fixtures/devices/win-3.9.0.169-ad.yaml
  # then, in another shell, an unmodified client through the admin's agent:
  nc -X 5 -x ADMIN_SOCKS5 desktop-10B38-AC.example.com 3389
  # from a script:
  run=$(c2clab lab up -d --json topologies/single-site.yaml | jq -r .run)
  c2clab lab down "$run"
  # on a cluster whose nodes hold the image (c2clab image save -o c2clab.tar, then
  # kind load image-archive c2clab.tar or ctr -n k8s.io images import c2clab.tar):
  # (with Multus there the topology's network is each Pod's net1; without it:)
  c2clab lab up --backend kubernetes --pull-policy Never topologies/two-sites-wan.yaml
  c2clab lab up --backend kubernetes --pull-policy Never --pod-network topologies/two-sites-wan.yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			plan, err := planLab(f, args)
			if err != nil {
				return badInput(err)
			}
			if f.backend == lab.BackendKubernetes && f.kube.podNetwork && plan.CNIConfig != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "lab up: --pod-network: the topology's network %q is not made; every machine is on the cluster's Pod network\n", kubenet.NetworkName(plan.CNIConfig))
			}
			if f.detach {
				return labUpDetach(cmd, f, args)
			}
			return labUp(cmd, plan, f)
		},
	}
	cmd.Flags().StringVar(&f.tenant, "tenant", "", "tenant file (YAML or JSON); overrides the topology's")
	cmd.Flags().StringArrayVar(&f.devices, "device", nil, "device profile file; repeat for each device")
	cmd.Flags().BoolVar(&f.ignoreLinks, "ignore-links", false, "run a topology's impaired links unimpaired")
	cmd.Flags().StringVar(&f.backend, "backend", lab.BackendLocal, "where machines run: local (loopback addresses), netns (a network namespace each on a CNI bridge; root) or container (Docker), or kubernetes (a cluster from KUBECONFIG; a topology's sites onto nodes)")
	cmd.Flags().BoolVarP(&f.detach, "detach", "d", false, "start the lab in the background, print its table and return; lab down RUN stops it")
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print the table as JSON (for scripts)")
	cmd.Flags().BoolVar(&f.detachedChild, detachedChildFlag, false, "")
	cmd.Flags().MarkHidden(detachedChildFlag)
	addKubeFlags(cmd.Flags(), &f.kube, true)
	addPodNetworkFlag(cmd.Flags(), &f.kube)
	return cmd
}

func planLab(f labUpFlags, args []string) (lab.Plan, error) {
	files := lab.PlanFiles{Tenant: f.tenant, Devices: f.devices, IgnoreLinks: f.ignoreLinks}
	if len(args) == 1 {
		files.Topology = args[0]
	}
	return lab.LoadPlan(files, lab.Backend(f.backend))
}

func labUp(cmd *cobra.Command, plan lab.Plan, f labUpFlags) (err error) {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f.detachedChild {
		signal.Ignore(syscall.SIGHUP) // the shell that started it may go
		syscall.CloseOnExec(3)        // the lab's nodes must not hold the pipe
		detachOut = os.NewFile(3, "detach-report")
		defer func() {
			if err != nil {
				reportDetached(labTable{}, err)
			}
		}()
	}
	l, err := lab.Start(ctx, lab.Spec{Command: []string{exe, "node"}, Backend: lab.Backend(f.backend), Kube: f.kube.spec()}, plan)
	if err != nil {
		return failed(err)
	}
	defer l.Close()
	table := newLabTable(l, plan.Devices)
	table.Backend = f.backend
	switch {
	case f.detachedChild:
		if err := l.MarkDetached(table); err != nil {
			return failed(err)
		}
		reportDetached(table, nil)
	case f.asJSON:
		if err := writeJSONOut(cmd.OutOrStdout(), table); err != nil {
			return err
		}
	default:
		printLab(cmd.OutOrStdout(), table, "Ctrl-C stops it")
	}
	<-ctx.Done()
	if !f.detachedChild && !f.asJSON {
		fmt.Fprintln(cmd.OutOrStdout(), "stopping lab", l.ID)
	}
	return nil
}

// labTable is what lab up prints: how to reach every node. --json prints
// it as is.
type labTable struct {
	Run string `json:"run"`
	Dir string `json:"dir"`
	// PID is the process that runs the lab; lab down RUN stops it.
	PID     int          `json:"pid"`
	Backend string       `json:"backend"`
	Admin   lab.Admin    `json:"admin"`
	Devices []labNodeRow `json:"devices"`
}

type labNodeRow struct {
	Name        string `json:"name"`
	FQDN        string `json:"fqdn"`
	InterfaceIP string `json:"interfaceIP"`
	SOCKS       string `json:"socks"`
	Status      string `json:"status"`
	// Shell is the command prefix that runs a program on the device's
	// machine; empty on loopback.
	Shell string `json:"shell,omitempty"`
}

func newLabTable(l *lab.Lab, devices []lab.PlannedDevice) labTable {
	t := labTable{Run: l.ID, Dir: l.Dir, PID: os.Getpid(), Admin: l.Admin(), Devices: []labNodeRow{}}
	for _, pd := range devices {
		p := pd.Profile
		d, _ := l.Device(p.Name)
		t.Devices = append(t.Devices, labNodeRow{Name: p.Name, FQDN: p.ReportedFQDN(), InterfaceIP: d.InterfaceIP.String(),
			SOCKS: d.SOCKSAddr(), Status: "http://" + d.StatusAddr() + "/status", Shell: d.Shell()})
	}
	return t
}

func printLab(w io.Writer, t labTable, stopping string) {
	fmt.Fprintf(w, "lab %s running (run directory %s); %s\n\n", t.Run, t.Dir, stopping)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tFQDN\tINTERFACE IP\tSOCKS5 (source side)\tSTATUS API\tRUN ON IT WITH")
	for _, d := range t.Devices {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Name, d.FQDN, d.InterfaceIP, d.SOCKS, d.Status, orDash(d.Shell))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nbroker admin API: curl -H 'Authorization: Bearer %s' http://%s/api/v1/userStatus (and /api/v1/userActivity)\n", t.Admin.Token, t.Admin.Addr)
	fmt.Fprintln(w, "reach a device through an agent: [RUN ON IT WITH] nc -X 5 -x SOCKS5 FQDN PORT (OpenBSD netcat)")
	fmt.Fprintln(w, "diagnostics: c2clab lab users, c2clab lab activity")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newLabStatusCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status [RUN_ID]",
		Short: "List the labs on this machine, live or left by crashed runs; with RUN_ID, a detached lab's table",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				return labTableOf(cmd, args[0], asJSON)
			}
			runs, err := lab.Runs("")
			if err != nil {
				return err
			}
			orphans, oerr := lab.Orphans("")
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RUN\tSTATE\tOWNER PID\tNODES\tDIRECTORY")
			for _, r := range append(runs, orphans...) {
				state := "left by a crashed run (lab down --all removes it)"
				switch {
				case r.Live && r.Detached():
					state = "live, detached (lab down " + r.ID + " stops it)"
				case r.Live:
					state = "live"
				case r.Dir == "":
					state = "left by a crashed run, directory gone (lab down --all removes it)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", r.ID, state, r.Owner, len(r.Nodes), orDash(r.Dir))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			return oerr
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "with RUN_ID: print the table as JSON")
	return cmd
}

// labTableOf prints the table of the detached run id.
func labTableOf(cmd *cobra.Command, id string, asJSON bool) error {
	if !lab.ValidRunID(id) {
		return badInput(fmt.Errorf("lab status: %q is not a run ID (c2c and 6 hex characters)", id))
	}
	runs, err := lab.Runs("")
	if err != nil {
		return failed(err)
	}
	for _, r := range runs {
		if r.ID != id {
			continue
		}
		var t labTable
		if err := r.Table(&t); err != nil {
			return failed(err)
		}
		if asJSON {
			return writeJSONOut(cmd.OutOrStdout(), t)
		}
		state := "c2clab lab down " + id + " stops it"
		if !r.Live {
			state = "its process is gone; c2clab lab down " + id + " removes what is left"
		}
		printLab(cmd.OutOrStdout(), t, state)
		return nil
	}
	return failed(fmt.Errorf("lab status: no run %q on this machine", id))
}

func newLabDownCmd() *cobra.Command {
	var all bool
	var backend string
	var kf kubeFlags
	cmd := &cobra.Command{
		Use:   "down [RUN_ID...] | --all",
		Short: "Remove labs: stop their nodes and delete their run directories and keys",
		Long: `Remove the named runs, or with --all every run on this machine whose owner
process is gone (a live "lab up" is stopped with Ctrl-C in its own shell, or
named explicitly here). A lab started with "lab up --detach" is stopped by
name: its own process gets SIGTERM and closes the lab as Ctrl-C would. What
is left is swept: the run's node processes (whose command line names its
directory) are killed, and so is anything still running inside the run's
network namespaces when they are removed.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if backend == kube.Backend {
				return labDownKube(cmd, args, all, kf)
			}
			return labDown(cmd, args, all)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "remove every run left by a crashed or killed lab")
	cmd.Flags().StringVar(&backend, "backend", "", "kubernetes: remove runs from the cluster (by their c2clab.io/run label) instead of this machine")
	addKubeFlags(cmd.Flags(), &kf, false)
	return cmd
}

func labDown(cmd *cobra.Command, ids []string, all bool) error {
	if all == (len(ids) > 0) {
		return badInput(errors.New("lab down: name run IDs or give --all, not both or neither"))
	}
	runs, err := lab.Runs("")
	if err != nil {
		return err
	}
	orphans, err := lab.Orphans("")
	if err != nil {
		return failed(err)
	}
	runs = append(runs, orphans...)
	want := map[string]bool{}
	for _, id := range ids {
		if !lab.ValidRunID(id) {
			return badInput(fmt.Errorf("lab down: %q is not a run ID (c2c and 6 hex characters)", id))
		}
		want[id] = true
	}
	var errs []error
	for _, r := range runs {
		if (all && !r.Live) || want[r.ID] {
			if r.Dir == "" {
				fmt.Fprintf(cmd.OutOrStdout(), "removing %s (its run directory is gone; found by the names of what it left)\n", r.ID)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "removing %s (%d nodes)\n", r.ID, len(r.Nodes))
			}
			errs = append(errs, lab.Stop(r))
			delete(want, r.ID)
		}
	}
	for id := range want {
		errs = append(errs, fmt.Errorf("lab down: no run %q on this machine", id))
	}
	if err := errors.Join(errs...); err != nil {
		return failed(err)
	}
	return nil
}
