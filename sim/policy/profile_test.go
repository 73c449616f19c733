package policy

import (
	"reflect"
	"testing"

	"github.com/c2clab/c2clab/sim/device"
)

func ptr[T any](v T) *T { return &v }

func TestRegistrationFromProfile(t *testing.T) {
	no := false
	base := func(change func(*device.Profile)) *device.Profile {
		p := &device.Profile{Name: "pc", Hostname: "desktop-10B38-AC", PrimaryDNSSuffix: "example.com", OS: device.Windows,
			ConnectorVersion: "4.5.0.286", JoinState: device.JoinHybrid, MachineTunnel: true, LoggedIn: true,
			User: "enduser@example.com", Posture: []string{"corp-compliant"}}
		if change != nil {
			change(p)
		}
		return p
	}
	full := Registration{ID: "s1", FQDN: "desktop-10B38-AC.example.com", OS: device.Windows, ConnectorVersion: "4.5.0.286",
		JoinState: device.JoinHybrid, MachineTunnel: true, LoggedIn: true, PrivateAccess: true,
		User: "enduser@example.com", Posture: []string{"corp-compliant"}, Device: DeviceAttrs{Posture: Known("corp-compliant")}}
	with := func(change func(*Registration)) Registration {
		r := full
		r.Posture = append([]string(nil), full.Posture...)
		r.Device.Posture = Known("corp-compliant")
		change(&r)
		return r
	}
	tests := []struct {
		name string
		p    *device.Profile
		want Registration
	}{
		{"every field, Private Access absent means on", base(nil), full},
		{"Private Access off is reported as it is (DEV-5)", base(func(p *device.Profile) { p.PrivateAccess = &no }),
			with(func(r *Registration) { r.PrivateAccess = false })},
		{"no hostname collection reports no FQDN (HV-5)", base(func(p *device.Profile) { p.CollectHostname = &no }),
			with(func(r *Registration) { r.FQDN = "" })},
		{"no primary DNS suffix reports the bare hostname (HV-4)", base(func(p *device.Profile) { p.PrimaryDNSSuffix = "" }),
			with(func(r *Registration) { r.FQDN = "desktop-10B38-AC" })},
		{"posture absent is unknown (POL-4)", base(func(p *device.Profile) { p.Posture = nil }), with(func(r *Registration) { r.Posture, r.Device.Posture = nil, Attr{} })},
		{"posture empty is none", base(func(p *device.Profile) { p.Posture = []string{} }), with(func(r *Registration) { r.Posture, r.Device.Posture = []string{}, Known() })},
		{"trusted networks, country, machine group", base(func(p *device.Profile) {
			p.TrustedNetworks, p.Country, p.MachineGroup = &[]string{"HQ"}, ptr("DE"), ptr("")
		}), with(func(r *Registration) {
			r.Device.TrustedNetworks, r.Device.Country, r.Device.MachineGroup = Known("HQ"), Known("DE"), Known()
		})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := RegistrationFromProfile("s1", tc.p)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("RegistrationFromProfile =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
	t.Run("shares nothing with the profile", func(t *testing.T) {
		p := base(nil)
		got := RegistrationFromProfile("s1", p)
		got.Posture[0] = "changed"
		if p.Posture[0] != "corp-compliant" {
			t.Fatal("the registration's posture aliases the profile's")
		}
	})
}
