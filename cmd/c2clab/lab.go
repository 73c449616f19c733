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

	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/kube"
	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/sim/linkemu"
	"github.com/c2clab/c2clab/sim/tenant"
	"github.com/c2clab/c2clab/sim/topology"
)

func newLabCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Start, inspect and remove labs of broker and agent processes",
		Long: `A lab is a broker, and per device its fake services and its agent (the
reference Client Connector), each a process of this binary on its own
loopback address, or with --backend netns in its machine's own network
namespace. "lab up" runs one in the foreground until Ctrl-C and prints how
to reach every node; "lab down --all" removes what crashed runs left behind.`,
	}
	cmd.AddCommand(newLabUpCmd(), newLabStatusCmd(), newLabUsersCmd(), newLabActivityCmd(), newLabDownCmd())
	return cmd
}

type labUpFlags struct {
	tenant      string
	devices     []string
	ignoreLinks bool
	backend     string
	kube        kubeFlags // --backend kubernetes only
}

func newLabUpCmd() *cobra.Command {
	var f labUpFlags
	cmd := &cobra.Command{
		Use:   "up [TOPOLOGY] [--tenant FILE] [--device FILE...]",
		Short: "Run a lab in the foreground until interrupted",
		Long: `Run a lab until Ctrl-C: a broker, and per device its fake services and its
agent, on its own loopback address or (--backend netns) in its own network
namespace; then print every node, its address and how to reach it.

The lab comes from a topology file (topologies/*.yaml: nodes, the tenant,
App Connectors and their app servers) or from --tenant and --device files.
Link impairments (rate, delay, jitter, loss) of agents' devices are applied
on the netns backend by the lab's user-space link emulator; on loopback there
is no link, so a topology with impaired links is refused unless
--ignore-links runs it unimpaired.`,
		Example: `  c2clab lab up topologies/single-site.yaml
  c2clab lab up --tenant fixtures/tenants/shared-namespace.yaml \
      --device fixtures/devices/admin-win-4.5.yaml --device fixtures/devices/win-3.9.0.169-ad.yaml
  # then, in another shell, an unmodified client through the admin's agent:
  nc -X 5 -x ADMIN_SOCKS5 desktop-10B38-AC.example.com 3389`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.backend == kube.Backend {
				return labUpKube(cmd, f, args)
			}
			plan, err := planLab(f, args)
			if err != nil {
				return badInput(err)
			}
			return labUp(cmd, plan)
		},
	}
	cmd.Flags().StringVar(&f.tenant, "tenant", "", "tenant file (YAML or JSON); overrides the topology's")
	cmd.Flags().StringArrayVar(&f.devices, "device", nil, "device profile file; repeat for each device")
	cmd.Flags().BoolVar(&f.ignoreLinks, "ignore-links", false, "run a topology's impaired links unimpaired")
	cmd.Flags().StringVar(&f.backend, "backend", lab.BackendLocal, "where machines run: local (loopback addresses), netns (a network namespace each on a CNI bridge; root) or container (Docker), or kubernetes (a cluster from KUBECONFIG; a topology's sites onto nodes)")
	addKubeFlags(cmd.Flags(), &f.kube, true)
	return cmd
}

// labPlan is what lab up starts.
type labPlan struct {
	backend    string
	cni        []byte
	tenant     *tenant.Tenant
	devices    []*device.Profile
	links      map[string]linkemu.Impairments // per device name
	connectors []topology.Node
}

func planLab(f labUpFlags, args []string) (labPlan, error) {
	p := labPlan{backend: f.backend, links: map[string]linkemu.Impairments{}}
	tenantPath := f.tenant
	if len(args) == 1 {
		top, err := topology.Load(args[0])
		if err != nil {
			return p, err
		}
		if tenantPath == "" {
			tenantPath = top.TenantPath()
		}
		if p.cni, err = top.CNIConfig(); err != nil {
			return p, err
		}
		for _, n := range top.Nodes {
			if n.Link.Impaired() && f.backend != lab.BackendNetns && !f.ignoreLinks {
				return p, fmt.Errorf("%s: node %q has an impaired link, which needs --backend netns; or rerun with --ignore-links to run it unimpaired", args[0], n.Name)
			}
			if n.Link.Impaired() && n.Role != topology.RoleAgent && !f.ignoreLinks {
				return p, fmt.Errorf("%s: node %q: link impairments are applied to agents' devices only in this build; rerun with --ignore-links", args[0], n.Name)
			}
			switch n.Role {
			case topology.RoleAgent:
				p.devices = append(p.devices, n.Profile)
				if !f.ignoreLinks {
					p.links[n.Name] = n.Link.Impairments()
				}
			case topology.RoleConnector:
				p.connectors = append(p.connectors, n)
			}
		}
	}
	if tenantPath == "" {
		return p, errors.New("lab up: give a topology file or --tenant")
	}
	t, _, err := tenant.Load(tenantPath)
	if err != nil {
		return p, err
	}
	p.tenant = t
	for _, path := range f.devices {
		d, err := device.Load(path)
		if err != nil {
			return p, err
		}
		p.devices = append(p.devices, d)
	}
	return p, nil
}

func labUp(cmd *cobra.Command, plan labPlan) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	pol := plan.tenant.Policy()
	l, err := lab.New(ctx, lab.Spec{Command: []string{exe, "node"}, Backend: plan.backend, CNIConfig: plan.cni,
		Tenants: []lab.Tenant{{ID: pol.Tenant, Policy: pol}}})
	if err != nil {
		return failed(err)
	}
	defer l.Close()
	for _, c := range plan.connectors {
		apps := make([]lab.App, len(c.Apps))
		for i, a := range c.Apps {
			apps[i] = lab.App{FQDN: a.FQDN, Services: a.Services}
		}
		if err := l.AddAppConnector(ctx, pol.Tenant, c.Name, c.ServerGroups, apps); err != nil {
			return failed(err)
		}
	}
	for _, p := range plan.devices {
		if _, err := l.AddDeviceWith(ctx, pol.Tenant, p, lab.DeviceOptions{Link: plan.links[p.Name]}); err != nil {
			return failed(err)
		}
	}
	printLab(cmd.OutOrStdout(), l, plan.devices)
	<-ctx.Done()
	fmt.Fprintln(cmd.OutOrStdout(), "stopping lab", l.ID)
	return nil
}

func printLab(w io.Writer, l *lab.Lab, profiles []*device.Profile) {
	fmt.Fprintf(w, "lab %s running (run directory %s); Ctrl-C stops it\n\n", l.ID, l.Dir)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tFQDN\tINTERFACE IP\tSOCKS5 (source side)\tSTATUS API\tRUN ON IT WITH")
	for _, p := range profiles {
		d, _ := l.Device(p.Name)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\thttp://%s/status\t%s\n", p.Name, p.ReportedFQDN(), d.InterfaceIP, d.SOCKSAddr(), d.StatusAddr(), orDash(d.Shell()))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nbroker admin API: curl -H 'Authorization: Bearer %s' http://%s/api/v1/userStatus (and /api/v1/userActivity)\n", l.Admin().Token, l.Admin().Addr)
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
	return &cobra.Command{
		Use:   "status",
		Short: "List the labs on this machine, live or left by crashed runs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
named explicitly here). The run's node processes (whose command line names
its directory) are killed, and so is anything still running inside the
run's network namespaces when they are removed.`,
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
			errs = append(errs, lab.Sweep(r))
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
