package steps

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/c2clab/c2clab/sim/agent"
	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/endpoint"
	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/sim/tenant"
)

// recordTimeout bounds how long the source agent may take to show its
// record of a connection after the client got its answer.
const recordTimeout = 3 * time.Second

// connectState is the admin's last connection; a new one closes it.
type connectState struct {
	last *attempt
}

// attempt is one connection an admin made through its agent.
type attempt struct {
	from      *lab.Device
	fqdn      string
	port      uint16
	conn      net.Conn
	err       error
	code      code.Code // from the source agent's record; "" when it succeeded
	local     bool      // dropped by the source agent, never sent to the broker
	started   time.Time
	activityN int // activity records before the attempt
}

func (c *connectState) close() {
	if c.last != nil && c.last.conn != nil {
		c.last.conn.Close()
	}
}

// transferSeeds varies the byte stream per transfer, so data replayed from
// an earlier transfer does not match (within one transfer the pattern
// repeats every ~4 MiB; see sim/endpoint's bulk service).
type transferSeeds struct{ last uint64 }

func newTransferSeeds() transferSeeds { return transferSeeds{last: 1} }

// next reserves n consecutive fresh seeds and returns the first: a
// measured upload uses Seed and Seed+1 (measure.ThroughputConfig.Seed).
func (s *transferSeeds) next(n uint64) uint64 {
	first := s.last + 1
	s.last += n
	return first
}

func connectsTo(ctx context.Context, from, target string) error {
	w := getWorld(ctx)
	d, err := w.device(from)
	if err != nil {
		return err
	}
	host, port, err := tenant.ParseTarget(target)
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	if w.connect.last != nil && w.connect.last.conn != nil {
		w.connect.last.conn.Close()
	}
	acts, err := w.lab.Activity(ctx)
	if err != nil {
		return err
	}
	a := &attempt{from: d, fqdn: host, port: port, started: time.Now(), activityN: len(acts)}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	a.conn, a.err = d.Dial(dctx, host, port)
	w.connect.last = a
	if a.err != nil && !errors.As(a.err, new(*lab.SOCKSError)) {
		return fmt.Errorf("connect %s to %s: not a SOCKS answer: %w", from, target, a.err)
	}
	rec, err := sourceRecord(ctx, d, a)
	if err != nil {
		return err
	}
	a.code, a.local = rec.Code, rec.Local
	return nil
}

// sourceRecord finds the source agent's record of attempt a.
func sourceRecord(ctx context.Context, d *lab.Device, a *attempt) (agent.ConnRecord, error) {
	since := a.started.Add(-time.Millisecond).UnixMicro()
	var rec agent.ConnRecord
	err := eventually(ctx, recordTimeout, 5*time.Millisecond, func() error {
		st, err := d.Status(ctx)
		if err != nil {
			return err
		}
		for i := len(st.Connections) - 1; i >= 0; i-- {
			r := st.Connections[i]
			if r.Role == "source" && r.FQDN == a.fqdn && r.Port == int(a.port) && r.StartUs >= since {
				rec = r
				return nil
			}
		}
		return fmt.Errorf("%d records, none of a source connection to %s:%d since it started", len(st.Connections), a.fqdn, a.port)
	})
	if err != nil {
		return agent.ConnRecord{}, fmt.Errorf("agent of %q has no record of its connection to %s:%d: %w", d.Name, a.fqdn, a.port, err)
	}
	return rec, nil
}

func (w *world) lastAttempt() (*attempt, error) {
	if w.connect.last == nil {
		return nil, errors.New("no connection was made in this scenario")
	}
	return w.connect.last, nil
}

func theConnectionSucceeds(ctx context.Context) error {
	a, err := getWorld(ctx).lastAttempt()
	if err != nil {
		return err
	}
	if a.err != nil {
		return fmt.Errorf("connection to %s:%d failed: %w (agent code %q)", a.fqdn, a.port, a.err, a.code)
	}
	note(ctx, "connected to %s:%d through the relay", a.fqdn, a.port)
	if a.code != "" {
		return fmt.Errorf("connection to %s:%d opened but the agent recorded code %q", a.fqdn, a.port, a.code)
	}
	return nil
}

// theConnectionIsRefusedWith checks the refusal from both ends: the code
// the source agent recorded and, when the request reached the broker, the
// broker's own User Activity record, so an agent under test cannot pass by
// writing the expected code into its status.
func theConnectionIsRefusedWith(ctx context.Context, want string) error {
	w := getWorld(ctx)
	a, err := w.lastAttempt()
	if err != nil {
		return err
	}
	if !code.Code(want).Known() {
		return fmt.Errorf("%q is not a code the lab knows", want)
	}
	note(ctx, "connection to %s:%d: agent code %q", a.fqdn, a.port, a.code)
	var errs []error
	if a.err == nil {
		errs = append(errs, fmt.Errorf("the admin's client was connected to %s:%d, want a refusal", a.fqdn, a.port))
	}
	if a.code != code.Code(want) {
		errs = append(errs, fmt.Errorf("the source agent recorded code %q, want %q", a.code, want))
	}
	if !a.local {
		rec, err := w.activityRecord(ctx, "Closed")
		if err != nil {
			errs = append(errs, err)
		} else if rec.Code != code.Code(want) {
			errs = append(errs, fmt.Errorf("the broker logged internalReason %q, want %q", rec.Code, want))
		}
	}
	return errors.Join(errs...)
}

