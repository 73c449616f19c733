package steps

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/c2clab/c2clab/sim/lab"
)

// xvfbStopTimeout is how long Xvfb gets to exit on SIGTERM (removing its
// lock file and socket) before it is killed.
const xvfbStopTimeout = 5 * time.Second

// startXvfb starts a virtual X server on the device's machine, for a
// client that needs a display (xfreerdp opens one even with /auth-only),
// and returns its DISPLAY and a stop func that ends it and waits; call
// stop on every path. The step owns the server rather than leaving it to
// xvfb-run, whose clean-up leaves Xvfb running when it fails to remove its
// temporary directory (it exits 5 first) or when xvfb-run is killed.
// -displayfd has Xvfb pick a free display number itself and report it
// once it accepts connections; no auth file is used, so local clients
// connect and nothing is written besides Xvfb's own lock and socket.
func startXvfb(ctx context.Context, d *lab.Device, bin string) (display string, stop func(), err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return "", nil, fmt.Errorf("xvfb: %w", err)
	}
	defer r.Close()
	var stderr bytes.Buffer
	cmd := d.Command(context.Background(), bin, "-displayfd", "3", "-nolisten", "tcp", "-screen", "0", "1024x768x24")
	cmd.ExtraFiles = []*os.File{w} // fd 3 in the child
	cmd.Stderr = &stderr
	err = cmd.Start()
	w.Close() // the child holds its copy: EOF on r once Xvfb exits
	if err != nil {
		return "", nil, fmt.Errorf("xvfb: start %s: %w", bin, err)
	}
	stop = func() { stopProcess(cmd, xvfbStopTimeout) }
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case n := <-line:
		if n == "" {
			stop()
			return "", nil, fmt.Errorf("xvfb: exited before it took a display: %s", stderr.String())
		}
		return ":" + n, stop, nil
	case <-ctx.Done():
		stop()
		return "", nil, fmt.Errorf("xvfb: no display before %w", context.Cause(ctx))
	}
}

// stopProcess sends SIGTERM, waits up to grace, then kills, and waits.
func stopProcess(cmd *exec.Cmd, grace time.Duration) {
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		cmd.Process.Kill()
		<-done
	}
}
