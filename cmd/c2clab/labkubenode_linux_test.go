package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/kube"
	"github.com/c2clab/c2clab/sim/kube/kubenode"
	"github.com/c2clab/c2clab/sim/kube/kubetest"
	"github.com/c2clab/c2clab/sim/lab"
)

// TestLabUpKubernetesWANLabOnARealKubelet runs the documented command,
// lab up --backend kubernetes topologies/two-sites-wan.yaml, against the
// one-node data plane (kubenode: a real kubelet on containerd), in the
// suite's Pod layout: lab status lists the run, a connection is relayed
// from the admin's agent to branch-linux's echo service through the
// broker's Pod and both impaired links (the emulator in each device's
// Pod), and Ctrl-C leaves no namespace and no container.
//
// The links' delays are the check that the emulators are in the path:
// an echo's round trip crosses the admin's link (5 ms one way) and
// branch-linux's (20 ms ± 2 ms) twice each, so it cannot be shorter than
// 46 ms however idle the machine; unimpaired on this node it is about a
// millisecond. A lower bound only: a loaded machine makes it longer.
func TestLabUpKubernetesWANLabOnARealKubelet(t *testing.T) {
	env := kubetest.Start(t, kubetest.Options{Controllers: true, Scheduler: true})
	node := kubenode.Start(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ref, err := node.ImportC2clab(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u := startLabUp(ctx, t, node.Logs, "--backend", "kubernetes", "--kubeconfig", env.Kubeconfig,
		"--image", ref, "--pull-policy", "Never", "../../topologies/two-sites-wan.yaml")
	c, err := kube.FromConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := c.Runs(ctx)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs on the cluster while up: %v, %v", runs, err)
	}
	id := runs[0].ID
	if status := runRootOK(t, "lab", "status"); !regexp.MustCompile(`(?m)^` + id + `\s+live`).MatchString(status) {
		t.Errorf("lab status does not list %s as live:\n%s", id, status)
	}
	socks := tableColumn(t, u.out.String(), "desktop-ADMIN-AC.example.com", 3)
	rtts, err := echoRTTs(ctx, socks, "desktop-LNX14-AC.example.com", 7007, 5)
	if err != nil {
		t.Fatalf("%v\nlab up printed:\n%s\nthe Pods' logs:\n%s", err, u.out, node.Logs())
	}
	t.Logf("admin to branch-linux through the relay, round trips: %v", rtts)
	if min := slices.Min(rtts); min < 46*time.Millisecond {
		t.Errorf("shortest round trip %v; the links' delays make it at least 46 ms: an emulator is not in the path", min)
	}
	if err := u.stop(); err != nil {
		t.Fatalf("lab up: %v\n%s", err, u.out)
	}
	if runs, err := c.Runs(ctx); err != nil || len(runs) != 0 {
		t.Errorf("runs on the cluster after lab up ended: %v, %v", runs, err)
	}
	if err := node.WaitNoContainers(ctx, time.Minute); err != nil {
		t.Errorf("after lab up ended: %v", err)
	}
	if status := runRootOK(t, "lab", "status"); strings.Contains(status, id) {
		t.Errorf("lab status still lists %s after lab up ended:\n%s", id, status)
	}
}

// runRootOK runs the c2clab command args in this process and returns its
// output, failing the test if it fails.
func runRootOK(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	root := newRootCmd()
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		t.Fatalf("c2clab %s: %v\n%s", strings.Join(args, " "), err, &out)
	}
	return out.String()
}

// tableColumn returns column col (from 0) of the row of lab up's table
// whose FQDN is fqdn.
func tableColumn(t *testing.T, table, fqdn string, col int) string {
	t.Helper()
	for _, line := range strings.Split(table, "\n") {
		if f := strings.Fields(line); len(f) > col && f[1] == fqdn {
			return f[col]
		}
	}
	t.Fatalf("lab up's table has no row for %s:\n%s", fqdn, table)
	return ""
}

// echoRTTs sends n lines through one relayed connection, one at a time,
// and returns each line's round trip.
func echoRTTs(ctx context.Context, socks, fqdn string, port uint16, n int) ([]time.Duration, error) {
	if err := kubenode.Echo(ctx, socks, fqdn, port); err != nil { // waits for the relay to be there
		return nil, err
	}
	conn, err := lab.DialSOCKS(ctx, socks, fqdn, port)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	var rtts []time.Duration
	for i := range n {
		msg := []byte(fmt.Sprintf("echo %d through both links\n", i))
		start := time.Now()
		if _, err := conn.Write(msg); err != nil {
			return rtts, err
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(conn, got); err != nil || !bytes.Equal(got, msg) {
			return rtts, fmt.Errorf("echo %d: got %q, %v; want %q", i, got, err, msg)
		}
		rtts = append(rtts, time.Since(start))
	}
	return rtts, nil
}
