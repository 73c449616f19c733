package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fxMSRA = "../../fixtures/msra/"

func TestMSRARewriteCLI(t *testing.T) {
	const host = "desktop-10B38-AC.example.com"
	tests := []struct {
		name   string
		args   []string
		exit   int
		golden string // stdout must equal this golden file
		stderr []string
	}{
		{name: "stdout", args: []string{"msra", "rewrite", fxMSRA + "win10-ipv4.msrcincident", "--hostname", host}, exit: exitOK, golden: "win10-ipv4.msrcincident"},
		{name: "utf16", args: []string{"msra", "rewrite", fxMSRA + "win11-utf16le.msrcincident", "--hostname", host, "-o", "-"}, exit: exitOK, golden: "win11-utf16le.msrcincident"},
		{name: "broken version", args: []string{"msra", "rewrite", fxMSRA + "broken/version-65537.msrcincident", "--hostname", host}, exit: exitBadInput,
			stderr: []string{"broken/version-65537.msrcincident:1: RCTICKET field 1: is \"65537\", want 65538"}},
		{name: "broken xml", args: []string{"msra", "rewrite", fxMSRA + "broken/not-xml.msrcincident", "--hostname", host}, exit: exitBadInput,
			stderr: []string{"not-xml.msrcincident: file: is not well-formed XML"}},
		{name: "bad hostname", args: []string{"msra", "rewrite", fxMSRA + "win10-ipv4.msrcincident", "--hostname", "10.0.0.1"}, exit: exitBadInput,
			stderr: []string{"--hostname: is \"10.0.0.1\", an IP address"}},
		{name: "no hostname", args: []string{"msra", "rewrite", fxMSRA + "win10-ipv4.msrcincident"}, exit: exitBadInput, stderr: []string{"--hostname is required"}},
		{name: "missing file", args: []string{"msra", "rewrite", fxMSRA + "nope.msrcincident", "--hostname", host}, exit: exitBadInput, stderr: []string{"nope.msrcincident"}},
		{name: "no file", args: []string{"msra", "rewrite", "--hostname", host}, exit: exitBadInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exit, out, errOut := runPolicyCLI(t, tt.args...)
			if exit != tt.exit {
				t.Errorf("exit = %d, want %d\nstderr:\n%s", exit, tt.exit, errOut)
			}
			if tt.golden != "" {
				want, err := os.ReadFile(fxMSRA + "golden/" + tt.golden)
				if err != nil {
					t.Fatal(err)
				}
				if out != string(want) {
					t.Errorf("stdout differs from golden/%s:\n%q", tt.golden, out)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
		})
	}
}

func TestMSRARewriteOutputFile(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "c2c.msrcincident")
	exit, out, errOut := runPolicyCLI(t, "msra", "rewrite", fxMSRA+"several-addresses.msrcincident", "--hostname", "desktop-10B38-AC.example.com", "-o", dst)
	if exit != exitOK || out != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", exit, out, errOut)
	}
	got, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(fxMSRA + "golden/several-addresses.msrcincident")
	if !bytes.Equal(got, want) {
		t.Errorf("-o file differs from the golden file")
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(dst), ".msra-*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestMSRAHelpTeaches(t *testing.T) {
	exit, out, _ := runPolicyCLI(t, "msra", "rewrite", "--help")
	for _, s := range []string{"fixtures/msra/win10-ipv4.msrcincident", "--hostname", "LHTICKET", "Exit codes"} {
		if !strings.Contains(out, s) {
			t.Errorf("help lacks %q", s)
		}
	}
	if exit != exitOK {
		t.Errorf("exit = %d", exit)
	}
}
