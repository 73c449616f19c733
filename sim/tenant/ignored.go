package tenant

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Every field of a pasted body that the tenant file's schema does not take
// is ignored, and said so: each ignored field becomes one warning per kind
// of object and field name, which says whether it can change a decision
// and why. A field this table does not know is assumed to be one that can:
// the lab never claims a field harmless without a reason.

// impact is what ignoring a field means.
type impact struct {
	// change is true when ignoring the field can change an answer.
	change bool
	// unless lists values with which it cannot: ZPA's defaults.
	unless []string
	why    string
}

var (
	noDecision = func(why string) impact { return impact{why: why} }
	decision   = func(why string, unless ...string) impact { return impact{change: true, why: why, unless: unless} }
)

// bookkeeping is what every ZPA object carries about itself.
var bookkeeping = noDecision("bookkeeping of the ZPA admin portal")

// ignoredAnywhere applies to objects of every kind.
var ignoredAnywhere = map[string]impact{
	"creationTime": bookkeeping, "modifiedTime": bookkeeping, "modifiedBy": bookkeeping,
	"delta": bookkeeping, "readOnly": bookkeeping, "zscalerManaged": bookkeeping,
	"configSpace":     bookkeeping,
	"microtenantId":   noDecision("microtenants divide administration; the lab imports one tenant's objects as given"),
	"microtenantName": noDecision("microtenants divide administration; the lab imports one tenant's objects as given"),
	"description":     noDecision("free text"),
	"id":              noDecision("the id of an operand, which nothing refers to (a condition's id is kept for traces)"),
	"conditionId":     noDecision("the id of the operand's condition, which nothing refers to"),
	"ruleGid":         noDecision("the id of the condition's rule, which nothing refers to"),
	"idpName":         noDecision("a name shown next to the IdP id"),
}

