// Package device describes a simulated end-user device: its OS, Client
// Connector version and settings, domain-join state, and the local services
// and Windows settings that decide whether remote assistance can work.
// Profiles are YAML or JSON files (fixtures/devices); the zero value of each
// optional field is documented and valid.
package device

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/c2clab/c2clab/sim/configfile"
)

// OS is the device's operating system, spelled as ZPA's PLATFORM operand.
type OS string

const (
	Windows OS = "windows"
	MacOS   OS = "mac"
	Linux   OS = "linux"
)

// JoinState is how the device is joined to a directory.
type JoinState string

const (
	JoinAD     JoinState = "ad"     // Active Directory domain-joined
	JoinHybrid JoinState = "hybrid" // hybrid Azure AD joined
	JoinAzure  JoinState = "azure"  // Azure AD (Entra ID) joined
	JoinNone   JoinState = "none"   // not joined
)

// Profile is one device. Field names are the file's keys.
type Profile struct {
	// Name identifies the profile in a run and in reports; defaults to the
	// file name without extension.
	Name string `yaml:"name" json:"name"`
	// Hostname is the machine hostname, without the DNS suffix.
	Hostname string `yaml:"hostname" json:"hostname"`
	// PrimaryDNSSuffix is appended to Hostname to form the FQDN (HV-4).
	// Empty means the device has none and reports a bare hostname.
	PrimaryDNSSuffix string `yaml:"primaryDnsSuffix" json:"primaryDnsSuffix"`
	OS               OS     `yaml:"os" json:"os"`
	// ConnectorVersion is the Client Connector version (DEV-1).
	ConnectorVersion string    `yaml:"connectorVersion" json:"connectorVersion"`
	JoinState        JoinState `yaml:"joinState" json:"joinState"`
	// MachineTunnel: a machine tunnel is deployed (Windows and macOS only).
	MachineTunnel bool `yaml:"machineTunnel" json:"machineTunnel"`
	// LoggedIn: the connector is logged in to Private Access (DEV-4).
	LoggedIn bool `yaml:"loggedIn" json:"loggedIn"`
	// PrivateAccess: Private Access is enabled on the connector (DEV-5).
	// Absent means true; write false to disable.
	PrivateAccess *bool `yaml:"privateAccess" json:"privateAccess"`
	// CollectHostname: the connector collects the machine hostname (HV-5).
	// Absent means true.
	CollectHostname *bool `yaml:"collectHostname" json:"collectHostname"`
	// User is the ZPA identity logged in to the connector, e.g.
	// admin@example.com. Empty with a machine tunnel means the machine itself.
	User string `yaml:"user" json:"user"`
	// Posture lists the posture profiles (names or UDIDs) the device
	// satisfies. Absent: unknown (a rule with POSTURE criteria is then
	// undecided, POL-4); an empty list: none.
	Posture []string `yaml:"posture" json:"posture"`
	// TrustedNetworks are the trusted networks (names or network IDs) the
	// device is on (TRUSTED_NETWORK criteria; SEG-8 ON_NET bypass).
	// Absent: unknown; []: on none.
	TrustedNetworks *[]string `yaml:"trustedNetworks" json:"trustedNetworks,omitempty"`
	// Country is the ISO 3166-1 alpha-2 code of where the device connects
	// from (COUNTRY_CODE criteria). Absent: unknown; "": none known to ZPA.
	Country *string `yaml:"country" json:"country,omitempty"`
	// MachineGroup is the machine group (name or ID) of the device's
	// machine tunnel (MACHINE_GRP criteria). Absent: unknown; "": none.
	MachineGroup *string `yaml:"machineGroup" json:"machineGroup,omitempty"`
	// InterfaceIP is the device's own interface address (EP-1). Empty: the
	// lab assigns one from the device's network.
	InterfaceIP string `yaml:"interfaceIP" json:"interfaceIP"`
	// Firewall is the host-based firewall.
	Firewall Firewall `yaml:"firewall" json:"firewall"`
	// Services are the local services listening on the interface IP.
	// Empty: RDP on 3389 only.
	Services []Service `yaml:"services" json:"services"`
	// RDP holds Remote Desktop and shadowing settings (RA-2).
	RDP RDP `yaml:"rdp" json:"rdp"`
	// SMB holds the file-sharing service settings (psexec, EP-2).
	SMB SMB `yaml:"smb" json:"smb"`
}

