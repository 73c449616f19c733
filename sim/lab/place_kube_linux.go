package lab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/c2clab/c2clab/sim/kube/kubenet"
	"github.com/c2clab/c2clab/sim/netlab"
	"github.com/c2clab/c2clab/sim/pod"
)

// machineSecret is the run's Secret holding the machine processes' config.
const machineSecret = "c2clab-machine"

// kubePlacer places every machine as a Pod in the run's namespace.
type kubePlacer struct {
	runID string
	spec  KubeSpec
	core  corev1client.CoreV1Interface
	dyn   dynamic.Interface
	token string
	// lan is the run's lab network; nil: the Pod network alone.
	lan *kubeLAN
	// alias: the cluster has no DNS, so Pods get the broker's name as a
	// host alias (kube_net_linux.go).
	alias bool
	// life bounds every node's output stream; cancelled by close.
	life   context.Context
	cancel context.CancelFunc

	// agent is the vendor's agent image, if any (kube_agent_linux.go);
	// set before the first place.
	agent kubeAgent

	mu       sync.Mutex              // guards seq, machines, brokerIP
	seq      int                     // Pods made so far, to name each uniquely
	machines map[string]*kubeMachine // by Pod name
	brokerIP netip.Addr              // the broker Pod's, once exposed
}

func newKubePlacer(ctx context.Context, runID string, spec KubeSpec, cni []byte) (placer, error) {
	if spec.Image == "" {
		return nil, errors.New("lab: kubernetes backend: no image (KubeSpec.Image; c2clab image save writes one for the cluster's nodes)")
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = spec.Kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: spec.Context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("%w (KUBECONFIG, ~/.kube/config or in-cluster; --kubeconfig names one): %w", ErrNoCluster, err)
	}
	core, err := corev1client.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("lab: kubernetes backend: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("lab: kubernetes backend: %w", err)
	}
	disco, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("lab: kubernetes backend: %w", err)
	}
	lan, err := kubeNetwork(cni, spec.PodNetwork, func() (bool, error) { return kubenet.HasNADs(disco) })
	if err != nil {
		return nil, err
	}
	tok := make([]byte, 16)
	rand.Read(tok)
	life, cancel := context.WithCancel(context.Background())
	p := &kubePlacer{runID: runID, spec: spec, core: core, dyn: dyn, lan: lan, token: hex.EncodeToString(tok), life: life, cancel: cancel, machines: map[string]*kubeMachine{}}
	if err := p.hasClusterDNS(ctx); err != nil {
		return nil, err
	}
	if err := p.createRun(ctx); err != nil {
		return nil, errors.Join(err, p.close())
	}
	return p, nil
}

// createRun makes the run's namespace, its ServiceAccount (no token
// mounted: nodes never call the apiserver) and the machines' Secret.
func (p *kubePlacer) createRun(ctx context.Context) error {
	host, _ := os.Hostname()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: p.runID, Labels: p.labels(),
		Annotations: map[string]string{kubeAnnotationOwner: host + "/" + strconv.Itoa(os.Getpid())}}}
	if _, err := p.core.Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("lab: kubernetes backend: namespace %q: %w", p.runID, err)
	}
	no := false
	sa := &corev1.ServiceAccount{ObjectMeta: p.meta("c2clab"), AutomountServiceAccountToken: &no}
	if _, err := p.core.ServiceAccounts(p.runID).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("lab: kubernetes backend: service account: %w", err)
	}
	cfg, _ := json.Marshal(pod.Config{Token: p.token})
	sec := &corev1.Secret{ObjectMeta: p.meta(machineSecret), Data: map[string][]byte{"machine.json": cfg}}
	if _, err := p.core.Secrets(p.runID).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("lab: kubernetes backend: secret: %w", err)
	}
	if p.lan != nil {
		return p.createNAD(ctx)
	}
	return nil
}

func (p *kubePlacer) labels() map[string]string {
	return map[string]string{kubeLabelRun: p.runID, "app.kubernetes.io/managed-by": "c2clab"}
}

func (p *kubePlacer) meta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: p.runID, Labels: p.labels()}
}

// place makes the machine's Pod and waits until its machine process
// answers on the Pod's address. The machine's address is its net1
// address on the lab network, or the Pod's on the Pod network alone.
func (p *kubePlacer) place(ctx context.Context, name string) (host, error) {
	return p.placePod(ctx, name, false)
}

