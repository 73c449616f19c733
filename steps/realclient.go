package steps

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/c2clab/c2clab/sim/report"
)

// realClientTimeout bounds a real client's whole run.
const realClientTimeout = 15 * time.Second

// ncSends runs OpenBSD netcat, a client nobody here wrote, on the admin's
// machine (inside its namespace on the netns backend) through its agent:
// `nc -N -X 5 -x SOCKS FQDN PORT` with text on stdin. -N half-closes after
// stdin ends, so an echo service's answer ends the run.
func ncSends(ctx context.Context, from, text, target string) (context.Context, error) {
	w := getWorld(ctx)
	d, err := w.device(from)
	if err != nil {
		return ctx, err
	}
	nc, err := exec.LookPath("nc")
	if err != nil {
		return skip(ctx, "OpenBSD netcat (nc) is not installed; .ci/run installs netcat-openbsd")
	}
	host, port, ok := strings.Cut(target, ":")
	if !ok {
		return ctx, fmt.Errorf("target %q: want FQDN:PORT", target)
	}
	cctx, cancel := context.WithTimeout(ctx, realClientTimeout)
	defer cancel()
	cmd := d.Command(cctx, nc, "-N", "-X", "5", "-x", d.SOCKSAddr(), host, port)
	cmd.Stdin = strings.NewReader(text)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	w.clientOut, w.clientErr = out.String(), err
	if err != nil {
		w.clientErr = fmt.Errorf("nc: %w: %s", err, strings.TrimSpace(errOut.String()))
	}
	return ctx, nil
}

func clientPrints(ctx context.Context, want string) error {
	w := getWorld(ctx)
	if w.clientErr != nil {
		return fmt.Errorf("the client failed: %w (printed %q)", w.clientErr, w.clientOut)
	}
	if w.clientOut != want {
		return fmt.Errorf("the client printed %q, want %q", w.clientOut, want)
	}
	return nil
}

// skip ends the scenario as skipped with reason, attached so that the
// reports show it (godog itself keeps no message for ErrSkip).
func skip(ctx context.Context, reason string) (context.Context, error) {
	ctx = godog.Attach(ctx, godog.Attachment{FileName: report.SkipAttachment, MediaType: "text/plain", Body: []byte(reason)})
	return ctx, fmt.Errorf("%s: %w", reason, godog.ErrSkip)
}
