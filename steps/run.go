package steps

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"
)

// scenarioState is the runner's own bookkeeping of a scenario.
type scenarioState struct {
	// evidence holds the running step's notes (figures, codes), attached
	// to it when it ends.
	evidence []string
	// skipReason is set when a step skipped the scenario.
	skipReason string
	// carried is set when the scenario ends: whether it carried a
	// connection between two agents (see carriedConnection).
	carried bool
	// cleanups run when the scenario ends, after the lab is closed.
	cleanups []func()
	// timing takes a measuring scenario's hold of the timing lock; set
	// by runGodog, called by theLabStarts (nil: nothing to take).
	timing func() error
}

// clock times one scenario: how long it waited for the timing lock and
// how long it ran once it held it, so a slow suite shows which scenarios
// take its time and how much of it is spent waiting for others.
type clock struct {
	asked, got time.Time
}

// cleanup registers f to run when the scenario ends.
func (s *scenarioState) cleanup(f func()) { s.cleanups = append(s.cleanups, f) }

func (s *scenarioState) runCleanups() {
	for _, f := range s.cleanups {
		f()
	}
}

// RunOptions configures one run of the suite.
type RunOptions struct {
	Config
	// Features holds the .feature files; Paths selects within it
	// (default: the whole tree).
	Features fs.FS
	Paths    []string
	// Tags is a godog tag expression: "," or, "&&" and, "~" not, e.g.
	// "@HV-2,@HV-6 && ~@slow".
	Tags string
	// ReportDir, when set, receives cucumber.json.
	ReportDir string
	// Output receives the progress output; nil means os.Stdout.
	Output io.Writer
	// Seed orders scenarios randomly to catch state leaking between them;
	// 0 keeps file order, -1 picks a seed (printed in the summary).
	Seed int64
	// Concurrency, above 1, runs that many scenarios at once, after the
	// timing-sensitive ones (SerialTags) have run alone, which they do
	// first at any concurrency; see phases.
	Concurrency int
}

// Result counts scenarios the way a reader expects: a skipped scenario is
// skipped, with its reason, never passed (godog itself counts ErrSkip as
// passed).
type Result struct {
	Passed, Failed, Skipped int
	// Skips lists "scenario: reason" for every skipped scenario.
	Skips []string
	// Failures lists "scenario: error" for every failed scenario.
	Failures []string
	// Scenarios holds every scenario's outcome in the order they ran.
	Scenarios []Outcome
	// GodogStatus is godog's exit status: 0 ok, 1 failed, 2 bad options.
	GodogStatus int
}

// OK reports whether the run had no failure and godog accepted its options.
func (r Result) OK() bool { return r.Failed == 0 && r.GodogStatus == 0 }

// Summary is the closing line: "N passed, N failed, N skipped".
func (r Result) Summary() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", r.Passed, r.Failed, r.Skipped)
}

// Outcome is one scenario's result.
type Outcome struct {
	Name string
	// Status is "passed", "failed" or "skipped".
	Status string
	// Reason says why it failed or was skipped.
	Reason string
	// URI and Line locate the scenario (for an outline's example, its
	// row), Carried says whether it carried a connection between two
	// agents: certification runs those again in the other pairings.
	URI     string
	Line    int64
	Carried bool
	// Took is the scenario's run, its lab's close included; Waited is the
	// time it waited before, for the timing lock (measuring scenarios of
	// this or another suite process running alone).
	Took, Waited time.Duration
}

// tally records each scenario's outcome; godog may run scenarios
// concurrently, hence the lock.
type tally struct {
	mu  sync.Mutex // guards res
	res Result
}

func (t *tally) record(s *godog.Scenario, err error, w *world, c clock) {
	t.mu.Lock()
	defer t.mu.Unlock()
	skipped := w.scenario.skipReason
	o := Outcome{Name: s.Name, Status: "passed", URI: s.Uri, Carried: w.scenario.carried,
		Took: time.Since(c.got), Waited: c.got.Sub(c.asked)}
	switch {
	case err != nil && !errors.Is(err, godog.ErrSkip):
		o.Status, o.Reason = "failed", err.Error()
		t.res.Failed++
		t.res.Failures = append(t.res.Failures, s.Name+": "+firstLine(o.Reason))
	case skipped != "" || errors.Is(err, godog.ErrSkip):
		if skipped == "" {
			skipped = skipReason(err)
		}
		o.Status, o.Reason = "skipped", skipped
		t.res.Skipped++
		t.res.Skips = append(t.res.Skips, s.Name+": "+skipped)
	default:
		t.res.Passed++
	}
	t.res.Scenarios = append(t.res.Scenarios, o)
}

