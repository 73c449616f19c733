package tenant

import (
	"fmt"
	"strings"

	"github.com/c2clab/c2clab/sim/policy"
)

// Objects operands point at by id: the tenant file's sections for them
// (scimGroups, ...) and the bodies of their ZPA endpoints. Each becomes a
// policy.Object, so that an operand's id, a name written in users: or a
// device profile, and the name a trace shows all meet (POL-4, IMP-1).

// objectKinds maps each object kind to the operand type it serves, its
// tenant file section, and how its ZPA body is read into a policy.Object
// (NOTES-pol-imp.md's table; lhs/rhs per terraform-provider-zpa
// zpa/common.go validateOperand).
var objectKinds = []struct {
	kind    bodyKind
	objType string
	field   func(f *fileTenant) []fileObject
	object  func(o fileObject) policy.Object
}{
	{kindSCIMGroup, policy.ObjSCIMGroup, func(f *fileTenant) []fileObject { return f.SCIMGroups }, plainObject(policy.ObjSCIMGroup)},
	{kindSCIMAttribute, policy.ObjSCIM, func(f *fileTenant) []fileObject { return f.SCIMAttributes }, plainObject(policy.ObjSCIM)},
	{kindSAMLAttribute, policy.ObjSAML, func(f *fileTenant) []fileObject { return f.SAMLAttributes }, func(o fileObject) policy.Object {
		ob := plainObject(policy.ObjSAML)(o)
		ob.Aliases = nonEmpty(o.SamlName)
		return ob
	}},
	{kindIdP, policy.ObjIDP, func(f *fileTenant) []fileObject { return f.IdPs }, plainObject(policy.ObjIDP)},
	{kindPosture, policy.ObjPosture, func(f *fileTenant) []fileObject { return f.PostureProfiles }, func(o fileObject) policy.Object {
		return keyedObject(policy.ObjPosture, o.PostureUdid, o)
	}},
	{kindTrustedNetwork, policy.ObjTrustedNetwork, func(f *fileTenant) []fileObject { return f.TrustedNetworks }, func(o fileObject) policy.Object {
		return keyedObject(policy.ObjTrustedNetwork, o.NetworkID, o)
	}},
	{kindMachineGroup, policy.ObjMachineGroup, func(f *fileTenant) []fileObject { return f.MachineGroups }, plainObject(policy.ObjMachineGroup)},
}

func plainObject(typ string) func(o fileObject) policy.Object {
	return func(o fileObject) policy.Object {
		return policy.Object{Type: typ, ID: strings.TrimSpace(o.ID), Name: strings.TrimSpace(o.Name), IdpID: strings.TrimSpace(o.IdpID)}
	}
}

// keyedObject is an object operands name by a key other than its id (a
// posture profile's UDID, a trusted network's networkId); its id is an
// alias. Without the key, the id is all there is.
func keyedObject(typ, key string, o fileObject) policy.Object {
	ob := plainObject(typ)(o)
	if key = strings.TrimSpace(key); key != "" && key != ob.ID {
		ob.Aliases = nonEmpty(ob.ID)
		ob.ID = key
	}
	return ob
}

func nonEmpty(s string) []string {
	if s = strings.TrimSpace(s); s == "" {
		return nil
	}
	return []string{s}
}

// objects converts the object sections and bodies. An object given twice
// (a page and its single body) counts once; the same id with another name
// is an error.
func (l *loader) objects() []policy.Object {
	var out []policy.Object
	l.objIndex = map[string]map[string]int{}
	add := func(field, sectionName string, ob policy.Object) {
		if ob.ID == "" {
			l.errorf(field+".id", "missing; want the object's id (%s)", sectionName)
			return
		}
		byID := l.objIndex[ob.Type]
		if byID == nil {
			byID = map[string]int{}
			l.objIndex[ob.Type] = byID
		}
		if k, dup := byID[ob.ID]; dup {
			if out[k].Name != ob.Name {
				l.errorf(field+".name", "is %q, but %s %q is also given as %q", ob.Name, sectionName, ob.ID, out[k].Name)
			}
			return
		}
		byID[ob.ID] = len(out)
		for _, a := range ob.Aliases {
			if _, dup := byID[a]; !dup {
				byID[a] = len(out)
			}
		}
		out = append(out, ob)
	}
	for _, ok := range objectKinds {
		name := kinds[ok.kind].section
		for i, o := range ok.field(l.f) {
			add(fmt.Sprintf("%s[%d]", name, i), name, ok.object(o))
		}
		for _, fi := range l.pastedItems(ok.kind) {
			add(fi.field, name, ok.object(*fi.item.obj))
		}
	}
	return out
}

