package policy

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/device"
)

// zpaLimitsTenant is a tenant at ZPA's limits: 1,000 segments and 2,000 access
// rules, shaped like real exports. Segments: 700 app servers on exact FQDNs
// with server groups, 300 client-to-client wildcards (100 departments, each
// with a nested *.db and *.lab wildcard), in 50 segment groups. Rules: most
// name segments (APP) or segment groups (APP_GROUP) and SCIM groups; some
// are identity-only (SCIM_GROUP, USER, PLATFORM); a few cannot be indexed
// (negated, POSTURE) or use an identity attribute (IDP). Users 2000-2099
// are not listed, so rules on their groups are undecided.
// 2,000 users in 1-4 of 200 groups; 3,000 enrolled workstations.
func zpaLimitsTenant(rng *rand.Rand, unscoped bool) (Config, []Registration, []Request) {
	cfg := Config{Tenant: "bench", HostnameRegexes: []string{`.*\.example\.com`}}
	c2c := []PortRange{{3389, 3389}, {445, 445}}
	for i := range 700 {
		cfg.Segments = append(cfg.Segments, Segment{ID: fmt.Sprint("app", i), Name: fmt.Sprint("App ", i), Enabled: i%97 != 0,
			Domains: []string{fmt.Sprintf("app%d.corp.example.com", i)}, TCP: []PortRange{{443, 443}, {8443, 8450}},
			GroupID: fmt.Sprint("sg", i%40), ServerGroups: []string{"sg-dc"}})
	}
	for d := range 100 {
		for k, pre := range []string{"", "db.", "lab."} {
			cfg.Segments = append(cfg.Segments, Segment{ID: fmt.Sprintf("ws%d-%d", d, k), Name: fmt.Sprintf("Workstations %s%d", pre, d),
				Enabled: true, Domains: []string{fmt.Sprintf("*.%sdept%d.example.com", pre, d)}, TCP: c2c,
				GroupID: fmt.Sprint("sg", 40+d%10)})
		}
	}
	for u := range 2000 {
		var groups []string
		for range 1 + rng.IntN(4) {
			groups = append(groups, fmt.Sprint("g", rng.IntN(200)))
		}
		idp := Known("okta")
		if u%2 == 0 {
			idp = Known("azure")
		}
		cfg.Users = append(cfg.Users, User{Name: fmt.Sprint("user", u), Groups: Known(groups...), IdP: idp})
	}
	for i := range 2000 {
		cfg.Rules = append(cfg.Rules, benchRule(rng, &cfg, i, unscoped))
	}
	var regs []Registration
	var reqs []Request
	for i := range 3000 {
		fqdn := fmt.Sprintf("ws%d.dept%d.example.com", i, i%100)
		regs = append(regs, goodWindows(fmt.Sprint("sess", i), fqdn))
	}
	for range 20000 {
		reqs = append(reqs, benchRequest(rng, &cfg, regs))
	}
	return cfg, regs, reqs
}

func benchRule(rng *rand.Rand, cfg *Config, i int, unscoped bool) Rule {
	r := Rule{ID: fmt.Sprint("rule", i), Name: fmt.Sprint("Rule ", i), Order: i + 1, Action: Allow}
	if rng.IntN(5) == 0 {
		r.Action = Deny
	}
	group := func() Condition {
		c := Condition{}
		for range 1 + rng.IntN(3) {
			c.Operands = append(c.Operands, op(ObjSCIMGroup, "idp", fmt.Sprint("g", rng.IntN(200))))
		}
		return c
	}
	segs := func() Condition {
		c := Condition{}
		for range 1 + rng.IntN(4) {
			c.Operands = append(c.Operands, op(ObjApp, "", cfg.Segments[rng.IntN(len(cfg.Segments))].ID))
		}
		return c
	}
	switch n := rng.IntN(100); {
	case unscoped:
		r.Conditions = []Condition{group(), cnd(op(ObjPosture, "edr", "true"))}
	case n < 55:
		r.Conditions = []Condition{segs(), group()}
	case n < 80:
		r.Conditions = []Condition{cnd(op(ObjAppGroup, "", fmt.Sprint("sg", rng.IntN(50)))), group()}
	case n < 90:
		r.Conditions = []Condition{group(), cnd(op(ObjPlatform, "windows", "true"))}
	case n < 95:
		r.Conditions = []Condition{cnd(op(ObjUser, "", fmt.Sprint("user", rng.IntN(2000))))}
	case n < 98:
		r.Conditions = []Condition{{Negated: true, Operands: group().Operands}, cnd(op(ObjPosture, "edr", "false"))}
	default:
		r.Conditions = []Condition{segs(), cnd(op("IDP", "", "okta"))}
	}
	return r
}

func benchRequest(rng *rand.Rand, cfg *Config, regs []Registration) Request {
	r := Request{User: fmt.Sprint("user", rng.IntN(2100)), Platform: device.Windows, Port: 3389,
		Device: DeviceAttrs{Posture: Known()}}
	switch n := rng.IntN(10); {
	case n < 5:
		r.FQDN = regs[rng.IntN(len(regs))].FQDN
	case n < 8:
		r.FQDN, r.Port = fmt.Sprintf("app%d.corp.example.com", rng.IntN(700)), 443
	case n < 9:
		r.FQDN = fmt.Sprintf("pg%d.db.dept%d.example.com", rng.IntN(50), rng.IntN(100))
	default:
		r.FQDN = fmt.Sprintf("host%d.nowhere.test", rng.IntN(100))
	}
	if rng.IntN(20) == 0 {
		r.Device.Posture = Known("edr")
	}
	return r
}

// BenchmarkDecideZPALimits times each Decide at ZPA's limits (DESIGN: p99 <=
// 20 µs) and reports p50 and p99 besides ns/op. The "unscoped" variant is
// the worst case for the rule index: no rule names a segment, so every rule
// applies to every segment and only the SCIM group index narrows them.
func BenchmarkDecideZPALimits(b *testing.B) {
	for _, bc := range []struct {
		name     string
		unscoped bool
	}{{"realistic", false}, {"unscoped", true}} {
		b.Run(bc.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			cfg, regs, reqs := zpaLimitsTenant(rng, bc.unscoped)
			start := time.Now()
			e := newEngine(b, cfg)
			newTime := time.Since(start)
			for _, r := range regs {
				e.Register(r)
			}
			lat := make([]time.Duration, 0, b.N)
			allowed := 0
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				req := reqs[i%len(reqs)]
				t0 := time.Now()
				d := e.Decide(req)
				lat = append(lat, time.Since(t0))
				if d.Allowed {
					allowed++
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
			b.ReportMetric(float64(allowed)/float64(len(lat)), "allowed/op")
			b.ReportMetric(float64(newTime.Milliseconds()), "new-ms")
		})
	}
}
