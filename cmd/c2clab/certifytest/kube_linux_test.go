package certifytest

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/certify"
	"github.com/c2clab/c2clab/sim/image"
	"github.com/c2clab/c2clab/sim/kube"
	"github.com/c2clab/c2clab/sim/kube/kubenode"
	"github.com/c2clab/c2clab/sim/kube/kubetest"
	"github.com/c2clab/c2clab/sim/lab"
)

// kubeSubset is the part of the connector profile the kubernetes test
// certifies (--requirements): a whole certification is three pairings of
// some 40 scenarios, each with Pods of its own, too long for go test's
// budget. DEV-6's scenario carries an RDP connection through the relay
// (so it is paired with the reference agent both ways), HV-5's does not:
// an agent wrong the same way on both ends fails the first with the
// reference on the other end and passes the second, and CERT-1 with it.
var kubeSubset = []string{"HV-5", "DEV-6"}

// kubeProfileEnv certifies on the whole profile instead of kubeSubset
// (several minutes a certification here; run with -timeout 40m).
const kubeProfileEnv = "C2CLAB_CERTIFY_KUBE_PROFILE"

// TestCertifyAgentImageOnARealKubelet certifies agents shipped as images
// on the one-node data plane (kubenode: a real kubelet on containerd),
// with `certify --backend kubernetes --agent-image`, for the requirements
// of kubeSubset: the reference agent is Certified and named by the image
// ID the kubelet ran, which is the archive's config digest; an agent whose
// key halves are swapped on both ends fails exactly the requirements it
// fails on the container backend, run here on the same subset (and the
// recorded dataPath of TestCertifyFailsExactlyWhatABrokenAgentBreaks
// within it), only in the pairings with the reference (CERT-2). The
// subset's report does not verify as a certification of the profile. No
// run is left on the cluster and no container runs on the node. With
// C2CLAB_CERTIFY_KUBE_PROFILE=1 it certifies on the whole profile, and
// the reference's report must verify.
func TestCertifyAgentImageOnARealKubelet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a kubelet and certifies two agent images on it")
	}
	kubetest.Parallel(t) // beside the local certifications: this one mostly waits for Pods
	env := kubetest.Start(t, kubetest.Options{Controllers: true, Scheduler: true})
	if env.External {
		t.Skip("imports the agent images onto kubenode's containerd; an external cluster's nodes would need them loaded")
	}
	node := kubenode.Start(t, env)
	ctx := t.Context() // each step bounds itself: a whole profile takes a quarter of an hour
	c2clab, err := importC2clab(ctx, node)
	if err != nil {
		t.Fatal(err)
	}
	cli := build(t, "./cmd/c2clab", "c2clab")
	subset, want := kubeSubset, []string(nil)
	if os.Getenv(kubeProfileEnv) == "1" {
		subset = nil
	}
	for _, id := range dataPath {
		if subset == nil || slices.Contains(subset, id) || id == certify.Interop {
			want = append(want, id)
		}
	}
	var only []string // certify's arguments that select the subset
	if subset != nil {
		only = []string{"--requirements", strings.Join(subset, ",")}
	}
	t.Logf("requirements: %v (all of the profile: %v; %s=1 runs them all)", subset, subset == nil, kubeProfileEnv)
	for _, tt := range []struct {
		name, pkg string
		fails     []string
		where     failsWhere
	}{
		{"reference", "./cmd/c2clab-agent", nil, passesAll},
		{"swapped key halves", "./cmd/c2clab/testdata/brokenagents/swapped-key-halves", want, failsOnlyR},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), path.Base(tt.pkg))
			if err := image.BuildAgent(ctx, root, tt.pkg, bin); err != nil {
				t.Fatal(err)
			}
			ref, digest := importAgent(ctx, t, node, bin)
			rep := filepath.Join(t.TempDir(), "report")
			var out bytes.Buffer
			start := time.Now()
			got := runCLI(t, cli, &out, append([]string{"certify", "--backend", "kubernetes", "--kubeconfig", env.Kubeconfig,
				"--image", c2clab, "--pull-policy", "Never", "--agent-image", ref, "--agent-entrypoint", image.Binary,
				"--report", rep, "--seed", "0", "--vendor", "c2clab", "--version", "test"}, only...)...)
			t.Logf("certify on kubernetes took %s", time.Since(start).Round(time.Second))
			defer func() {
				if t.Failed() {
					t.Logf("certify's output:\n%s\nthe node:\n%s", out.String(), node.Logs())
				}
			}()
			wantExit := exitOK
			if tt.fails != nil {
				wantExit = exitFailed
			}
			if got != wantExit {
				t.Fatalf("certify exit %d, want %d", got, wantExit)
			}
			r := readCertification(t, rep)
			checkFailed(t, r, tt.fails)
			checkPairings(t, r, tt.where)
			t.Logf("verdict %s; pairings %+v", r.Verdict, r.Pairings)
			if r.Suite.Backend != lab.BackendKubernetes || r.Connector.Command != ref {
				t.Errorf("report names backend %q and agent %q, want %q and %q", r.Suite.Backend, r.Connector.Command, lab.BackendKubernetes, ref)
			}
			if r.Connector.SHA256 != digest {
				t.Errorf("report names the agent image by %q, want the imported image's ID %q", r.Connector.SHA256, digest)
			}
			if tt.fails == nil && r.Verdict != certify.Certified {
				t.Errorf("verdict %q, want %q: %v", r.Verdict, certify.Certified, r.Denied)
			}
			if tt.fails != nil {
				compareContainer(t, cli, bin, tt.fails, only)
			}
			switch got := runCLI(t, cli, &out, "certify", "verify", filepath.Join(rep, "certification.json")); {
			case subset != nil && got != exitFailed:
				t.Errorf("certify verify of a subset's report: exit %d, want %d (it is no certification of the profile)", got, exitFailed)
			case subset == nil && tt.fails == nil:
				checkVerifies(t, cli, rep)
			}
		})
	}
	t.Run("impaired link", func(t *testing.T) { testImpairedAgentImage(ctx, t, cli, env, node, c2clab) })
	c, err := kube.FromConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if runs, err := c.Runs(ctx); err != nil || len(runs) > 0 {
		t.Errorf("runs left on the cluster: %v %v", runs, err)
	}
	if err := node.WaitStopped(ctx, time.Minute); err != nil {
		t.Error(err)
	}
}

