package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/c2clab/c2clab/sim/measure/cpuacct"
	"github.com/c2clab/c2clab/sim/node"
)

// Cost is what one measured run cost the processes that carry a path: the
// relay's broker and agents, the splice node, socat and its children. The
// direct path has none (the kernel forwards), so it has no Cost.
type Cost struct {
	CPU cpuacct.Usage `json:"cpu"`
	// Alloc is what the path's Go processes allocated during the run;
	// nil when they do not say (socat; a node without its debug server).
	Alloc *Alloc `json:"alloc,omitempty"`
}

// Alloc is heap allocation, summed over a path's Go processes.
type Alloc struct {
	Bytes   uint64 `json:"bytes"`
	Objects uint64 `json:"objects"`
}

// gib is the unit of the cost rates.
const gib = 1 << 30

// CPUPerGiB is the CPU seconds per GiB moved.
func (c Cost) CPUPerGiB(moved int64) float64 {
	if moved <= 0 {
		return 0
	}
	return c.CPU.Total().Seconds() / (float64(moved) / gib)
}

// meter takes the cost of a path's processes over a run.
type meter struct {
	cpu   cpuReader
	debug []string // /debug/alloc addresses of the Go processes
}

// reading is a meter's counters at one moment.
type reading struct {
	cpu   cpuacct.Usage
	alloc *Alloc
}

// start reads the counters before a run: allocations first, so that the
// HTTP requests that read them fall outside the CPU window.
func (m *meter) start(ctx context.Context) (reading, error) {
	alloc, err := m.allocs(ctx)
	if err != nil {
		return reading{}, err
	}
	cpu, err := m.cpu.read(ctx)
	return reading{cpu: cpu, alloc: alloc}, err
}

// since is the cost from r to now: CPU first, then allocations.
func (m *meter) since(ctx context.Context, r reading) (*Cost, error) {
	cpu, err := m.cpu.read(ctx)
	if err != nil {
		return nil, err
	}
	alloc, err := m.allocs(ctx)
	if err != nil {
		return nil, err
	}
	c := &Cost{CPU: cpu.Sub(r.cpu)}
	if alloc != nil && r.alloc != nil {
		c.Alloc = &Alloc{Bytes: alloc.Bytes - r.alloc.Bytes, Objects: alloc.Objects - r.alloc.Objects}
	}
	return c, nil
}

func (m *meter) allocs(ctx context.Context) (*Alloc, error) {
	if len(m.debug) == 0 {
		return nil, nil
	}
	var sum Alloc
	for _, addr := range m.debug {
		a, err := fetchAlloc(ctx, addr)
		if err != nil {
			return nil, err
		}
		sum.Bytes += a.Bytes
		sum.Objects += a.Objects
	}
	return &sum, nil
}

func fetchAlloc(ctx context.Context, addr string) (node.Alloc, error) {
	var a node.Alloc
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/debug/alloc", nil)
	if err != nil {
		return a, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return a, fmt.Errorf("bench: allocations: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return a, fmt.Errorf("bench: allocations from %s: %s", addr, resp.Status)
	}
	return a, json.NewDecoder(resp.Body).Decode(&a)
}

// meters makes a meter per path that has processes of its own, from the
// lab's nodes (relay: the broker and both agents; splice: its nodes) and
// the socat processes (cpu.go says how each backend's CPU is read).
func (b *bench) meters(ctx context.Context) error {
	names := map[string][]string{}
	debug := map[string][]string{}
	b.relayDebug = map[string]string{}
	relay := map[string]bool{"broker": true, b.admin.Name + "-agent": true, b.desktop.Name + "-agent": true}
	for _, n := range b.lab.NodeNames() {
		path := ""
		switch {
		case relay[n]:
			path = PathRelay
		case strings.HasPrefix(n, "splice-"):
			path = PathSplice
		default:
			continue
		}
		names[path] = append(names[path], n)
		addrs, _ := b.lab.NodeAddrs(n)
		if a, ok := addrs["debug"]; ok {
			debug[path] = append(debug[path], a)
			if path == PathRelay {
				b.relayDebug[n] = a
			}
		}
	}
	b.meter = map[string]*meter{}
	for i, p := range b.paths {
		if !p.Available || (len(names[p.Name]) == 0 && p.Name != PathSocat) {
			continue
		}
		cpu, source, err := b.cpuReader(ctx, p.Name, names[p.Name])
		if errors.Is(err, cpuacct.ErrNoProcess) {
			continue
		}
		if err != nil {
			// The path is measured without its cost, and says why: no
			// zero stands in for a cost that was not read.
			b.paths[i].CostNote = err.Error()
			continue
		}
		b.meter[p.Name] = &meter{cpu: cpu, debug: debug[p.Name]}
		b.paths[i].CostSource = source
	}
	return nil
}

// measured runs f between two readings of path's meter; with no meter
// (direct; a path whose cost cannot be read) the cost is nil.
func (b *bench) measured(ctx context.Context, path string, f func() error) (*Cost, error) {
	m, ok := b.meter[path]
	if !ok {
		return nil, f()
	}
	r, err := m.start(ctx)
	if err != nil {
		return nil, err
	}
	if err := f(); err != nil {
		return nil, err
	}
	return m.since(ctx, r)
}

// Load is the machine's load average, from /proc/loadavg: what else was
// running beside a measurement.
type Load struct {
	One, Five, Fifteen float64
}

// readLoad reads /proc/loadavg; zero where it cannot.
func readLoad() Load {
	var l Load
	data, err := os.ReadFile("/proc/loadavg")
	if err == nil {
		fmt.Sscan(string(data), &l.One, &l.Five, &l.Fifteen)
	}
	return l
}

func (l Load) String() string { return fmt.Sprintf("%.2f %.2f %.2f", l.One, l.Five, l.Fifteen) }
