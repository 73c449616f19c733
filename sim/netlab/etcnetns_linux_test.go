package netlab

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestEtcNetnsGoesWithNamespace: a file written for a host is what its
// programs see in /etc, and closing the lab removes it.
func TestEtcNetnsGoesWithNamespace(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l := newLab(t)
	if _, err := l.AddNetwork(ctx, "lan", nil); err != nil {
		t.Fatal(err)
	}
	h, err := l.AddHost(ctx, "a", "lan")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.WriteEtc("../passwd", nil); err == nil {
		t.Error("WriteEtc accepted a path outside the namespace's directory")
	}
	const conf = "nameserver 198.18.0.9\n"
	if err := h.WriteEtc("resolv.conf", []byte(conf)); err != nil {
		t.Fatal(err)
	}
	out, err := h.Command(ctx, "cat", "/etc/resolv.conf").Output()
	if err != nil || string(out) != conf {
		t.Fatalf("/etc/resolv.conf in the namespace: %q, %v; want %q", out, err, conf)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(etcNetnsDir, h.NS)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s/%s still there after Close: %v", etcNetnsDir, h.NS, err)
	}
}

// TestEtcNetnsSweptWithoutNamespace: a crashed run's /etc/netns directory
// outlives its namespace (a reboot empties /run/netns, not /etc); the run
// is still found by its ID and swept.
func TestEtcNetnsSweptWithoutNamespace(t *testing.T) {
	needRoot(t)
	id := testRunID(t)
	dir := filepath.Join(etcNetnsDir, id+"-gone")
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte("nameserver 198.18.0.9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ids, err := RunIDs()
	if !slices.Contains(ids, id) {
		t.Fatalf("RunIDs = %v, %v; want it to contain %s", ids, err, id)
	}
	removed, err := Sweep(id)
	if err != nil {
		t.Fatal(err)
	}
	if want := "etc " + dir; !slices.Contains(removed, want) {
		t.Errorf("sweep removed %v, want %q among them", removed, want)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still there after the sweep: %v", dir, err)
	}
}
