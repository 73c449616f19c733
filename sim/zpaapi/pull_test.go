package zpaapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/zpaapi"
	"github.com/c2clab/c2clab/sim/zpaapi/zpaapitest"
)

const helpdesk = "../../fixtures/zpa/helpdesk"

// recorder captures Logf lines and Sleep waits.
type recorder struct {
	mu    sync.Mutex
	lines []string
	waits []time.Duration
}

func (r *recorder) logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
}

func (r *recorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, d)
	return ctx.Err()
}

func (r *recorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

func newServer(t *testing.T, dir string, opt zpaapitest.Options) *zpaapitest.Server {
	t.Helper()
	s := zpaapitest.NewServerDir(dir, opt)
	t.Cleanup(s.Close)
	return s
}

func config(s *zpaapitest.Server, flow zpaapi.Flow, rec *recorder) zpaapi.Config {
	c := s.Config(flow)
	c.Logf, c.Sleep = rec.logf, rec.sleep
	return c
}

// assertNoSecrets fails if any credential or issued token appears in text.
func assertNoSecrets(t *testing.T, s *zpaapitest.Server, cfg zpaapi.Config, text string) {
	t.Helper()
	secrets := append([]string{cfg.ClientID, cfg.ClientSecret}, s.Tokens()...)
	if len(cfg.PrivateKey) > 0 {
		secrets = append(secrets, string(cfg.PrivateKey))
	}
	for _, sec := range secrets {
		if sec != "" && strings.Contains(text, sec) {
			t.Errorf("output carries a credential or token %q:\n%s", sec, text)
		}
	}
}

// assertSameDir compares the written directory with the fixture directory
// file by file and byte by byte.
func assertSameDir(t *testing.T, got, want string) {
	t.Helper()
	names := func(dir string) []string {
		es, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var ns []string
		for _, e := range es {
			ns = append(ns, e.Name())
		}
		return ns
	}
	g, w := names(got), names(want)
	if !slices.Equal(g, w) {
		t.Fatalf("written files %v, want %v", g, w)
	}
	for _, n := range w {
		a, _ := os.ReadFile(filepath.Join(got, n))
		b, _ := os.ReadFile(filepath.Join(want, n))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from the fixture", n)
		}
	}
}

func TestPullWritesWhatTheAPIServed(t *testing.T) {
	for _, flow := range []zpaapi.Flow{zpaapi.FlowLegacy, zpaapi.FlowOneAPI} {
		t.Run(flow.String(), func(t *testing.T) {
			s := newServer(t, helpdesk, zpaapitest.Options{})
			rec := &recorder{}
			cfg := config(s, flow, rec)
			res, err := zpaapi.Pull(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "pulled")
			if err := zpaapi.WriteDir(out, res.Bodies); err != nil {
				t.Fatal(err)
			}
			assertSameDir(t, out, helpdesk)
			if len(res.Skipped) != 0 {
				t.Errorf("skipped %v, want none", res.Skipped)
			}
			assertFlowPaths(t, s.Requests(), flow)
			assertNoSecrets(t, s, cfg, rec.text())
		})
	}
}

