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
	// ClientIP is the device's address from the tenant's client-to-client
	// IP ranges (SEG-9), if it has one.
	ClientIP             string `json:"clientIP,omitempty"`
	OS, ConnectorVersion string
	ServerGroups         []string `json:",omitempty"`
	Connected            bool
	ConnectedAt          time.Time
	DisconnectedAt       time.Time `json:",omitzero"`
	Trace                []string
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
	Action      string // ALLOW, DENY, or UNDECIDED when the policy could not be decided (POL-4)
	// Undecided names what the rule in Rule needed that the lab was not
	// told, e.g. "the source device's country (country)" (POL-4).
	Undecided string    `json:"undecided,omitempty"`
	Status    string    // Open, Active, Closed
	Code      code.Code `json:"internalReason"`
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
	mu       sync.Mutex
	status   ring[*UserStatus] // in start order
	activity ring[*Activity]   // in start order
}

func newRecords(max int) *records {
	if max <= 0 {
		max = 10000
	}
	return &records{status: ring[*UserStatus]{max: max}, activity: ring[*Activity]{max: max}}
}

func (r *records) addStatus(s *UserStatus) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status.add(s, func(s *UserStatus) bool { return !s.Connected })
}

func (r *records) addActivity(a *Activity) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.activity.add(a, func(a *Activity) bool { return a.Status == StatusClosed })
}

// ring holds at most max records, oldest first. Over max it drops the
// oldest finished record, or the oldest of all when none has finished. The
// oldest is nearly always finished, so adding is O(1) where a slice would
// move every record; when open records come first, only those move.
type ring[T any] struct {
	max  int
	buf  []T // grows to max; then a ring starting at head
	head int // index of the oldest record once full, else 0
}

// at returns the i-th oldest record's slot.
func (r *ring[T]) at(i int) *T { return &r.buf[(r.head+i)%len(r.buf)] }

func (r *ring[T]) add(v T, finished func(T) bool) {
	if len(r.buf) < r.max {
		r.buf = append(r.buf, v)
		return
	}
	k := 0 // the record to drop
	for k < len(r.buf) && !finished(*r.at(k)) {
		k++
	}
	if k == len(r.buf) {
		k = 0
	}
	for i := k; i > 0; i-- { // the open records before it move up by one
		*r.at(i) = *r.at(i - 1)
	}
	r.head = (r.head + 1) % len(r.buf) // the old head's slot is now the newest
	*r.at(len(r.buf) - 1) = v
}

// each calls f with every record, oldest first.
func (r *ring[T]) each(f func(T)) {
	for i := range r.buf {
		f(*r.at(i))
	}
}

func (r *ring[T]) len() int { return len(r.buf) }

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
	out := make([]UserStatus, 0, r.status.len())
	r.status.each(func(s *UserStatus) {
		c := *s
		c.Trace = slices.Clone(s.Trace)
		c.ServerGroups = slices.Clone(s.ServerGroups)
		out = append(out, c)
	})
	return out
}

func (r *records) snapshotActivity() []Activity {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Activity, 0, r.activity.len())
	r.activity.each(func(a *Activity) {
		c := *a
		c.Trace = slices.Clone(a.Trace)
		out = append(out, c)
	})
	return out
}

func micros(t time.Time) int64 { return t.UnixMicro() }
