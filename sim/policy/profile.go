package policy

import (
	"github.com/c2clab/c2clab/sim/device"
)

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
