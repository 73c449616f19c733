package policy

import (
	"slices"

	"github.com/c2clab/c2clab/sim/device"
)

// RegistrationFromProfile is what a conforming connector running on the
// device p reports when it registers, under session ID id: the FQDN it
// reports (hostname + primary DNS suffix, or nothing when it does not
// collect the hostname, HV-4, HV-5), its OS, version, join state, machine
// tunnel, login, Private Access, user and posture profiles. It is the one
// mapping from a device profile to a Registration, so that the reference
// agent, `c2clab check` and the broker's tests all report a device the same
// way. The result shares nothing with p.
//
// A conforming connector with Private Access off does not register at all
// (DEV-5); callers that model one should not call Register with this.
func RegistrationFromProfile(id string, p *device.Profile) Registration {
	return Registration{
		ID:               id,
		FQDN:             p.ReportedFQDN(),
		OS:               p.OS,
		ConnectorVersion: p.ConnectorVersion,
		JoinState:        p.JoinState,
		MachineTunnel:    p.MachineTunnel,
		LoggedIn:         p.LoggedIn,
		PrivateAccess:    p.PrivateAccessEnabled(),
		User:             p.User,
		Posture:          slices.Clone(p.Posture),
		Device:           DeviceAttrsFromProfile(p),
	}
}

// DeviceAttrsFromProfile is what a conforming connector on p reports about
// itself for access rules (POL-4): absent profile fields are unknown.
func DeviceAttrsFromProfile(p *device.Profile) DeviceAttrs {
	return DeviceAttrs{
		Posture:         AttrOf(p.Posture),
		TrustedNetworks: AttrOfList(p.TrustedNetworks),
		Country:         AttrOfPtr(p.Country),
		MachineGroup:    AttrOfPtr(p.MachineGroup),
	}
}

// ClientTypeOf is the client type of a connection from a connector
// registered as r: what it reports, else zpn_client_type_machine_tunnel
// when it comes over a machine tunnel (deployed, no user logged in, not
// Linux), else zpn_client_type_zapp.
func ClientTypeOf(r *Registration) string {
	switch {
	case r.ClientType != "":
		return r.ClientType
	case r.MachineTunnel && !r.LoggedIn && r.OS != device.Linux:
		return ClientTypeMachineTunnel
	}
	return ClientTypeZapp
}

// SourceRequest is the request a connector registered as r makes: its
// user, platform, client type and device attributes. The caller adds the
// destination and the time.
func SourceRequest(r *Registration) Request {
	return Request{User: r.User, Platform: r.OS, ClientType: ClientTypeOf(r), Device: r.Device}
}