// importC2clab imports the lab's own image, within 5 minutes.
func importC2clab(ctx context.Context, node *kubenode.Node) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	return node.ImportC2clab(ctx)
}

// importAgent writes bin's image archive as c2clab image save does,
// imports it onto the node and returns its reference and its ID, the
// digest of its config, which is what the kubelet reports as imageID.
func importAgent(ctx context.Context, t *testing.T, node *kubenode.Node, bin string) (ref, digest string) {
	t.Helper()
	ref = "c2clab.local/agent-" + strings.ToLower(filepath.Base(bin)) + ":test-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	archive := filepath.Join(t.TempDir(), "agent.tar")
	f, err := os.Create(archive)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(image.Archive(f, bin, ref), f.Close()); err != nil {
		t.Fatal(err)
	}
	if err := node.Import(ctx, archive); err != nil {
		t.Fatal(err)
	}
	return ref, archiveConfigDigest(t, archive)
}

// archiveConfigDigest reads the config's file name from a docker save
// archive's manifest.json: HEX.json, HEX being the config's SHA-256.
func archiveConfigDigest(t *testing.T, archive string) string {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			t.Fatal("archive has no manifest.json")
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name != "manifest.json" {
			continue
		}
		var m []struct{ Config string }
		if err := json.NewDecoder(tr).Decode(&m); err != nil || len(m) != 1 {
			t.Fatalf("manifest.json: %v %+v", err, m)
		}
		return strings.TrimSuffix(m[0].Config, ".json")
	}
}

// compareContainer certifies bin as an image on the container backend,
// on the same requirements (only: certify's arguments that select them),
// and checks it fails exactly fails there too. Without a Docker engine it
// says so and compares nothing more.
func compareContainer(t *testing.T, cli, bin string, fails, only []string) {
	t.Helper()
	ctx := t.Context()
	prov, err := image.Connect(ctx)
	if err != nil {
		t.Logf("no container-backend comparison: %v", err)
		return
	}
	id, err := lab.NewRunID()
	if err != nil {
		t.Fatal(err)
	}
	tag := "c2clab-agent:" + id
	if err := image.Build(ctx, prov, bin, tag, id); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { image.Remove(context.Background(), prov.Client(), id) })
	rep := filepath.Join(t.TempDir(), "report")
	var out bytes.Buffer
	start := time.Now()
	got := runCLI(t, cli, &out, append([]string{"certify", "--agent-image", tag, "--report", rep, "--seed", "0"}, only...)...)
	t.Logf("certify on the container backend took %s", time.Since(start).Round(time.Second))
	if got != exitFailed {
		t.Errorf("certify on the container backend: exit %d, want %d\n%s", got, exitFailed, out.String())
	}
	t.Run("container backend", func(t *testing.T) { checkFailed(t, readCertification(t, rep), fails) })
}

// testImpairedAgentImage runs the link-delay scenario (20 ms each way on
// the device's link, the emulator spliced into its Pod) with every agent
// from the reference agent's image (c2clab test --agent-image): the
// vendor's agent must start behind the emulator, in the namespace the
// splice moved the Pod's address into, or it reaches nothing, and the
// scenario measures the 40 ms it adds to the round trip.
func testImpairedAgentImage(ctx context.Context, t *testing.T, cli string, env *kubetest.Env, node *kubenode.Node, c2clab string) {
	bin := filepath.Join(t.TempDir(), "c2clab-agent")
	if err := image.BuildAgent(ctx, root, "./cmd/c2clab-agent", bin); err != nil {
		t.Fatal(err)
	}
	ref, _ := importAgent(ctx, t, node, bin)
	var out bytes.Buffer
	got := runCLI(t, cli, &out, "test", "--backend", "kubernetes", "--kubeconfig", env.Kubeconfig, "--image", c2clab, "--pull-policy", "Never",
		"--agent-image", ref, "--agent-entrypoint", image.Binary, "--tags", "@link-delay", "--report", t.TempDir(), "--seed", "0")
	if got != exitOK || !strings.Contains(out.String(), "1 passed, 0 failed, 0 skipped") {
		t.Errorf("test --agent-image on an impaired link: exit %d, want %d and the scenario passed\n%s", got, exitOK, out.String())
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, "round trip") || strings.Contains(line, "agent under test") {
			t.Log(strings.TrimSpace(line))
		}
	}
}
