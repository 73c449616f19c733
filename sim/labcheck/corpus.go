package labcheck

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/c2clab/c2clab/sim/check"
	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/policy"
)

// Generated is one random tenant with its devices and questions.
type Generated struct {
	Policy policy.Config
	Cases  []Case
}

// Corpus generates tenants tenants of perTenant questions each from seed:
// the same seed gives the same corpus. The tenants vary what the
// requirements vary: the hostname regex (wide, narrow and case-sensitive,
// none, two, one that does not compile; HV-1, HV-2), devices (OS, connector
// versions at, below and above each minimum, join states, machine tunnel,
// login, Private Access, hostname collection, DNS suffix, duplicate
// FQDNs, firewall, services; HV-4..6, DEV-1..5, EP-1), segments (exact and
// nested wildcard domains, port ranges, UDP, disabled, server groups;
// SEG-1..5), rules (order, ALLOW and DENY, AND and OR at both levels,
// negation, APP, APP_GROUP, USER, SCIM attribute, SCIM_GROUP, PLATFORM,
// CLIENT_TYPE, POSTURE and COUNTRY_CODE operands, the last unknown for
// some sources so answers are undecided too; POL-1..4) and the implicit
// block (POL-2). Every
// question's devices are the tenant's destinations, then its sources, in
// that order, as the lab registers them.
func Corpus(seed uint64, tenants, perTenant int) []Generated {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]Generated, tenants)
	for i := range out {
		g := &gen{rng: rng, id: fmt.Sprintf("gen%d", i+1)}
		out[i] = g.tenant(i == 0, perTenant)
	}
	return out
}

type gen struct {
	rng *rand.Rand
	id  string
}

var (
	genUsers    = []string{"helpdesk@corp.test", "jdoe@corp.test", "contractor@corp.test", "ops@corp.test"}
	genGroups   = []string{"helpdesk", "contractors", "ops"}
	genPosture  = []string{"corp-compliant", "disk-encrypted"}
	genSuffixes = []string{"corp.test", "hr.corp.test", "db.hr.corp.test", "other.test", ""}
	genHosts    = []string{"desktop-ab12c-ac", "desktop-AB12C-AC", "desktop-zz999-ac", "laptop-7", "srv-1", "kiosk"}
	genPorts    = []uint16{3389, 445, 7, 53, 3385, 443, 8080}
	genDepts    = []string{"it", "hr"}
	genCountry  = []string{"US", "DE"}
	genRegexes  = [][]string{
		{`.*\.corp\.test`},
		{`.*\.corp\.test`},
		{`desktop-[a-z0-9]{5}-ac\.(hr\.)?corp\.test`},
		{`(desktop|laptop)-[a-zA-Z0-9]+\..*corp\.test`},
		{},
		{`.*\.corp\.test`, `.*\.other\.test`},
		{`desktop-[`},
	}
)

func (g *gen) pick(n int) int        { return g.rng.IntN(n) }
func (g *gen) chance(p float64) bool { return g.rng.Float64() < p }

// tenant makes one tenant; the first of a corpus gets the devices that
// make each gate's code appear at least once.
func (g *gen) tenant(first bool, n int) Generated {
	cfg := policy.Config{Tenant: g.id, ImplicitBlock: g.chance(0.2)}
	cfg.HostnameRegexes = genRegexes[0]
	if !first {
		cfg.HostnameRegexes = genRegexes[g.pick(len(genRegexes))]
	}
	for _, u := range genUsers {
		var groups []string
		for _, gr := range genGroups {
			if g.chance(0.4) {
				groups = append(groups, gr)
			}
		}
		cfg.Users = append(cfg.Users, policy.User{Name: u, Groups: policy.Known(groups...),
			SCIM: policy.Attrs{Known: true, Values: map[string][]string{"department": {genDepts[g.pick(len(genDepts))]}}}})
	}
	var dests []*device.Profile
	if first {
		dests = anchors()
	}
	nAnchors := len(dests)
	for len(dests) < 9 {
		if p := g.device(len(dests)); p.Validate() == nil && !(p.Firewall.BlockInterfaceIP && blocked(dests)) {
			dests = append(dests, p)
		}
	}
	cfg.Segments = g.segments(dests)
	for {
		cfg.Rules = g.rules(cfg.Segments, first)
		if _, err := policy.New(cfg); err == nil {
			break
		}
	}
	srcs := g.sources(first)
	all := append(append([]*device.Profile{}, dests...), srcs...)
	out := Generated{Policy: cfg}
	if first {
		out.Cases = anchorCases(&out.Policy, dests[:nAnchors], srcs[0], all)
	}
	for i := 0; i < n; i++ {
		src := srcs[g.pick(len(srcs))]
		fqdn := g.target(dests, nAnchors)
		port := g.port(fqdn)
		out.Cases = append(out.Cases, Case{
			Name:     fmt.Sprintf("%s q%d: %s on %s to %s:%d", g.id, i+1, src.User, src.Name, fqdn, port),
			Question: check.Question{User: src.User, From: src, Devices: all, FQDN: fqdn, Port: port},
		})
	}
	return out
}

