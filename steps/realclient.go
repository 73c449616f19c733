package steps

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/sim/report"
)

// realClientTimeout bounds a real client's whole run.
const realClientTimeout = 15 * time.Second

// clientState is what the last real client printed and how it ended.
type clientState struct {
	out string
	err error
}

// ncSends runs OpenBSD netcat, a client nobody here wrote, on the admin's
// machine (inside its namespace on the netns backend) through its agent:
// `nc -N -X 5 -x SOCKS FQDN PORT` with text on stdin. -N half-closes after
// stdin ends, so an echo service's answer ends the run.
func ncSends(ctx context.Context, from, text, target string) (context.Context, error) {
	return runNC(ctx, from, text, target, true)
}

// runNC runs `nc -N [-X 5 -x SOCKS] HOST PORT` on from's machine with text
// on stdin and keeps what it printed; without SOCKS, nc resolves HOST
// itself and connects to the address it gets.
func runNC(ctx context.Context, from, text, target string, socks bool) (context.Context, error) {
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
	args := []string{"-N"}
	if socks {
		args = append(args, "-X", "5", "-x", d.SOCKSAddr())
	}
	cmd := d.Command(cctx, nc, append(args, host, port)...)
	cmd.Stdin = strings.NewReader(text)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	w.client.out, w.client.err = out.String(), err
	if err != nil {
		w.client.err = fmt.Errorf("nc: %w: %s", err, strings.TrimSpace(errOut.String()))
	}
	return ctx, nil
}

func clientPrints(ctx context.Context, want string) error {
	w := getWorld(ctx)
	if w.client.err != nil {
		return fmt.Errorf("the client failed: %w (printed %q)", w.client.err, w.client.out)
	}
	if w.client.out != want {
		return fmt.Errorf("the client printed %q, want %q", w.client.out, want)
	}
	return nil
}

// skip ends the scenario as skipped with reason, attached so that the
// reports show it (godog itself keeps no message for ErrSkip).
func skip(ctx context.Context, reason string) (context.Context, error) {
	ctx = godog.Attach(ctx, godog.Attachment{FileName: report.SkipAttachment, MediaType: "text/plain", Body: []byte(reason)})
	return ctx, fmt.Errorf("%s: %w", reason, godog.ErrSkip)
}

// forwardsTo declares a local listener on port of the device's address
// that its agent tunnels to target; tools that find services by their
// well-known port (nmap's scripts) need the real port number.
func forwardsTo(ctx context.Context, from string, port int, target string) error {
	d, ok := getWorld(ctx).setup.declared(from)
	if !ok {
		return fmt.Errorf("no device %q declared before its forward", from)
	}
	d.forwards = append(d.forwards, lab.Forward{Port: uint16(port), To: target})
	return nil
}

// nmapScriptReports runs one of nmap's NSE scripts, written by others
// against real servers, on the admin's machine against the agent's forward
// to target, so its probes cross the relay to the fake service; the
// script's verdict must contain want, and not contain unwanted if given.
func nmapScriptReports(ctx context.Context, script, from, target, want, unwanted string) (context.Context, error) {
	w := getWorld(ctx)
	d, err := w.device(from)
	if err != nil {
		return ctx, err
	}
	nmap, err := exec.LookPath("nmap")
	if err != nil {
		return skip(ctx, "nmap is not installed; .ci/run installs it")
	}
	addr, err := d.ForwardAddr(target)
	if err != nil {
		return ctx, err
	}
	host, port, _ := strings.Cut(addr, ":")
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	out, err := d.Command(cctx, nmap, "-Pn", "-n", "-sT", "-p", port, "--script", script, host).CombinedOutput()
	if err != nil {
		return ctx, fmt.Errorf("nmap --script %s: %w\n%s", script, err, out)
	}
	note(ctx, "nmap --script %s through the relay:\n%s", script, strings.TrimRight(scriptLines(string(out)), "\n"))
	verdict := scriptLines(string(out))
	if !strings.Contains(verdict, want) {
		return ctx, fmt.Errorf("nmap --script %s did not report %q:\n%s", script, want, out)
	}
	if unwanted != "" && strings.Contains(verdict, unwanted) {
		return ctx, fmt.Errorf("nmap --script %s reported %q, which the service must not offer:\n%s", script, unwanted, out)
	}
	return ctx, nil
}

// scriptLines keeps the NSE output lines ("|" and "|_" prefixed).
func scriptLines(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "|") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	return "      " + strings.ReplaceAll(s, "\n", "\n      ") + "\n"
}
