package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c2clab/c2clab/sim/pod"
)

// A vendor's agent image on the kubernetes backend (Spec.AgentImage). A
// device whose agent is under test gets a second container in its Pod,
// "agent", from that image; the machine process starts the agent in that
// container's root file system as one of its own nodes (sim/pod's
// agentroot.go says how and why). What this file adds to the Pod, apart
// from the Pod layout of place_kube_linux.go:
//   - shareProcessNamespace, so the machine process sees the agent
//     container's processes, and through /proc its root;
//   - an init container of the c2clab image that copies c2clab onto an
//     emptyDir (node install), since the vendor's image need not hold
//     anything but its agent;
//   - the agent container, running that copy as node hold, which keeps
//     the container's root alive, with the Pod's /tmp mounted as the
//     machine's is: the run directory's files the agent reads and the
//     ready file it writes are there for both.

// agentSecret holds the install and hold roles' configs: not the machine
// Secret, whose token the vendor's container has no need of.
const agentSecret = "c2clab-agent"

// Mount points in the Pod's containers of the agent's Secret, and the
// directory every file of a node of the vendor's agent must be under.
const (
	agentConfigDir = "/etc/c2clab-agent"
	podTmp         = "/tmp"
)

// ErrNoAgentEntrypoint is returned for Spec.AgentImage on the kubernetes
// backend without KubeSpec.AgentEntrypoint.
var ErrNoAgentEntrypoint = errors.New("lab: kubernetes backend: an agent image needs its entrypoint (KubeSpec.AgentEntrypoint; certify --agent-entrypoint): a cluster does not tell an image's entrypoint; docker image inspect -f '{{json .Config.Entrypoint}}' IMAGE shows it")

// kubeAgent is the run's vendor agent image; the zero value: none.
type kubeAgent struct {
	image string
}

// useAgentImage makes the devices whose agent is under test run it from
// ref, which the cluster's nodes must hold or be able to pull, and makes
// the run's Secret of the install and hold roles.
func (p *kubePlacer) useAgentImage(ctx context.Context, ref string) error {
	if len(p.spec.AgentEntrypoint) == 0 || p.spec.AgentEntrypoint[0] == "" {
		return ErrNoAgentEntrypoint
	}
	install, _ := json.Marshal(pod.InstallConfig{Dir: pod.AgentBinDir})
	hold, _ := json.Marshal(pod.HoldConfig{})
	sec := &corev1.Secret{ObjectMeta: p.meta(agentSecret), Data: map[string][]byte{"install.json": install, "hold.json": hold}}
	if _, err := p.core.Secrets(p.runID).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("lab: kubernetes backend: agent secret: %w", err)
	}
	p.agent.image = ref
	return nil
}

// placeDevice places a device; its Pod has the agent container when its
// agent is the vendor's.
func (p *kubePlacer) placeDevice(ctx context.Context, name string, vendorAgent bool) (host, error) {
	return p.placePod(ctx, name, vendorAgent && p.agent.image != "")
}

// withAgentContainer adds the vendor's agent container, the init
// container that installs c2clab for it, and their volumes to a device's
// Pod.
func (p *kubePlacer) withAgentContainer(pd *corev1.Pod) {
	share := true
	pd.Spec.ShareProcessNamespace = &share
	pull := corev1.PullPolicy(p.spec.PullPolicy)
	cfg := corev1.VolumeMount{Name: "agent-config", MountPath: agentConfigDir, ReadOnly: true}
	bin := corev1.VolumeMount{Name: "agent-bin", MountPath: pod.AgentBinDir}
	pd.Spec.InitContainers = append(pd.Spec.InitContainers, corev1.Container{
		Name: "install", Image: p.spec.Image, ImagePullPolicy: pull,
		Command:      []string{"/c2clab", "node", "install", "--config", agentConfigDir + "/install.json"},
		VolumeMounts: []corev1.VolumeMount{cfg, bin},
	})
	roBin := bin
	roBin.ReadOnly = true
	pd.Spec.Containers = append(pd.Spec.Containers, corev1.Container{
		Name: "agent", Image: p.agent.image, ImagePullPolicy: pull,
		Command:      []string{pod.AgentBinDir + "/c2clab", "node", "hold", "--config", agentConfigDir + "/hold.json", "--ready-file", pod.HoldReady},
		Env:          []corev1.EnvVar{{Name: "TMPDIR", Value: podTmp}},
		VolumeMounts: []corev1.VolumeMount{cfg, roBin, {Name: "tmp", MountPath: podTmp}},
	})
	pd.Spec.Volumes = append(pd.Spec.Volumes,
		corev1.Volume{Name: "agent-config", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: agentSecret}}},
		corev1.Volume{Name: "agent-bin", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
}

