package steps

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/c2clab/c2clab/sim/endpoint"
	"github.com/c2clab/c2clab/sim/tenant"
)

// freerdpTimeout bounds one xfreerdp run, Xvfb's start included.
const freerdpTimeout = 30 * time.Second

// freerdpRun is one run of FreeRDP's xfreerdp and what it left behind.
type freerdpRun struct {
	from, target string
	addr         string // the /v: address: the admin agent's forward
	exit         int    // xfreerdp's exit status
	took         time.Duration
	log          freerdpLog
	raw          string // the whole debug log, for failure messages
	knownHosts   string // known_hosts2 as /cert:tofu left it; "" if none
}

// freerdpRuns runs FreeRDP 2's X11 client, nobody here wrote it, on the
// admin's machine against its agent's forward to target, so its
// Connection Requests, TLS handshake and what follows cross the relay to
// the device's fake RDP service. xfreerdp opens an X display even with
// /auth-only, so it gets an Xvfb of its own. The step adds /v:, /cert:tofu
// (accept the self-signed certificate, log its CN and store its
// fingerprint), a user name and password, and debug logging to a file in
// a temporary HOME, so one ordered log can be parsed and nothing is
// written to the real home.
func freerdpRuns(ctx context.Context, from, options, target string) (context.Context, error) {
	w := getWorld(ctx)
	d, err := w.device(from)
	if err != nil {
		return ctx, err
	}
	xfreerdp, err := exec.LookPath("xfreerdp")
	if err != nil {
		return skip(ctx, "FreeRDP (xfreerdp) is not installed; .ci/run installs freerdp2-x11")
	}
	xvfb, err := exec.LookPath("Xvfb")
	if err != nil {
		return skip(ctx, "Xvfb is not installed (xfreerdp opens an X display even with /auth-only); .ci/run installs xvfb")
	}
	addr, err := d.ForwardAddr(target)
	if err != nil {
		return ctx, err
	}
	home, err := os.MkdirTemp("", "c2clab-freerdp-")
	if err != nil {
		return ctx, fmt.Errorf("freerdp: %w", err)
	}
	defer os.RemoveAll(home)
	cctx, cancel := context.WithTimeout(ctx, freerdpTimeout)
	defer cancel()
	display, stopX, err := startXvfb(cctx, d, xvfb)
	if err != nil {
		return ctx, err
	}
	defer stopX()
	args := append(strings.Fields(options), "/v:"+addr, "/cert:tofu", "/u:c2clab", "/p:c2clab", "/log-level:DEBUG")
	cmd := d.Command(cctx, xfreerdp, args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"WLOG_APPENDER=FILE", "WLOG_FILEAPPENDER_OUTPUT_FILE_PATH="+home, "WLOG_FILEAPPENDER_OUTPUT_FILE_NAME=freerdp.log")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	r := &freerdpRun{from: from, target: target, addr: addr, took: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case cctx.Err() != nil:
		return ctx, fmt.Errorf("xfreerdp %s did not end within %v:\n%s", options, freerdpTimeout, out)
	case errors.As(err, &exit):
		r.exit = exit.ExitCode()
	case err != nil:
		return ctx, fmt.Errorf("xfreerdp %s: %w\n%s", options, err, out)
	}
	raw, err := os.ReadFile(filepath.Join(home, "freerdp.log"))
	if err != nil {
		return ctx, fmt.Errorf("xfreerdp %s left no log (exit %d): %w\n%s", options, r.exit, err, out)
	}
	r.raw, r.log = string(raw), parseFreeRDPLog(string(raw))
	kh, _ := os.ReadFile(filepath.Join(home, ".config", "freerdp", "known_hosts2"))
	r.knownHosts = string(kh)
	w.freerdp = r
	fmt.Fprintf(w.out, "    xfreerdp %s through the relay (exit %d, %v): %s\n", options, r.exit, r.took.Round(10*time.Millisecond), r.log.summary())
	if len(r.log.attempts) == 0 {
		return ctx, fmt.Errorf("xfreerdp %s sent no Connection Request (exit %d):\n%s%s", options, r.exit, out, r.raw)
	}
	return ctx, nil
}