func skipReason(err error) string {
	r := strings.TrimSuffix(strings.TrimSpace(err.Error()), ": "+godog.ErrSkip.Error())
	if r == godog.ErrSkip.Error() || r == "" {
		return "no reason given"
	}
	return r
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Run runs the suite and prints the summary line with every skip reason.
func Run(opts RunOptions) (Result, error) {
	out := &lockedWriter{w: cmp.Or[io.Writer](opts.Output, os.Stdout)}
	// godog's formatters and the steps of concurrent scenarios share it.
	opts.Output = out
	if opts.ReportDir != "" {
		if err := os.MkdirAll(opts.ReportDir, 0o755); err != nil {
			return Result{}, fmt.Errorf("report dir: %w", err)
		}
	}
	paths := opts.Paths
	if len(paths) == 0 {
		paths = []string{"."} // godog would look for a "features" folder inside the FS
	}
	t := &tally{}
	ph, err := phases(opts)
	if err != nil {
		return Result{}, err
	}
	var reports []string
	for i, p := range ph {
		format := "pretty"
		if opts.ReportDir != "" {
			// No godog junit: it counts a skipped scenario as passed; the
			// caller writes JUnit from the Cucumber JSON (report.WriteJUnit).
			// Each phase writes its own, merged below.
			reports = append(reports, filepath.Join(opts.ReportDir, fmt.Sprintf("cucumber.phase%d.json", i)))
			format += ",cucumber:" + reports[i]
		}
		status := runGodog(opts, t, format, paths, p)
		t.res.GodogStatus = max(t.res.GodogStatus, status)
	}
	if opts.ReportDir != "" {
		if err := mergeCucumber(filepath.Join(opts.ReportDir, "cucumber.json"), reports); err != nil {
			return Result{}, err
		}
	}
	res := t.res
	sort.Strings(res.Skips)
	for _, s := range res.Skips {
		fmt.Fprintln(out, "skipped:", s)
	}
	fmt.Fprintln(out, res.Summary())
	return res, nil
}

// runGodog runs one phase of the suite, recording into t.
func runGodog(opts RunOptions, t *tally, format string, paths []string, p phase) int {
	lock := &phaseLock{measures: p.measures}
	defer lock.close()
	suite := godog.TestSuite{
		Name: "c2clab",
		ScenarioInitializer: func(sc *godog.ScenarioContext) {
			Register(sc, opts.Config, opts.Output)
			var unlock func()
			var c clock
			sc.Before(func(ctx context.Context, s *godog.Scenario) (_ context.Context, err error) {
				if measures(s) != p.measures {
					return ctx, fmt.Errorf("scenario %q in the wrong phase: measures %t, phase %t", s.Name, measures(s), p.measures)
				}
				take := func() (err error) {
					c.asked = time.Now()
					unlock, err = lock.enter()
					c.got = time.Now()
					return err
				}
				if !p.measures {
					return ctx, take()
				}
				// Taken when the lab starts: a measuring scenario that the
				// backend skips before (an impaired link without links)
				// must not stop every suite of the machine for nothing,
				// which a whole drain of their scenarios costs.
				c.asked, c.got = time.Now(), time.Now()
				getWorld(ctx).scenario.timing = take
				return ctx, nil
			})
			sc.After(func(ctx context.Context, s *godog.Scenario, err error) (context.Context, error) {
				t.record(s, err, getWorld(ctx), c)
				if unlock != nil { // after the lab's close: its clean-up is load too
					unlock()
				}
				return ctx, nil
			})
		},
		Options: &godog.Options{
			Format: format, Output: opts.Output, FS: opts.Features, Paths: paths, Tags: p.tags,
			Strict: true, NoColors: true, Randomize: opts.Seed, Concurrency: p.concurrency,
		},
	}
	return suite.Run()
}

// lockedWriter serializes writes to w, so that lines printed at once by
// godog and by steps of concurrent scenarios do not interleave or race.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
