package broker

import (
	"slices"
	"sync"
	"time"

	"github.com/c2clab/c2clab/sim/code"
)

// UserStatus is one control-channel session, as ZPA's User Status
// diagnostics show it (HV-3).
type UserStatus struct {
	Tenant    string
	SessionID string
	Kind      string // agent or connector
	User      string
	Device    string // the certificate's CN
	RemoteIP  string `json:"remoteIP"`
	FQDN      string `json:"fqdn"`
	// FQDNRegistered and FQDNRegisteredError are the registration result.
	FQDNRegistered      bool      `json:"FQDNRegistered"`
	FQDNRegisteredError code.Code `json:"FQDNRegisteredError"`
	// ValidHostname is User Status diagnostics' "Valid Hostname": the
	// reported FQDN matched the tenant's regex.
	ValidHostname bool `json:"validHostname"`
	// ClientToClientEnrolled is "Client-To-Client Enrolled".
	ClientToClientEnrolled bool `json:"clientToClientEnrolled"`
	Available              bool
	Code                   code.Code
	OS, ConnectorVersion   string
	ServerGroups           []string `json:",omitempty"`
	Connected              bool
	ConnectedAt            time.Time
	DisconnectedAt         time.Time `json:",omitzero"`
	Trace                  []string
}

// Activity statuses (LOG-1).
const (
	StatusOpen   = "Open"   // setup in flight
	StatusActive = "Active" // relaying
	StatusClosed = "Closed"
)

// Activity is one connection attempt that reached the broker, allowed or
// not, as ZPA's User Activity log shows it (LOG-1, LOG-2).
type Activity struct {
	ID          string // the conn ID
	Tenant      string
	AccessType  string `json:"accessType"` // "Client to Client" or "Client to Server"
	User        string
	Source      string // source device (certificate CN)
	SourceIP    string
	Destination string // destination device or App Connector, when known
	FQDN        string `json:"fqdn"`
	Port        int
	Proto       string
	Segment     string
	Rule        string
	Action      string    // ALLOW or DENY
	Status      string    // Open, Active, Closed
	Code        code.Code `json:"internalReason"`
	// StartUs and EndUs are Unix times in microseconds; EndUs is 0 while open.
	StartUs, EndUs int64
	// SetupUs is the time from connect received to both data sides paired.
	SetupUs int64 `json:",omitzero"`
	// BytesFromClient and BytesToClient count the relayed stream (the
	// agents' end-to-end TLS records) in each direction.
	BytesFromClient, BytesToClient int64
	Trace                          []string
}

// records holds User Status and User Activity. Callers change records only
// through update, which holds mu.
type records struct {
	max int

	mu       sync.Mutex
	status   []*UserStatus // in start order
	activity []*Activity   // in start order
}

func newRecords(max int) *records {
	if max <= 0 {
		max = 10000
	}
	return &records{max: max}
}

func (r *records) addStatus(s *UserStatus) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status = appendBounded(r.status, s, r.max, func(s *UserStatus) bool { return !s.Connected })
}

func (r *records) addActivity(a *Activity) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.activity = appendBounded(r.activity, a, r.max, func(a *Activity) bool { return a.Status == StatusClosed })
}

// appendBounded appends v and, over max, drops the oldest finished record
// (or the oldest of all when none has finished).
func appendBounded[T any](s []T, v T, max int, finished func(T) bool) []T {
	s = append(s, v)
	if len(s) <= max {
		return s
	}
	i := slices.IndexFunc(s, finished)
	if i < 0 {
		i = 0
	}
	return slices.Delete(s, i, i+1)
}

// update runs f with the records locked, for changing one in place.
func (r *records) update(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f()
}

// Snapshot copies, safe to marshal without the lock.
func (r *records) snapshotStatus() []UserStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]UserStatus, len(r.status))
	for i, s := range r.status {
		out[i] = *s
		out[i].Trace = slices.Clone(s.Trace)
		out[i].ServerGroups = slices.Clone(s.ServerGroups)
	}
	return out
}

func (r *records) snapshotActivity() []Activity {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Activity, len(r.activity))
	for i, a := range r.activity {
		out[i] = *a
		out[i].Trace = slices.Clone(a.Trace)
	}
	return out
}

func micros(t time.Time) int64 { return t.UnixMicro() }
