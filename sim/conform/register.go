package conform

import (
	"slices"
	"time"

	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/policy"
	"github.com/c2clab/c2clab/sim/wire"
)

// Register is the register message a conforming connector running on the
// device p sends (docs/PROTOCOL.md section 5): the FQDN it reports
// (hostname + primary DNS suffix, or nothing when it does not collect the
// hostname, HV-4, HV-5), its OS as its platform, version, join state,
// machine tunnel, login, Private Access, user and posture profiles. A
// conforming connector with Private Access off sends none (DEV-5): it does
// not connect. The result shares nothing with p.
func Register(p *device.Profile) wire.Register {
	return wire.Register{
		FQDN:             p.ReportedFQDN(),
		OS:               string(p.OS),
		Platform:         string(p.OS),
		ConnectorVersion: p.ConnectorVersion,
		JoinState:        string(p.JoinState),
		MachineTunnel:    p.MachineTunnel,
		LoggedIn:         p.LoggedIn,
		PrivateAccess:    p.PrivateAccessEnabled(),
		User:             p.User,
		Posture:          slices.Clone(p.Posture),
		TrustedNetworks:  p.TrustedNetworks,
		Country:          p.Country,
		MachineGroup:     p.MachineGroup,
	}
}

// Registration is what the broker registers with the policy engine for the
// register message m of session id. It is the one mapping from the wire
// back to policy, so what the agent reports and what the engine judges
// cannot drift apart. The result shares nothing with m.
func Registration(id string, m *wire.Register) policy.Registration {
	return policy.Registration{
		ID:               id,
		FQDN:             m.FQDN,
		OS:               device.OS(m.OS),
		ConnectorVersion: m.ConnectorVersion,
		JoinState:        device.JoinState(m.JoinState),
		MachineTunnel:    m.MachineTunnel,
		LoggedIn:         m.LoggedIn,
		PrivateAccess:    m.PrivateAccess,
		User:             m.User,
		Posture:          slices.Clone(m.Posture),
		ClientType:       m.ClientType,
		Device: policy.DeviceAttrs{Posture: policy.AttrOf(m.Posture), TrustedNetworks: policy.AttrOfList(m.TrustedNetworks),
			Country: policy.AttrOfPtr(m.Country), MachineGroup: policy.AttrOfPtr(m.MachineGroup)},
	}
}

// FromProfile is Registration(id, Register(p)): what the broker registers
// for a conforming connector on p.
func FromProfile(id string, p *device.Profile) policy.Registration {
	m := Register(p)
	return Registration(id, &m)
}

// Request is the policy request for connect message c, at time at, from a
// session that sent register message m, registered as reg
// (Registration(id, m)): its user, client type and device attributes as
// policy.SourceRequest says, and its platform. A register message without
// a platform (a vendor's agent may leave it out; docs/PROTOCOL.md section
// 5) means its OS: this is the one place that default is applied.
func Request(reg *policy.Registration, m *wire.Register, c *wire.Connect, at time.Time) policy.Request {
	req := policy.SourceRequest(reg)
	platform := m.Platform
	if platform == "" {
		platform = m.OS
	}
	req.Platform = device.OS(platform)
	req.FQDN, req.Port, req.Proto, req.Time = c.FQDN, c.Port, c.Proto, at
	return req
}

// Segments is the segment list the broker sends in registered (section 5):
// what the source side intercepts by. TCP is never null on the wire.
func Segments(segs []policy.Segment) []wire.Segment {
	out := make([]wire.Segment, 0, len(segs))
	for _, s := range segs {
		ws := wire.Segment{ID: s.ID, Name: s.Name, Enabled: s.Enabled, Domains: s.DomainNames(),
			MatchStyle: s.MatchStyle, BypassType: s.BypassType, TCP: wireRanges(s.TCP), UDP: wireRanges(s.UDP)}
		if ws.TCP == nil {
			ws.TCP = []wire.PortRange{}
		}
		out = append(out, ws)
	}
	return out
}

// policySegments is the inverse of Segments, for the source side's own
// policy engine.
func policySegments(segs []wire.Segment) []policy.Segment {
	out := make([]policy.Segment, 0, len(segs))
	for _, s := range segs {
		p := policy.Segment{ID: s.ID, Name: s.Name, Enabled: s.Enabled,
			MatchStyle: s.MatchStyle, BypassType: s.BypassType, TCP: policyRanges(s.TCP), UDP: policyRanges(s.UDP)}
		p.Domains, p.Addrs = policy.SplitDomainNames(s.Domains) // names and client IP ranges (SEG-9)
		out = append(out, p)
	}
	return out
}

func wireRanges(rs []policy.PortRange) []wire.PortRange {
	var out []wire.PortRange
	for _, r := range rs {
		out = append(out, wire.PortRange{From: r.From, To: r.To})
	}
	return out
}

func policyRanges(rs []wire.PortRange) []policy.PortRange {
	var out []policy.PortRange
	for _, r := range rs {
		out = append(out, policy.PortRange{From: r.From, To: r.To})
	}
	return out
}