func lastFreeRDP(ctx context.Context) (*freerdpRun, error) {
	if r := getWorld(ctx).freerdp; r != nil {
		return r, nil
	}
	return nil, fmt.Errorf("no FreeRDP run yet (add `\"ADMIN\" runs xfreerdp \"OPTIONS\" through its forward to \"FQDN:PORT\"`)")
}

// freerdpNegotiationWent compares FreeRDP's Connection Requests and the
// answers it logged with want, e.g. "ssl+hybrid -> ssl" or
// "ssl+hybrid -> SSL_NOT_ALLOWED_BY_SERVER, ssl -> ..., rdp -> rdp".
func freerdpNegotiationWent(ctx context.Context, want string) error {
	r, err := lastFreeRDP(ctx)
	if err != nil {
		return err
	}
	if got := r.log.negotiation(); got != want {
		return fmt.Errorf("FreeRDP's negotiation went %q, want %q:\n%s", got, want, r.log.keyLines(r.raw))
	}
	return nil
}

// freerdpCompletedTLS checks, from FreeRDP's side, that the TLS handshake
// after the Connection Confirm completed with the device's fake RDP
// service: FreeRDP negotiated TLS or NLA, went on to the state after the
// security layer (MCS_CONNECT or NLA), logged the service's certificate
// name, and stored a fingerprint equal to that of the certificate the
// service presents to this step's own TLS client through the relay.
func freerdpCompletedTLS(ctx context.Context) error {
	r, err := lastFreeRDP(ctx)
	if err != nil {
		return err
	}
	var errs []error
	if r.log.security != "TLS" && r.log.security != "NLA" {
		errs = append(errs, fmt.Errorf("FreeRDP negotiated %q security, want TLS or NLA", r.log.security))
	}
	if !r.log.entered("MCS_CONNECT") && !r.log.entered("NLA") {
		errs = append(errs, fmt.Errorf("FreeRDP never left the negotiation (states %v): the TLS handshake did not complete", r.log.states))
	}
	if r.log.certCN != endpoint.RDPCertCommonName {
		errs = append(errs, fmt.Errorf("FreeRDP saw a certificate for %q, want the fake's %q", r.log.certCN, endpoint.RDPCertCommonName))
	}
	got, err := knownHostFingerprint(r.knownHosts, r.addr)
	if err != nil {
		errs = append(errs, err)
	}
	want, err := serviceFingerprint(ctx, r)
	if err != nil {
		errs = append(errs, err)
	} else if got != "" && got != want {
		errs = append(errs, fmt.Errorf("FreeRDP accepted certificate %s, the RDP service presents %s", got, want))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w\n%s", err, r.log.keyLines(r.raw))
	}
	return nil
}

// freerdpDidNotStartTLS checks that FreeRDP negotiated no TLS and saw no
// certificate.
func freerdpDidNotStartTLS(ctx context.Context) error {
	r, err := lastFreeRDP(ctx)
	if err != nil {
		return err
	}
	if r.log.security == "TLS" || r.log.security == "NLA" || r.log.certCN != "" || strings.TrimSpace(r.knownHosts) != "" {
		return fmt.Errorf("FreeRDP negotiated %q security and saw certificate %q, want no TLS:\n%s", r.log.security, r.log.certCN, r.log.keyLines(r.raw))
	}
	return nil
}

// freerdpGaveUp checks where FreeRDP failed: the connection state it fell
// back from and the ERRCONNECT code it set; it must also exit non-zero.
func freerdpGaveUp(ctx context.Context, state, code string) error {
	r, err := lastFreeRDP(ctx)
	if err != nil {
		return err
	}
	if r.log.failedIn != state || r.log.errCode != code || r.exit == 0 {
		return fmt.Errorf("FreeRDP gave up in state %q with %q (exit %d), want %q with %q and a non-zero exit:\n%s",
			r.log.failedIn, r.log.errCode, r.exit, state, code, r.log.keyLines(r.raw))
	}
	return nil
}

