package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/c2clab/c2clab/sim/netlab"
)

// made records every run this process started, so a test binary can
// prove at its end that its labs left nothing behind (LeftBehind). It is
// process-wide on purpose: it answers for the process, not for one lab.
var made struct {
	sync.Mutex
	runs []Run
}

func remember(id, dir string) {
	made.Lock()
	defer made.Unlock()
	made.runs = append(made.runs, Run{ID: id, Dir: dir})
}

// LeftBehind lists what the runs this process made left on the machine:
// a run directory, a live mark, anything in the kernel, the lab's state or Docker that
// carries a run's ID, and processes whose command line names it. Empty
// when every lab was closed and cleaned up.
func LeftBehind() ([]string, error) {
	made.Lock()
	runs := slices.Clone(made.runs)
	made.Unlock()
	if len(runs) == 0 {
		return nil, nil
	}
	kernel, kerr := netlab.RunIDs()
	docker, derr := containerRunIDs()
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	named := processesNaming(ids)
	var left []string
	for _, r := range runs {
		if _, err := os.Stat(r.Dir); err == nil {
			left = append(left, fmt.Sprintf("%s: run directory %s", r.ID, r.Dir))
		}
		if slices.Contains(kernel, r.ID) {
			left = append(left, fmt.Sprintf("%s: namespaces, links, firewall rules or state", r.ID))
		}
		if slices.Contains(docker, r.ID) {
			left = append(left, fmt.Sprintf("%s: containers, networks or images", r.ID))
		}
		if _, err := os.Stat(filepath.Join(liveRoot, r.ID)); err == nil {
			left = append(left, fmt.Sprintf("%s: its live mark in %s", r.ID, liveRoot))
		}
		if named[r.ID] {
			left = append(left, fmt.Sprintf("%s: a process names it", r.ID))
		}
	}
	return left, errors.Join(kerr, derr)
}