// anchorCases ask, from src, each anchor on RDP and the App Connector's
// server, past an ALLOW rule that comes first: whatever the seed, every
// gate after the rules answers at least once.
func anchorCases(cfg *policy.Config, anchors []*device.Profile, src *device.Profile, all []*device.Profile) []Case {
	cfg.Rules = append([]policy.Rule{{ID: "r-anchors", Name: "helpdesk reaches the anchors", Order: 0, Action: policy.Allow,
		Conditions: []policy.Condition{{Operands: []policy.Operand{{ObjectType: policy.ObjUser, RHS: src.User}}}}}}, cfg.Rules...)
	var out []Case
	ask := func(fqdn string, port uint16) {
		out = append(out, Case{Name: fmt.Sprintf("%s anchor: %s to %s:%d", cfg.Tenant, src.Name, fqdn, port),
			Question: check.Question{User: src.User, From: src, Devices: all, FQDN: fqdn, Port: port}})
	}
	for _, a := range anchors {
		ask(a.FQDN(), 3389)
	}
	ask("app.other.test", 443)
	return out
}

// blocked reports whether a device of ps has a firewall blocking its
// interface IP. One per lab at most: such a device's services listen on
// 127.0.0.1 instead (sim/endpoint), which loopback machines share.
func blocked(ps []*device.Profile) bool {
	for _, p := range ps {
		if p.Firewall.BlockInterfaceIP {
			return true
		}
	}
	return false
}

// anchors are destinations every corpus has, so that each destination
// gate's code is asked at least once whatever the seed.
func anchors() []*device.Profile {
	no := false
	base := func(name, host string) *device.Profile {
		return &device.Profile{Name: name, Hostname: host, PrimaryDNSSuffix: "corp.test", OS: device.Windows,
			ConnectorVersion: "4.5", JoinState: device.JoinAD, LoggedIn: true, User: "enduser@corp.test"}
	}
	ok := base("anchor-ok", "anchor-ok")
	ok.Services = []device.Service{{Kind: "rdp", Port: 3389}, {Kind: "smb", Port: 445}}
	old := base("anchor-old", "anchor-old")
	old.ConnectorVersion = "3.9.0.168"
	mac := base("anchor-mac", "anchor-mac")
	mac.OS, mac.ConnectorVersion, mac.JoinState = device.MacOS, "3.7", device.JoinNone
	away := base("anchor-away", "anchor-away")
	away.LoggedIn = false
	fw := base("anchor-fw", "anchor-fw")
	fw.Firewall.BlockInterfaceIP = true
	off := base("anchor-off", "anchor-off")
	off.PrivateAccess = &no
	return []*device.Profile{ok, old, mac, away, fw, off}
}

