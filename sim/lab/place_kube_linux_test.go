package lab

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestPodNameIsADNSLabel(t *testing.T) {
	for _, tc := range []struct {
		name string
		seq  int
		want string
	}{
		{"broker", 1, "broker-1"},
		{"Desktop_LNX14.example", 12, "desktop-lnx14-example-12"},
		{"-odd-", 3, "odd-3"},
		{strings.Repeat("a", 70), 100, strings.Repeat("a", 59) + "-100"},
	} {
		got := podName(tc.name, tc.seq)
		if got != tc.want {
			t.Errorf("podName(%q, %d) = %q, want %q", tc.name, tc.seq, got, tc.want)
		}
		if errs := validation.IsDNS1123Label(got); len(errs) > 0 {
			t.Errorf("podName(%q, %d) = %q: %v", tc.name, tc.seq, got, errs)
		}
	}
}

// TestShippedLeavesTheNodesOutput: a node in a Pod gets the run
// directory's inputs (configs, keys, certificates) and none of what nodes
// write there (logs, ready files and their temporaries), which would
// overwrite the Pod's own.
func TestShippedLeavesTheNodesOutput(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"agent.json", "ca.pem", "agent.key", "agent.log", "agent.ready", ".ready-123", "broker.ready.tmp"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(n), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	files, err := shipped(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for p, data := range files {
		if string(data) != filepath.Base(p) {
			t.Errorf("%s: content %q", p, data)
		}
		got = append(got, filepath.Base(p))
	}
	slices.Sort(got)
	if want := []string{"agent.json", "agent.key", "ca.pem"}; !slices.Equal(got, want) {
		t.Errorf("shipped %v, want %v", got, want)
	}
	if r := readyArg([]string{"agent", "--config", "c", "--ready-file", "/x/agent.ready"}); r != "/x/agent.ready" {
		t.Errorf("readyArg = %q", r)
	}
}

// TestPodGoesToItsSitesNodes: a machine's Pod carries its site's node
// selector, and a machine without one none.
func TestPodGoesToItsSitesNodes(t *testing.T) {
	sel := map[string]string{"topology.kubernetes.io/region": "eu-west-1"}
	p := &kubePlacer{runID: "c2c000001", spec: KubeSpec{Image: "c2clab/c2clab:test", NodeSelectors: map[string]map[string]string{"admin": sel}}}
	if got := p.pod("admin", "admin-2").Spec.NodeSelector; !maps.Equal(got, sel) {
		t.Errorf("admin's Pod: node selector %v, want %v", got, sel)
	}
	if got := p.pod("broker", "broker-1").Spec.NodeSelector; got != nil {
		t.Errorf("broker's Pod: node selector %v, want none", got)
	}
}
