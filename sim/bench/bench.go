// Package bench measures the lab's relay against reference paths to the
// same device service, in one run on one lab: straight to the device, a
// plain splice relay and socat on the broker's machine. Ratios to those
// references are what it reports and what ci/perf compares, since absolute
// figures differ between machines; iperf3 on the relayed path checks the
// lab's own probe.
package bench

import (
	"slices"
	"time"

	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/sim/linkemu"
	"github.com/c2clab/c2clab/sim/measure"
)

// Paths, in the order they are measured and shown.
const (
	// PathRelay goes through the admin's agent (SOCKS5), the broker and
	// the device's agent: the path under test.
	PathRelay = "relay"
	// PathDirect goes from the bench straight to the device's address on
	// the lab network, with no relay.
	PathDirect = "direct"
	// PathSplice goes through a plain TCP forwarder (sim/bench/splice) on
	// the broker's machine: the hops of the relay, none of its protocol.
	PathSplice = "splice"
	// PathSocat goes through socat on the broker's machine, when installed.
	PathSocat = "socat"
)

// References are the paths the relay's ratios are taken against.
var References = []string{PathDirect, PathSplice, PathSocat}

// Config is a benchmark run. Command and Backend are the lab's; a zero
// field takes the default noted.
type Config struct {
	// Command starts a lab node (lab.Spec.Command).
	Command []string
	// Env is added to every node's environment (lab.Spec.Env).
	Env []string
	// Backend is the lab's: local, netns or kubernetes; empty means local.
	Backend string
	// Kube is the cluster and image of the kubernetes backend
	// (lab.Spec.Kube); unused elsewhere.
	Kube lab.KubeSpec
	// Dir is where the lab's run directory is made; empty: os.TempDir().
	Dir string
	// Sizes are the bytes each stream moves per run after its warm-up;
	// nil means 32 MiB and 128 MiB.
	Sizes []int64
	// Streams are the stream counts of the matrix; nil means 1 and 4.
	Streams []int
	// Count is how many runs each cell gets (medians, statistics); 0 is 5.
	Count int
	// RoundTrips per path for the latency CDF; 0 is 1000.
	RoundTrips int
	// Setups is how many connections per path the setup probe opens; 0 is 50.
	Setups int
	// IperfSeconds is each iperf3 and probe run's length; 0 is 4.
	IperfSeconds int
	// RelayDelay is the broker's test knob (lab.Spec.RelayDelay), zero in
	// every real run: ci/perf sets it to prove it catches a slower relay.
	RelayDelay time.Duration
	// UnderLoad adds, per path, round trips taken while a bulk stream
	// runs each way on the same path (latency under load).
	UnderLoad bool
	// Link impairs the desktop's link both ways (netns, kubernetes), e.g. 10ms
	// delay and 1% loss each way: every path crosses it. Zero: none.
	Link linkemu.Impairments
	// Warmup is the bytes each throughput stream moves before it is
	// timed; 0 is measure.DefaultWarmup, or 256 KiB on an impaired link.
	Warmup int64
	// Profile, if not empty, is a directory: after the measurements,
	// CPU profiles of the relay's broker and agents are taken there, one
	// per node and load (round trips, setups), ProfileSeconds each.
	// Diagnostics only: nothing of it enters the results.
	Profile string
	// ProfileSeconds is each profile's length; 0 is 10.
	ProfileSeconds int
	// Progress, if set, is told before each step.
	Progress func(Progress)

	relayOnly bool // bench ab: no reference paths
}

// Quick is the configuration of c2clab bench --quick: one 32 MiB single
// stream cell, 3 runs, short latency, setup and iperf3 runs (under 30 s).
func Quick(c Config) Config {
	c.Sizes, c.Streams, c.Count = []int64{32 << 20}, []int{1}, 3
	c.RoundTrips, c.Setups, c.IperfSeconds = 300, 30, 1
	return c
}