// placePod is place, the Pod with the vendor's agent container when
// agent is set (kube_agent_linux.go).
func (p *kubePlacer) placePod(ctx context.Context, name string, agent bool) (host, error) {
	p.mu.Lock()
	p.seq++
	seq := p.seq
	p.mu.Unlock()
	var addr netip.Addr
	if p.lan != nil {
		var err error
		if addr, err = p.lan.next(); err != nil {
			return host{}, err
		}
	}
	// A device removed and added again keeps its name; its Pod cannot.
	spec := p.pod(name, podName(name, seq))
	if err := p.attach(spec, addr); err != nil {
		return host{}, err
	}
	if agent {
		p.withAgentContainer(spec)
	}
	ctx, cancel := context.WithTimeout(ctx, kubeTimeout)
	defer cancel()
	if _, err := p.core.Pods(p.runID).Create(ctx, spec, metav1.CreateOptions{}); err != nil {
		return host{}, fmt.Errorf("lab: kubernetes backend: pod %q: %w", spec.Name, err)
	}
	if agent {
		if err := p.agentRan(ctx, spec.Name); err != nil {
			return host{}, err
		}
	}
	running, podIP, err := p.podAddr(ctx, spec.Name)
	if err != nil {
		return host{}, err
	}
	if p.lan == nil {
		addr = podIP
	} else if err := onLAN(running, addr); err != nil {
		return host{}, err
	}
	m := &kubeMachine{placer: p, pod: spec.Name, podIP: podIP, node: running.Spec.NodeName, agent: agent, client: pod.Client{Base: "http://" + netip.AddrPortFrom(podIP, machinePort()).String(), Token: p.token}}
	for {
		hctx, hcancel := context.WithTimeout(ctx, 2*time.Second)
		err := m.client.Healthy(hctx)
		hcancel()
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return host{}, fmt.Errorf("lab: kubernetes backend: pod %q: its machine process does not answer: %w", spec.Name, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	p.mu.Lock()
	p.machines[spec.Name] = m
	p.mu.Unlock()
	return host{name: spec.Name, addr: addr, start: m.start}, nil
}

func machinePort() uint16 {
	n, _ := strconv.Atoi(pod.DefaultPort)
	return uint16(n)
}

// podName makes a machine's name and the placer's sequence number a DNS
// label, as Pod names must be: NAME-SEQ, NAME lower case and cut.
func podName(name string, seq int) string {
	s := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, name)
	s = strings.Trim(s, "-")
	suffix := "-" + strconv.Itoa(seq)
	if max := validation.DNS1123LabelMaxLength - len(suffix); len(s) > max {
		s = strings.TrimRight(s[:max], "-")
	}
	return s + suffix
}

// pod is the machine's Pod, named name: one container running the machine process
// (c2clab node machine), which starts the nodes the lab asks for. /tmp is
// an emptyDir, since the image is FROM scratch and the run directory's
// path is under TMPDIR. NET_ADMIN, NET_RAW and SYS_ADMIN let the machine
// process splice the link emulator into the Pod's link (a new network
// namespace needs SYS_ADMIN); every Pod gets them, since the lab places a
// machine before it knows whether its link is impaired. The machine's
// site, if it has one, picks its node.
func (p *kubePlacer) pod(machine, name string) *corev1.Pod {
	no, grace := false, int64(1)
	meta := p.meta(name)
	meta.Labels[kubeLabelMachine] = name
	return &corev1.Pod{
		ObjectMeta: meta,
		Spec: corev1.PodSpec{
			RestartPolicy:                 corev1.RestartPolicyNever,
			ServiceAccountName:            "c2clab",
			AutomountServiceAccountToken:  &no,
			TerminationGracePeriodSeconds: &grace,
			Hostname:                      name,
			NodeSelector:                  p.spec.NodeSelectors[machine],
			Containers: []corev1.Container{{
				Name:            "machine",
				Image:           p.spec.Image,
				ImagePullPolicy: corev1.PullPolicy(p.spec.PullPolicy),
				Command:         []string{"/c2clab", "node", "machine", "--config", "/etc/c2clab-machine/machine.json", "--ready-file", "/tmp/machine.ready"},
				Env:             []corev1.EnvVar{{Name: "TMPDIR", Value: "/tmp"}},
				SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN", "NET_RAW", "SYS_ADMIN"}}},
				VolumeMounts: []corev1.VolumeMount{
					{Name: "machine", MountPath: "/etc/c2clab-machine", ReadOnly: true},
					{Name: "tmp", MountPath: "/tmp"},
				},
			}},
			Volumes: []corev1.Volume{
				{Name: "machine", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: machineSecret}}},
				{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			},
		},
	}
}

