package device

import (
	"errors"
	"strings"
	"testing"

	"github.com/c2clab/c2clab/sim/configfile"
)

// devHead is the start of a valid profile.
const devHead = "hostname: pc1\nprimaryDnsSuffix: example.com\nos: windows\nconnectorVersion: \"4.5\"\n"

// badInputs are device profiles a user gets wrong, each with the error it
// must give: FILE:LINE: FIELD: what is wrong and what is accepted. They
// seed FuzzParse too.
var badInputs = []struct {
	name, in, want string
}{
	{"unknown field", devHead + "hostnme: pc2\n", "d.yaml:5: hostnme: field hostnme not found; want one of: name, hostname, primaryDnsSuffix, os,"},
	{"unknown field in a service", devHead + "services:\n  - {kind: rdp, prot: 3389}\n", "d.yaml:6: services[0].prot: field prot not found; want one of: kind, port"},
	{"boolean not true or false", devHead + "loggedIn: maybe\n", `d.yaml:5: loggedIn: is "maybe", want true or false`},
	{"services not a list", devHead + "services: {kind: rdp, port: 3389}\n", "d.yaml:5: services: is a mapping, want a list"},
	{"port with a fraction", devHead + "services:\n  - {kind: rdp, port: 3389.5}\n", `d.yaml:6: services[0].port: is "3389.5", want a whole number`},
	{"port zero", devHead + "services:\n  - {kind: rdp, port: 0}\n", "d.yaml:6: services[0].port: is 0, want 1-65535"},
	{"port over 65535", devHead + "services:\n  - {kind: smb, port: 70000}\n", "d.yaml:6: services[0].port: is 70000, want 1-65535"},
	{"unknown service", devHead + "services:\n  - {kind: vnc, port: 5900}\n", `d.yaml:6: services[0].kind: is "vnc", want rdp, smb, msra, shadow, echo or bulk`},
	{"unknown os", "hostname: pc1\nos: beos\nconnectorVersion: \"4.5\"\n", `d.yaml:2: os: is "beos", want windows, mac or linux`},
	{"no os", "hostname: pc1\nconnectorVersion: \"4.5\"\n", `d.yaml:1: os: is "", want windows, mac or linux`},
	{"version with a letter", "hostname: pc1\nos: windows\nconnectorVersion: 3.9.x\n", `d.yaml:3: connectorVersion: parse version "3.9.x": part 3 is "x", want digits like 3.9.0.169`},
	{"version with seven parts", "hostname: pc1\nos: windows\nconnectorVersion: 1.2.3.4.5.6.7\n", `d.yaml:3: connectorVersion: parse version "1.2.3.4.5.6.7": more than 6 parts`},
	{"no version", "hostname: pc1\nos: linux\n", "d.yaml:1: connectorVersion: parse version: empty"},
	{"unknown join state", devHead + "joinState: workgroup\n", `d.yaml:5: joinState: is "workgroup", want ad, hybrid, azure or none`},
	{"machine tunnel on linux", "hostname: pc1\nos: linux\nconnectorVersion: \"1.4\"\nmachineTunnel: true\n", "d.yaml:4: machineTunnel: machine tunnels exist on Windows and macOS only"},
	{"hostname with a space", "hostname: pc 1\nos: windows\nconnectorVersion: \"4.5\"\n", `d.yaml:1: hostname: is "pc 1", want a hostname without spaces or slashes`},
	{"interface address not an address", devHead + "interfaceIP: 192.168.1.300\n", `d.yaml:5: interfaceIP: is "192.168.1.300", want an IPv4 address`},
	{"shadow policy out of range", devHead + "rdp:\n  shadowPolicy: 5\n", "d.yaml:6: rdp.shadowPolicy: is 5, want 0-4"},
	{"unknown consent", devHead + "rdp:\n  consent: later\n", `d.yaml:6: rdp.consent: is "later", want accept, refuse or timeout`},
	{"session id not a number", devHead + "rdp:\n  sessions: [{id: one}]\n", `d.yaml:6: rdp.sessions[0].id: is "one", want a whole number`},
	{"empty file", "", "d.yaml: file is empty"},
	{"a list, not a profile", "- windows\n", "d.yaml:1: the file is a list, want a mapping with fields name, hostname,"},
}

func TestBadInputNamesFileLineField(t *testing.T) {
	for _, tt := range badInputs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("d.yaml", []byte(tt.in))
			if err == nil {
				t.Fatal("loaded without error")
			}
			var ce *configfile.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err %T is not a *configfile.Error: %v", err, err)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if strings.HasPrefix(line, tt.want) {
					return
				}
			}
			t.Fatalf("no error line starts with %q; got:\n%v", tt.want, err)
		})
	}
}
