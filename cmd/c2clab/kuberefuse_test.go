package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchAndCertifyRefuseKubernetes proves that bench ab refuses --backend
// kubernetes with exit 2 and says why and what to run instead (bench runs
// there: benchkubenode_linux_test.go), and that certify refuses a vendor's
// command there (it does not run in the lab's Pods) and a vendor's image
// without its entrypoint (which the cluster does not tell), before they
// start anything.
func TestBenchAndCertifyRefuseKubernetes(t *testing.T) {
	exe := t.TempDir() // never run: the refusal comes before any use of it
	for name, tc := range map[string]struct {
		args []string
		want []string
	}{
		"bench ab":            {[]string{"bench", "ab", "--base", exe, "--candidate", exe, "--backend", "kubernetes"}, []string{"bench ab: --backend kubernetes: not in this build", "two c2clab binaries", "--backend netns", "c2clab bench --backend kubernetes"}},
		"certify":             {[]string{"certify", "--agent-cmd", exe + "/agent", "--backend", "kubernetes"}, []string{"external agent command runs on the local and netns backends only", `"kubernetes"`}},
		"certify image":       {[]string{"certify", "--agent-image", "acme/agent:1", "--backend", "kubernetes"}, []string{"needs --agent-entrypoint", "docker image inspect"}},
		"certify image netns": {[]string{"certify", "--agent-image", "acme/agent:1", "--backend", "netns"}, []string{"agent image runs on the container and kubernetes backends only", "want --backend container or kubernetes"}},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := runRoot(tc.args)
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != exitBadInput {
				t.Fatalf("%v: %v (exit error %+v), want exit %d", tc.args, err, ee, exitBadInput)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%v: %q does not say %q", tc.args, err, want)
				}
			}
			if strings.Contains(out, "scenario") {
				t.Errorf("%v: ran scenarios before refusing: %s", tc.args, out)
			}
		})
	}
}

// TestTestKubernetesWithoutAClusterSkips runs `test --backend kubernetes`
// with a kubeconfig that does not exist: every scenario is skipped with
// the lab's reason (no cluster), none passed, and the run says so.
func TestTestKubernetesWithoutAClusterSkips(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KUBECONFIG", "")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("HOME", dir) // no ~/.kube/config either
	out, err := runRoot([]string{"test", "--backend", "kubernetes", "--kubeconfig", filepath.Join(dir, "missing"),
		"--tags", "@HV-1", "--report", filepath.Join(dir, "report")})
	if err != nil {
		t.Fatalf("test: %v\n%s", err, out)
	}
	if !strings.Contains(out, "0 passed, 0 failed,") || strings.Contains(out, " 0 skipped") {
		t.Errorf("want every scenario skipped, none passed: %s", out)
	}
	if !strings.Contains(out, "finds no cluster") {
		t.Errorf("the skips do not give the lab's reason: %s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "report", "junit.xml")); err != nil {
		t.Errorf("no report: %v", err)
	}
}

func runRoot(args []string) (string, error) {
	root := newRootCmd()
	var out bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&out)
	err := root.Execute()
	return out.String(), err
}