func (c Config) withDefaults() Config {
	impaired := !c.Link.IsZero()
	switch {
	case c.Sizes == nil && impaired:
		// A lossy 20 ms link carries a few Mbit/s a stream.
		c.Sizes = []int64{4 << 20}
	case c.Sizes == nil:
		c.Sizes = []int64{32 << 20, 128 << 20}
	}
	if c.Warmup == 0 && impaired {
		c.Warmup = 256 << 10
	}
	if c.Streams == nil {
		c.Streams = []int{1, 4}
	}
	c.Count = orInt(c.Count, 5)
	c.RoundTrips = orInt(c.RoundTrips, 1000)
	c.Setups = orInt(c.Setups, 50)
	c.IperfSeconds = orInt(c.IperfSeconds, 4)
	c.ProfileSeconds = orInt(c.ProfileSeconds, 10)
	return c
}

func orInt(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// Progress is where a run is: step Done+1 of Total is starting.
type Progress struct {
	Done, Total int
	Step        string
}

// Result is one benchmark run.
type Result struct {
	Backend string        `json:"backend"`
	Started time.Time     `json:"started"`
	Elapsed time.Duration `json:"elapsed_ns"`
	Count   int           `json:"count"`
	Paths   []Path        `json:"paths"`
	Cells   []Cell        `json:"cells"`
	// RoundTrips are back-to-back 64-byte echo round trips, per path.
	RoundTrips map[string]measure.Distribution `json:"round_trips"`
	// Setup is new connection to first echoed byte, per path.
	Setup map[string]measure.Distribution `json:"setup"`
	// RoundTripsUnderLoad are round trips while a bulk stream runs each
	// way on the same path; only with Config.UnderLoad.
	RoundTripsUnderLoad map[string]measure.Distribution `json:"round_trips_under_load,omitempty"`
	// Link is the desktop link's impairment, if any.
	Link string `json:"link,omitempty"`
	// SetupRuns are the setup probes' totals per path: connections per
	// second (connect, one request, close, like TCP_CRR) and their cost.
	SetupRuns map[string]SetupRun `json:"setup_runs,omitempty"`
	Iperf3    Agreement           `json:"iperf3"`
	// LoadStart and LoadEnd are the machine's load averages (1, 5, 15
	// minutes) when the run started and ended.
	LoadStart Load `json:"load_start"`
	LoadEnd   Load `json:"load_end"`
	// Where says where each of the lab's nodes ran, by node name: on the
	// kubernetes backend its Pod and the cluster's node, elsewhere its
	// machine. LoadStart and LoadEnd are the runner's host's.
	Where map[string]string `json:"where,omitempty"`
	// Notes are what a reader of the figures must know of this run's
	// setup, e.g. that on kubernetes the runner's own hop into the Pod
	// network is part of every path.
	Notes []string `json:"notes,omitempty"`
}

// SetupRun is one path's setup probe as a whole.
type SetupRun struct {
	Count   int           `json:"count"`
	Elapsed time.Duration `json:"elapsed_ns"`
	Cost    *Cost         `json:"cost,omitempty"`
}

// PerSecond is connections set up, used and closed per second.
func (s SetupRun) PerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Count) / s.Elapsed.Seconds()
}

// CPUPer1k is CPU seconds per 1,000 setups; 0 without a cost.
func (s SetupRun) CPUPer1k() float64 {
	if s.Cost == nil || s.Count == 0 {
		return 0
	}
	return s.Cost.CPU.Total().Seconds() * 1000 / float64(s.Count)
}

// Path says whether a path was measured, and why not.
type Path struct {
	Name      string `json:"name"`
	Available bool   `json:"available"`
	Note      string `json:"note,omitempty"`
	// CostSource is how its processes' CPU was read (cpuacct.Source...,
	// pod.CPUSource); empty for a path without processes of its own
	// (direct) or whose cost could not be read (CostNote).
	CostSource string `json:"cost_source,omitempty"`
	// CostNote says why a path with processes of its own has no cost.
	CostNote string `json:"cost_note,omitempty"`
}

