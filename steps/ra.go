package steps

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/cucumber/godog"

	"github.com/c2clab/c2clab/sim/endpoint"
	"github.com/c2clab/c2clab/sim/msra"
)

// raState is one scenario's remote-assistance state (RA-1, RA-2).
type raState struct {
	invitation []byte // the rewritten invitation
	// sessions, grant and err are the last shadow client's results.
	sessions []endpoint.ShadowSession
	grant    endpoint.ShadowGrant
	err      error
}

func getRA(ctx context.Context) *raState { return &getWorld(ctx).ra }

// registerRA adds the remote-assistance steps; Register calls it.
func registerRA(sc *godog.ScenarioContext) {
	// RA-1: MSRA invitations.
	sc.Step(`^the MSRA invitation "([^"]+)" is rewritten for the registered FQDN of "([^"]+)"$`, invitationRewritten)
	sc.Step(`^the rewritten invitation has no LHTICKET$`, rewrittenHasNoLHTicket)
	sc.Step(`^the rewritten invitation's RCTICKET lists "([^"]+)"$`, rewrittenLists)
	sc.Step(`^"([^"]+)" connects to the first address of the rewritten invitation$`, connectsToInvitation)
	sc.Step(`^the MSRA service answers the expert's Connection Request selecting "([^"]+)"$`, rdpAnswersSelecting)

	// RA-2: RDP shadowing.
	sc.Step(`^"([^"]+)" queries the sessions of the device$`, queriesSessions)
	sc.Step(`^the session list shows session (\d+) of "([^"]+)" as "([^"]+)"$`, sessionListShows)
	sc.Step(`^"([^"]+)" asks to (control|view) session (\d+)(?: (allowing|without) a consent prompt)?$`, asksToShadow)
	sc.Step(`^the shadow is granted for (control|view)$`, shadowGranted)
	sc.Step(`^the shadow request fails with "([^"]+)"$`, shadowFails)
}

// invitationRewritten reads fixtures/msra/FILE and rewrites it for the
// FQDN the device's agent shows as Client, i.e. the one it registered.
func invitationRewritten(ctx context.Context, file, name string) error {
	w := getWorld(ctx)
	d, err := w.device(name)
	if err != nil {
		return err
	}
	st, err := d.Status(ctx)
	if err != nil {
		return err
	}
	if st.Client == "" {
		return fmt.Errorf("device %q shows no registered FQDN (Client) to put in the invitation", name)
	}
	data, err := fs.ReadFile(w.cfg.Fixtures, "msra/"+file)
	if err != nil {
		return fmt.Errorf("MSRA invitation fixture %q: %w", file, err)
	}
	out, err := msra.Rewrite(data, st.Client)
	if err != nil {
		return fmt.Errorf("rewrite %q: %w", file, err)
	}
	getRA(ctx).invitation = out
	return nil
}

func rewrittenInvitation(ctx context.Context) (*msra.Invitation, error) {
	ra := getRA(ctx)
	if ra.invitation == nil {
		return nil, errors.New("no invitation was rewritten in this scenario")
	}
	return msra.Parse(ra.invitation)
}

func rewrittenHasNoLHTicket(ctx context.Context) error {
	inv, err := rewrittenInvitation(ctx)
	if err != nil {
		return err
	}
	if inv.LHTicket != "" || strings.Contains(string(getRA(ctx).invitation), "LHTICKET") {
		return errors.New("the rewritten invitation still has LHTICKET")
	}
	return nil
}

// rewrittenLists compares the address list, entries joined with ";".
func rewrittenLists(ctx context.Context, want string) error {
	inv, err := rewrittenInvitation(ctx)
	if err != nil {
		return err
	}
	var got []string
	for _, a := range inv.Ticket.Addrs {
		got = append(got, a.String())
	}
	if strings.Join(got, ";") != want {
		return fmt.Errorf("RCTICKET lists %q, want %q", strings.Join(got, ";"), want)
	}
	return nil
}

// connectsToInvitation reads host:port back from the rewritten RCTICKET,
// as the expert's msra.exe would, and connects there through the agent.
func connectsToInvitation(ctx context.Context, from string) error {
	inv, err := rewrittenInvitation(ctx)
	if err != nil {
		return err
	}
	a := inv.Ticket.Addrs[0]
	return connectsTo(ctx, from, net.JoinHostPort(a.Host, strconv.Itoa(int(a.Port))))
}

// shadowClient speaks the shadow protocol on the admin's open connection.
func shadowClient(ctx context.Context, from string) (*endpoint.ShadowClient, error) {
	a, err := openConn(ctx)
	if err != nil {
		return nil, err
	}
	if a.from.Name != from {
		return nil, fmt.Errorf("the open connection is %q's, not %q's", a.from.Name, from)
	}
	return endpoint.NewShadowClient(a.conn), nil
}

func queriesSessions(ctx context.Context, from string) error {
	c, err := shadowClient(ctx, from)
	if err != nil {
		return err
	}
	ra := getRA(ctx)
	ra.sessions, ra.err = c.QuerySession(ctx)
	return nil
}

func sessionListShows(ctx context.Context, id int, user, state string) error {
	ra := getRA(ctx)
	if ra.err != nil {
		return fmt.Errorf("query session failed: %w", ra.err)
	}
	if slices.Contains(ra.sessions, endpoint.ShadowSession{ID: id, User: user, State: state, Name: sessionName(ra.sessions, id)}) {
		return nil
	}
	return fmt.Errorf("sessions %+v lack session %d of %q in state %s", ra.sessions, id, user, state)
}

func sessionName(ss []endpoint.ShadowSession, id int) string {
	for _, s := range ss {
		if s.ID == id {
			return s.Name
		}
	}
	return ""
}

// asksToShadow is mstsc /shadow:ID [/control] [/noConsentPrompt].
func asksToShadow(ctx context.Context, from, mode string, id int, prompt string) error {
	c, err := shadowClient(ctx, from)
	if err != nil {
		return err
	}
	ra := getRA(ctx)
	ra.grant, ra.err = c.Shadow(ctx, id, mode == "control", prompt == "without")
	var se *endpoint.ShadowError
	if ra.err != nil && !errors.As(ra.err, &se) {
		return fmt.Errorf("shadow request through the relay: %w", ra.err)
	}
	return nil
}

func shadowGranted(ctx context.Context, mode string) error {
	ra := getRA(ctx)
	if ra.err != nil {
		return fmt.Errorf("shadow refused: %w", ra.err)
	}
	if ra.grant.Mode != mode {
		return fmt.Errorf("shadow granted for %s, want %s", ra.grant.Mode, mode)
	}
	return nil
}

func shadowFails(ctx context.Context, failure string) error {
	ra := getRA(ctx)
	var se *endpoint.ShadowError
	if !errors.As(ra.err, &se) {
		return fmt.Errorf("shadow result %+v, %v; want ERR %s", ra.grant, ra.err, failure)
	}
	if se.Failure != failure {
		return fmt.Errorf("shadow failed with %s (%s), want %s", se.Failure, se.Text, failure)
	}
	return nil
}
