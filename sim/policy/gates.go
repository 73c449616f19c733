package policy

import (
	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/device"
)

// osName is how an admin spells each OS in a sentence.
var osName = map[device.OS]string{device.Windows: "Windows", device.MacOS: "macOS", device.Linux: "Linux"}

// gates applies the device requirements for being a client-to-client
// destination, in this order: DEV-5 Private Access, DEV-1 version, DEV-2 Mac
// join, DEV-4 machine tunnel or login. It traces every gate, so an admin sees
// all problems at once, and returns the code of the first that fails ("" if
// none does).
func gates(r *Registration) (code.Code, []string) {
	var fail code.Code
	trace := make([]string, 0, 4)
	note := func(c code.Code, line string) {
		if c != "" && fail == "" {
			fail = c
		}
		trace = append(trace, line)
	}
	note(privateAccessGate(r))
	note(versionGate(r))
	if c, line := joinGate(r); line != "" {
		note(c, line)
	}
	note(presenceGate(r))
	return fail, trace
}

// privateAccessGate is DEV-5 on the destination side. A conforming
// connector with Private Access off never connects to the broker, so the
// broker cannot see one; a connector that registers and still reports it
// off is not conforming, and is not available (C2C_NOT_AVAILABLE).
// CLT_PRIVATE_ACCESS_DISABLED is the source agent's code, not this one's:
// it means the source does not intercept.
func privateAccessGate(r *Registration) (code.Code, string) {
	if r.PrivateAccess {
		return "", "Private Access is enabled on the connector"
	}
	return failGate(code.C2CNotAvailable, "the connector reports Private Access disabled: a conforming connector with Private Access off never connects to the broker (DEV-5), so this one is not available for client-to-client")
}

// versionGate is DEV-1.
func versionGate(r *Registration) (code.Code, string) {
	name, known := osName[r.OS]
	if !known {
		return failGate(code.C2CNotAvailable, "platform "+quote(string(r.OS))+" cannot be a client-to-client destination: only Windows, macOS and Linux can")
	}
	min := device.MinVersion[r.OS]
	v, err := device.ParseVersion(r.ConnectorVersion)
	if err != nil {
		return failGate(code.C2CVersionUnsupported, "connector version "+quote(r.ConnectorVersion)+" cannot be read ("+err.Error()+"), so it cannot be shown to meet the "+name+" minimum "+min.String())
	}
	if v.Compare(min) < 0 {
		return failGate(code.C2CVersionUnsupported, "connector version "+v.String()+" is older than the "+name+" minimum "+min.String())
	}
	return "", "connector version " + v.String() + " meets the " + name + " minimum " + min.String()
}

// joinGate is DEV-2 (a Mac must be domain-joined) and DEV-3's advice for
// Windows and Linux, which work without AD join if the FQDN is complete and
// unique. It returns no line when there is nothing to say.
func joinGate(r *Registration) (code.Code, string) {
	joined := r.JoinState != "" && r.JoinState != device.JoinNone
	switch {
	case r.OS == device.MacOS && !joined:
		return failGate(code.C2CMacNotDomainJoined, "the Mac is not domain-joined, and a Mac must be")
	case r.OS == device.MacOS:
		return "", "the Mac is domain-joined (" + string(r.JoinState) + ")"
	case r.OS == device.Windows && r.JoinState == device.JoinAD:
		return "", "the Windows device is AD domain-joined, as recommended"
	case r.OS == device.Windows || r.OS == device.Linux:
		state := "not domain-joined"
		if joined {
			state = string(r.JoinState) + "-joined"
		}
		return "", "the " + osName[r.OS] + " device is " + state + ": this works if its FQDN is complete and unique (AD join is recommended for Windows)"
	}
	return "", ""
}

// presenceGate is DEV-4. A machine tunnel on Linux is invalid configuration
// (device.Profile refuses it) and counts as absent.
func presenceGate(r *Registration) (code.Code, string) {
	tunnel := r.MachineTunnel && r.OS != device.Linux
	switch {
	case tunnel && r.LoggedIn:
		return "", "a machine tunnel is deployed and the connector is logged in to Private Access"
	case tunnel:
		return "", "a machine tunnel is deployed, so the device is reachable without a logged-in user"
	case r.LoggedIn:
		return "", "the connector is logged in to Private Access"
	case r.MachineTunnel:
		return failGate(code.C2CNotAvailable, "the connector is not logged in to Private Access, and machine tunnels exist on Windows and macOS only, not Linux")
	}
	return failGate(code.C2CNotAvailable, "the device has no machine tunnel and its connector is not logged in to Private Access")
}

// failGate is a gate that fails with c, its trace line written from c
// (code.Sentence).
func failGate(c code.Code, why string) (code.Code, string) {
	return c, c.Sentence(why)
}
