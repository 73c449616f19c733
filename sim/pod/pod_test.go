package pod

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeNodeEnv makes the test binary, which the server runs as its own
// executable, act as a node: `node ROLE --config C --ready-file R`.
const fakeNodeEnv = "C2CLAB_POD_TEST_NODE"

func TestMain(m *testing.M) {
	if os.Getenv(fakeNodeEnv) == "1" {
		os.Exit(fakeNode(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeNode checks that its config was shipped, writes its ready file and
// says so on stdout and stderr, then waits for SIGTERM; role "fail" exits 3
// at once, role "spin" is busy for spinFor after its ready file.
func fakeNode(args []string) int {
	if len(args) != 6 || args[0] != "node" {
		fmt.Fprintln(os.Stderr, "fake node: bad args", args)
		return 2
	}
	if args[1] == "fail" {
		fmt.Fprintln(os.Stderr, "failing as asked")
		return 3
	}
	cfg, err := os.ReadFile(args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	if err := os.WriteFile(args[5], []byte(`{"addrs":{}}`), 0o600); err != nil {
		return 1
	}
	if args[1] == "spin" { // cpu_test.go: CPU to account
		for start := time.Now(); time.Since(start) < spinFor; {
		}
	}
	fmt.Printf("stdout: config %s\n", cfg)
	fmt.Fprintln(os.Stderr, "stderr: ready")
	<-term
	return 0
}

func serve(t *testing.T) Client {
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Listen: "127.0.0.1:0", Token: "s3cret"}, func(a map[string]string) { addr <- a["machine"] })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case a := <-addr:
		return Client{Base: "http://" + a, Token: "s3cret"}
	case err := <-done:
		t.Fatalf("Run ended before it listened: %v", err)
	}
	return Client{}
}

func TestRefusesAWrongToken(t *testing.T) {
	c := serve(t)
	c.Token = "guess"
	err := c.Healthy(t.Context())
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("Healthy with a wrong token: %v, want 401", err)
	}
	c.Token = "s3cret"
	if err := c.Healthy(t.Context()); err != nil {
		t.Fatalf("Healthy with the token: %v", err)
	}
}

// TestRunsANodeUntilSignalled ships a config, waits for the ready file
// through the API, reads the node's output and ends it with each signal.
func TestRunsANodeUntilSignalled(t *testing.T) {
	c := serve(t)
	for _, tc := range []struct {
		sig      string
		wantExit string // "" for exit status 0
	}{{"TERM", ""}, {"KILL", "signal: killed"}} {
		t.Run(tc.sig, func(t *testing.T) {
			dir := t.TempDir()
			cfg, ready := filepath.Join(dir, "sub", "n.json"), filepath.Join(dir, "sub", "n.ready")
			out, err := c.Run(t.Context(), RunRequest{Name: "n", Args: []string{"agent", "--config", cfg, "--ready-file", ready},
				Env: []string{fakeNodeEnv + "=1"}, Files: map[string][]byte{cfg: []byte("hello")}})
			if err != nil {
				t.Fatal(err)
			}
			waitFile(t, c, ready)
			if _, err := c.Run(t.Context(), RunRequest{Name: "n", Args: []string{"agent"}}); err == nil || !strings.Contains(err.Error(), "running already") {
				t.Errorf("a second node of the same name: %v, want refused", err)
			}
			if err := c.Signal(t.Context(), "n", tc.sig); err != nil {
				t.Fatal(err)
			}
			log, _ := io.ReadAll(out)
			err = out.Exit()
			switch {
			case tc.wantExit == "" && err != nil, tc.wantExit != "" && (err == nil || err.Error() != tc.wantExit):
				t.Errorf("exit: %v, want %q", err, tc.wantExit)
			}
			if tc.sig == "TERM" && (!strings.Contains(string(log), "stdout: config hello") || !strings.Contains(string(log), "stderr: ready")) {
				t.Errorf("output %q: want both streams, with the shipped config", log)
			}
			if err := c.Signal(t.Context(), "n", "TERM"); err == nil {
				t.Error("signal to an ended node: want an error")
			}
		})
	}
}

func TestReportsAFailedNode(t *testing.T) {
	c := serve(t)
	out, err := c.Run(t.Context(), RunRequest{Name: "f", Args: []string{"fail", "--config", "x", "--ready-file", "y"}, Env: []string{fakeNodeEnv + "=1"}})
	if err != nil {
		t.Fatal(err)
	}
	log, _ := io.ReadAll(out)
	if err := out.Exit(); err == nil || err.Error() != "exit status 3" {
		t.Errorf("exit: %v, want exit status 3", err)
	}
	if !strings.Contains(string(log), "failing as asked") {
		t.Errorf("output %q: want the node's stderr", log)
	}
	if err := c.Signal(t.Context(), "f", "HUP"); err == nil || !strings.Contains(err.Error(), "want TERM") {
		t.Errorf("signal HUP: %v, want refused with what is accepted", err)
	}
}

func waitFile(t *testing.T, c Client, path string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		_, err := c.File(t.Context(), path)
		if err == nil {
			return
		}
		if !errors.Is(err, ErrNotFound) || time.Now().After(deadline) {
			t.Fatalf("ready file %s: %v", path, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
