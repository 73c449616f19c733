package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/c2clab/c2clab/sim/netlab"
)

// Orphans finds runs that left namespaces, links, firewall rules, state,
// containers, networks or images behind but have no run directory under
// dir ("" = os.TempDir()), no process that names them and no live mark
// (markLive): a crash after the directory was removed, or a
// temporary-files cleaner. A live lab always has its directory (it is made
// first), a node process whose command line carries its ID, or, when its
// TMPDIR is another, its mark, so none is ever taken for an orphan.
func Orphans(dir string) ([]Run, error) {
	var errs []error
	ids, err := netlab.RunIDs()
	errs = append(errs, err)
	cids, err := containerRunIDs()
	errs = append(errs, err)
	ids = append(ids, cids...)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	named := processesNaming(ids)
	var out []Run
	for _, id := range ids {
		if !ValidRunID(id) || named[id] || markedLive(id) {
			continue
		}
		if _, err := os.Stat(filepath.Join(orTemp(dir), "c2clab-"+id)); err == nil {
			continue
		}
		out = append(out, Run{ID: id, Nodes: map[string]int{}})
	}
	if err := errors.Join(errs...); err != nil {
		return out, fmt.Errorf("lab: find orphaned runs: %w", err)
	}
	return out, nil
}

// processesNaming reports which of ids appear in the command line of some
// process other than this one (which may name them to remove them), in
// this process's PID namespace: a container node of a crashed run names
// its run directory too, but runs in a PID namespace of its own, and it is
// what is to be removed, not a sign of a live lab.
func processesNaming(ids []string) map[string]bool {
	named := map[string]bool{}
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	self := fmt.Sprintf("/proc/%d/cmdline", os.Getpid())
	pidNS, _ := os.Readlink("/proc/self/ns/pid")
	for _, f := range cmdlines {
		if f == self {
			continue
		}
		if ns, err := os.Readlink(filepath.Join(filepath.Dir(f), "ns/pid")); err == nil && ns != pidNS {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, id := range ids {
			if strings.Contains(string(b), id) {
				named[id] = true
			}
		}
	}
	return named
}
