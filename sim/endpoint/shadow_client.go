package endpoint

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
)

// ShadowError is a shadow service's refusal: "ERR <Failure> <Text>".
type ShadowError struct {
	Failure string // one of the Shadow* failure names
	Text    string
}

func (e *ShadowError) Error() string { return "shadow: " + e.Failure + ": " + e.Text }

// ShadowSession is one line of the service's answer to QUERY SESSION.
type ShadowSession struct {
	ID                int
	Name, User, State string
}

// ShadowGrant is a granted shadow request.
type ShadowGrant struct {
	Mode string // control or view
	ID   int
	User string
}

// ShadowClient speaks the shadow service's line protocol on one
// connection, as `query session` and `mstsc /shadow` would.
type ShadowClient struct {
	conn net.Conn
	r    *bufio.Reader // owned by the caller's goroutine
}

// NewShadowClient wraps conn; the caller still owns and closes conn.
func NewShadowClient(conn net.Conn) *ShadowClient {
	return &ShadowClient{conn: conn, r: bufio.NewReader(conn)}
}

// QuerySession lists the device's sessions. A refusal is a *ShadowError.
func (c *ShadowClient) QuerySession(ctx context.Context) ([]ShadowSession, error) {
	defer watch(ctx, c.conn)()
	if _, err := io.WriteString(c.conn, "QUERY SESSION\n"); err != nil {
		return nil, fmt.Errorf("query session: write: %w", ctxErr(ctx, err))
	}
	var out []ShadowSession
	for {
		f, err := c.readLine(ctx)
		if err != nil {
			return nil, fmt.Errorf("query session: %w", err)
		}
		switch {
		case f[0] == "SESSION" && len(f) == 5:
			id, err := strconv.Atoi(f[1])
			if err != nil {
				return nil, fmt.Errorf("query session: session ID %q: %w", f[1], ErrMalformed)
			}
			out = append(out, ShadowSession{ID: id, Name: f[2], User: f[3], State: f[4]})
		case f[0] == "END" && len(f) == 2 && f[1] == strconv.Itoa(len(out)):
			return out, nil
		default:
			return nil, fmt.Errorf("query session: unexpected line %q: %w", strings.Join(f, " "), ErrMalformed)
		}
	}
}

// Shadow asks to shadow session id, viewing or controlling it; noConsent
// is mstsc's /noConsentPrompt. A refusal is a *ShadowError.
func (c *ShadowClient) Shadow(ctx context.Context, id int, control, noConsent bool) (ShadowGrant, error) {
	defer watch(ctx, c.conn)()
	req := fmt.Sprintf("SHADOW %d %s", id, map[bool]string{true: "control", false: "view"}[control])
	if noConsent {
		req += " noconsent"
	}
	if _, err := io.WriteString(c.conn, req+"\n"); err != nil {
		return ShadowGrant{}, fmt.Errorf("shadow: write: %w", ctxErr(ctx, err))
	}
	f, err := c.readLine(ctx)
	if err != nil {
		return ShadowGrant{}, fmt.Errorf("shadow: %w", err)
	}
	if f[0] != "OK" || len(f) != 4 {
		return ShadowGrant{}, fmt.Errorf("shadow: unexpected answer %q: %w", strings.Join(f, " "), ErrMalformed)
	}
	gid, err := strconv.Atoi(f[2])
	if err != nil || gid != id {
		return ShadowGrant{}, fmt.Errorf("shadow: granted session %q, asked %d: %w", f[2], id, ErrMalformed)
	}
	return ShadowGrant{Mode: f[1], ID: gid, User: f[3]}, nil
}

// readLine reads one answer line; "ERR ..." becomes a *ShadowError.
func (c *ShadowClient) readLine(ctx context.Context) ([]string, error) {
	line, err := c.r.ReadString('\n')
	if err != nil {
		if errors.Is(err, io.EOF) || isReset(err) {
			return nil, ErrDropped
		}
		return nil, ctxErr(ctx, err)
	}
	f := strings.Fields(line)
	if len(f) == 0 {
		return nil, fmt.Errorf("empty line: %w", ErrMalformed)
	}
	if f[0] == "ERR" && len(f) >= 2 {
		return nil, &ShadowError{Failure: f[1], Text: strings.Join(f[2:], " ")}
	}
	return f, nil
}