// Firewall is the host firewall as far as client-to-client cares.
type Firewall struct {
	// BlockInterfaceIP: the firewall refuses connections from the local
	// connector to the interface IP (EP-1 fails with C2C_MTUNNEL_FAILED_FORWARD).
	BlockInterfaceIP bool `yaml:"blockInterfaceIP" json:"blockInterfaceIP"`
	// InboundRules are the enabled Windows inbound rules by display name,
	// e.g. "File and Printer Sharing (SMB-In)", "Remote Desktop - Shadow (TCP-In)".
	InboundRules []string `yaml:"inboundRules" json:"inboundRules"`
}

// Service is a local service on the device.
type Service struct {
	// Kind is one of rdp, smb, msra, shadow, echo, bulk.
	Kind string `yaml:"kind" json:"kind"`
	Port int    `yaml:"port" json:"port"`
}

// RDP is the Remote Desktop configuration.
type RDP struct {
	// Enabled: Remote Desktop is enabled (by a local administrator).
	Enabled bool `yaml:"enabled" json:"enabled"`
	// Protocols the server accepts in RDP_NEG_REQ, in preference order:
	// rdp, ssl, hybrid, hybrid_ex. Empty: ssl, hybrid.
	Protocols []string `yaml:"protocols" json:"protocols"`
	// ShadowPolicy is "Set rules for remote control of Remote Desktop
	// Services user sessions": nil not configured, 0 no remote control,
	// 1 full control with the user's permission, 2 full control without,
	// 3 view with permission, 4 view without.
	ShadowPolicy *int `yaml:"shadowPolicy" json:"shadowPolicy"`
	// Sessions are the logged-on sessions `query session` lists.
	Sessions []Session `yaml:"sessions" json:"sessions"`
	// Consent is how the target user answers a shadow request that needs
	// permission: accept, refuse or timeout. Empty: accept.
	Consent string `yaml:"consent" json:"consent"`
}

// Session is one logged-on Windows session.
type Session struct {
	ID    int    `yaml:"id" json:"id"`
	User  string `yaml:"user" json:"user"`
	Name  string `yaml:"name" json:"name"`   // e.g. console, rdp-tcp#0
	State string `yaml:"state" json:"state"` // Active, Disc, Listen
}

// SMB is the file-sharing service.
type SMB struct {
	// Dialect the server picks, e.g. "3.1.1", "3.0.2", "2.1", "2.0.2".
	// Empty: 3.1.1.
	Dialect string `yaml:"dialect" json:"dialect"`
}

// Minimum Client Connector versions for client-to-client (DEV-1).
var MinVersion = map[OS]Version{
	Windows: MustVersion("3.9.0.169"),
	Linux:   MustVersion("1.4"),
	MacOS:   MustVersion("3.7"),
}

// FQDN is the machine hostname plus the primary DNS suffix (HV-4), or the
// bare hostname when there is no suffix.
func (p *Profile) FQDN() string {
	h := strings.TrimSuffix(p.Hostname, ".")
	s := strings.Trim(p.PrimaryDNSSuffix, ".")
	if h == "" || s == "" {
		return h
	}
	return h + "." + s
}

// ReportedFQDN is what a conforming connector reports: the FQDN when it
// collects the hostname, otherwise nothing (HV-5).
func (p *Profile) ReportedFQDN() string {
	if !p.CollectsHostname() {
		return ""
	}
	return p.FQDN()
}

// PrivateAccessEnabled reports DEV-5; absent means enabled.
func (p *Profile) PrivateAccessEnabled() bool { return p.PrivateAccess == nil || *p.PrivateAccess }

// CollectsHostname reports HV-5; absent means it collects.
func (p *Profile) CollectsHostname() bool { return p.CollectHostname == nil || *p.CollectHostname }

// ServicesOrDefault returns Services, or RDP on 3389 when none are listed.
func (p *Profile) ServicesOrDefault() []Service {
	if len(p.Services) == 0 {
		return []Service{{Kind: "rdp", Port: 3389}}
	}
	return p.Services
}