func (g *gen) device(i int) *device.Profile {
	oses := []device.OS{device.Windows, device.MacOS, device.Linux}
	os := oses[g.pick(3)]
	min := device.MinVersion[os].String()
	versions := map[device.OS][]string{
		device.Windows: {min, "3.9.0.168", "3.9.0.99", "3.10", "4.5.0.286"},
		device.MacOS:   {min, "3.6.9", "4.1"},
		device.Linux:   {min, "1.3.9", "1.10"},
	}[os]
	joins := []device.JoinState{device.JoinAD, device.JoinHybrid, device.JoinAzure, device.JoinNone}
	p := &device.Profile{
		Name: fmt.Sprintf("dev%d", i), Hostname: genHosts[g.pick(len(genHosts))], PrimaryDNSSuffix: genSuffixes[g.pick(len(genSuffixes))],
		OS: os, ConnectorVersion: versions[g.pick(len(versions))], JoinState: joins[g.pick(len(joins))],
		MachineTunnel: os != device.Linux && g.chance(0.3), LoggedIn: g.chance(0.75), User: "enduser@corp.test",
	}
	p.Firewall.BlockInterfaceIP = g.chance(0.1)
	if g.chance(0.1) {
		p.PrivateAccess = new(bool)
	}
	if g.chance(0.1) {
		p.CollectHostname = new(bool)
	}
	for _, s := range []device.Service{{Kind: "rdp", Port: 3389}, {Kind: "smb", Port: 445}, {Kind: "echo", Port: 7}} {
		if g.chance(0.5) {
			p.Services = append(p.Services, s)
		}
	}
	return p
}

func (g *gen) sources(first bool) []*device.Profile {
	oses := []device.OS{device.Windows, device.MacOS, device.Linux}
	var out []*device.Profile
	for i, u := range genUsers {
		p := &device.Profile{Name: fmt.Sprintf("src%d", i), Hostname: fmt.Sprintf("admin-%d", i), PrimaryDNSSuffix: "admins.test",
			OS: oses[g.pick(3)], ConnectorVersion: "4.5", JoinState: device.JoinAD, LoggedIn: true, User: u}
		if p.OS == device.Linux {
			p.ConnectorVersion = "1.10"
		}
		p.Posture = []string{} // known: none satisfied unless added
		for _, ps := range genPosture {
			if g.chance(0.5) {
				p.Posture = append(p.Posture, ps)
			}
		}
		if g.chance(0.7) { // else unknown: a COUNTRY_CODE rule is undecided (POL-4)
			c := genCountry[g.pick(len(genCountry))]
			p.Country = &c
		}
		if (first && i == 3) || (!first && g.chance(0.05)) {
			p.PrivateAccess = new(bool) // DEV-5 on the source side
		}
		out = append(out, p)
	}
	return out
}

// port is mostly one the segments carry and a service listens on.
func (g *gen) port(fqdn string) uint16 {
	switch x := g.pick(20); {
	case fqdn == "app.other.test" && x < 14:
		return 443
	case x < 11:
		return 3389
	case x < 14:
		return 445
	case x < 16:
		return 7
	case x < 19:
		return genPorts[g.pick(len(genPorts))]
	}
	return uint16(1 + g.pick(65535))
}

func (g *gen) ports() []policy.PortRange {
	switch g.pick(4) {
	case 0:
		return []policy.PortRange{{From: 3389, To: 3389}}
	case 1:
		return []policy.PortRange{{From: 3389, To: 3389}, {From: 445, To: 445}}
	case 2:
		return []policy.PortRange{{From: 3380, To: 3390}, {From: 7, To: 7}}
	}
	return []policy.PortRange{{From: 1, To: 1024}, {From: 3389, To: 3389}}
}

// segments: nested wildcards, an exact FQDN of one destination, and an
// App Connector's server.
func (g *gen) segments(dests []*device.Profile) []policy.Segment {
	exact := dests[g.pick(len(dests))].FQDN()
	segs := []policy.Segment{
		{ID: "s-ws", Name: "workstations", Enabled: true, Domains: []string{"*.corp.test"}, TCP: g.ports(), GroupID: "g1"},
		{ID: "s-hr", Name: "hr", Enabled: g.chance(0.8), Domains: []string{"*.hr.corp.test"}, TCP: g.ports(), GroupID: "g2"},
		{ID: "s-db", Name: "db", Enabled: true, Domains: []string{"*.db.hr.corp.test"}, TCP: g.ports(), GroupID: "g2"},
		{ID: "s-app", Name: "intranet", Enabled: true, Domains: []string{"app.other.test"}, TCP: []policy.PortRange{{From: 443, To: 443}}, GroupID: "g3", ServerGroups: []string{"sg-dc1"}},
	}
	if g.chance(0.3) {
		segs[0].UDP = []policy.PortRange{{From: 53, To: 53}}
	}
	if exact != "" && !strings.HasSuffix(exact, ".other.test") && strings.Contains(exact, ".") {
		segs = append(segs, policy.Segment{ID: "s-exact", Name: "one desktop", Enabled: g.chance(0.9) || strings.HasPrefix(exact, "anchor-"), Domains: []string{exact}, TCP: g.ports(), GroupID: "g1"})
	}
	return segs
}

