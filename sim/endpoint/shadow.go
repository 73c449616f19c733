package endpoint

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/c2clab/c2clab/sim/device"
)

// The shadow service models what `query session /server:HOST` and
// `mstsc /shadow:ID /v:HOST` need from a Windows device (RA-2) with a small
// line protocol of the lab's own (docs/REMOTE_ASSISTANCE.md). Real
// shadowing speaks RPC over SMB and RDP through RdpSa.exe; the model keeps
// only the decisions: the firewall rules, Remote Desktop enabled, the
// shadow policy, the sessions and the user's consent.
//
//	client: QUERY SESSION
//	server: SESSION <id> <name> <user> <state>   (one per session)
//	server: END <count>
//	client: SHADOW <id> control|view [noconsent]
//	server: OK <control|view> <id> <user>        or   ERR <FAILURE> <text>
//
// Every failure is "ERR <FAILURE> <text>"; the connection stays open for
// further requests until the client closes it. After OK the session is
// being shadowed and the service reads and drops what follows.

// KindShadow is the service kind of the shadow model.
const KindShadow = "shadow"

// Names of the inbound firewall rules shadowing needs (RA-2).
const (
	RuleSMBIn    = "File and Printer Sharing (SMB-In)"
	RuleShadowIn = "Remote Desktop - Shadow (TCP-In)"
)

// Shadow failures, the first word after ERR.
const (
	ShadowBadRequest      = "BAD_REQUEST"         // not a request of the protocol
	ShadowSMBBlocked      = "SMB_IN_BLOCKED"      // rule File and Printer Sharing (SMB-In) not enabled
	ShadowRDPDisabled     = "RDP_DISABLED"        // Remote Desktop not enabled
	ShadowRuleBlocked     = "SHADOW_RULE_BLOCKED" // rule Remote Desktop - Shadow (TCP-In) not enabled
	ShadowDeniedByPolicy  = "SHADOW_DISABLED"     // policy 0: no remote control allowed
	ShadowNoSession       = "SESSION_NOT_FOUND"   // no session with that ID
	ShadowNotActive       = "SESSION_NOT_ACTIVE"  // session disconnected or listening
	ShadowControlDenied   = "CONTROL_NOT_ALLOWED" // control asked, policy 3 or 4 allows view only
	ShadowConsentRequired = "CONSENT_REQUIRED"    // noconsent asked, policy 1 or 3 needs consent
	ShadowConsentRefused  = "CONSENT_REFUSED"     // the user refused
	ShadowConsentTimeout  = "CONSENT_TIMEOUT"     // the user did not answer in time
)

// defaultConsentTimeout is how long the modelled user takes to not answer.
// Windows waits about 30 s; the model answers sooner so scenarios are fast.
const defaultConsentTimeout = time.Second

// shadowModel holds the device settings the shadow service decides with.
type shadowModel struct {
	rdp   device.RDP
	rules device.Firewall
}

// shadowReq is a parsed SHADOW request.
type shadowReq struct {
	id        int
	control   bool
	noConsent bool
}

// shadowAnswer is the model's decision on a SHADOW request.
type shadowAnswer struct {
	failure string // "" when granted
	text    string
	consent bool // granting needs the user's consent (Consent decides)
}

// policy returns the effective shadow policy: not configured behaves as
// Windows' default, 1 (full control with the user's permission).
func (m shadowModel) policy() int {
	if m.rdp.ShadowPolicy == nil {
		return 1
	}
	return *m.rdp.ShadowPolicy
}

// decide applies RA-2's prerequisites in the order Windows meets them:
// the RPC connection over SMB, Remote Desktop, the shadow rule, the policy,
// the session, the kind of control, then the consent prompt.
func (m shadowModel) decide(r shadowReq) shadowAnswer {
	p := m.policy()
	switch {
	case !m.rules.HasInboundRule(RuleSMBIn):
		return shadowAnswer{failure: ShadowSMBBlocked, text: "the RPC server is unavailable: inbound rule " + strconv.Quote(RuleSMBIn) + " is not enabled"}
	case !m.rdp.Enabled:
		return shadowAnswer{failure: ShadowRDPDisabled, text: "Remote Desktop is not enabled on the device"}
	case !m.rules.HasInboundRule(RuleShadowIn):
		return shadowAnswer{failure: ShadowRuleBlocked, text: "inbound rule " + strconv.Quote(RuleShadowIn) + " is not enabled"}
	case p == 0:
		return shadowAnswer{failure: ShadowDeniedByPolicy, text: "policy 0: no remote control allowed"}
	}
	s, ok := m.session(r.id)
	switch {
	case !ok:
		return shadowAnswer{failure: ShadowNoSession, text: fmt.Sprintf("no session with ID %d", r.id)}
	case !strings.EqualFold(s.State, "Active"):
		return shadowAnswer{failure: ShadowNotActive, text: fmt.Sprintf("session %d is %s, want Active", r.id, s.State)}
	case r.control && (p == 3 || p == 4):
		return shadowAnswer{failure: ShadowControlDenied, text: fmt.Sprintf("policy %d allows viewing only", p)}
	case (p == 1 || p == 3) && r.noConsent:
		return shadowAnswer{failure: ShadowConsentRequired, text: fmt.Sprintf("policy %d requires the user's consent", p)}
	}
	return shadowAnswer{consent: p == 1 || p == 3}
}