// podAddr waits until the Pod runs and has an address, and returns it
// as it then is.
func (p *kubePlacer) podAddr(ctx context.Context, name string) (*corev1.Pod, netip.Addr, error) {
	for {
		pod, err := p.core.Pods(p.runID).Get(ctx, name, metav1.GetOptions{})
		if err == nil && pod.Status.Phase == corev1.PodRunning && pod.Status.PodIP != "" {
			a, err := netip.ParseAddr(pod.Status.PodIP)
			return pod, a, err
		}
		if err == nil && (pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded) {
			return nil, netip.Addr{}, fmt.Errorf("lab: kubernetes backend: pod %q ended before it ran: %s %s", name, pod.Status.Reason, pod.Status.Message)
		}
		select {
		case <-ctx.Done():
			why := "not found"
			if err == nil {
				why = podWaiting(pod)
			}
			return nil, netip.Addr{}, fmt.Errorf("lab: kubernetes backend: pod %q not running (%s): %w", name, why, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// podWaiting says where a Pod is stuck, for the error that gives up on it.
func podWaiting(pod *corev1.Pod) string {
	s := "phase " + string(pod.Status.Phase)
	for _, c := range pod.Status.Conditions {
		if c.Status != corev1.ConditionTrue && c.Message != "" {
			s += "; " + string(c.Type) + ": " + c.Message
		}
	}
	for _, c := range pod.Status.ContainerStatuses {
		if c.State.Waiting != nil {
			s += "; " + c.Name + ": " + c.State.Waiting.Reason + " " + c.State.Waiting.Message
		}
	}
	return s
}

// impair has the machine process splice the lab's emulator into its Pod's
// link (sim/pod: eth0 to the cluster, the Pod's address moved behind a
// veth pair into a namespace of the nodes) and run it itself, for as long
// as the Pod lives; start, which runs the emulator as a node on the
// runner's side, has nothing to do here.
func (p *kubePlacer) impair(ctx context.Context, h host, imp netlab.Impairment, _ netlab.EmuStarter) error {
	p.mu.Lock()
	m := p.machines[h.name]
	p.mu.Unlock()
	if m == nil {
		return fmt.Errorf("lab: kubernetes backend: impair %q: no such machine", h.name)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req := pod.ImpairRequest{ToPod: imp.ToHost, FromPod: imp.FromHost, Seed: imp.Seed, PerPacket: imp.PerPacket}
	if err := m.client.Impair(ctx, req); err != nil {
		return fmt.Errorf("lab: kubernetes backend: impair pod %q: %w", h.name, err)
	}
	return nil
}

// close deletes the run's namespace and its Pods, and waits until no Pod
// is left (the kubelet confirmed every container stopped), then, unless
// KubeSpec.LeaveNamespaceDeleting, until the namespace is gone. The Pods
// are deleted here rather than left to the namespace controller, which
// holds every deleted namespace 5 s before it deletes what is in it
// (namespaceDeletionGracePeriod, k8s.io/kubernetes
// pkg/controller/namespace/namespace_controller.go): that way the machines
// stop at once. A namespace that never appeared is nothing to do.
func (p *kubePlacer) close() error {
	p.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), kubeTimeout)
	defer cancel()
	bg := metav1.DeletePropagationBackground
	err := p.core.Namespaces().Delete(ctx, p.runID, metav1.DeleteOptions{PropagationPolicy: &bg})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("lab: kubernetes backend: delete namespace %q: %w", p.runID, err)
	}
	if err := p.core.Pods(p.runID).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("lab: kubernetes backend: delete the pods of %q: %w", p.runID, err)
	}
	if err := p.waitGone(ctx, "its pods", func() (bool, error) {
		l, err := p.core.Pods(p.runID).List(ctx, metav1.ListOptions{})
		return err == nil && len(l.Items) == 0, err
	}); err != nil || p.spec.LeaveNamespaceDeleting {
		return err
	}
	return p.waitGone(ctx, "the namespace", func() (bool, error) {
		_, err := p.core.Namespaces().Get(ctx, p.runID, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
}

// waitGone polls gone until it reports true, the context ends, or the
// cluster cannot be asked (once the context ends, the last error says why).
func (p *kubePlacer) waitGone(ctx context.Context, what string, gone func() (bool, error)) error {
	for {
		ok, err := gone()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lab: kubernetes backend: %s of %q still there: %w", what, p.runID, errors.Join(ctx.Err(), err))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// kubeMachine is one placed machine: its Pod and its machine process.
type kubeMachine struct {
	placer *kubePlacer
	pod    string
	podIP  netip.Addr // eth0's, on the cluster's network: the machine API's
	node   string     // the cluster's node it was scheduled onto
	client pod.Client
	agent  bool // the Pod has the vendor's agent container
}
