package lab

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestKubeAgentEntrypointOnlyForTheAgentUnderTest: a Pod's node gets the
// vendor's entrypoint only when it is an agent, not the reference, and
// its Pod has the agent container; a vendor agent in a Pod without one,
// or with its run directory outside the Pod's shared /tmp, is an error
// that says so.
func TestKubeAgentEntrypointOnlyForTheAgentUnderTest(t *testing.T) {
	p := &kubePlacer{spec: KubeSpec{AgentEntrypoint: []string{"/opt/acme/agent"}}, agent: kubeAgent{image: "acme/agent:1"}}
	agent := nodeRun{args: []string{"agent", "--config", "/tmp/c2clab-x/a.json"}, dir: "/tmp/c2clab-x"}
	reference := agent
	reference.reference = true
	services := nodeRun{args: []string{"services", "--config", "/tmp/c2clab-x/s.json"}, dir: "/tmp/c2clab-x"}
	elsewhere := agent
	elsewhere.dir = "/var/tmp/c2clab-x"
	for _, tc := range []struct {
		name    string
		n       nodeRun
		inPod   bool // the Pod has the agent container
		want    []string
		wantErr string
	}{
		{"vendor agent", agent, true, p.spec.AgentEntrypoint, ""},
		{"reference agent", reference, false, nil, ""},
		{"services", services, true, nil, ""},
		{"vendor agent, no container", agent, false, nil, "made without its container"},
		{"run directory not under /tmp", elsewhere, true, nil, "want the run directory under it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &kubeMachine{placer: p, pod: "dev-1", agent: tc.inPod}
			got, err := m.agentEntrypoint(tc.n)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("entrypoint %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	none := &kubeMachine{placer: &kubePlacer{}, agent: false}
	if got, err := none.agentEntrypoint(agent); got != nil || err != nil {
		t.Errorf("a run without an agent image: %q, %v; want nothing", got, err)
	}
}

// TestKubeAgentStatus reads the agent container's state as the kubelet
// reports it: its image ID once it runs; an image the node cannot get,
// a failed install and an ended container at once as errors; anything
// else as not yet.
func TestKubeAgentStatus(t *testing.T) {
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	waiting := func(reason string) corev1.ContainerState {
		return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}
	}
	pod := func(init corev1.ContainerState, agent corev1.ContainerStatus) *corev1.Pod {
		return &corev1.Pod{Status: corev1.PodStatus{
			InitContainerStatuses: []corev1.ContainerStatus{{Name: "install", State: init}},
			ContainerStatuses:     []corev1.ContainerStatus{{Name: "machine", State: running, ImageID: "sha256:c2clab"}, agent},
		}}
	}
	done := corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0}}
	failed := corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}}
	for _, tc := range []struct {
		name    string
		pod     *corev1.Pod
		id      string
		done    bool
		wantErr string
	}{
		{"running", pod(done, corev1.ContainerStatus{Name: "agent", State: running, ImageID: "sha256:abc"}), "sha256:abc", true, ""},
		{"running, no image ID yet", pod(done, corev1.ContainerStatus{Name: "agent", State: running}), "", false, ""},
		{"creating", pod(done, corev1.ContainerStatus{Name: "agent", State: waiting("ContainerCreating")}), "", false, ""},
		{"initializing", pod(waiting("PodInitializing"), corev1.ContainerStatus{Name: "agent", State: waiting("PodInitializing")}), "", false, ""},
		{"never pulled", pod(done, corev1.ContainerStatus{Name: "agent", State: waiting("ErrImageNeverPull")}), "", false, "must hold the image"},
		{"install failed", pod(failed, corev1.ContainerStatus{Name: "agent", State: waiting("PodInitializing")}), "", false, "init container install: exit 1"},
		{"ended", pod(done, corev1.ContainerStatus{Name: "agent", State: failed}), "", false, "its container ended"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, ok, err := agentStatus(tc.pod)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || id != tc.id || ok != tc.done {
				t.Errorf("agentStatus = %q, %v, %v; want %q, %v", id, ok, err, tc.id, tc.done)
			}
		})
	}
}
