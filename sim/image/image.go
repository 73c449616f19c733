// Package image builds the lab's container image: FROM scratch, holding
// only the static c2clab binary at /c2clab. Nothing is pulled (no registry
// is reachable), so the image is built locally from the binary each run,
// through testcontainers-go, and labelled with the run ID, so a sweep finds
// it after a crash.
package image

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/c2clab/c2clab/sim/buildcache"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// Binary is where the c2clab binary lives inside the image.
const Binary = "/c2clab"

// RunLabel is the label key that carries the run ID on the image and on
// every container and network of the run.
const RunLabel = "c2clab.run"

// ErrNotStatic means the binary needs a dynamic loader, which a FROM
// scratch image does not have.
var ErrNotStatic = errors.New("binary is not statically linked")

// ErrNoEngine means no Docker engine answers.
var ErrNoEngine = errors.New("no Docker engine answers")

// dockerfile copies the binary into an empty image.
const dockerfile = "FROM scratch\nCOPY c2clab " + Binary + "\nENTRYPOINT [\"" + Binary + "\"]\n"

// connectTimeout bounds finding and asking the engine: the library's own
// discovery does not take a context.
const connectTimeout = 10 * time.Second

var quietOnce sync.Once

// quiet sends the library's progress lines to the debug log, once per
// process. The lab uses the library to find the engine and build images
// only: those start no Ryuk (the reaper container it would pull), which
// the library starts, unless TESTCONTAINERS_RYUK_DISABLED is set, when it
// creates containers or networks; the lab creates those with the engine's
// client and sweeps them by its run label (sim/lab).
func quiet() {
	quietOnce.Do(func() { tclog.SetDefault(debugLogger{}) })
}

// DebugEnv, set to anything in the runner's environment, makes the lab
// print on stderr what it otherwise keeps quiet: testcontainers-go's log
// lines and clean-up steps that failed but changed no result. The one
// place it is read is Debugf.
const DebugEnv = "C2CLAB_DEBUG"

// Debugf prints a line on stderr when DebugEnv is set.
func Debugf(format string, args ...any) {
	if os.Getenv(DebugEnv) != "" {
		fmt.Fprintf(os.Stderr, strings.TrimRight(format, "\n")+"\n", args...)
	}
}

// debugLogger passes the library's log lines to Debugf.
type debugLogger struct{}

func (debugLogger) Printf(format string, args ...any) { Debugf("testcontainers: "+format, args...) }

// Connect returns testcontainers-go's Docker provider once an engine has
// answered, with Ryuk off. Its Client() is the Docker API client the lab
// uses for what the library does not wrap (pause, kill, wait, lists).
func Connect(ctx context.Context) (*testcontainers.DockerProvider, error) {
	quiet()
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	type result struct {
		p   *testcontainers.DockerProvider
		err error
	}
	ch := make(chan result, 1)
	go func() {
		p, err := testcontainers.NewDockerProvider(testcontainers.WithLogger(debugLogger{}))
		if err == nil {
			// Not p.Health: it asks for Info, which the library caches.
			if _, err = p.Client().Ping(ctx, client.PingOptions{}); err != nil {
				p.Close()
				p = nil
			}
		}
		ch <- result{p, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("image: connect: %w: %w", ErrNoEngine, r.err)
		}
		return r.p, nil
	case <-ctx.Done():
		go func() { // the library may still answer: close what it gives
			if r := <-ch; r.p != nil {
				r.p.Close()
			}
		}()
		return nil, fmt.Errorf("image: connect: %w: %w", ErrNoEngine, ctx.Err())
	}
}