// HasInboundRule reports whether the named Windows inbound rule is enabled.
func (f Firewall) HasInboundRule(name string) bool {
	for _, r := range f.InboundRules {
		if strings.EqualFold(r, name) {
			return true
		}
	}
	return false
}

// Load reads a profile file and validates it; errors name file, line and field.
func Load(path string) (*Profile, error) {
	var p Profile
	doc, err := configfile.Load(path, &p)
	if err != nil {
		return nil, err
	}
	if p.Name == "" {
		p.Name = baseName(path)
	}
	if err := p.validate(doc); err != nil {
		return nil, err
	}
	return &p, nil
}

// Parse is Load for data already read; path is used in errors.
func Parse(path string, data []byte) (*Profile, error) {
	var p Profile
	doc, err := configfile.Parse(path, data, &p)
	if err != nil {
		return nil, err
	}
	if p.Name == "" {
		p.Name = baseName(path)
	}
	if err := p.validate(doc); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate checks a profile built in code (no file positions).
func (p *Profile) Validate() error {
	d, _ := configfile.Parse("<profile "+p.Name+">", []byte("{}"), &struct{}{})
	return p.validate(d)
}

var serviceKinds = map[string]bool{"rdp": true, "smb": true, "msra": true, "echo": true, "bulk": true, "shadow": true}

func (p *Profile) validate(d *configfile.Doc) error {
	switch p.OS {
	case Windows, MacOS, Linux:
	default:
		return d.Errorf("os", "is %q, want windows, mac or linux", p.OS)
	}
	if _, err := ParseVersion(p.ConnectorVersion); err != nil {
		return d.Errorf("connectorVersion", "%v", err)
	}
	switch p.JoinState {
	case JoinAD, JoinHybrid, JoinAzure, JoinNone:
	case "":
		p.JoinState = JoinNone
	default:
		return d.Errorf("joinState", "is %q, want ad, hybrid, azure or none", p.JoinState)
	}
	if p.MachineTunnel && p.OS == Linux {
		return d.Errorf("machineTunnel", "machine tunnels exist on Windows and macOS only, not linux")
	}
	if p.Hostname != "" && strings.ContainsAny(p.Hostname, " \t/") {
		return d.Errorf("hostname", "is %q, want a hostname without spaces or slashes", p.Hostname)
	}
	if p.InterfaceIP != "" {
		if _, err := netip.ParseAddr(p.InterfaceIP); err != nil {
			return d.Errorf("interfaceIP", "is %q, want an IPv4 address such as 192.168.1.100", p.InterfaceIP)
		}
	}
	for i, s := range p.Services {
		if !serviceKinds[s.Kind] {
			return d.Errorf(fmt.Sprintf("services[%d].kind", i), "is %q, want rdp, smb, msra, shadow, echo or bulk", s.Kind)
		}
		if s.Port < 1 || s.Port > 65535 {
			return d.Errorf(fmt.Sprintf("services[%d].port", i), "is %d, want 1-65535", s.Port)
		}
	}
	if c := p.Country; c != nil && *c != "" && !isAlpha2(*c) {
		return d.Errorf("country", "is %q, want an ISO 3166-1 alpha-2 code such as US or DE (or \"\" for none)", *c)
	}
	if sp := p.RDP.ShadowPolicy; sp != nil && (*sp < 0 || *sp > 4) {
		return d.Errorf("rdp.shadowPolicy", "is %d, want 0-4", *sp)
	}
	switch p.RDP.Consent {
	case "", "accept", "refuse", "timeout":
	default:
		return d.Errorf("rdp.consent", "is %q, want accept, refuse or timeout", p.RDP.Consent)
	}
	return nil
}

// isAlpha2 reports whether c is two ASCII letters; which pairs ISO 3166
// assigns is ZPA's to check, and an unassigned one simply matches no rule.
func isAlpha2(c string) bool {
	if len(c) != 2 {
		return false
	}
	for i := 0; i < 2; i++ {
		if x := c[i] | 0x20; x < 'a' || x > 'z' {
			return false
		}
	}
	return true
}

func baseName(path string) string {
	b := path[strings.LastIndexAny(path, `/\`)+1:]
	if i := strings.LastIndexByte(b, '.'); i > 0 {
		b = b[:i]
	}
	return b
}
