package main

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/c2clab/c2clab/sim/certify"
	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/steps"
)

// kubeAgentImage puts a vendor's agent image on the kubernetes backend
// into cfg: the cluster's nodes hold the image (nothing here can look
// into it), so its entrypoint comes from --agent-entrypoint and its
// identity from what the kubelet reports it ran (ran, read by
// kubeIdentity after the run).
func kubeAgentImage(f certifyFlags, cfg steps.Config, ran *ranImages) (steps.Config, certify.Identity, error) {
	if len(f.agentEntrypoint) == 0 {
		return cfg, certify.Identity{}, badInput(fmt.Errorf("certify: --agent-image on --backend %s needs --agent-entrypoint: %w", lab.BackendKubernetes, lab.ErrNoAgentEntrypoint))
	}
	cfg.Backend, cfg.AgentImage = f.backend, f.agentImage
	cfg.Kube = f.kube.spec()
	cfg.Kube.AgentEntrypoint = f.agentEntrypoint
	cfg.Kube.OnAgentImage = ran.add
	id := certify.Identity{Name: cmp.Or(f.name, f.agentImage), Version: f.version, Vendor: f.vendor,
		Command: f.agentImage, URL: f.url, Contact: f.contact}
	return cfg, id, nil
}

// ranImages collects the image IDs the kubelet reported for the agent
// containers of every lab of the run. The labs of scenarios running side
// by side report from their own goroutines.
type ranImages struct {
	mu  sync.Mutex // guards ids
	ids []string
}

func (r *ranImages) add(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(r.ids, id) {
		r.ids = append(r.ids, id)
	}
}

// ErrIdentityUndecided is kubeIdentity's answer when the run cannot say
// which image it certified.
var ErrIdentityUndecided = errors.New("certify: the agent image's identity is undecided")

// kubeIdentity names the image that ran by the kubelet's image ID (a
// content digest, sha256:HEX, or REPO@sha256:HEX for a pulled image):
// exactly one must have run, else the report could not say what it
// certifies.
func (r *ranImages) kubeIdentity(id certify.Identity) (certify.Identity, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch len(r.ids) {
	case 0:
		return id, fmt.Errorf("%w: no container of %q ran on the cluster (every scenario with it skipped or failed before its Pod ran)", ErrIdentityUndecided, id.Command)
	case 1:
		_, hex, ok := strings.Cut(r.ids[0], "sha256:")
		if !ok {
			return id, fmt.Errorf("%w: the kubelet reports image ID %q for %q, not a sha256 digest", ErrIdentityUndecided, r.ids[0], id.Command)
		}
		id.SHA256 = hex
		return id, nil
	}
	return id, fmt.Errorf("%w: the cluster ran %d different images for %q during the run (%s): its tag moved, or the nodes hold different images", ErrIdentityUndecided, len(r.ids), id.Command, strings.Join(r.ids, ", "))
}