// Build builds image tag (REPO:TAG) FROM scratch with binary as /c2clab,
// labelled c2clab.run=runID, with the classic builder: BuildKit may be
// absent and wants a frontend image for some features; FROM scratch needs
// neither, and names no image to pull. The binary must be static
// (CGO_ENABLED=0).
func Build(ctx context.Context, p *testcontainers.DockerProvider, binary, tag, runID string) error {
	if err := CheckStatic(binary); err != nil {
		return fmt.Errorf("image: build %q: %w", tag, err)
	}
	repo, version, ok := strings.Cut(tag, ":")
	if !ok {
		return fmt.Errorf("image: build %q: tag is not REPO:TAG", tag)
	}
	dir, err := os.MkdirTemp("", "c2clab-image-")
	if err != nil {
		return fmt.Errorf("image: build %q: %w", tag, err)
	}
	defer os.RemoveAll(dir)
	if err := copyFile(binary, filepath.Join(dir, "c2clab")); err != nil {
		return fmt.Errorf("image: build %q: %w", tag, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o600); err != nil {
		return fmt.Errorf("image: build %q: %w", tag, err)
	}
	req := testcontainers.ContainerRequest{
		FromDockerfile: testcontainers.FromDockerfile{
			Context: dir, Repo: repo, Tag: version,
			// KeepImage: the sweep removes it, and it keeps the library
			// from adding its four labels, which the classic builder
			// turns into four more steps, each a container (~1 s apiece
			// on 2 busy cores).
			KeepImage: true,
			BuildOptionsModifier: func(o *client.ImageBuildOptions) {
				o.Version = build.BuilderV1
				o.PullParent = false
				o.Labels = map[string]string{RunLabel: runID}
				// No build cache: two runs of one binary would share the
				// COPY step's intermediate image, and the first run's
				// removal (which prunes its parents) would pull it from
				// under the second run's build.
				o.NoCache = true
			},
		},
	}
	if _, err := p.BuildImage(ctx, &req); err != nil {
		return fmt.Errorf("image: build %q: %w", tag, err)
	}
	return nil
}

// CheckStatic returns ErrNotStatic when path is an ELF binary with a
// program interpreter (a dynamic loader).
func CheckStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%q: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%q: %w (build it with CGO_ENABLED=0)", path, ErrNotStatic)
		}
	}
	return nil
}

// BuildBinary builds a static c2clab binary from the module at moduleDir
// into out.
func BuildBinary(ctx context.Context, moduleDir, out string) error {
	return BuildAgent(ctx, moduleDir, "./cmd/c2clab", out)
}

// RunFilter selects what carries the run's label; runID "" selects every
// run's.
func RunFilter(runID string) client.Filters {
	if runID == "" {
		return make(client.Filters).Add("label", RunLabel)
	}
	return make(client.Filters).Add("label", RunLabel+"="+runID)
}

// Remove removes every image labelled with runID.
func Remove(ctx context.Context, cli client.APIClient, runID string) error {
	imgs, err := cli.ImageList(ctx, client.ImageListOptions{Filters: RunFilter(runID)})
	if err != nil {
		return fmt.Errorf("image: remove %s: %w", runID, err)
	}
	var errs []error
	for _, img := range imgs.Items {
		_, err := cli.ImageRemove(ctx, img.ID, client.ImageRemoveOptions{Force: true, PruneChildren: true})
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("image: remove %s: %w", runID, err)
	}
	return nil
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// SourceTree finds the c2clab module's source tree that contains the
// working directory, as when run by `go run` or `go test` in a clone.
func SourceTree() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
					return dir, strings.Trim(f[1], `"`) == modulePath
				}
			}
			return "", false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// modulePath is this module's path, to recognise its source tree.
const modulePath = "github.com/c2clab/c2clab"

// ID returns the ID (sha256:...) of a local image, which names its content
// for a certification report.
func ID(ctx context.Context, p *testcontainers.DockerProvider, ref string) (string, error) {
	res, err := p.Client().ImageInspect(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("image: %q: %w", ref, err)
	}
	return res.ID, nil
}

// BuildAgent builds a static program (an agent, or c2clab itself) from the
// package at pkg of the module at moduleDir into out. The link happens
// once for every caller of the source tree (sim/buildcache: linking
// c2clab static took 3 to 5 CPU-seconds, and sim/lab, sim/image, sim/kube
// and the container suites' agent images each did it), and out is a copy,
// the caller's own.
func BuildAgent(ctx context.Context, moduleDir, pkg, out string) error {
	name := "static-" + strings.ReplaceAll(strings.Trim(filepath.ToSlash(pkg), "./"), "/", "-")
	bin, err := buildcache.Build(ctx, moduleDir, pkg, name, "CGO_ENABLED=0")
	if err != nil {
		return fmt.Errorf("image: build %s: %w", pkg, err)
	}
	if err := copyFile(bin, out); err != nil {
		return fmt.Errorf("image: build %s: %w", pkg, err)
	}
	return nil
}
