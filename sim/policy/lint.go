package policy

import (
	"fmt"
	"strings"

	"github.com/c2clab/c2clab/sim/domain"
)

// lint collects Warnings: configuration that is usable but probably not what
// the admin meant.
func (e *Engine) lint() {
	if e.hostname.fail != "" {
		e.warnings = append(e.warnings, e.hostname.why)
	}
	e.lintSegments()
	e.lintRules()
}

// lintSegments applies SEG-1: an FQDN in a client-to-client segment that the
// hostname regex does not match can never be a client-to-client destination.
// Wildcards are not checked: only the devices matching both are reachable.
func (e *Engine) lintSegments() {
	if e.hostname.re == nil {
		return
	}
	for i := range e.segs {
		s := e.segs[i].s
		if len(s.ServerGroups) > 0 {
			continue
		}
		for _, d := range s.Domains {
			p, err := domain.Parse(d)
			name := strings.TrimSuffix(d, ".")
			if err != nil || p.Wildcard() || e.hostname.re.MatchString(name) {
				continue
			}
			e.warnings = append(e.warnings, fmt.Sprintf("%s domain %q does not match the client hostname regex %q, so no client can be enrolled under it (SEG-1)",
				e.segs[i].name, d, e.hostname.text))
		}
	}
}

// lintRules names operands that refer to nothing and operand types the lab
// does not model.
func (e *Engine) lintRules() {
	ids := make(map[string]bool, len(e.segs))
	groups := make(map[string]bool)
	for i := range e.segs {
		ids[e.segs[i].s.ID] = true
		groups[e.segs[i].s.GroupID] = true
	}
	unmodelled := make(map[string][]string) // type -> rule names
	var types []string
	for i := range e.cfg.Rules {
		r := &e.cfg.Rules[i]
		for _, c := range r.Conditions {
			for _, op := range c.Operands {
				typ := strings.ToUpper(op.ObjectType)
				switch kind, ok := kinds[typ]; {
				case !ok:
					if len(unmodelled[typ]) == 0 {
						types = append(types, typ)
					}
					if l := unmodelled[typ]; len(l) == 0 || l[len(l)-1] != quote(r.Name) {
						unmodelled[typ] = append(l, quote(r.Name))
					}
				case kind == kindApp && !ids[op.RHS]:
					e.warnings = append(e.warnings, fmt.Sprintf("access rule %q names APP %q, which is no segment of this tenant", r.Name, op.RHS))
				case kind == kindAppGroup && !groups[op.RHS]:
					e.warnings = append(e.warnings, fmt.Sprintf("access rule %q names APP_GROUP %q, which no segment of this tenant belongs to", r.Name, op.RHS))
				}
			}
		}
	}
	for _, typ := range types {
		e.warnings = append(e.warnings, fmt.Sprintf("operand type %s is not modelled by the lab; conditions using it never match, in access rules %s",
			typ, strings.Join(unmodelled[typ], ", ")))
	}
}