// serviceFingerprint connects through the admin's agent to the same
// target, negotiates TLS with the fake RDP service itself and returns the
// SHA-256 fingerprint of its certificate as FreeRDP writes it.
func serviceFingerprint(ctx context.Context, r *freerdpRun) (string, error) {
	d, err := getWorld(ctx).device(r.from)
	if err != nil {
		return "", err
	}
	fqdn, port, err := tenant.ParseTarget(r.target)
	if err != nil {
		return "", err
	}
	cctx, cancel := context.WithTimeout(ctx, realClientTimeout)
	defer cancel()
	conn, err := d.Dial(cctx, fqdn, port)
	if err != nil {
		return "", fmt.Errorf("dial %s through the relay: %w", r.target, err)
	}
	defer conn.Close()
	all := endpoint.ProtocolSSL | endpoint.ProtocolHybrid | endpoint.ProtocolHybridEx
	if res, err := endpoint.RDPConnect(cctx, conn, all); err != nil || res.Failed {
		return "", fmt.Errorf("RDP negotiation through the relay for the service's certificate: %v, %w", res, err)
	}
	tc, err := endpoint.RDPStartTLS(cctx, conn)
	if err != nil {
		return "", fmt.Errorf("TLS with the RDP service through the relay: %w", err)
	}
	sum := sha256.Sum256(tc.ConnectionState().PeerCertificates[0].Raw)
	return colonHex(sum[:]), nil
}

func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("%02x", c)
	}
	return strings.Join(parts, ":")
}

// knownHostFingerprint finds addr's entry in FreeRDP's known_hosts2
// ("HOST PORT FINGERPRINT SUBJECT ISSUER" per line).
func knownHostFingerprint(knownHosts, addr string) (string, error) {
	host, port, _ := strings.Cut(addr, ":")
	for _, line := range strings.Split(knownHosts, "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == host && f[1] == port {
			return strings.ToLower(f[2]), nil
		}
	}
	return "", fmt.Errorf("FreeRDP stored no certificate for %s (known_hosts2: %q)", addr, knownHosts)
}

// freerdpLog is what FreeRDP 2's debug log says about a connection.
type freerdpLog struct {
	attempts []freerdpAttempt // Connection Requests, in order
	security string           // from "Negotiated X security": TLS, NLA or RDP
	certCN   string           // the server certificate's CN, logged while checking it
	states   []string         // connection states entered, without CONNECTION_STATE_
	failedIn string           // the state it fell back to INITIAL from
	errCode  string           // the first ERRCONNECT_* code set
}

// freerdpAttempt is one Connection Request and the answer FreeRDP logged:
// the selected protocol's name, the RDP_NEG_FAILURE code's name, or "no
// negotiation data" for a Connection Confirm without RDP_NEG_RSP.
type freerdpAttempt struct {
	requested uint32
	answer    string
}

// parseFreeRDPLog reads the lines of FreeRDP's WLog format,
// "[time] [pid:tid] [LEVEL][tag] - message"; continuation lines are skipped.
func parseFreeRDPLog(text string) freerdpLog {
	var l freerdpLog
	for _, line := range strings.Split(text, "\n") {
		head, msg, ok := strings.Cut(line, "] - ")
		if !ok {
			continue
		}
		tag := head[strings.LastIndex(head, "[")+1:]
		msg = strings.TrimSpace(msg)
		if i := strings.Index(msg, "ERRCONNECT_"); i >= 0 && l.errCode == "" {
			l.errCode = strings.Fields(msg[i:])[0]
		}
		switch tag {
		case "com.freerdp.core.nego":
			l.negoLine(msg)
		case "com.freerdp.crypto":
			if cn, ok := strings.CutPrefix(msg, "CN = "); ok && l.certCN == "" {
				l.certCN = cn
			}
		case "com.freerdp.core.connection":
			l.stateLine(msg)
		}
	}
	return l
}