// operandKey is where an operand of each type carries the object's id.
func operandKey(op policy.Operand) (key string, ok bool) {
	switch op.ObjectType {
	case policy.ObjSCIMGroup, policy.ObjIDP, policy.ObjMachineGroup:
		return op.RHS, true
	case policy.ObjSCIM, policy.ObjSAML, policy.ObjPosture, policy.ObjTrustedNetwork:
		return op.LHS, true
	}
	return "", false
}

// resolveOperand names the object op points at and, where the tenant
// gives objects of that type, requires it to be among them: a rule naming
// a SCIM group (posture profile, ...) that the given pages lack means
// pages are missing (IMP-2). Without any object of the type the operand
// keeps its id and the loader notes once per type that names are unknown.
func (l *loader) resolveOperand(field string, op *policy.Operand, fo fileOperand) {
	op.IdpID = strings.TrimSpace(fo.IdpID)
	op.Name = strings.TrimSpace(fo.Name)
	key, ok := operandKey(*op)
	if !ok || key == "" {
		return
	}
	byID := l.objIndex[op.ObjectType]
	if len(byID) == 0 {
		if !pastedField(field) {
			return // a hand-written rule names objects as users: does
		}
		if l.unnamed == nil {
			l.unnamed = map[string]*unnamedRefs{}
		}
		u := l.unnamed[op.ObjectType]
		if u == nil {
			u = &unnamedRefs{field: field}
			l.unnamed[op.ObjectType] = u
			l.unnamedOrder = append(l.unnamedOrder, op.ObjectType)
		}
		u.count++
		return
	}
	k, found := byID[key]
	if !found {
		side := "rhs"
		if key == op.LHS && key != op.RHS {
			side = "lhs"
		}
		l.errorf(field+"."+side, "%s %q is not among the %d given (%s): give every page of %s",
			op.ObjectType, key, len(byID), sectionOf(op.ObjectType), endpointOf(op.ObjectType))
		return
	}
	if op.Name == "" || op.Name == key {
		op.Name = l.objs[k].Name
	}
}

type unnamedRefs struct {
	field string
	count int
}

// noteUnnamed says, once per operand type, that operands name objects by
// id only because no body of that type was given.
func (l *loader) noteUnnamed() {
	for _, typ := range l.unnamedOrder {
		u := l.unnamed[typ]
		l.warnf(u.field, "%d %s operand(s) name their object by id only, and no %s are given: users: and device profiles must then use these ids, not names; give %s (or a %s: section) to resolve them",
			u.count, typ, sectionOf(typ), endpointOf(typ), sectionOf(typ))
	}
}

func sectionOf(objType string) string {
	for _, ok := range objectKinds {
		if ok.objType == objType {
			return kinds[ok.kind].section
		}
	}
	return objType
}

func endpointOf(objType string) string {
	for _, ok := range objectKinds {
		if ok.objType == objType {
			return kinds[ok.kind].endpoint
		}
	}
	return "its ZPA endpoint"
}

func policyOperand(typ string, o fileOperand) policy.Operand {
	return policy.Operand{ObjectType: typ, LHS: strings.TrimSpace(o.LHS), RHS: strings.TrimSpace(o.RHS)}
}

// pastedField reports whether field is inside a pasted body, whose
// operands carry ZPA's ids.
func pastedField(field string) bool {
	for _, p := range []string{"application", "policySet", "bodies"} {
		if hasFieldPrefix(field, p) {
			return true
		}
	}
	return false
}

// objectName is the name of the object of type typ with id (or alias)
// key, "" if none is given.
func (l *loader) objectName(typ, key string) string {
	if k, ok := l.objIndex[typ][key]; ok {
		return l.objs[k].Name
	}
	return ""
}
