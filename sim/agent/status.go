package agent

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/c2clab/c2clab/sim/code"
)

// maxRecords is how many connection records the status API keeps.
const maxRecords = 1000

// Roles of a ConnRecord.
const (
	RoleSource      = "source"
	RoleDestination = "destination"
)

// Status is the agent's Private Access status, as GET /status returns it
// (docs/PROTOCOL.md section 13 documents every member).
type Status struct {
	Name   string
	Tenant string
	// FQDN is what the agent reports (HV-4, HV-5).
	FQDN string
	// Client is the FQDN shown on the Private Access tab: only while
	// registered with FQDNRegistered (DEV-6, HV-3).
	Client string
	// PrivateAccess is "ON" or "OFF" (DEV-5).
	PrivateAccess       string
	Connected           bool
	SessionID           string
	FQDNRegistered      bool
	FQDNRegisteredError code.Code
	Available           bool
	Code                code.Code
	Segments            int
	Connections         []ConnRecord
}

// ConnRecord is one connection this agent took part in.
type ConnRecord struct {
	// ID is the broker's conn ID (from connect_result ok, or incoming), or
	// "local-N" for a source connection that got none: dropped locally or
	// refused.
	ID   string
	FQDN string
	Port int
	Role string // source or destination
	// Peer is the other device's name, when known.
	Peer string
	// Code is "" for a connection that was set up; else why it failed.
	Code code.Code
	// Local: dropped by this agent, never sent to the broker (SEG-4, DEV-5,
	// no session).
	Local bool
	// BytesUp counts bytes from the local socket into the tunnel, BytesDown
	// bytes from the tunnel to the local socket (application bytes).
	BytesUp, BytesDown int64
	// StartUs and EndUs are Unix microseconds; EndUs is 0 while open.
	StartUs, EndUs int64
	// SetupUs is the time from the request to the tunnel being ready.
	SetupUs int64
}

func (a *agent) newRecord(r ConnRecord) *ConnRecord {
	r.StartUs = time.Now().UnixMicro()
	rec := &r
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.ID == "" {
		a.localSeq++
		r.ID = "local-" + strconv.Itoa(a.localSeq)
	}
	a.recs.add(rec)
	return rec
}

// recordRing keeps the last maxRecords connection records: a ring, so that
// a busy agent does not move a thousand pointers per connection.
type recordRing struct {
	buf  []*ConnRecord // in insertion order from next, once full
	next int           // where the next record goes, once full
}

func (r *recordRing) add(rec *ConnRecord) {
	if len(r.buf) < maxRecords {
		r.buf = append(r.buf, rec)
		return
	}
	r.buf[r.next] = rec
	r.next = (r.next + 1) % maxRecords
}

// snapshot copies the records, oldest first.
func (r *recordRing) snapshot() []ConnRecord {
	out := make([]ConnRecord, 0, len(r.buf))
	for _, rec := range r.buf[r.next:] {
		out = append(out, *rec)
	}
	for _, rec := range r.buf[:r.next] {
		out = append(out, *rec)
	}
	return out
}

// update changes rec under the agent's lock.
func (a *agent) update(rec *ConnRecord, f func(r *ConnRecord)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f(rec)
}

// finish records the end of a connection: c is "" when it was set up and
// has now closed.
func (a *agent) finish(rec *ConnRecord, c code.Code, local bool, up, down int64) {
	a.update(rec, func(r *ConnRecord) {
		r.Code, r.Local, r.BytesUp, r.BytesDown, r.EndUs = c, local, up, down, time.Now().UnixMicro()
	})
	if c != "" {
		a.log.Info("connection failed", "id", rec.ID, "role", rec.Role, "fqdn", rec.FQDN, "port", rec.Port, "code", c, "local", local)
	} else {
		a.log.Info("connection closed", "id", rec.ID, "role", rec.Role, "fqdn", rec.FQDN, "port", rec.Port, "bytesUp", up, "bytesDown", down)
	}
}

// Status returns a snapshot of the agent's status.
func (a *agent) status() Status {
	p := &a.cfg.Profile
	st := Status{Name: a.cfg.Name, Tenant: a.client.Identity().Tenant, FQDN: p.ReportedFQDN(), PrivateAccess: "OFF"}
	if p.PrivateAccessEnabled() {
		st.PrivateAccess = "ON"
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if s := a.sess; s != nil {
		r := &s.Registered
		st.Connected, st.SessionID = true, s.Welcome.SessionID
		st.FQDNRegistered, st.FQDNRegisteredError, st.Available, st.Code = r.FQDNRegistered, r.FQDNRegisteredError, r.Available, r.Code
		st.Segments = len(r.Segments)
		if r.FQDNRegistered {
			st.Client = st.FQDN
		}
	}
	st.Connections = a.recs.snapshot()
	return st
}

func (a *agent) statusHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(a.status())
	})
	return mux
}
