package netlab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// etcNetnsDir holds per-namespace configuration: `ip netns exec NAME`
// bind-mounts each file of etcNetnsDir/NAME over the same name in /etc
// for the program it runs (resolv.conf for a resolver of the namespace's
// own). Unlike the namespace it outlives a reboot, so it is swept too.
const etcNetnsDir = "/etc/netns"

// WriteEtc writes file (a name under /etc, like "resolv.conf") for the
// programs `ip netns exec` runs on h. Deleting the namespace, by Close or a
// sweep, removes it.
func (h *Host) WriteEtc(file string, data []byte) error {
	if file == "" || filepath.Base(file) != file {
		return fmt.Errorf("host %q: etc file %q: want a plain file name", h.Name, file)
	}
	dir := filepath.Join(etcNetnsDir, h.NS)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("host %q: %w", h.Name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, file), data, 0o644); err != nil {
		return fmt.Errorf("host %q: %w", h.Name, err)
	}
	return nil
}

// removeEtcNetns removes the namespace's configuration directory, if any.
func removeEtcNetns(ns string) error {
	if err := os.RemoveAll(filepath.Join(etcNetnsDir, ns)); err != nil {
		return fmt.Errorf("netns %q: etc: %w", ns, err)
	}
	return nil
}

// sweepEtcNetns removes the configuration directories of matching runs'
// namespaces, also of namespaces long gone.
func sweepEtcNetns(match func(runID string) bool) ([]string, error) {
	ents, err := os.ReadDir(etcNetnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("etc netns: %w", err)
	}
	var removed []string
	var errs []error
	for _, e := range ents {
		if id := runIDOfNS(e.Name()); id == "" || !match(id) {
			continue
		}
		if err := removeEtcNetns(e.Name()); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, "etc "+filepath.Join(etcNetnsDir, e.Name()))
	}
	return removed, errors.Join(errs...)
}

// etcNetnsRunIDs lists the run IDs of the configuration directories.
func etcNetnsRunIDs() []string {
	ents, _ := os.ReadDir(etcNetnsDir)
	var ids []string
	for _, e := range ents {
		if id := runIDOfNS(e.Name()); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}
