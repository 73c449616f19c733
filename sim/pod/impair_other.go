//go:build !linux

package pod

import (
	"net/http"
	"os/exec"
)

// Splicing a Pod's link needs Linux network namespaces.
type impairState struct{}

func (s *server) impair(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "machine: impair: Linux only", http.StatusNotImplemented)
}

func (s *server) impairStatus(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "machine: impair: Linux only", http.StatusNotImplemented)
}

func startIn(_ impairState, cmd *exec.Cmd) error { return cmd.Start() }
