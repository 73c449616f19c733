package policy

import (
	"slices"
	"strconv"
	"strings"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/domain"
)

func quote(s string) string { return strconv.Quote(s) }

// Register validates a connector's registration and records the session
// under r.ID, replacing any earlier session with that ID. It applies the
// hostname validation (HV-1..HV-5), FQDN uniqueness (HV-6: a name held by
// another enrolled session is refused with FQDN_DUPLICATE and the first keeps
// it) and the device gates (DEV-1, DEV-2, DEV-4, DEV-5). FQDNs are compared
// case-insensitively for uniqueness, as DNS compares them.
func (e *Engine) Register(r Registration) Enrolment {
	r.Posture = slices.Clone(r.Posture)
	r.Device = r.Device.clone()
	en := e.hostname.validate(r.FQDN)
	gateCode, gateTrace := gates(&r)
	key := domain.Normalize(r.FQDN)

	e.mu.Lock()
	defer e.mu.Unlock()
	e.unregisterLocked(r.ID)
	if en.FQDNRegistered {
		if h, taken := e.holders[key]; taken {
			en.refuse(code.FQDNDuplicate, quote(r.FQDN)+" is already held by enrolled session "+quote(h.ID)+
				"; the first registration keeps it and this one is refused")
		}
	}
	en.Trace = append(en.Trace, gateTrace...)
	switch {
	case !en.FQDNRegistered:
		en.Code = en.FQDNRegisteredError
		en.Trace = append(en.Trace, en.Code.Sentence("not enrolled for client-to-client"))
	case gateCode != "":
		en.Code = gateCode
		en.Trace = append(en.Trace, gateCode.Sentence("enrolled as "+quote(r.FQDN)+" but not available for client-to-client"))
	default:
		en.Available = true
		en.Trace = append(en.Trace, "enrolled as "+quote(r.FQDN)+" and available for client-to-client")
	}
	s := &session{Registered: Registered{Registration: r, Enrolment: en}, quotedID: quote(r.ID)}
	e.assignIP(s)
	if s.ClientIP.IsValid() {
		s.Trace = append(s.Trace, "client IP "+s.ClientIP.String()+" from the tenant's client-to-client IP ranges (SEG-9)")
	}
	en = s.Enrolment
	e.sessions[r.ID] = s
	if en.FQDNRegistered {
		e.holders[key] = s
	}
	en.Trace = slices.Clone(en.Trace)
	return en
}

// Unregister forgets the session; an FQDN it held is free for the next
// registration. A session refused with FQDN_DUPLICATE is not promoted: its
// connector must register again. Unknown IDs are ignored.
func (e *Engine) Unregister(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.unregisterLocked(id)
}

func (e *Engine) unregisterLocked(id string) {
	s, ok := e.sessions[id]
	if !ok {
		return
	}
	delete(e.sessions, id)
	e.releaseIP(s)
	key := domain.Normalize(s.FQDN)
	if e.holders[key] == s {
		delete(e.holders, key)
	}
}

// Registered returns a snapshot of every session, sorted by ID.
func (e *Engine) Registered() []Registered {
	e.mu.RLock()
	out := make([]Registered, 0, len(e.sessions))
	for _, s := range e.sessions {
		c := s.Registered
		c.Posture = slices.Clone(s.Posture)
		c.Device = s.Device.clone()
		c.Trace = slices.Clone(s.Trace)
		out = append(out, c)
	}
	e.mu.RUnlock()
	slices.SortFunc(out, func(a, b Registered) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// session is a Registered with what Decide's trace needs precomputed.
type session struct {
	Registered
	quotedID string
}

// destination is what Decide needs to know about the session holding an FQDN.
type destination struct {
	found     bool
	id        string
	quotedID  string // for traces
	available bool
	code      code.Code
}

// holder returns the enrolled session holding the normalized name.
func (e *Engine) holder(name string) destination {
	e.mu.RLock()
	defer e.mu.RUnlock()
	s, ok := e.holders[name]
	if !ok {
		return destination{}
	}
	return destination{found: true, id: s.ID, quotedID: s.quotedID, available: s.Available, code: s.Code}
}
