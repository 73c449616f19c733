package tenant

import (
	"fmt"
	"regexp"
	"strings"
)

// operandRef is one v1 operand with the field it came from.
type operandRef struct {
	field string
	op    fileOperand
}

// expandOperands turns v2 operands into v1 operands, in place and in
// order, in the same condition (NOTES-pol-imp.md): {objectType, values:
// [a, b]} becomes {objectType, lhs: id, rhs: a}, {... rhs: b}, and each
// entryValues pair {lhs, rhs} one operand. An operand with rhs set keeps
// lhs/rhs, as the API does (terraform-provider-zpa: "If rhs is defined
// this list will be ignored"). field is the condition's.
func expandOperands(field string, ops []fileOperand) []operandRef {
	var out []operandRef
	for i, o := range ops {
		f := fmt.Sprintf("%s.operands[%d]", field, i)
		if strings.TrimSpace(o.RHS) != "" || (len(o.Values) == 0 && len(o.EntryValues) == 0) {
			o.Values, o.EntryValues = nil, nil
			out = append(out, operandRef{f, o})
			continue
		}
		for j, v := range o.Values {
			out = append(out, operandRef{fmt.Sprintf("%s.values[%d]", f, j), fileOperand{ObjectType: o.ObjectType, LHS: "id", RHS: v, IdpID: o.IdpID}})
		}
		for j, e := range o.EntryValues {
			out = append(out, operandRef{fmt.Sprintf("%s.entryValues[%d]", f, j), fileOperand{ObjectType: o.ObjectType, LHS: e.LHS, RHS: e.RHS, IdpID: o.IdpID}})
		}
	}
	return out
}

var v2ValueField = regexp.MustCompile(`(\.values\[\d+\])\.(?:lhs|rhs)$`)

// v2Field names a v2 operand's value itself where a check of the operand
// it became names its lhs or rhs ("values[1]", not "values[1].rhs", which
// the file does not have).
func v2Field(field string) string { return v2ValueField.ReplaceAllString(field, "$1") }
