package steps

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/cucumber/godog"

	"github.com/c2clab/c2clab/sim/zpaapi"
	"github.com/c2clab/c2clab/sim/zpaapi/zpaapitest"
)

// zpaPull is a scenario's replaying ZPA API and what its pull did.
type zpaPull struct {
	srv     *zpaapitest.Server
	fixture string // the fixtures/ directory the server replays
	mu      sync.Mutex
	lines   []string // what the pull logged
	res     *zpaapi.Result
	err     error
	dir     string // where the pulled bodies were written
}

// registerPull adds the steps of `tenant pull` against a replaying ZPA API
// (features/tenant_pull.feature).
func registerPull(sc *godog.ScenarioContext) {
	sc.Step(`^a ZPA API replaying "([^"]+)"$`, aZPAAPIReplaying)
	sc.Step(`^the ZPA API refuses sign-in$`, theZPAAPIRefusesSignIn)
	sc.Step(`^the ZPA API answers "([^"]+)" with 429 and Retry-After "([^"]*)" once$`, theZPAAPIRateLimits)
	sc.Step(`^the tenant is pulled with the (legacy|OneAPI) API client$`, theTenantIsPulled)
	sc.Step(`^the pull succeeds$`, thePullSucceeds)
	sc.Step(`^the pull fails with "([^"]+)"$`, thePullFailsWith)
	sc.Step(`^the pulled bodies are those of "([^"]+)"$`, thePulledBodiesAre)
	sc.Step(`^the pull fetched "([^"]+)" in (\d+) pages$`, thePullFetchedPages)
	sc.Step(`^the pull retried "([^"]+)" after a 429$`, thePullRetriedAfter429)
	sc.Step(`^nothing the pull printed names a credential$`, nothingNamesACredential)
}

func getPull(ctx context.Context) (*zpaPull, error) {
	p := getWorld(ctx).pull
	if p == nil {
		return nil, fmt.Errorf("the scenario starts no ZPA API: begin with `a ZPA API replaying \"fixtures/zpa/...\"`")
	}
	return p, nil
}

// pulledDir is the directory the scenario's pull wrote, for steps that
// import it.
func pulledDir(ctx context.Context) (string, error) {
	p, err := getPull(ctx)
	if err != nil {
		return "", err
	}
	if p.dir == "" {
		return "", fmt.Errorf("no pull has written a directory yet (last pull: %v)", p.err)
	}
	return p.dir, nil
}

func aZPAAPIReplaying(ctx context.Context, dir string) (context.Context, error) {
	w := getWorld(ctx)
	sub := strings.TrimPrefix(dir, "fixtures/")
	fsys, err := fs.Sub(w.cfg.Fixtures, sub)
	if err != nil {
		return ctx, err
	}
	if _, err := fs.ReadDir(fsys, "."); err != nil {
		return ctx, fmt.Errorf("no fixture directory %q: %w", dir, err)
	}
	srv := zpaapitest.NewServer(fsys, zpaapitest.Options{})
	w.scenario.cleanup(srv.Close)
	w.pull = &zpaPull{srv: srv, fixture: sub}
	return ctx, nil
}

func theZPAAPIRefusesSignIn(ctx context.Context) error {
	p, err := getPull(ctx)
	if err != nil {
		return err
	}
	p.srv.FailSignIn(true)
	return nil
}

func theZPAAPIRateLimits(ctx context.Context, resource, retryAfter string) error {
	p, err := getPull(ctx)
	if err != nil {
		return err
	}
	p.srv.RateLimit(resource, retryAfter)
	return nil
}

// theTenantIsPulled pulls with the real timer, so a Retry-After is waited
// out as a user's pull would.
func theTenantIsPulled(ctx context.Context, flow string) error {
	p, err := getPull(ctx)
	if err != nil {
		return err
	}
	cfg := p.srv.Config(zpaapi.FlowLegacy)
	if flow == "OneAPI" {
		cfg = p.srv.Config(zpaapi.FlowOneAPI)
	}
	cfg.Logf = func(format string, args ...any) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.lines = append(p.lines, fmt.Sprintf(format, args...))
	}
	p.res, p.err = zpaapi.Pull(ctx, cfg)
	if p.err != nil {
		return nil
	}
	dir, err := os.MkdirTemp("", "c2clab-pull-")
	if err != nil {
		return err
	}
	getWorld(ctx).scenario.cleanup(func() { os.RemoveAll(dir) })
	p.dir = filepath.Join(dir, "tenant")
	return zpaapi.WriteDir(p.dir, p.res.Bodies)
}

func thePullSucceeds(ctx context.Context) error {
	p, err := getPull(ctx)
	if err != nil {
		return err
	}
	if p.err != nil {
		return fmt.Errorf("the pull failed: %w", p.err)
	}
	note(ctx, "%d bodies pulled, %d skipped", len(p.res.Bodies), len(p.res.Skipped))
	return nil
}

