package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeConfig writes a services node config: one echo service on loopback.
func writeConfig(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "services.json")
	if err := os.WriteFile(p, []byte(`{"IP":"127.0.0.1","Services":[{"kind":"echo","port":0}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// runNode runs role in the background until the test ends and returns
// its result channel.
func runNode(t *testing.T, role, cfg, ready string) <-chan error {
	ctx, cancel := context.WithCancel(context.Background())
	errc, result := make(chan error, 1), make(chan error, 1)
	go func() {
		err := run(ctx, roles[role], cfg, ready)
		errc <- err
		result <- err
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-result:
		case <-time.After(2 * time.Second):
			t.Error("node did not stop within 2 s")
		}
	})
	return errc
}

// TestReadyFileFailure: a node that cannot write its ready file stops at
// once with the reason, instead of running with no one knowing it is up.
func TestReadyFileFailure(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "no-such-dir", "node.ready")
	select {
	case err := <-runNode(t, "services", writeConfig(t), ready):
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "ready file") {
			t.Fatalf("Run: %v, want the ready file's error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the node kept running after its ready file failed")
	}
}

// TestReadyFile: the ready file is the documented JSON with the node's
// addresses.
func TestReadyFile(t *testing.T) {
	dir := t.TempDir()
	ready := filepath.Join(dir, "node.ready")
	errc := runNode(t, "services", writeConfig(t), ready)
	deadline := time.Now().Add(5 * time.Second)
	var data []byte
	for {
		var err error
		if data, err = os.ReadFile(ready); err == nil {
			break
		}
		select {
		case err := <-errc:
			t.Fatalf("Run: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no ready file in 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	var r Ready
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil || r.PID != os.Getpid() || !strings.HasPrefix(r.Addrs["echo:0"], "127.0.0.1:") {
		t.Fatalf("ready file %s: %+v, %v", data, r, err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".ready-*")); len(leftovers) != 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}
}

// TestProtocolDocReadyExample: PROTOCOL.md's ready file example decodes
// into Ready, member for member.
func TestProtocolDocReadyExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "<!-- example: ready-file -->")
	if !ok {
		t.Fatal("PROTOCOL.md has no <!-- example: ready-file --> marker")
	}
	_, rest, ok = strings.Cut(rest, "```json\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no ```json block after the ready-file marker")
	}
	var r Ready
	dec := json.NewDecoder(strings.NewReader(block))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("ready file example: %v", err)
	}
	again, _ := json.Marshal(r)
	var got, want map[string]any
	json.Unmarshal([]byte(block), &got)
	json.Unmarshal(again, &want)
	for k := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("ready file example lacks %q", k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("ready file example spells %q, which Ready does not encode", k)
		}
	}
}