func theConnectionIsDroppedLocallyWith(ctx context.Context, want string) error {
	if err := theConnectionIsRefusedWith(ctx, want); err != nil {
		return err
	}
	if a := getWorld(ctx).connect.last; !a.local {
		return fmt.Errorf("the source agent sent the connection to the broker; want it dropped locally")
	}
	return nil
}

func rdpAnswersSelecting(ctx context.Context, proto string) error {
	a, err := openConn(ctx)
	if err != nil {
		return err
	}
	want, err := endpoint.RDPProtocolMask(proto)
	if err != nil {
		return err
	}
	all, _ := endpoint.RDPProtocolMask("ssl", "hybrid", "hybrid_ex")
	res, err := endpoint.RDPConnect(ctx, a.conn, all)
	if err != nil {
		return fmt.Errorf("RDP negotiation through the relay: %w", err)
	}
	note(ctx, "RDP through the relay: Connection Confirm, source reference %#04x, selected %#x, failed %t (code %#x)", res.SourceRef, res.Selected, res.Failed, res.FailureCode)
	if res.Failed {
		return fmt.Errorf("RDP service answered RDP_NEG_FAILURE %#x, want %s", res.FailureCode, proto)
	}
	if res.Selected != want || res.SourceRef != 0x1234 {
		return fmt.Errorf("Connection Confirm selected %#x with source reference %#04x, want %#x and 0x1234", res.Selected, res.SourceRef, want)
	}
	return nil
}

// rdpRefuses asks for the listed protocols and expects RDP_NEG_FAILURE.
func rdpRefuses(ctx context.Context, protos, failure string) error {
	a, err := openConn(ctx)
	if err != nil {
		return err
	}
	mask, err := endpoint.RDPProtocolMask(strings.Split(protos, ",")...)
	if err != nil {
		return err
	}
	res, err := endpoint.RDPConnect(ctx, a.conn, mask)
	if err != nil {
		return fmt.Errorf("RDP negotiation through the relay: %w", err)
	}
	if !res.Failed {
		return fmt.Errorf("RDP service selected %s, want RDP_NEG_FAILURE %s", endpoint.RDPProtocolName(res.Selected), failure)
	}
	if got := endpoint.RDPFailureName(res.FailureCode); got != failure {
		return fmt.Errorf("RDP_NEG_FAILURE %s, want %s", got, failure)
	}
	return nil
}

// smbNegotiates sends an SMB2 NEGOTIATE, as psexec's SMB client does first.
func smbNegotiates(ctx context.Context, dialect string) error {
	a, err := openConn(ctx)
	if err != nil {
		return err
	}
	got, err := endpoint.SMBNegotiate(ctx, a.conn)
	if err != nil {
		return fmt.Errorf("SMB2 NEGOTIATE through the relay: %w", err)
	}
	note(ctx, "SMB2 NEGOTIATE through the relay: dialect %s", got)
	if got != dialect {
		return fmt.Errorf("SMB service chose dialect %s, want %s", got, dialect)
	}
	return nil
}

func openConn(ctx context.Context) (*attempt, error) {
	a, err := getWorld(ctx).lastAttempt()
	if err != nil {
		return nil, err
	}
	if a.conn == nil {
		return nil, fmt.Errorf("connection to %s:%d is not open: %v", a.fqdn, a.port, a.err)
	}
	return a, nil
}

const mib = 1 << 20

// echoedComeBackIntact writes n MiB of random bytes and reads them back
// through the echo service, comparing SHA-256 of both streams.
func echoedComeBackIntact(ctx context.Context, n int) error {
	a, err := openConn(ctx)
	if err != nil {
		return err
	}
	a.conn.SetDeadline(time.Now().Add(60 * time.Second))
	sent, got := sha256.New(), sha256.New()
	werr := make(chan error, 1)
	go func() {
		_, err := io.CopyN(io.MultiWriter(a.conn, sent), rand.Reader, int64(n)*mib)
		werr <- err
	}()
	if _, err := io.CopyN(got, a.conn, int64(n)*mib); err != nil {
		return fmt.Errorf("read echo: %w", err)
	}
	if err := <-werr; err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if string(sent.Sum(nil)) != string(got.Sum(nil)) {
		return fmt.Errorf("%d MiB came back altered (SHA-256 differs)", n)
	}
	return a.closeConn()
}

// sentArriveIntact streams n MiB to the device's bulk service, which checks
// every byte against the stream the seed defines.
func sentArriveIntact(ctx context.Context, n int) error {
	a, res, err := sendBulk(ctx, n)
	if err != nil {
		return err
	}
	note(ctx, "relayed %d MiB intact in %s (%.0f Mbit/s)", n, res.Duration.Round(time.Millisecond), mbits(res))
	return a.closeConn()
}

// sendBulk streams n MiB through the open connection to a bulk service,
// which checks every byte; each transfer gets a new seed, so data replayed
// from an earlier one does not match.
func sendBulk(ctx context.Context, n int) (*attempt, endpoint.BulkResult, error) {
	w := getWorld(ctx)
	a, err := openConn(ctx)
	if err != nil {
		return nil, endpoint.BulkResult{}, err
	}
	seed := w.seeds.next(1)
	res, err := endpoint.BulkSend(ctx, a.conn, int64(n)*mib, seed)
	if err != nil {
		return nil, res, fmt.Errorf("bulk send through the relay: %w", err)
	}
	return a, res, nil
}

// mbits is a transfer's rate in Mbit/s, from the bytes and time measured.
func mbits(r endpoint.BulkResult) float64 {
	return float64(r.Bytes) * 8 / r.Duration.Seconds() / 1e6
}

func (a *attempt) closeConn() error {
	err := a.conn.Close()
	a.conn = nil
	return err
}
