package pod

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"

	"github.com/c2clab/c2clab/sim/measure/cpuacct"
)

// This file is the machine's CPU request (GET /cpu?name=NODE): c2clab
// bench's cost per GiB and per 1,000 setups on the kubernetes backend. The
// nodes run in the Pod's PID namespace, which the runner cannot see, so
// the machine process, their parent, reads their /proc for it.

// CPUAnswer is what GET /cpu answers: the node's CPU time so far and how
// it was read.
type CPUAnswer struct {
	Usage cpuacct.Usage `json:"usage"`
	// Source is how Usage was read, for the bench's cost_source.
	Source string `json:"source"`
}

// CPUSource is CPUAnswer.Source: cpuacct.Process on the node's PID.
const CPUSource = cpuacct.SourceProcess + " in the Pod, read by its machine process"

// cpu answers the running node's CPU time, 404 for no running node of
// that name.
func (s *server) cpu(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	p := s.running(name)
	if p == nil {
		http.Error(w, fmt.Sprintf("machine: cpu: no running node %q", name), http.StatusNotFound)
		return
	}
	u, err := cpuacct.Process(p.Pid)
	if err != nil {
		http.Error(w, fmt.Sprintf("machine: cpu: node %q: %v", name, err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(CPUAnswer{Usage: u, Source: CPUSource})
}

// CPU reads the running node name's CPU time from its machine.
func (c Client) CPU(ctx context.Context, name string) (CPUAnswer, error) {
	var a CPUAnswer
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+"/cpu?"+url.Values{"name": {name}}.Encode(), nil)
	if err != nil {
		return a, err
	}
	resp, err := c.do(req)
	if err != nil {
		return a, err
	}
	defer resp.Body.Close()
	if err := status(resp, "cpu "+name); err != nil {
		return a, err
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return a, fmt.Errorf("machine: cpu %s: %w", name, err)
	}
	return a, nil
}

// running is the process of the running node name; nil for none.
func (s *server) running(name string) *os.Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nodes[name]
}
