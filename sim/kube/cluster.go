package kube

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/c2clab/c2clab/sim/kube/kubenet"
)

// Cluster is a Kubernetes cluster the backend talks to.
type Cluster struct {
	Host    string // the apiserver's URL, for messages
	core    corev1client.CoreV1Interface
	dynamic dynamic.Interface
}

// Connect finds the cluster the way kubectl does: KUBECONFIG (a list of
// files), else ~/.kube/config, else the in-cluster service account;
// kubeconfig, when set, names the file instead, and context its context.
func Connect(kubeconfig, context string) (*Cluster, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kube: find the cluster (KUBECONFIG, ~/.kube/config or in-cluster): %w", err)
	}
	return FromConfig(cfg)
}

// createWorkers is how many objects are created at once. The client's own
// default of 5 requests a second would take minutes for a thousand Pods.
const createWorkers = 16

// FromConfig is Connect for a client config already made.
func FromConfig(cfg *rest.Config) (*Cluster, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 200, 400
	core, err := corev1client.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kube: client for %s: %w", cfg.Host, err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kube: client for %s: %w", cfg.Host, err)
	}
	return &Cluster{Host: cfg.Host, core: core, dynamic: dyn}, nil
}

// ErrNoNAD is returned when the cluster lacks Multus' CRD.
var ErrNoNAD = errors.New("kube: the cluster has no NetworkAttachmentDefinition CRD (k8s.cni.cncf.io/v1): install Multus, or the CRD alone for a control-plane-only check (Cluster.InstallNADCRD)")

// InstallNADCRD creates the NetworkAttachmentDefinition CRD unless it
// exists, and waits until the apiserver serves it.
func (c *Cluster) InstallNADCRD(ctx context.Context) error {
	return kubenet.InstallNADCRD(ctx, c.dynamic)
}

// Create creates o's objects in order: the namespace first, the Pods last
// and many at once. On error what was created stays; Delete removes it.
func (c *Cluster) Create(ctx context.Context, o Objects) error {
	ns := o.Namespace.Name
	if _, err := c.core.Namespaces().Create(ctx, o.Namespace, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("kube: create namespace %q: %w", ns, err)
	}
	if _, err := c.core.ServiceAccounts(ns).Create(ctx, o.ServiceAccount, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("kube: create service account %q: %w", o.ServiceAccount.Name, err)
	}
	for _, nad := range o.NADs {
		if _, err := c.dynamic.Resource(NADResource).Namespace(ns).Create(ctx, nad, metav1.CreateOptions{}); err != nil {
			if apierrors.IsNotFound(err) {
				return fmt.Errorf("kube: create network %q: %w", nad.GetName(), errors.Join(ErrNoNAD, err))
			}
			return fmt.Errorf("kube: create network %q: %w", nad.GetName(), err)
		}
	}
	for _, s := range o.Services {
		if _, err := c.core.Services(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("kube: create service %q: %w", s.Name, err)
		}
	}
	if err := parallel(ctx, o.Secrets, func(ctx context.Context, s *corev1.Secret) error {
		_, err := c.core.Secrets(ns).Create(ctx, s, metav1.CreateOptions{})
		return wrap(err, "secret", s.Name)
	}); err != nil {
		return err
	}
	return parallel(ctx, o.Pods, func(ctx context.Context, p *corev1.Pod) error {
		_, err := c.core.Pods(ns).Create(ctx, p, metav1.CreateOptions{})
		return wrap(err, "pod", p.Name)
	})
}

func wrap(err error, kind, name string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("kube: create %s %q: %w", kind, name, err)
}