func (l *freerdpLog) negoLine(msg string) {
	if v, ok := strings.CutPrefix(msg, "RequestedProtocols: "); ok {
		n, _ := strconv.ParseUint(v, 10, 32)
		l.attempts = append(l.attempts, freerdpAttempt{requested: uint32(n)})
		return
	}
	if s, ok := strings.CutPrefix(msg, "Negotiated "); ok {
		l.security = strings.TrimSuffix(s, " security")
		return
	}
	if len(l.attempts) == 0 {
		return
	}
	a := &l.attempts[len(l.attempts)-1]
	switch {
	case strings.HasPrefix(msg, "selected_protocol: "):
		n, _ := strconv.ParseUint(strings.TrimPrefix(msg, "selected_protocol: "), 10, 32)
		a.answer = endpoint.RDPProtocolName(uint32(n))
	case msg == "RDP_NEG_FAILURE":
		a.answer = msg
	case strings.HasPrefix(msg, "Error: ") && a.answer == "RDP_NEG_FAILURE":
		a.answer = strings.TrimPrefix(msg, "Error: ")
	case msg == "no rdpNegData":
		a.answer = "no negotiation data"
	}
}

func (l *freerdpLog) stateLine(msg string) {
	rest, ok := strings.CutPrefix(msg, "rdp_client_transition_to_state ")
	if !ok {
		return
	}
	from, to, ok := strings.Cut(rest, " --> ")
	if !ok {
		return
	}
	from, to = strings.TrimPrefix(from, "CONNECTION_STATE_"), strings.TrimPrefix(to, "CONNECTION_STATE_")
	l.states = append(l.states, to)
	if to == "INITIAL" && l.failedIn == "" {
		l.failedIn = from
	}
}

func (l freerdpLog) entered(state string) bool {
	for _, s := range l.states {
		if s == state {
			return true
		}
	}
	return false
}

// negotiation writes the attempts as "REQUESTED -> ANSWER, ...", the
// requested protocols named as the profile names them and joined by "+",
// "rdp" for none.
func (l freerdpLog) negotiation() string {
	parts := make([]string, len(l.attempts))
	for i, a := range l.attempts {
		parts[i] = requestedNames(a.requested) + " -> " + a.answer
	}
	return strings.Join(parts, ", ")
}

func requestedNames(mask uint32) string {
	if mask == endpoint.ProtocolRDP {
		return "rdp"
	}
	var names []string
	for bit := uint32(1); bit != 0; bit <<= 1 {
		if mask&bit != 0 {
			names = append(names, endpoint.RDPProtocolName(bit))
		}
	}
	return strings.Join(names, "+")
}

func (l freerdpLog) summary() string {
	s := l.negotiation()
	if l.certCN != "" {
		s += fmt.Sprintf("; %s security with certificate %q", l.security, l.certCN)
	} else if l.security != "" {
		s += "; " + l.security + " security"
	}
	return s + fmt.Sprintf("; gave up in %s with %s", l.failedIn, l.errCode)
}

// keyLines keeps the log lines a reader needs to see why a check failed.
func (freerdpLog) keyLines(raw string) string {
	var keep []string
	for _, line := range strings.Split(raw, "\n") {
		if strings.Contains(line, "core.nego]") && !strings.Contains(line, "Enabling") ||
			strings.Contains(line, "core.connection]") || strings.Contains(line, "CN = ") ||
			strings.Contains(line, "ERRCONNECT_") || strings.Contains(line, "[ERROR][com.freerdp.core.transport]") {
			keep = append(keep, "      "+line)
		}
	}
	return strings.Join(keep, "\n")
}