// ignoredByKind is the fields known per kind of object.
var ignoredByKind = map[bodyKind]map[string]impact{
	kindApplication: {
		"bypassType":                decision("a segment bypassed by the Client Connector is never carried by ZPA; the lab carries it", "NEVER"),
		"matchStyle":                decision("Multimatch (INCLUSIVE) lets a name fall in several segments; the lab takes the most specific one only", "EXCLUSIVE"),
		"bypassOnReauth":            decision("traffic may bypass ZPA while the user re-authenticates", "false"),
		"icmpAccessType":            noDecision("ICMP; the lab decides TCP and UDP connections only"),
		"healthReporting":           noDecision("App Connector health reporting"),
		"healthCheckType":           noDecision("App Connector health checks"),
		"passiveHealthEnabled":      noDecision("App Connector health checks"),
		"isCnameEnabled":            noDecision("DNS CNAME answers to the Client Connector"),
		"ipAnchored":                noDecision("routes the segment's traffic through ZIA after ZPA decided"),
		"doubleEncrypt":             noDecision("encryption of the relayed bytes, not whether they are relayed"),
		"inspectTrafficWithZia":     noDecision("inspection after ZPA decided"),
		"tcpKeepAlive":              noDecision("TCP keepalives on allowed connections"),
		"useInDrMode":               noDecision("disaster-recovery mode"),
		"isIncompleteDRConfig":      noDecision("disaster-recovery mode"),
		"selectConnectorCloseToApp": noDecision("which App Connector serves an allowed connection"),
		"weightedLoadBalancing":     noDecision("which App Connector serves an allowed connection"),
		"adpEnabled":                noDecision("AppProtection inspection after ZPA decided"),
		"autoAppProtectEnabled":     noDecision("AppProtection inspection after ZPA decided"),
		"apiProtectionEnabled":      noDecision("API protection after ZPA decided"),
		"fqdnDnsCheck":              noDecision("DNS checks of the App Connector"),
		"extranetEnabled":           noDecision("Extranet routing of Client to Server traffic"),
		"defaultIdleTimeout":        noDecision("timeouts of allowed connections"),
		"defaultMaxAge":             noDecision("timeouts of allowed connections"),
		"policyStyle":               noDecision("how the admin portal shows the segment's rules"),
		"domainName":                noDecision("the first of domainNames, repeated"),
		"shareToMicrotenants":       noDecision("sharing between microtenants"),
		"sharedMicrotenantDetails":  noDecision("sharing between microtenants"),
		"clientlessApps":            noDecision("browser access (clientless), not the Client Connector"),
		"praApps":                   noDecision("Privileged Remote Access portals, not the Client Connector"),
		"inspectionApps":            noDecision("inspection settings"),
		"commonAppsDto":             noDecision("browser access and PRA settings, not the Client Connector"),
		"appRecommendationId":       noDecision("admin portal recommendations"),
		// A server group inside a segment carries its own settings.
		"dynamicDiscovery":   noDecision("how the server group's App Connectors find servers"),
		"appConnectorGroups": noDecision("which App Connectors serve an allowed connection"),
		"servers":            noDecision("the application servers behind the App Connectors"),
		"weight":             noDecision("App Connector load balancing"),
		"passive":            noDecision("App Connector load balancing"),
		"enabled":            noDecision("the server group's own state"),
	},
	kindRule: {
		"priority":        noDecision("the admin portal's copy of ruleOrder"),
		"policyType":      noDecision(`"1" is ACCESS_POLICY, the only rules this file takes`),
		"policySetId":     noDecision("the access policy set the rule is in"),
		"defaultRule":     decision("ZPA's default rule, which applies when no other rule matches", "false"),
		"extranetEnabled": noDecision("Extranet routing of Client to Server traffic"),
		"devicePostureFailureNotificationEnabled": noDecision("a notification to the user, not the decision"),
		"customMsg":              noDecision("the message shown to a user a DENY blocks"),
		"actionId":               noDecision("the profile of an action of other policy types"),
		"appConnectorGroups":     noDecision("which App Connectors serve Client to Server traffic the rule allows"),
		"appServerGroups":        noDecision("which server groups serve Client to Server traffic the rule allows"),
		"reauthTimeout":          noDecision("re-authentication timeouts, a timeout policy"),
		"reauthIdleTimeout":      noDecision("re-authentication timeouts, a timeout policy"),
		"reauthDefaultRule":      noDecision("re-authentication timeouts, a timeout policy"),
		"bypassDefaultRule":      noDecision("the default of a client forwarding policy"),
		"lssDefaultRule":         noDecision("log streaming"),
		"zpnIsolationProfileId":  noDecision("isolation policy"),
		"zpnInspectionProfileId": noDecision("inspection policy"),
		"privilegedCapabilities": noDecision("PRA capabilities"),
		"credential":             noDecision("PRA credentials"),
	},
	kindPolicySet: {
		"policyType": noDecision(`"1" is ACCESS_POLICY`),
		"sorted":     noDecision("whether the admin portal sorted the rules"),
		"enabled":    noDecision("the access policy set is always in force"),
	},
	kindSegmentGroup: {
		"applications":        noDecision("segments come from GET /application; the lab checks every one listed here was given"),
		"tcpKeepAliveEnabled": noDecision("TCP keepalives on allowed connections"),
		"policyMigrated":      noDecision("admin portal migration state"),
		"enabled":             decision("a disabled segment group disables its segments", "true"),
	},
	kindServerGroup: {
		"applications":       noDecision("segments come from GET /application; the lab checks every one listed here was given"),
		"appConnectorGroups": noDecision("which App Connectors serve an allowed connection"),
		"servers":            noDecision("the application servers behind the App Connectors"),
		"dynamicDiscovery":   noDecision("how the App Connectors find servers"),
		"ipAnchored":         noDecision("routes traffic through ZIA after ZPA decided"),
		"extranetEnabled":    noDecision("Extranet routing of Client to Server traffic"),
		"enabled":            decision("a disabled server group serves nothing, so its Client to Server segments fail", "true"),
	},
	kindIdP: {
		"enableScimBasedPolicy":  decision("with SCIM-based policy off, ZPA does not evaluate SCIM operands", "true"),
		"disableSamlBasedPolicy": decision("with SAML-based policy off, ZPA does not evaluate SAML operands", "false"),
		"enabled":                decision("users of a disabled IdP cannot sign in", "true"),
	},
	kindPosture: {
		"applyToMachineTunnelEnabled": decision("the posture is evaluated for machine tunnels too", "false"),
	},
}

