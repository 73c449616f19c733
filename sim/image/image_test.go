package image

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckStatic(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary (-short)")
	}
	static := filepath.Join(t.TempDir(), "c2clab")
	if err := BuildBinary(context.Background(), "../..", static); err != nil {
		t.Fatal(err)
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to serve as a dynamic binary")
	}
	for _, tc := range []struct {
		name, path string
		want       error
	}{
		{"static c2clab", static, nil},
		{"dynamic sh", sh, ErrNotStatic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckStatic(tc.path)
			if !errors.Is(err, tc.want) {
				t.Fatalf("CheckStatic(%s) = %v, want %v", tc.path, err, tc.want)
			}
		})
	}
	t.Run("build runs the binary and remove leaves nothing", func(t *testing.T) {
		testBuildRemove(t, static)
	})
}

func testBuildRemove(t *testing.T, binary string) {
	ctx := context.Background()
	if _, err := Docker(ctx, "version"); err != nil {
		t.Skipf("no Docker engine: %v", err)
	}
	const run = "c2c0a0b0c"
	tag := "c2clab:" + run
	t.Cleanup(func() { Remove(context.Background(), run) })
	if err := Build(ctx, binary, tag, run); err != nil {
		t.Fatal(err)
	}
	// The scratch image holds only the binary, and it runs its node command.
	out, err := exec.CommandContext(ctx, "docker", "run", "--rm", tag, "node", "no-such-role", "--config", "x").CombinedOutput()
	if !strings.Contains(string(out), "unknown node role") {
		t.Fatalf("docker run %s node: %v\n%s", tag, err, out)
	}
	if err := Remove(ctx, run); err != nil {
		t.Fatal(err)
	}
	if ids, err := Docker(ctx, "images", "-q", "--filter", "label="+RunLabel+"="+run); err != nil || ids != "" {
		t.Fatalf("after Remove: images %q, %v", ids, err)
	}
}