// assertFlowPaths checks the sign-in came first at the flow's endpoint and
// every GET carried the flow's prefix and the SDK's page parameters.
func assertFlowPaths(t *testing.T, reqs []zpaapitest.Request, flow zpaapi.Flow) {
	t.Helper()
	signin, prefix := zpaapitest.LegacySignInPath, ""
	if flow == zpaapi.FlowOneAPI {
		signin, prefix = zpaapitest.OneAPITokenPath, "/zpa"
	}
	if len(reqs) == 0 || reqs[0].Path != signin || reqs[0].Method != "POST" {
		t.Fatalf("first request %+v, want POST %s", reqs[0], signin)
	}
	pages := map[string][]string{}
	for _, r := range reqs[1:] {
		rest, ok := strings.CutPrefix(r.Path, prefix)
		if r.Status != 200 || !ok || strings.HasPrefix(rest, "/zpa/") {
			t.Errorf("%s %s answered %d; want 200 and the prefix %q of the %s flow", r.Method, r.Path, r.Status, prefix, flow)
		}
		if r.Query.Get("page") != "" {
			pages[rest] = append(pages[rest], r.Query.Get("page"))
			if r.Query.Get("pagesize") != "500" {
				t.Errorf("%s: pagesize %q, want 500", r.Path, r.Query.Get("pagesize"))
			}
		}
	}
	for _, res := range []string{"application", "policySet/rules/policyType/ACCESS_POLICY"} {
		p := "/mgmtconfig/v1/admin/customers/" + zpaapitest.DefaultCustomerID + "/" + res
		if got := pages[p]; !slices.Equal(got, []string{"1", "2"}) {
			t.Errorf("pages of %s: %v, want [1 2]", p, got)
		}
	}
}
func TestPullOneAPIWithPrivateKey(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	s := newServer(t, helpdesk, zpaapitest.Options{ClientKey: &zpaapitest.PublicKey{Key: &key.PublicKey}})
	rec := &recorder{}
	cfg := config(s, zpaapi.FlowOneAPI, rec)
	cfg.ClientSecret, cfg.PrivateKey = "", pemKey
	res, err := zpaapi.Pull(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if fixtures, _ := os.ReadDir(helpdesk); len(res.Bodies) != len(fixtures) {
		t.Errorf("%d bodies, want the %d of %s", len(res.Bodies), len(fixtures), helpdesk)
	}

	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ = x509.MarshalPKCS8PrivateKey(other)
	cfg.PrivateKey = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	_, err = zpaapi.Pull(context.Background(), cfg)
	var se *zpaapi.SignInError
	if !errors.As(err, &se) {
		t.Fatalf("a foreign key: %v, want a SignInError", err)
	}
	assertNoSecrets(t, s, cfg, err.Error()+rec.text())
	// The refusal echoes the JWT assertion; it is signed by the key, so a
	// leak would show as its signature-bearing "eyJ" header.
	if strings.Contains(err.Error(), "eyJ") {
		t.Errorf("the client assertion reached the error: %s", err)
	}
}

func TestFailedSignIn(t *testing.T) {
	for _, flow := range []zpaapi.Flow{zpaapi.FlowLegacy, zpaapi.FlowOneAPI} {
		t.Run(flow.String(), func(t *testing.T) {
			s := newServer(t, helpdesk, zpaapitest.Options{})
			s.FailSignIn(true)
			rec := &recorder{}
			cfg := config(s, flow, rec)
			_, err := zpaapi.Pull(context.Background(), cfg)
			var se *zpaapi.SignInError
			if !errors.As(err, &se) || se.Status != 401 {
				t.Fatalf("got %v, want a 401 SignInError", err)
			}
			want := zpaapi.EnvZPAClientSecret
			if flow == zpaapi.FlowOneAPI {
				want = zpaapi.EnvVanityDomain
			}
			if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "401") {
				t.Errorf("error %q does not say what to check (%s) and the status", err, want)
			}
			// The server echoed client ID and secret; neither may reach us.
			if !strings.Contains(err.Error(), "[redacted]") {
				t.Errorf("error %q: the echoed credentials were not visibly redacted", err)
			}
			assertNoSecrets(t, s, cfg, err.Error()+"\n"+rec.text())
			if n := len(s.Requests()); n != 1 {
				t.Errorf("%d requests after a refused sign-in, want 1", n)
			}
		})
	}
}

func TestRateLimitThenSuccess(t *testing.T) {
	s := newServer(t, helpdesk, zpaapitest.Options{})
	s.RateLimit("rules.ACCESS_POLICY", "7", "")
	date := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	s.RateLimit("application", date.Add(3*time.Second).Format(http.TimeFormat))
	rec := &recorder{}
	cfg := config(s, zpaapi.FlowLegacy, rec)
	cfg.Now = func() time.Time { return date }
	res, err := zpaapi.Pull(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// application: an HTTP date 3 s ahead; rules: 7 s, then no header
	// (the doubling backoff's second step, 4 s).
	want := []time.Duration{3 * time.Second, 7 * time.Second, 4 * time.Second}
	if !slices.Equal(rec.waits, want) {
		t.Errorf("waited %v, want %v", rec.waits, want)
	}
	out := filepath.Join(t.TempDir(), "pulled")
	if err := zpaapi.WriteDir(out, res.Bodies); err != nil {
		t.Fatal(err)
	}
	assertSameDir(t, out, helpdesk)
	assertNoSecrets(t, s, cfg, rec.text())
}

func TestRateLimitIsBounded(t *testing.T) {
	cases := []struct {
		name    string
		after   []string
		tooLong bool
		waits   int
	}{
		{"too many 429s", []string{"1", "1", "1", "1"}, false, 2},
		{"Retry-After beyond the limit", []string{"3600"}, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, helpdesk, zpaapitest.Options{})
			s.RateLimit("application", tc.after...)
			rec := &recorder{}
			cfg := config(s, zpaapi.FlowLegacy, rec)
			cfg.MaxRetries, cfg.MaxRetryWait = 2, time.Minute
			_, err := zpaapi.Pull(context.Background(), cfg)
			var rl *zpaapi.RateLimitError
			if !errors.As(err, &rl) || rl.TooLong != tc.tooLong {
				t.Fatalf("got %v, want a RateLimitError (too long: %v)", err, tc.tooLong)
			}
			if len(rec.waits) != tc.waits {
				t.Errorf("waited %v, want %d waits", rec.waits, tc.waits)
			}
			assertNoSecrets(t, s, cfg, err.Error()+rec.text())
		})
	}
}