// rules: a few with conditions, in a random order, and often a last
// catch-all ALLOW, so that every gate after the rules is reached too.
func (g *gen) rules(segs []policy.Segment, catchAll bool) []policy.Rule {
	n := g.pick(4)
	rules := make([]policy.Rule, n, n+1)
	orders := g.rng.Perm(n)
	for i := range rules {
		r := policy.Rule{ID: fmt.Sprintf("r%d", i+1), Name: fmt.Sprintf("rule %d", i+1), Order: orders[i] + 1, Action: policy.Allow}
		if g.chance(0.4) {
			r.Action = policy.Deny
		}
		if g.chance(0.3) {
			r.Operator = "OR"
		}
		for c := g.pick(2); c >= 0; c-- {
			r.Conditions = append(r.Conditions, g.condition(segs))
		}
		rules[i] = r
	}
	if catchAll || g.chance(0.6) {
		rules = append(rules, policy.Rule{ID: "r-all", Name: "everyone else", Order: n + 1, Action: policy.Allow})
	}
	return rules
}

func (g *gen) condition(segs []policy.Segment) policy.Condition {
	c := policy.Condition{Negated: g.chance(0.15)}
	if g.chance(0.2) {
		c.Operator = "AND"
	}
	for k := g.pick(2); k >= 0; k-- {
		c.Operands = append(c.Operands, g.operand(segs))
	}
	return c
}

func (g *gen) operand(segs []policy.Segment) policy.Operand {
	tf := []string{"true", "false"}
	switch g.pick(9) {
	case 0:
		return policy.Operand{ObjectType: policy.ObjApp, LHS: "id", RHS: segs[g.pick(len(segs))].ID}
	case 1:
		return policy.Operand{ObjectType: policy.ObjAppGroup, LHS: "id", RHS: []string{"g1", "g2", "g3"}[g.pick(3)]}
	case 2:
		return policy.Operand{ObjectType: policy.ObjUser, RHS: genUsers[g.pick(len(genUsers))]}
	case 3:
		return policy.Operand{ObjectType: policy.ObjSCIM, LHS: "department", RHS: genDepts[g.pick(len(genDepts))]}
	case 4:
		return policy.Operand{ObjectType: policy.ObjSCIMGroup, LHS: "idp", RHS: genGroups[g.pick(len(genGroups))]}
	case 5:
		return policy.Operand{ObjectType: policy.ObjPlatform, LHS: []string{"windows", "mac", "linux"}[g.pick(3)], RHS: tf[g.pick(2)]}
	case 6:
		return policy.Operand{ObjectType: policy.ObjClientType, LHS: "id", RHS: []string{policy.ClientTypeZapp, policy.ClientTypeMachineTunnel}[g.pick(2)]}
	case 7:
		return policy.Operand{ObjectType: policy.ObjCountry, LHS: genCountry[g.pick(len(genCountry))], RHS: "true"}
	}
	return policy.Operand{ObjectType: policy.ObjPosture, LHS: genPosture[g.pick(len(genPosture))], RHS: tf[g.pick(2)]}
}

// target picks a destination name: mostly a destination's full FQDN
// (sometimes in other case; half the time one of the first anchors), else
// a name no segment covers, the apex of a wildcard, or the App
// Connector's server.
func (g *gen) target(dests []*device.Profile, anchors int) string {
	switch x := g.pick(20); {
	case x == 0:
		return "x.nowhere.test"
	case x == 1:
		return "corp.test"
	case x <= 3:
		return "app.other.test"
	case x == 4:
		return "unknown-host.hr.corp.test"
	}
	f := dests[g.pick(len(dests))].FQDN()
	if anchors > 0 && g.chance(0.5) {
		f = dests[g.pick(anchors)].FQDN()
	}
	if !strings.Contains(f, ".") {
		f += ".corp.test"
	}
	if g.chance(0.1) {
		f = strings.ToUpper(f)
	}
	return f
}