// parallel runs f on every item with createWorkers at once, and returns
// the errors joined.
func parallel[T any](ctx context.Context, items []T, f func(context.Context, T) error) error {
	work := make(chan T)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex // guards errs
		errs []error
	)
	for range min(createWorkers, len(items)) {
		wg.Go(func() {
			for it := range work {
				if err := f(ctx, it); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, it := range items {
		work <- it
	}
	close(work)
	wg.Wait()
	return errors.Join(errs...)
}

// PodState is where a Pod of the run is.
type PodState struct {
	Name, Node string
	Site       string // the Pod's site label
	Phase      corev1.PodPhase
	Ready      bool
}

// Until says which state Wait waits for.
type Until int

const (
	// Scheduled: every Pod has a node.
	Scheduled Until = iota
	// Ready: every Pod is Running with all containers ready.
	Ready
)

// ErrPodFailed is returned by Wait when a Pod of the run has failed.
var ErrPodFailed = errors.New("kube: a pod of the run failed")

// Wait watches the run's Pods until every one of the want Pods has
// reached until, and returns their states. A failed Pod ends the wait.
func (c *Cluster) Wait(ctx context.Context, runID string, want int, until Until) (map[string]PodState, error) {
	pods := c.core.Pods(Namespace(runID))
	list, err := pods.List(ctx, metav1.ListOptions{LabelSelector: LabelRun + "=" + runID})
	if err != nil {
		return nil, fmt.Errorf("kube: list pods of %s: %w", runID, err)
	}
	states := map[string]PodState{}
	for i := range list.Items {
		states[list.Items[i].Name] = stateOf(&list.Items[i])
	}
	rv := list.ResourceVersion
	for {
		if done, err := reached(states, want, until); done || err != nil {
			return states, err
		}
		w, err := pods.Watch(ctx, metav1.ListOptions{LabelSelector: LabelRun + "=" + runID, ResourceVersion: rv})
		if err != nil {
			return states, fmt.Errorf("kube: watch pods of %s: %w", runID, err)
		}
		rv, err = follow(ctx, w, states, want, until, rv)
		w.Stop()
		if err != nil {
			return states, err
		}
	}
}

// follow applies the watch's events to states until until is reached or
// the watch ends; it returns the last resource version seen.
func follow(ctx context.Context, w watch.Interface, states map[string]PodState, want int, until Until, rv string) (string, error) {
	for {
		select {
		case <-ctx.Done():
			return rv, fmt.Errorf("kube: waiting for pods: %w", ctx.Err())
		case ev, ok := <-w.ResultChan():
			if !ok {
				return rv, nil
			}
			if ev.Type == watch.Error {
				return rv, fmt.Errorf("kube: watching pods: %w", apierrors.FromObject(ev.Object))
			}
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			rv = p.ResourceVersion
			if ev.Type == watch.Deleted {
				delete(states, p.Name)
			} else {
				states[p.Name] = stateOf(p)
			}
			if done, err := reached(states, want, until); done || err != nil {
				return rv, err
			}
		}
	}
}

func reached(states map[string]PodState, want int, until Until) (bool, error) {
	n := 0
	for _, s := range states {
		if s.Phase == corev1.PodFailed {
			return true, fmt.Errorf("%w: %s", ErrPodFailed, s.Name)
		}
		if (until == Scheduled && s.Node != "") || (until == Ready && s.Phase == corev1.PodRunning && s.Ready) {
			n++
		}
	}
	return n >= want, nil
}

func stateOf(p *corev1.Pod) PodState {
	s := PodState{Name: p.Name, Node: p.Spec.NodeName, Site: p.Labels[LabelSite], Phase: p.Status.Phase}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			s.Ready = c.Status == corev1.ConditionTrue
		}
	}
	return s
}

// Delete deletes the run's namespace, and so all the run made, and waits
// until the namespace is gone (its controller deletes the content first).
func (c *Cluster) Delete(ctx context.Context, runID string) error {
	ns := Namespace(runID)
	bg := metav1.DeletePropagationBackground
	err := c.core.Namespaces().Delete(ctx, ns, metav1.DeleteOptions{PropagationPolicy: &bg})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("kube: delete namespace %q: %w", ns, err)
	}
	for {
		_, err := c.core.Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kube: namespace %q still terminating: %w", ns, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Run is a run found on the cluster by its label.
type Run struct {
	ID          string
	Created     time.Time
	Terminating bool
	// Owner is the namespace's c2clab.io/owner annotation: HOST/PID of
	// the lab up that made it, when it said.
	Owner string
}

// Runs lists the runs on the cluster: namespaces that carry LabelRun.
func (c *Cluster) Runs(ctx context.Context) ([]Run, error) {
	list, err := c.core.Namespaces().List(ctx, metav1.ListOptions{LabelSelector: LabelRun})
	if err != nil {
		return nil, fmt.Errorf("kube: list runs: %w", err)
	}
	var runs []Run
	for _, ns := range list.Items {
		runs = append(runs, Run{ID: ns.Labels[LabelRun], Created: ns.CreationTimestamp.Time, Terminating: ns.Status.Phase == corev1.NamespaceTerminating, Owner: ns.Annotations[AnnotationOwner]})
	}
	return runs, nil
}

// Left counts what is still in the run's namespace, by kind, for proving a
// cleanup; a namespace that is gone has nothing left.
func (c *Cluster) Left(ctx context.Context, runID string) (map[string]int, error) {
	ns := Namespace(runID)
	left := map[string]int{}
	count := func(kind string, l runtime.Object, err error) error {
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("kube: list %s of %s: %w", kind, runID, err)
		}
		switch v := l.(type) {
		case *corev1.PodList:
			left[kind] = len(v.Items)
		case *corev1.SecretList:
			left[kind] = len(v.Items)
		case *corev1.ServiceList:
			left[kind] = len(v.Items)
		case *unstructured.UnstructuredList:
			left[kind] = len(v.Items)
		}
		return nil
	}
	opts := metav1.ListOptions{LabelSelector: LabelRun + "=" + runID}
	pods, err := c.core.Pods(ns).List(ctx, opts)
	errs := []error{count("pods", pods, err)}
	secrets, err := c.core.Secrets(ns).List(ctx, opts)
	errs = append(errs, count("secrets", secrets, err))
	svcs, err := c.core.Services(ns).List(ctx, opts)
	errs = append(errs, count("services", svcs, err))
	nads, err := c.dynamic.Resource(NADResource).Namespace(ns).List(ctx, opts)
	errs = append(errs, count("networks", nads, err))
	_, err = c.core.Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err == nil {
		left["namespace"] = 1
	} else if !apierrors.IsNotFound(err) {
		errs = append(errs, err)
	}
	return left, errors.Join(errs...)
}