func (m shadowModel) session(id int) (device.Session, bool) {
	for _, s := range m.rdp.Sessions {
		if s.ID == id {
			return s, true
		}
	}
	return device.Session{}, false
}

// parseShadowReq parses "SHADOW <id> control|view [noconsent]".
func parseShadowReq(f []string) (shadowReq, error) {
	if len(f) < 3 || len(f) > 4 || (len(f) == 4 && f[3] != "noconsent") {
		return shadowReq{}, fmt.Errorf("want SHADOW <id> control|view [noconsent]")
	}
	id, err := strconv.Atoi(f[1])
	if err != nil || id < 0 {
		return shadowReq{}, fmt.Errorf("session ID %q, want a number", f[1])
	}
	if f[2] != "control" && f[2] != "view" {
		return shadowReq{}, fmt.Errorf("mode %q, want control or view", f[2])
	}
	return shadowReq{id: id, control: f[2] == "control", noConsent: len(f) == 4}, nil
}

// maxShadowLine bounds a request line; longer ones are dropped.
const maxShadowLine = 256

// serveShadow answers shadow requests until the client closes, idles, or
// a shadow is granted.
func (s *server) serveShadow(ctx context.Context, c net.Conn) error {
	m := shadowModel{rdp: s.cfg.RDP, rules: device.Firewall{InboundRules: s.cfg.InboundRules}}
	r := bufio.NewReaderSize(c, maxShadowLine)
	for {
		c.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
		line, err := r.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("shadow: read request: %w", err)
		}
		f := strings.Fields(string(line))
		granted, err := s.answerShadow(ctx, c, m, f)
		if err != nil || granted {
			if err == nil {
				err = discard(c, s.cfg.IdleTimeout)
			}
			return err
		}
	}
}

func (s *server) answerShadow(ctx context.Context, c net.Conn, m shadowModel, f []string) (granted bool, err error) {
	var out strings.Builder
	switch {
	case len(f) == 2 && f[0] == "QUERY" && f[1] == "SESSION":
		writeSessions(&out, m)
	case len(f) > 0 && f[0] == "SHADOW":
		req, perr := parseShadowReq(f)
		if perr != nil {
			fmt.Fprintf(&out, "ERR %s %v\n", ShadowBadRequest, perr)
			break
		}
		granted = s.shadow(ctx, &out, m, req)
	default:
		fmt.Fprintf(&out, "ERR %s want QUERY SESSION or SHADOW <id> control|view [noconsent]\n", ShadowBadRequest)
	}
	c.SetWriteDeadline(time.Now().Add(s.cfg.IdleTimeout))
	if _, err := c.Write([]byte(out.String())); err != nil {
		return false, fmt.Errorf("shadow: write answer: %w", err)
	}
	return granted, ctx.Err()
}

func writeSessions(out *strings.Builder, m shadowModel) {
	if !m.rules.HasInboundRule(RuleSMBIn) {
		fmt.Fprintf(out, "ERR %s the RPC server is unavailable: inbound rule %q is not enabled\n", ShadowSMBBlocked, RuleSMBIn)
		return
	}
	for _, s := range m.rdp.Sessions {
		fmt.Fprintf(out, "SESSION %d %s %s %s\n", s.ID, orDash(s.Name), orDash(s.User), orDash(s.State))
	}
	fmt.Fprintf(out, "END %d\n", len(m.rdp.Sessions))
}

// shadow decides req, asking the modelled user when the policy says so.
func (s *server) shadow(ctx context.Context, out *strings.Builder, m shadowModel, req shadowReq) bool {
	a := m.decide(req)
	if a.failure == "" && a.consent {
		switch m.rdp.Consent {
		case "refuse":
			a.failure, a.text = ShadowConsentRefused, "the user refused the remote control request"
		case "timeout":
			wait := s.cfg.ConsentTimeout
			if wait <= 0 {
				wait = defaultConsentTimeout
			}
			select {
			case <-time.After(wait):
			case <-ctx.Done():
			}
			a.failure, a.text = ShadowConsentTimeout, fmt.Sprintf("the user did not answer within %s", wait)
		}
	}
	if a.failure != "" {
		fmt.Fprintf(out, "ERR %s %s\n", a.failure, a.text)
		return false
	}
	mode := map[bool]string{true: "control", false: "view"}[req.control]
	sess, _ := m.session(req.id)
	fmt.Fprintf(out, "OK %s %d %s\n", mode, req.id, orDash(sess.User))
	return true
}

func orDash(s string) string {
	s = strings.Join(strings.Fields(s), "_")
	if s == "" {
		return "-"
	}
	return s
}
