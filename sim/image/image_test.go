package image

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
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
	p, err := Connect(ctx)
	if errors.Is(err, ErrNoEngine) {
		t.Skipf("no Docker engine: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	// Neither Build nor the lab starts Ryuk (which would be pulled, and
	// nothing can be here), whatever TESTCONTAINERS_RYUK_DISABLED says.
	defer p.Close()
	const run = "c2c0a0b0c"
	tag := "c2clab:" + run
	cli := p.Client()
	t.Cleanup(func() { removeRun(t, cli, run) })
	if err := Build(ctx, p, binary, tag, run); err != nil {
		t.Fatal(err)
	}
	// The scratch image holds only the binary, and it runs its node command.
	out := runOnce(ctx, t, p, tag, "node", "no-such-role", "--config", "x")
	if !strings.Contains(out, "unknown node role") {
		t.Fatalf("%s node no-such-role printed %q", tag, out)
	}
	removeRun(t, cli, run)
	imgs, err := cli.ImageList(ctx, client.ImageListOptions{Filters: RunFilter(run)})
	if err != nil || len(imgs.Items) != 0 {
		t.Fatalf("after Remove: images %v, %v", imgs.Items, err)
	}
}

// runOnce runs tag's entrypoint with args to its end and returns its output.
func runOnce(ctx context.Context, t *testing.T, p *testcontainers.DockerProvider, tag string, args ...string) string {
	t.Helper()
	cli := p.Client()
	created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &container.Config{Image: tag, Cmd: args, Labels: map[string]string{RunLabel: "c2c0a0b0c"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.ContainerRemove(context.Background(), created.ID, client.ContainerRemoveOptions{Force: true})
	if _, err := cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res := cli.ContainerWait(wctx, created.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case <-res.Result:
	case err := <-res.Error:
		t.Fatal(err)
	}
	rc, err := cli.ContainerLogs(ctx, created.ID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var out strings.Builder
	if _, err := stdcopy.StdCopy(&out, &out, rc); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	return out.String()
}

// removeRun removes the run's containers and images.
func removeRun(t *testing.T, cli client.APIClient, run string) {
	ctx := context.Background()
	ctrs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: RunFilter(run)})
	if err != nil {
		t.Error(err)
	}
	for _, c := range ctrs.Items {
		cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true})
	}
	if err := Remove(ctx, cli, run); err != nil {
		t.Error(err)
	}
}