func thePullFailsWith(ctx context.Context, text string) error {
	p, err := getPull(ctx)
	if err != nil {
		return err
	}
	if p.err == nil {
		return fmt.Errorf("the pull succeeded with %d bodies; want it to fail with %q", len(p.res.Bodies), text)
	}
	if !strings.Contains(p.err.Error(), text) {
		return fmt.Errorf("the pull failed with %q; want %q in it", p.err, text)
	}
	note(ctx, "pull error: %s", p.err)
	return nil
}

// thePulledBodiesAre compares the written directory with a fixture
// directory, file by file and byte by byte.
func thePulledBodiesAre(ctx context.Context, dir string) error {
	p, err := getPull(ctx)
	if err != nil {
		return err
	}
	if p.dir == "" {
		return fmt.Errorf("nothing was pulled (last pull: %v)", p.err)
	}
	want, err := fs.Sub(getWorld(ctx).cfg.Fixtures, strings.TrimPrefix(dir, "fixtures/"))
	if err != nil {
		return err
	}
	wantNames, err := fileNames(want)
	if err != nil {
		return err
	}
	gotNames, err := fileNames(os.DirFS(p.dir))
	if err != nil {
		return err
	}
	if !slices.Equal(gotNames, wantNames) {
		return fmt.Errorf("pulled %v, want the files of %s: %v", gotNames, dir, wantNames)
	}
	for _, n := range wantNames {
		a, _ := os.ReadFile(filepath.Join(p.dir, n))
		b, _ := fs.ReadFile(want, n)
		if !bytes.Equal(a, b) {
			return fmt.Errorf("pulled %s differs from %s/%s", n, dir, n)
		}
	}
	note(ctx, "%d files, identical to %s", len(wantNames), dir)
	return nil
}

func fileNames(fsys fs.FS) ([]string, error) {
	es, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var ns []string
	for _, e := range es {
		ns = append(ns, e.Name())
	}
	return ns, nil
}

// resourcePath is the path of a zpaapi.Resources entry for the replay
// server's customer, without the OneAPI prefix.
func resourcePath(name string) (string, error) {
	var names []string
	for _, r := range zpaapi.Resources {
		if r.Name == name && !r.PerIdP {
			return strings.ReplaceAll(r.Path, "{customerId}", zpaapitest.DefaultCustomerID), nil
		}
		names = append(names, r.Name)
	}
	return "", fmt.Errorf("no ZPA resource %q (not per IdP) among %v", name, names)
}

// requestsFor is what the replaying server was asked for resource, in
// order, under either client's path prefix.
func requestsFor(ctx context.Context, resource string) ([]zpaapitest.Request, error) {
	p, err := getPull(ctx)
	if err != nil {
		return nil, err
	}
	path, err := resourcePath(resource)
	if err != nil {
		return nil, err
	}
	var out []zpaapitest.Request
	for _, r := range p.srv.Requests() {
		if strings.TrimPrefix(r.Path, "/zpa") == path {
			out = append(out, r)
		}
	}
	return out, nil
}

// thePullFetchedPages checks a resource was fetched page by page.
func thePullFetchedPages(ctx context.Context, resource string, pages int) error {
	reqs, err := requestsFor(ctx, resource)
	if err != nil {
		return err
	}
	var got []string
	for _, r := range reqs {
		if r.Status == 200 {
			got = append(got, r.Query.Get("page"))
		}
	}
	var want []string
	for i := 1; i <= pages; i++ {
		want = append(want, fmt.Sprint(i))
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("pages of %q answered 200: %v, want %v", resource, got, want)
	}
	return nil
}

// thePullRetriedAfter429 checks the server answered a resource 429 and
// then 200.
func thePullRetriedAfter429(ctx context.Context, resource string) error {
	reqs, err := requestsFor(ctx, resource)
	if err != nil {
		return err
	}
	var statuses []int
	for _, r := range reqs {
		statuses = append(statuses, r.Status)
	}
	i := slices.Index(statuses, 429)
	if i < 0 || !slices.Contains(statuses[i:], 200) {
		return fmt.Errorf("answers to %q: %v, want a 429 followed by a 200", resource, statuses)
	}
	note(ctx, "answers to %s: %v", resource, statuses)
	return nil
}

// nothingNamesACredential checks the pull's log lines and error for the
// client ID, the secret and every token the server issued; it fails when
// the pull logged nothing, as the check would then prove nothing.
func nothingNamesACredential(ctx context.Context) error {
	p, err := getPull(ctx)
	if err != nil {
		return err
	}
	p.mu.Lock()
	out := strings.Join(p.lines, "\n")
	p.mu.Unlock()
	if out == "" {
		return fmt.Errorf("the pull logged nothing to check")
	}
	if p.err != nil {
		out += "\n" + p.err.Error()
	}
	cfg := p.srv.Config(zpaapi.FlowLegacy)
	for _, s := range append([]string{cfg.ClientID, cfg.ClientSecret}, p.srv.Tokens()...) {
		if strings.Contains(out, s) {
			return fmt.Errorf("the pull printed a credential or token %q", s)
		}
	}
	return nil
}