// agentRan waits until the Pod's agent container runs and hands its image
// ID (what the kubelet ran) to KubeSpec.OnAgentImage. An image the node
// cannot get fails at once, with the kubelet's reason.
func (p *kubePlacer) agentRan(ctx context.Context, name string) error {
	for {
		pd, err := p.core.Pods(p.runID).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			id, done, err := agentStatus(pd)
			if err != nil {
				return fmt.Errorf("lab: kubernetes backend: pod %q: agent image %q: %w", name, p.agent.image, err)
			}
			if done {
				if p.spec.OnAgentImage != nil {
					p.spec.OnAgentImage(id)
				}
				return nil
			}
		}
		select {
		case <-ctx.Done():
			why := "not found"
			if err == nil {
				why = podWaiting(pd)
			}
			return fmt.Errorf("lab: kubernetes backend: pod %q: agent container not running (%s): %w", name, why, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// agentStatus reads the agent container's status: its image ID once it
// runs (done), an error if it cannot start or has ended.
func agentStatus(pd *corev1.Pod) (id string, done bool, err error) {
	for _, c := range pd.Status.InitContainerStatuses {
		if t := c.State.Terminated; t != nil && t.ExitCode != 0 {
			return "", false, fmt.Errorf("init container %s: exit %d: %s %s", c.Name, t.ExitCode, t.Reason, t.Message)
		}
	}
	for _, c := range pd.Status.ContainerStatuses {
		if c.Name != "agent" {
			continue
		}
		switch {
		case c.State.Running != nil && c.ImageID != "":
			return c.ImageID, true, nil
		case c.State.Terminated != nil:
			t := c.State.Terminated
			return "", false, fmt.Errorf("its container ended: exit %d: %s %s", t.ExitCode, t.Reason, t.Message)
		case c.State.Waiting != nil && unpullable[c.State.Waiting.Reason]:
			return "", false, fmt.Errorf("%s: %s (the cluster's nodes must hold the image or pull it)", c.State.Waiting.Reason, c.State.Waiting.Message)
		}
	}
	return "", false, nil
}

// unpullable are the kubelet's reasons for a container that will not get
// its image without someone's help.
var unpullable = map[string]bool{"ErrImageNeverPull": true, "ImagePullBackOff": true, "ErrImagePull": true, "InvalidImageName": true}

// agentEntrypoint is the vendor's entrypoint when node n is its agent,
// nil for every other node. The agent's files must be on the Pod's shared
// /tmp, where the agent container sees them.
func (m *kubeMachine) agentEntrypoint(n nodeRun) ([]string, error) {
	if !n.fromAgentImage(m.placer.agent.image) {
		return nil, nil
	}
	if !m.agent {
		return nil, fmt.Errorf("pod %s: the agent under test runs from image %q, but the Pod was made without its container", m.pod, m.placer.agent.image)
	}
	if rel, err := filepath.Rel(podTmp, n.dir); err != nil || strings.HasPrefix(rel, "..") {
		return nil, fmt.Errorf("pod %s: run directory %q: the vendor's agent container shares only the Pod's %s with the machine; want the run directory under it (TMPDIR=%s)", m.pod, n.dir, podTmp, podTmp)
	}
	return m.placer.spec.AgentEntrypoint, nil
}
