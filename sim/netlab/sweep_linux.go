package netlab

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// Sweep removes every namespace, bridge, veth, firewall rule and state
// directory that carries one of runIDs, whether or not its run is still
// alive, and returns what it removed ("netns NAME", "link NAME",
// "iptables RUNID", "state DIR").
func Sweep(runIDs ...string) ([]string, error) {
	want := map[string]bool{}
	for _, id := range runIDs {
		if err := checkRunID(id); err != nil {
			return nil, err
		}
		want[id] = true
	}
	return sweep(func(id string) bool { return want[id] })
}

// SweepAll removes what every run left behind (`c2clab lab down --all`).
// It also removes live labs of other processes.
func SweepAll() ([]string, error) {
	return sweep(func(string) bool { return true })
}

func sweep(match func(runID string) bool) ([]string, error) {
	var removed []string
	var errs []error
	add := func(r []string, err error) {
		removed = append(removed, r...)
		errs = append(errs, err)
	}
	add(sweepNetns(match))
	add(sweepEtcNetns(match))
	add(sweepLinks(match))
	ids, err := fwDelete(context.Background(), match)
	for _, id := range ids {
		removed = append(removed, "iptables "+id)
	}
	errs = append(errs, err)
	add(sweepState(match))
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("sweep: %w", err)
	}
	return removed, nil
}

// sweepNetns deletes matching namespaces, killing what runs in them. Their
// veths go with them.
func sweepNetns(match func(runID string) bool) ([]string, error) {
	ents, err := os.ReadDir(netnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("netns: %w", err)
	}
	var removed []string
	var errs []error
	for _, e := range ents {
		id := runIDOfNS(e.Name())
		if id == "" || !match(id) {
			continue
		}
		if err := deleteNetns(e.Name()); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, "netns "+e.Name())
	}
	return removed, errors.Join(errs...)
}

func sweepState(match func(runID string) bool) ([]string, error) {
	ents, err := os.ReadDir(StateRoot)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	var removed []string
	var errs []error
	for _, e := range ents {
		if !e.IsDir() || !runIDRE.MatchString(e.Name()) || !match(e.Name()) {
			continue
		}
		dir := filepath.Join(StateRoot, e.Name())
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, fmt.Errorf("state: %w", err))
			continue
		}
		removed = append(removed, "state "+dir)
	}
	return removed, errors.Join(errs...)
}

// RunIDs lists the run IDs that namespaces, their /etc/netns
// configuration, links, firewall rules and state directories on this
// machine carry, so a run whose own records are gone can still be found
// and swept.
func RunIDs() ([]string, error) {
	seen := map[string]bool{}
	var errs []error
	if ents, err := os.ReadDir(netnsDir); err == nil {
		for _, e := range ents {
			seen[runIDOfNS(e.Name())] = true
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("netns: %w", err))
	}
	if links, err := linkList(); err == nil {
		for _, l := range links {
			seen[runIDOfLink(l.Attrs().Name, l.Attrs().Alias)] = true
		}
	} else {
		errs = append(errs, fmt.Errorf("links: %w", err))
	}
	ids, err := fwRunIDs(context.Background())
	errs = append(errs, err)
	for _, id := range ids {
		seen[id] = true
	}
	for _, id := range etcNetnsRunIDs() {
		seen[id] = true
	}
	if ents, err := os.ReadDir(StateRoot); err == nil {
		for _, e := range ents {
			if e.IsDir() && runIDRE.MatchString(e.Name()) {
				seen[e.Name()] = true
			}
		}
	}
	delete(seen, "")
	out := slices.Sorted(maps.Keys(seen))
	return out, errors.Join(errs...)
}
