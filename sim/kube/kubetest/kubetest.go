// Package kubetest starts a real Kubernetes control plane on loopback for
// tests, envtest style: etcd and kube-apiserver on free ports, and on
// request the controller manager (namespace deletion), the scheduler, and
// kwok for fake nodes on which Pods reach Running (no packets flow there).
// The binaries are the pinned ones ci/kube-build builds from the module
// proxy; every process is stopped and every file removed at the test's end.
package kubetest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Options say which parts beyond etcd and the apiserver to run.
type Options struct {
	// Controllers runs kube-controller-manager's namespace controller,
	// which empties and removes a deleted namespace.
	Controllers bool
	// Scheduler runs kube-scheduler, which binds Pods to nodes.
	Scheduler bool
	// KWOK runs kwok, which makes Nodes carrying KWOKAnnotation Ready and
	// moves their Pods to Running.
	KWOK bool
}

// KWOKAnnotation marks the Nodes kwok manages.
const KWOKAnnotation = "kwok.x-k8s.io/node"

// Env is a running control plane.
type Env struct {
	// Config reaches the apiserver as cluster-admin.
	Config *rest.Config
	// Kubeconfig is a kubeconfig file for the same, for commands.
	Kubeconfig string
	// External is set when the tests run against an existing cluster
	// (C2CLAB_KUBETEST_KUBECONFIG, as ci/kube does): nothing was started,
	// and there are no kwok nodes.
	External bool
	dir      string
}

// ExternalVar names a kubeconfig of an existing cluster to test against
// instead of starting a control plane here (ci/kube sets it).
const ExternalVar = "C2CLAB_KUBETEST_KUBECONFIG"

// ErrNoAssets is why a test cannot start the control plane.
var ErrNoAssets = errors.New("kubetest: the pinned control-plane binaries are not built")

// Assets returns the directory holding the binaries: C2CLAB_KUBE_ASSETS,
// else the one ci/kube-build builds into by default.
func Assets() (string, error) {
	if d := os.Getenv("C2CLAB_KUBE_ASSETS"); d != "" {
		return d, checkAssets(d)
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "..", "ci", "kube-build")
	out, err := exec.Command("bash", script, "--dir").Output()
	if err != nil {
		return "", fmt.Errorf("%w: %s --dir: %w", ErrNoAssets, script, err)
	}
	d := strings.TrimSpace(string(out))
	return d, checkAssets(d)
}

var binaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}

func checkAssets(d string) error {
	for _, b := range binaries {
		if _, err := os.Stat(filepath.Join(d, b)); err != nil {
			return fmt.Errorf("%w: %s has no %s (run ci/kube-build)", ErrNoAssets, d, b)
		}
	}
	return nil
}

// Parallel runs t beside the package's other parallel tests when each
// gets a control plane of its own (Start), so their waits for it and for
// the Pods overlap. On an existing cluster (ExternalVar) the tests share
// it, and some count or remove its runs, so they run one at a time there.
func Parallel(t *testing.T) {
	if os.Getenv(ExternalVar) == "" {
		t.Parallel()
	}
}

