package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/bench"
)

// writeRun writes a bench.json whose relay runs at relay[i] Mbit/s and the
// direct path at 1000, round by round.
func writeRun(t *testing.T, backend string, relay ...float64) string {
	runs := map[string][]bench.Sample{}
	for _, v := range relay {
		runs[bench.PathRelay] = append(runs[bench.PathRelay], bench.Sample{Bytes: int64(v * 1e6 / 8), Interval: time.Second})
		runs[bench.PathDirect] = append(runs[bench.PathDirect], bench.Sample{Bytes: 1000e6 / 8, Interval: time.Second})
	}
	r := bench.Result{Backend: backend, Count: len(relay), Cells: []bench.Cell{{Size: 32 << 20, Streams: 1, Runs: runs}},
		Paths: []bench.Path{{Name: bench.PathRelay, Available: true}, {Name: bench.PathDirect, Available: true}}}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bench.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBenchCompareExitStatus(t *testing.T) {
	base := writeRun(t, "netns", 400, 410, 395, 405, 402, 398)
	tests := []struct {
		name string
		cur  string
		want int
	}{
		{"unchanged", writeRun(t, "netns", 404, 396, 407, 399, 401, 409), exitOK},
		{"relay 30% slower", writeRun(t, "netns", 280, 287, 276, 283, 281, 279), exitFailed},
		{"another backend", writeRun(t, "local", 400, 410, 395, 405, 402, 398), exitBadInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := run([]string{"bench", "compare", base, tt.cur}); got != tt.want {
				t.Fatalf("bench compare exit %d, want %d", got, tt.want)
			}
		})
	}
}

func TestBenchABRefusesBadInputWithExit2(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"no binaries":      {"bench", "ab"},
		"not a binary":     {"bench", "ab", "--base", t.TempDir(), "--candidate", exe},
		"too few rounds":   {"bench", "ab", "--base", exe, "--candidate", exe, "--rounds", "3"},
		"unknown backend":  {"bench", "ab", "--base", exe, "--candidate", exe, "--backend", "k8s"},
		"impaired locally": {"bench", "--backend", "local", "--impaired"},
		"zero streams":     {"bench", "--streams", "0"},
		"node env no =":    {"bench", "--node-env", "GOMAXPROCS"},
		"node env no key":  {"bench", "--node-env", "=1"},
		"negative profile": {"bench", "--profile", "-1"},
	} {
		t.Run(name, func(t *testing.T) {
			if got := run(args); got != exitBadInput {
				t.Fatalf("%v: exit %d, want %d", args, got, exitBadInput)
			}
		})
	}
}
