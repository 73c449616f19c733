package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestTestCertifyBenchRefuseKubernetes proves that the commands that
// drive a lab from this process refuse --backend kubernetes with exit 2
// and say what is missing and what to run instead, before they start
// anything (nothing runs on another backend in its place).
func TestTestCertifyBenchRefuseKubernetes(t *testing.T) {
	exe := t.TempDir() // never run: the refusal comes before any use of it
	for name, args := range map[string][]string{
		"test":     {"test", "--backend", "kubernetes"},
		"certify":  {"certify", "--agent-cmd", exe + "/agent", "--backend", "kubernetes"},
		"bench":    {"bench", "--backend", "kubernetes", "--quick"},
		"bench ab": {"bench", "ab", "--base", exe, "--candidate", exe, "--backend", "kubernetes"},
	} {
		t.Run(name, func(t *testing.T) {
			root := newRootCmd()
			var out bytes.Buffer
			root.SetArgs(args)
			root.SetOut(&out)
			root.SetErr(&out)
			err := root.Execute()
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != exitBadInput {
				t.Fatalf("%v: %v (exit error %+v), want exit %d", args, err, ee, exitBadInput)
			}
			msg := err.Error()
			for _, want := range []string{name + ": --backend kubernetes: not in this build", "no placer for Pods", "lab up --backend kubernetes", "--backend netns"} {
				if !strings.Contains(msg, want) {
					t.Errorf("%v: %q does not say %q", args, msg, want)
				}
			}
			if out.Len() > 0 && strings.Contains(out.String(), "scenario") {
				t.Errorf("%v: ran scenarios before refusing: %s", args, out.String())
			}
		})
	}
}
