package pod

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// spinFor is how long the fake node of role "spin" is busy.
const spinFor = 400 * time.Millisecond

// TestCPUReadsARunningNode runs a node that is busy for spinFor after its
// ready file and reads its CPU through the API while it runs: more once
// it is done than at its start, by about what it burned; a node that is
// not running is a 404 naming it.
func TestCPUReadsARunningNode(t *testing.T) {
	c := serve(t)
	dir := t.TempDir()
	cfg, ready := filepath.Join(dir, "n.json"), filepath.Join(dir, "n.ready")
	out, err := c.Run(t.Context(), RunRequest{Name: "busy", Args: []string{"spin", "--config", cfg, "--ready-file", ready},
		Env: []string{fakeNodeEnv + "=1"}, Files: map[string][]byte{cfg: []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Signal(t.Context(), "busy", "KILL"); out.Exit() })
	waitFile(t, c, ready)
	first, err := c.CPU(t.Context(), "busy")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(spinFor + 200*time.Millisecond)
	last, err := c.CPU(t.Context(), "busy")
	if err != nil {
		t.Fatal(err)
	}
	got := last.Usage.Sub(first.Usage).Total()
	t.Logf("node busy for %v after its ready file; the machine read %v more CPU (%s)", spinFor, got, last.Source)
	// A loaded machine gives the node less than a core: a quarter of
	// its busy time is required, more than it could burn is refused.
	if got < spinFor/4 || got > spinFor+time.Second {
		t.Errorf("CPU went up by %v over a %v busy spell, want between %v and %v", got, spinFor, spinFor/4, spinFor+time.Second)
	}
	if last.Source != CPUSource {
		t.Errorf("source %q, want %q", last.Source, CPUSource)
	}
	if _, err := c.CPU(t.Context(), "nobody"); err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), `"nobody"`) {
		t.Errorf("CPU of a node that does not run: %v, want a 404 naming it", err)
	}
}
