package steps

import (
	"slices"
	"strings"
	"sync"

	"github.com/c2clab/c2clab/sim/lab"

	"github.com/cucumber/godog"
)

// SerialTags select the scenarios that measure rates, round trips or
// resource use against a tolerance (NET-2's shaped links, NET-3's relay
// against the direct path, the load soak), and those tagged @serial that
// race two timers (a keepalive expiry against the broker's setup timeout
// lost to a busy machine once in the certification self-test): they run alone, in a serial
// phase before the others, so that no other scenario's lab competes with
// them for the CPU. Scenarios carry the tags themselves or inherit them
// from their feature.
var SerialTags = []string{"@NET-2", "@NET-3", "@load", "@serial"}

// measures reports whether s carries a SerialTag: it must not share the
// machine with other scenarios, of this run or another (timingLock).
func measures(s *godog.Scenario) bool {
	for _, t := range s.Tags {
		if slices.Contains(SerialTags, t.Name) {
			return true
		}
	}
	return false
}

// DefaultConcurrency is how many scenarios run at once on backend when the
// caller does not say. Loopback and container scenarios mostly wait (for
// nodes to start, for registrations, for the engine), so 3 at a time keep
// 2 cores busy: on a machine at load 25, the loopback suite went from 123 s
// to 55 s, and a container part from over 600 s (go test's limit) to 275 s
// with its image built once. netns runs 2: three at a time once lost to
// one (159 s against 220 s at load 24, when each node was a re-exec of the
// test binary, 40 ms of CPU a start), but with the light c2clab-node the
// netns suite's 147 scenarios ran 180 s of scenario time in 113 s of wall
// two at a time (load 13-15), where one at a time cannot take less than
// their sum (171 s in the run beside it). docs/PERFORMANCE.md, "Suite
// time".
func DefaultConcurrency(backend string) int {
	if backend == lab.BackendNetns {
		return 2
	}
	return 3
}

// phase is one godog run of the suite: the scenarios its tag expression
// selects, so many at a time. In a phase that measures, every scenario
// carries a SerialTag, and the phase holds the timing lock exclusively
// from its first scenario to its end (phaseLock).
type phase struct {
	tags        string
	concurrency int
	measures    bool
}

// phases splits a run into a serial phase (the selected scenarios that
// carry a SerialTag, one at a time) and the rest (Concurrency at a time,
// at least 1); every selected scenario is in exactly one. The split holds
// at Concurrency 1 too (netns): the measuring scenarios then run as one
// block, so the machine's other suites drain once for them rather than
// once per measuring scenario met in file order. godog's tag expressions
// are an AND ("&&") of ORs (","), so joining with "&&" keeps the caller's
// selection whatever it is.
func phases(opts RunOptions) ([]phase, error) {
	not := make([]string, len(SerialTags))
	for i, t := range SerialTags {
		not[i] = "~" + t
	}
	return []phase{
		{tags: and(opts.Tags, strings.Join(SerialTags, ",")), concurrency: 1, measures: true},
		{tags: and(opts.Tags, strings.Join(not, " && ")), concurrency: max(opts.Concurrency, 1)},
	}, nil
}

// and joins two godog tag expressions; "" selects everything.
func and(a, b string) string {
	if strings.TrimSpace(a) == "" {
		return b
	}
	return a + " && " + b
}

// phaseLock is the timing lock as a phase takes it. A measuring phase
// takes it exclusively when its first scenario starts a lab (a scenario
// skipped before that takes nothing: runGodog) and keeps it to the
// phase's end: taken per scenario, every measuring scenario waited for all the
// scenarios the machine's other suite processes had started meanwhile to
// end (about one scenario's time each, with the machine half idle), and a
// suite met about 70 measuring scenarios in go test ./.... Taken only at
// the first lab, a phase that selects none, or whose scenarios all skip
// on the backend, costs the others nothing.
// Any other phase's scenarios each hold it shared while they run.
type phaseLock struct {
	measures bool
	mu       sync.Mutex // guards unlock
	unlock   func()     // set while a measuring phase holds the lock
}

// enter is called before each scenario of the phase; the func it returns
// is called after the scenario (its lab closed).
func (l *phaseLock) enter() (leave func(), err error) {
	if !l.measures {
		return timingLock(false)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.unlock == nil {
		if l.unlock, err = timingLock(true); err != nil {
			return nil, err
		}
	}
	return func() {}, nil
}

// close releases a measuring phase's hold; call it when the phase ends.
func (l *phaseLock) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.unlock != nil {
		l.unlock()
		l.unlock = nil
	}
}