// Start starts the control plane, or skips the test with the reason when
// the binaries are missing; under CI=true a missing binary fails the test
// instead, since .ci/run builds them first.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	if kc := os.Getenv(ExternalVar); kc != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", kc)
		if err != nil {
			t.Fatalf("kubetest: %s=%s: %v", ExternalVar, kc, err)
		}
		return &Env{Config: cfg, Kubeconfig: kc, External: true}
	}
	assets, err := Assets()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v; .ci/run builds them with ci/kube-build before go test, and in CI this test must not skip", err)
		}
		t.Skipf("%v: run ci/kube-build once (about ten minutes cold) to run this test", err)
	}
	dir := t.TempDir()
	e := &Env{dir: dir}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	etcdURL := e.startEtcd(t, assets)
	e.startAPIServer(ctx, t, assets, etcdURL)
	if opts.Controllers {
		e.run(t, assets, "kube-controller-manager", "--kubeconfig", e.Kubeconfig, "--leader-elect=false",
			"--controllers=namespace-controller", "--secure-port=0")
	}
	if opts.Scheduler {
		e.startScheduler(t, assets)
	}
	if opts.KWOK {
		e.run(t, assets, "kwok", "--kubeconfig", e.Kubeconfig, "--config", filepath.Join(assets, "kwok-stages.yaml"),
			"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector="+KWOKAnnotation+"=fake",
			"--server-address=127.0.0.1:"+strconv.Itoa(freePort(t)), "--node-ip=127.0.0.1")
	}
	return e
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("kubetest: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// run starts a control-plane process, logging to a file that the test
// prints if it fails, and stops it (SIGTERM, then SIGKILL) at cleanup.
func (e *Env) run(t testing.TB, assets, name string, args ...string) {
	t.Helper()
	logPath := filepath.Join(e.dir, name+".log")
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	cmd := exec.Command(filepath.Join(assets, name), args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = procAttr()
	if err := StartProcess(cmd); err != nil {
		log.Close()
		t.Fatalf("kubetest: start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); log.Close(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("--- %s log (last lines):\n%s", name, Tail(logPath, 30))
		}
	})
}

// Tail is the last n lines of the log at path (nothing if it cannot be
// read): what a failed test shows of a process it started.
func Tail(path string, n int) string {
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (e *Env) startEtcd(t testing.TB, assets string) string {
	client := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	peer := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	e.run(t, assets, "etcd", "--data-dir", filepath.Join(e.dir, "etcd"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "default="+peer, "--unsafe-no-fsync")
	return client
}

func (e *Env) startAPIServer(ctx context.Context, t testing.TB, assets, etcdURL string) {
	t.Helper()
	var tok [16]byte
	rand.Read(tok[:])
	token := hex.EncodeToString(tok[:])
	tokens := filepath.Join(e.dir, "tokens.csv")
	saKey := filepath.Join(e.dir, "sa.key")
	saPub := filepath.Join(e.dir, "sa.pub")
	if err := errors.Join(os.WriteFile(tokens, []byte(token+",admin,admin,system:masters\n"), 0o600), writeSAKeys(saKey, saPub)); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	port := freePort(t)
	e.run(t, assets, "kube-apiserver", "--etcd-servers", etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port", strconv.Itoa(port),
		"--cert-dir", filepath.Join(e.dir, "apiserver"), "--token-auth-file", tokens, "--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc", "--service-account-key-file", saPub,
		"--service-account-signing-key-file", saKey,
		// Allocated in etcd only: no packet goes to a Service address here.
		"--service-cluster-ip-range=100.64.0.0/24")
	host := fmt.Sprintf("https://127.0.0.1:%d", port)
	// The apiserver makes its own serving certificate at start; the test
	// trusts whatever answers on its loopback port.
	e.Config = &rest.Config{Host: host, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	e.Kubeconfig = filepath.Join(e.dir, "kubeconfig")
	if err := os.WriteFile(e.Kubeconfig, kubeconfig(host, token), 0o600); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	if err := waitReady(ctx, host, token); err != nil {
		t.Fatalf("kubetest: kube-apiserver on %s: %v", host, err)
	}
}

func kubeconfig(host, token string) []byte {
	return []byte(`apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: "` + host + `", insecure-skip-tls-verify: true}}]
users: [{name: admin, user: {token: "` + token + `"}}]
contexts: [{name: test, context: {cluster: test, user: admin}}]
current-context: test
`)
}

func writeSAKeys(keyPath, pubPath string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	return errors.Join(os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600),
		os.WriteFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600))
}

// waitReady polls /readyz until the apiserver says ok.
func waitReady(ctx context.Context, host, token string) error {
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, host+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Do(req)
		if err == nil {
			var body bytes.Buffer
			body.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("readyz: %s: %s", resp.Status, strings.TrimSpace(body.String()))
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w", errors.Join(last, ctx.Err()))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// startScheduler runs kube-scheduler with a client fast enough for a
// thousand Pods (its default is 50 requests a second).
func (e *Env) startScheduler(t testing.TB, assets string) {
	cfg := filepath.Join(e.dir, "scheduler.yaml")
	data := `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection: {kubeconfig: "` + e.Kubeconfig + `", qps: 500, burst: 1000}
leaderElection: {leaderElect: false}
`
	if err := os.WriteFile(cfg, []byte(data), 0o600); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	e.run(t, assets, "kube-scheduler", "--config", cfg, "--secure-port=0")
}
