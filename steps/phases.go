package steps

import (
	"slices"
	"strings"

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
// with its image built once. netns scenarios gained nothing: the kernel's
// namespace and link set-up serializes them (one A/B side by side at load
// 24: 159 s one at a time, 220 s three at a time), so they run one at a
// time.
func DefaultConcurrency(backend string) int {
	if backend == lab.BackendNetns {
		return 1
	}
	return 3
}

// phase is one godog run of the suite: the scenarios its tag expression
// selects, so many at a time.
type phase struct {
	tags        string
	concurrency int
}

// phases splits a run with Concurrency above 1 into a serial phase (the
// selected scenarios that carry a SerialTag) and a concurrent one (the
// rest); every selected scenario is in exactly one. godog's tag
// expressions are an AND ("&&") of ORs (","), so joining with "&&" keeps
// the caller's selection whatever it is.
func phases(opts RunOptions) ([]phase, error) {
	if opts.Concurrency <= 1 {
		return []phase{{tags: opts.Tags, concurrency: 1}}, nil
	}
	not := make([]string, len(SerialTags))
	for i, t := range SerialTags {
		not[i] = "~" + t
	}
	return []phase{
		{tags: and(opts.Tags, strings.Join(SerialTags, ",")), concurrency: 1},
		{tags: and(opts.Tags, strings.Join(not, " && ")), concurrency: opts.Concurrency},
	}, nil
}

// and joins two godog tag expressions; "" selects everything.
func and(a, b string) string {
	if strings.TrimSpace(a) == "" {
		return b
	}
	return a + " && " + b
}