// objectsOnlyNamed: the lab takes these kinds for their ids and names, so
// their other fields cannot change a decision unless the table says so.
var objectsOnlyNamed = map[bodyKind]bool{
	kindSCIMGroup: true, kindSCIMAttribute: true, kindSAMLAttribute: true, kindIdP: true,
	kindPosture: true, kindTrustedNetwork: true, kindMachineGroup: true, kindSCIMValues: true,
}

// ignoredNote is one ignored field name of one kind, with its first place.
type ignoredNote struct {
	kind   bodyKind
	name   string // the field's own name, e.g. icmpAccessType
	field  string // first place, relative to the section
	count  int
	change bool
	why    string
	value  string // the first value that made it a decision (for the message)
}

// noteIgnored walks the object n against the schema type t and notes each
// field t does not take.
func (p *pasted) noteIgnored(kind bodyKind, n *yaml.Node, t reflect.Type, path string) {
	p.walkIgnored(kind, n, t, path, "")
}

// walkIgnored is noteIgnored inside the object: in is the field's path
// within the object without indexes ("serverGroups", "conditions.operands").
func (p *pasted) walkIgnored(kind bodyKind, n *yaml.Node, t reflect.Type, path, in string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for i, c := range n.Content {
			p.walkIgnored(kind, c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), in)
		}
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i].Value, n.Content[i+1]
			field := strings.TrimPrefix(path+"."+k, ".")
			if f, ok := structField(t, k); ok {
				inner, innerPath := kind, strings.TrimPrefix(in+"."+k, ".")
				if f.Type == reflect.TypeFor[[]fileRule]() {
					inner, innerPath = kindRule, "" // a policy set's rules
				}
				p.walkIgnored(inner, v, f.Type, field, innerPath)
				continue
			}
			p.note(kind, k, strings.TrimPrefix(in+"."+k, "."), field, v)
		}
	}
}

func structField(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name == key && f.IsExported() {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// note records the field key (named name within its object) at field.
func (p *pasted) note(kind bodyKind, key, name, field string, v *yaml.Node) {
	im, known := ignoredByKind[kind][key]
	if !known {
		im, known = ignoredAnywhere[key]
	}
	switch {
	case !known && objectsOnlyNamed[kind]:
		im = noDecision(fmt.Sprintf("the lab takes %s for its id and name only", kind.a()))
	case !known:
		im = decision("a field the lab does not know, so it cannot say it is harmless")
	}
	value := scalar(v)
	change := im.change && (v.Kind != yaml.ScalarNode || !slices.Contains(im.unless, value)) && !isNull(v)
	for i := range p.ignored {
		if n := &p.ignored[i]; n.kind == kind && n.name == name && n.change == change {
			n.count++
			return
		}
	}
	note := ignoredNote{kind: kind, name: name, field: field, count: 1, change: change, why: im.why}
	switch {
	case change:
		note.value = value
	case im.change:
		note.why = fmt.Sprintf("only ZPA's default (%s) was seen, which changes nothing; another value would: %s", strings.Join(im.unless, " or "), im.why)
	}
	p.ignored = append(p.ignored, note)
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!null" || n.Value == "") ||
		(n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode) && len(n.Content) == 0
}

// message says what was ignored and what that means.
func (n ignoredNote) message() string {
	where := ""
	if n.count > 1 {
		where = fmt.Sprintf(" (and in %d more places)", n.count-1)
	}
	if n.change {
		val := ""
		if n.value != "" {
			val = fmt.Sprintf(" is %q and", n.value)
		}
		return fmt.Sprintf("%s of %s%s is ignored%s: %s", n.name, n.kind.a(), val, where, n.why)
	}
	return fmt.Sprintf("%s of %s is ignored%s: %s", n.name, n.kind.a(), where, n.why)
}