func TestRateLimitWaitEndsWithContext(t *testing.T) {
	s := newServer(t, helpdesk, zpaapitest.Options{})
	s.RateLimit("application", "60")
	cfg := s.Config(zpaapi.FlowLegacy) // the real timer
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	_, err := zpaapi.Pull(ctx, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled while waiting out a Retry-After", err)
	}
}

func TestExpiredTokenSignsInAgain(t *testing.T) {
	s := newServer(t, helpdesk, zpaapitest.Options{})
	rec := &recorder{}
	cfg := config(s, zpaapi.FlowOneAPI, rec)
	var once sync.Once
	cfg.Logf = func(format string, args ...any) {
		rec.logf(format, args...)
		if strings.Contains(fmt.Sprintf(format, args...), "/rules/") {
			once.Do(s.ExpireTokens) // the token runs out in the middle of the pull
		}
	}
	if _, err := zpaapi.Pull(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	signins := 0
	for _, r := range s.Requests() {
		if r.Path == zpaapitest.OneAPITokenPath {
			signins++
		}
	}
	if signins < 2 {
		t.Errorf("%d sign-ins, want a second after the token expired", signins)
	}
	assertNoSecrets(t, s, cfg, rec.text())
}

func TestIncompleteSetFailsThePull(t *testing.T) {
	s := newServer(t, "../../fixtures/zpa/incomplete-pages", zpaapitest.Options{})
	_, err := zpaapi.Pull(context.Background(), s.Config(zpaapi.FlowLegacy))
	var he *zpaapi.HTTPError
	if !errors.As(err, &he) || he.Status != 404 || !strings.Contains(he.Endpoint, "page=2") {
		t.Fatalf("got %v, want a 404 for page 2", err)
	}
}

func TestOptionalResourceRefusedIsReported(t *testing.T) {
	dir := t.TempDir()
	es, _ := os.ReadDir(helpdesk)
	for _, e := range es {
		if e.Name() == "ipRanges.json" || e.Name() == "approval.page-1.json" {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(helpdesk, e.Name()))
		os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
	}
	s := newServer(t, dir, zpaapitest.Options{})
	res, err := zpaapi.Pull(context.Background(), s.Config(zpaapi.FlowLegacy))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) != 2 || res.Skipped[0].Resource != "approval" || res.Skipped[1].Resource != "ipRanges" || res.Skipped[1].Status != 404 {
		t.Errorf("skipped %+v, want approval and ipRanges with 404", res.Skipped)
	}
}

func TestWriteDirWritesAllOrNothing(t *testing.T) {
	parent := t.TempDir()
	empty := filepath.Join(parent, "empty")
	os.Mkdir(empty, 0o755)
	bodies := []zpaapi.Body{{File: "a.json", Data: []byte("1")}, {File: "b.json", Data: []byte("2")}}
	for _, dir := range []string{filepath.Join(parent, "new", "tenant"), empty} {
		if err := zpaapi.WriteDir(dir, bodies); err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "b.json")); string(b) != "2" {
			t.Errorf("%s/b.json = %q", dir, b)
		}
	}
	bad := filepath.Join(parent, "bad")
	err := zpaapi.WriteDir(bad, append(bodies, zpaapi.Body{File: "a.json"}))
	if err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("a name given twice: %v", err)
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("a refused write left %s behind", bad)
	}
	if es, _ := os.ReadDir(parent); len(es) != 2 {
		t.Errorf("%d entries in %s, want new, empty, and no partial directory", len(es), parent)
	}
}

func TestWriteDirRefusesAnUsedDirectory(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "application.page-3.json"), []byte("{}"), 0o644)
	err := zpaapi.WriteDir(dir, []zpaapi.Body{{File: "application.page-1.json", Data: []byte("{}")}})
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("got %v, want a refusal of a non-empty directory", err)
	}
}
