package kube

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/c2clab/c2clab/sim/image"
	"github.com/c2clab/c2clab/sim/kube/kubenet"
)

// Objects are what a run creates, in the order they are created. Deleting
// Namespace deletes the rest.
type Objects struct {
	Namespace      *corev1.Namespace
	ServiceAccount *corev1.ServiceAccount
	NADs           []*unstructured.Unstructured
	Secrets        []*corev1.Secret
	Services       []*corev1.Service
	Pods           []*corev1.Pod
}

// serviceAccount is the run's own, with no token mounted: nodes never
// talk to the apiserver, and a cluster's "default" account may not exist
// yet when the namespace is new.
const serviceAccount = "c2clab"

// Build returns the objects of plan. It checks what the apiserver would
// refuse later with a less helpful message (names, sites, addresses).
func Build(p Plan) (Objects, error) {
	if err := p.check(); err != nil {
		return Objects{}, err
	}
	ns := Namespace(p.RunID)
	o := Objects{
		Namespace:      &corev1.Namespace{ObjectMeta: p.meta(ns, "")},
		ServiceAccount: &corev1.ServiceAccount{ObjectMeta: p.meta(serviceAccount, ns), AutomountServiceAccountToken: new(false)},
	}
	nad, err := p.nad(ns)
	if err != nil {
		return Objects{}, err
	}
	o.NADs = append(o.NADs, nad)
	for _, m := range p.Machines {
		o.Secrets = append(o.Secrets, p.secret(ns, m))
		pod, err := p.pod(ns, m)
		if err != nil {
			return Objects{}, err
		}
		o.Pods = append(o.Pods, pod)
		if m.Role == RoleBroker {
			o.Services = append(o.Services, p.service(ns, m))
		}
	}
	return o, nil
}

func (p Plan) check() error {
	var errs []error
	if !validName(p.RunID) {
		errs = append(errs, fmt.Errorf("kube: run ID %q is no DNS label", p.RunID))
	}
	if p.Image == "" {
		errs = append(errs, errors.New("kube: plan has no image"))
	}
	if !p.Network.Prefix.IsValid() {
		errs = append(errs, errors.New("kube: plan's network has no prefix"))
	}
	seen := map[string]bool{}
	brokers := 0
	for _, m := range p.Machines {
		if !validName(m.Name) {
			errs = append(errs, fmt.Errorf("kube: machine %q: name is no DNS label", m.Name))
		}
		if seen[m.Name] {
			errs = append(errs, fmt.Errorf("kube: machine %q: name used twice", m.Name))
		}
		seen[m.Name] = true
		if _, ok := p.Sites[m.Site]; m.Site != "" && !ok {
			errs = append(errs, fmt.Errorf("kube: machine %q: site %q is not one of the plan's sites", m.Name, m.Site))
		}
		if !p.Network.Prefix.Contains(m.Addr) {
			errs = append(errs, fmt.Errorf("kube: machine %q: address %s is outside the network's %s", m.Name, m.Addr, p.Network.Prefix))
		}
		if m.Role == RoleBroker {
			brokers++
		}
	}
	if brokers != 1 {
		errs = append(errs, fmt.Errorf("kube: plan has %d brokers; want 1", brokers))
	}
	return errors.Join(errs...)
}

func validName(s string) bool { return len(validation.IsDNS1123Label(s)) == 0 }

// meta is the metadata of an object of the run, labelled with its ID.
func (p Plan) meta(name, ns string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{LabelRun: p.RunID, labelManagedBy: managedBy}}
}

func (p Plan) secret(ns string, m Machine) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: p.meta(m.Name, ns), Type: corev1.SecretTypeOpaque, Data: map[string][]byte{}}
	maps.Copy(s.Data, m.Files)
	s.Labels[LabelMachine] = m.Name
	return s
}

// service makes the broker reachable by name from every node of the
// cluster, whatever the lab network spans: the agents' and connectors'
// control and data connections cross nodes on the cluster's own network.
func (p Plan) service(ns string, m Machine) *corev1.Service {
	return kubenet.Service(p.meta(BrokerService, ns), map[string]string{LabelRun: p.RunID, LabelMachine: m.Name}, m.Ports)
}

func (p Plan) pod(ns string, m Machine) (*corev1.Pod, error) {
	sel, err := kubenet.Networks(p.Network.Name, m.Addr, p.Network.Prefix)
	if err != nil {
		return nil, fmt.Errorf("kube: machine %q: %w", m.Name, err)
	}
	meta := p.meta(m.Name, ns)
	meta.Labels[LabelMachine] = m.Name
	meta.Labels[LabelRole] = m.Role
	if m.Site != "" {
		meta.Labels[LabelSite] = m.Site
	}
	meta.Annotations = map[string]string{kubenet.NetworksAnnotation: sel}
	spec := corev1.PodSpec{
		ServiceAccountName:           serviceAccount,
		AutomountServiceAccountToken: new(false),
		// Nodes find the broker by its Service's DNS name; a thousand
		// Pods with every Service as environment variables buy nothing.
		EnableServiceLinks: new(false),
		// A node that exits is a failed lab, not something to hide by
		// restarting it: the lab reads the Pod's status.
		RestartPolicy: corev1.RestartPolicyNever,
		// Nodes stop at once on SIGTERM; the default 30 s bounds only how
		// long a run's deletion waits for one that does not.
		TerminationGracePeriodSeconds: new(int64(1)),
		NodeSelector:                  maps.Clone(p.Sites[m.Site]),
		Volumes: []corev1.Volume{
			{Name: "config", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: m.Name}}},
			{Name: "ready", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		},
	}
	for _, n := range m.Nodes {
		spec.Containers = append(spec.Containers, p.container(n))
	}
	return &corev1.Pod{ObjectMeta: meta, Spec: spec}, nil
}

func (p Plan) container(n Node) corev1.Container {
	name := strings.TrimSuffix(n.Config, ".json")
	ready := readyDir + "/" + name + ".ready"
	return corev1.Container{
		Name:            n.Role,
		Image:           p.Image,
		ImagePullPolicy: corev1.PullPolicy(cmp.Or(p.PullPolicy, string(corev1.PullIfNotPresent))),
		Command: []string{image.Binary, "node", n.Role,
			"--config", ConfigDir + "/" + n.Config, "--ready-file", ready},
		// The node writes its ready file once it serves; the image has no
		// shell, so c2clab itself checks it (c2clab ready FILE).
		ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{image.Binary, "ready", ready}}},
			PeriodSeconds: 2, FailureThreshold: 3},
		VolumeMounts: []corev1.VolumeMount{
			{Name: "config", MountPath: ConfigDir, ReadOnly: true},
			{Name: "ready", MountPath: readyDir},
		},
	}
}
