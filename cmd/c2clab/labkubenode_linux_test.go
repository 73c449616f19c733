package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
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
// lab up --backend kubernetes topologies/two-sites-wan.yaml, detached as a
// script would, against the one-node data plane (kubenode: a real kubelet
// on containerd), in the suite's Pod layout: lab status lists the run, a
// connection is relayed from the admin's agent to branch-linux's echo
// service through the broker's Pod and both impaired links (the emulator
// in each device's Pod), and lab down RUN leaves no namespace and no
// container.
//
// The links' delays are the check that the emulators are in the path:
// an echo's round trip crosses the admin's link (5 ms one way) and
// branch-linux's (20 ms ± 2 ms) twice each, so it cannot be shorter than
// 46 ms however idle the machine; unimpaired on this node it is about a
// tenth of a millisecond. A lower bound only: a loaded machine makes it
// longer.
func TestLabUpKubernetesWANLabOnARealKubelet(t *testing.T) {
	env := kubetest.Start(t, kubetest.Options{Controllers: true, Scheduler: true})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	image, pull, logs, node := wanLabCluster(ctx, t, env)
	tmp := t.TempDir()
	out, err := cli(t, tmp, "lab", "up", "--detach", "--json", "--backend", "kubernetes", "--kubeconfig", env.Kubeconfig,
		"--image", image, "--pull-policy", pull, "../../topologies/two-sites-wan.yaml")
	if err != nil {
		t.Fatalf("lab up --detach: %v\n%s\n%s", err, out, logs())
	}
	var table labTable
	if err := json.Unmarshal([]byte(out), &table); err != nil {
		t.Fatalf("lab up --detach --json: %v\n%s", err, out)
	}
	id := table.Run
	t.Cleanup(func() { cli(t, tmp, "lab", "down", id) }) // a no-op once the test's lab down has run
	c, err := kube.FromConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	if !hasRun(ctx, t, c, id) {
		t.Fatalf("run %s is not on the cluster while up", id)
	}
	if status, err := cli(t, tmp, "lab", "status"); err != nil || !regexp.MustCompile(`(?m)^`+id+`\s+live, detached`).MatchString(status) {
		t.Errorf("lab status does not list %s as live and detached: %v\n%s", id, err, status)
	}
	rtts, err := echoRTTs(ctx, socksOf(t, table, "desktop-ADMIN-AC.example.com"), "desktop-LNX14-AC.example.com", 7007, 5)
	if err != nil {
		t.Fatalf("%v\nlab up printed:\n%s\nthe Pods' logs:\n%s", err, out, logs())
	}
	t.Logf("admin to branch-linux through the relay, round trips: %v", rtts)
	if min := slices.Min(rtts); min < 46*time.Millisecond {
		t.Errorf("shortest round trip %v; the links' delays make it at least 46 ms: an emulator is not in the path", min)
	}
	start := time.Now()
	if out, err := cli(t, tmp, "lab", "down", id); err != nil {
		t.Fatalf("lab down %s: %v\n%s", id, err, out)
	}
	t.Logf("lab down %s took %v", id, time.Since(start).Round(time.Millisecond))
	if hasRun(ctx, t, c, id) {
		t.Errorf("run %s is still on the cluster after lab down", id)
	}
	if node != nil {
		if err := node.WaitStopped(ctx, time.Minute); err != nil {
			t.Errorf("after lab down: %v", err)
		}
	}
	if status, _ := cli(t, tmp, "lab", "status"); strings.Contains(status, id) {
		t.Errorf("lab status still lists %s after lab down:\n%s", id, status)
	}
}

// socksOf is the SOCKS5 address of the device fqdn in lab up's table.
func socksOf(t *testing.T, table labTable, fqdn string) string {
	t.Helper()
	for _, d := range table.Devices {
		if d.FQDN == fqdn {
			return d.SOCKS
		}
	}
	t.Fatalf("lab up's table has no device %s: %+v", fqdn, table.Devices)
	return ""
}

// wanLabCluster returns the image the lab's Pods run, its pull policy and
// what a failure shows of the cluster: here the one-node data plane, with
// the image imported onto it (its node is returned, to count its
// containers); on an external cluster (ci/kube) C2CLAB_KUBETEST_IMAGE,
// already on its nodes.
func wanLabCluster(ctx context.Context, t *testing.T, env *kubetest.Env) (image, pull string, logs func() string, node *kubenode.Node) {
	t.Helper()
	if env.External {
		image = os.Getenv("C2CLAB_KUBETEST_IMAGE")
		if image == "" {
			t.Skip("an external cluster needs C2CLAB_KUBETEST_IMAGE, the c2clab image loaded onto its nodes (ci/kube does both)")
		}
		return image, "IfNotPresent", noLogs, nil
	}
	node = kubenode.Start(t, env)
	image, err := node.ImportC2clab(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return image, "Never", node.Logs, node // imported; nothing can be pulled here
}

// hasRun reports whether the cluster lists run id.
func hasRun(ctx context.Context, t *testing.T, c *kube.Cluster, id string) bool {
	t.Helper()
	runs, err := c.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(runs, func(r kube.Run) bool { return r.ID == id })
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