// Available lists the paths that were measured.
func (r Result) Available() []string {
	var out []string
	for _, p := range r.Paths {
		if p.Available {
			out = append(out, p.Name)
		}
	}
	return out
}

// Cell is one point of the matrix: every path's runs, one per round.
type Cell struct {
	Size    int64               `json:"size_bytes"` // per stream, after the warm-up
	Streams int                 `json:"streams"`
	Runs    map[string][]Sample `json:"runs"`
}

// Sample is one throughput run: bytes over the receiver's interval (all
// streams together).
type Sample struct {
	Bytes    int64         `json:"bytes"`
	Interval time.Duration `json:"interval_ns"`
	// Moved is every byte of the run, warm-up included, as the Cost
	// covers the whole run.
	Moved int64 `json:"moved_bytes,omitempty"`
	// Cost is what the run cost the path's own processes; nil for direct.
	Cost *Cost `json:"cost,omitempty"`
}

// CPUPerGiB is the path's CPU seconds per GiB moved; 0 without a cost.
func (s Sample) CPUPerGiB() float64 {
	if s.Cost == nil {
		return 0
	}
	return s.Cost.CPUPerGiB(s.Moved)
}

// CPUPerGiB returns path's CPU seconds per GiB, one per round that has a cost.
func (c Cell) CPUPerGiB(path string) []float64 {
	var out []float64
	for _, s := range c.Runs[path] {
		if s.Cost != nil {
			out = append(out, s.CPUPerGiB())
		}
	}
	return out
}

// BitsPerSecond is the sample's rate.
func (s Sample) BitsPerSecond() float64 {
	if s.Interval <= 0 {
		return 0
	}
	return float64(s.Bytes) * 8 / s.Interval.Seconds()
}

// AllocPerGiB returns the objects and bytes path's Go processes allocated
// per GiB, one each per round that has them.
func (c Cell) AllocPerGiB(path string) (objects, bytes []float64) {
	for _, s := range c.Runs[path] {
		if s.Cost == nil || s.Cost.Alloc == nil || s.Moved <= 0 {
			continue
		}
		k := gib / float64(s.Moved)
		objects = append(objects, float64(s.Cost.Alloc.Objects)*k)
		bytes = append(bytes, float64(s.Cost.Alloc.Bytes)*k)
	}
	return objects, bytes
}

// Bits returns path's rates, one per round.
func (c Cell) Bits(path string) []float64 {
	var out []float64
	for _, s := range c.Runs[path] {
		out = append(out, s.BitsPerSecond())
	}
	return out
}

// Ratios returns relay / ref round by round: both were measured in the
// same round, close in time, so load on the machine hits both alike.
// Nil if ref was not measured.
func (c Cell) Ratios(ref string) []float64 {
	relay, other := c.Bits(PathRelay), c.Bits(ref)
	var out []float64
	for i := range min(len(relay), len(other)) {
		if other[i] > 0 {
			out = append(out, relay[i]/other[i])
		}
	}
	return out
}

// Median is the median of v; 0 for none.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// Agreement is the lab's probe against iperf3 on the relayed path, both
// through the same forward of the admin's agent, alternating.
type Agreement struct {
	Available bool      `json:"available"`
	Note      string    `json:"note,omitempty"`
	Probe     []Sample  `json:"probe"`
	Iperf3    []float64 `json:"iperf3_bits_per_second"`
}

// PercentOff is how far the probe's median is from iperf3's, in percent
// of iperf3's.
func (a Agreement) PercentOff() float64 {
	var probe []float64
	for _, s := range a.Probe {
		probe = append(probe, s.BitsPerSecond())
	}
	ip := Median(a.Iperf3)
	if ip == 0 {
		return 0
	}
	d := (Median(probe) - ip) / ip * 100
	if d < 0 {
		return -d
	}
	return d
}
