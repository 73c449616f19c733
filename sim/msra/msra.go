// Package msra reads, writes and rewrites Microsoft Remote Assistance
// invitation files (.msrcincident, MS-RAI 2.2), so an expert can reach a
// novice's computer by its registered client-to-client FQDN (RA-1).
// Rewrite edits only the spans it must (LHTICKET, the address list of
// RCTICKET) and keeps every other byte of the file, including its encoding.
package msra

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Invitation is a parsed .msrcincident file: the UPLOADINFO element and
// its one UPLOADDATA element. Attribute names are MS-RAI's.
type Invitation struct {
	// Type is UPLOADINFO's TYPE; always "Escalated" once parsed.
	Type     string
	Username string // USERNAME, may be empty
	Ticket   Ticket // RCTICKET
	PassStub string // PassStub
	// Encrypted is RCTICKETENCRYPTED="1"; absent or "0" is false.
	Encrypted bool
	DtStart   int64 // DtStart: seconds since 1970 when the invitation was made
	DtLength  int64 // DtLength: minutes it stays valid
	// L is the L attribute ("0" or "1"); empty when absent.
	L string
	// LHTicket is the LHTICKET attribute (base64); empty when absent.
	LHTicket string
	// Extra holds any other UPLOADDATA attributes, in file order.
	Extra []Attr
}

// Attr is one attribute, value as decoded by XML.
type Attr struct{ Name, Value string }

// attrSpan is where an attribute sits in the decoded text, for Rewrite.
type attrSpan struct {
	name, raw  string // raw: the value between the quotes, undecoded
	start, end int    // from the whitespace before the name to after the closing quote
	vStart     int    // start of the value
}

// parsed is Parse's result plus what Rewrite needs.
type parsed struct {
	inv   *Invitation
	text  string
	enc   encoding
	attrs []attrSpan // UPLOADDATA's attributes in file order
}

// Parse parses and validates an invitation. Errors match ErrInvalid and
// are *FieldError naming the field, its line and what was expected.
func Parse(data []byte) (*Invitation, error) {
	p, err := parse(data)
	if err != nil {
		return nil, err
	}
	return p.inv, nil
}

func parse(data []byte) (*parsed, error) {
	text, enc, err := decodeText(data)
	if err != nil {
		return nil, err
	}
	p := &parsed{text: text, enc: enc}
	start, end, line, err := findUploadData(text)
	if err != nil {
		return nil, err
	}
	if p.attrs, err = scanAttrs(text, start, end); err != nil {
		return nil, atLine(err, line)
	}
	p.inv = &Invitation{Type: "Escalated"}
	for _, a := range p.attrs {
		if err := p.inv.set(a); err != nil {
			return nil, atLine(err, lineAt(text, a.vStart))
		}
	}
	return p, atLine(p.inv.checkRequired(), line)
}

// findUploadData checks the document is well-formed XML with root
// UPLOADINFO TYPE="Escalated" holding one UPLOADDATA, and returns where
// UPLOADDATA's start tag is in text.
func findUploadData(text string) (start, end, line int, err error) {
	d := xml.NewDecoder(strings.NewReader(text))
	// The text is already UTF-8 whatever the declaration says ("Unicode").
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	depth, found := 0, false
	for {
		off := int(d.InputOffset())
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, 0, 0, fieldErr("file", "is not well-formed XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if err := checkElement(t, depth, found); err != nil {
				return 0, 0, 0, atLine(err, lineAt(text, off))
			}
			if t.Name.Local == "UPLOADDATA" {
				if t.Name.Space != "" || !strings.HasPrefix(text[off:], "<UPLOADDATA") {
					return 0, 0, 0, atLine(fieldErr("UPLOADDATA", "has a namespace prefix, want plain <UPLOADDATA>"), lineAt(text, off))
				}
				start, end, line, found = off, int(d.InputOffset()), lineAt(text, off), true
			}
		case xml.EndElement:
			depth--
		}
	}
	if !found {
		return 0, 0, 0, fieldErr("UPLOADDATA", "is missing, want <UPLOADINFO TYPE=\"Escalated\"><UPLOADDATA ... /></UPLOADINFO>")
	}
	return start, end, line, nil
}

func checkElement(t xml.StartElement, depth int, found bool) error {
	switch {
	case depth == 1 && t.Name.Local != "UPLOADINFO":
		return fieldErr("root element", "is <%s>, want <UPLOADINFO>", t.Name.Local)
	case depth == 1:
		for _, a := range t.Attr {
			if a.Name.Local == "TYPE" {
				if a.Value != "Escalated" {
					return fieldErr("UPLOADINFO TYPE", "is %q, want Escalated", a.Value)
				}
				return nil
			}
		}
		return fieldErr("UPLOADINFO TYPE", "is missing, want TYPE=\"Escalated\"")
	case t.Name.Local == "UPLOADDATA" && depth != 2:
		return fieldErr("UPLOADDATA", "is nested in another element, want it directly inside UPLOADINFO")
	case t.Name.Local == "UPLOADDATA" && found:
		return fieldErr("UPLOADDATA", "appears twice, want exactly one")
	}
	return nil
}

// set stores one UPLOADDATA attribute, validating its value.
func (inv *Invitation) set(a attrSpan) error {
	v, err := unescape(a.raw)
	if err != nil {
		return fieldErr(a.name, "%v", err)
	}
	switch a.name {
	case "USERNAME":
		inv.Username = v
	case "RCTICKET":
		if v != a.raw {
			return fieldErr(a.name, "contains an XML character reference, want the connection string written plainly")
		}
		inv.Ticket, err = ParseTicket(v)
	case "PassStub":
		inv.PassStub = v
	case "RCTICKETENCRYPTED":
		err = oneOf(a.name, v, &inv.Encrypted)
	case "DtStart":
		inv.DtStart, err = decimal(a.name, v)
	case "DtLength":
		inv.DtLength, err = decimal(a.name, v)
	case "L":
		inv.L, err = v, oneOf(a.name, v, new(bool))
	case "LHTICKET":
		inv.LHTicket = v
		if err = checkBase64(v); err != nil {
			err = fieldErr(a.name, "is %q, want base64: %v", clip(v), err)
		}
	default:
		inv.Extra = append(inv.Extra, Attr{a.name, v})
	}
	return err
}

func (inv *Invitation) checkRequired() error {
	switch {
	case len(inv.Ticket.Addrs) == 0:
		return fieldErr("RCTICKET", "is missing, want RCTICKET=\"65538,1,HOST:PORT,*,SESSIONID,*,*,BLOB\"")
	case inv.PassStub == "":
		return fieldErr("PassStub", "is missing or empty, want the invitation's password stub")
	}
	return nil
}

func oneOf(name, v string, b *bool) error {
	switch v {
	case "0", "1":
		*b = v == "1"
		return nil
	}
	return fieldErr(name, "is %q, want 0 or 1", v)
}

func decimal(name, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || v[0] == '+' {
		return 0, fieldErr(name, "is %q, want a non-negative decimal integer", v)
	}
	return n, nil
}

// unescape decodes XML character and entity references in an attribute value.
func unescape(raw string) (string, error) {
	if !strings.Contains(raw, "&") {
		return raw, nil
	}
	var v struct {
		A string `xml:"a,attr"`
	}
	if err := xml.Unmarshal([]byte(`<x a="`+strings.ReplaceAll(raw, `"`, "&quot;")+`"/>`), &v); err != nil {
		return "", errors.New("has a bad XML reference")
	}
	return v.A, nil
}

func lineAt(text string, off int) int { return strings.Count(text[:min(off, len(text))], "\n") + 1 }

// Marshal writes inv as a UTF-8 invitation in the attribute order Windows
// uses. Parse(inv.Marshal()) gives inv back (Type is always Escalated).
func (inv *Invitation) Marshal() []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<UPLOADINFO TYPE="Escalated"><UPLOADDATA`)
	attr := func(name, v string) {
		fmt.Fprintf(&b, ` %s="`, name)
		xml.EscapeText(&b, []byte(v))
		b.WriteByte('"')
	}
	attr("USERNAME", inv.Username)
	attr("RCTICKET", inv.Ticket.String())
	attr("PassStub", inv.PassStub)
	attr("RCTICKETENCRYPTED", map[bool]string{false: "0", true: "1"}[inv.Encrypted])
	attr("DtStart", strconv.FormatInt(inv.DtStart, 10))
	attr("DtLength", strconv.FormatInt(inv.DtLength, 10))
	if inv.L != "" {
		attr("L", inv.L)
	}
	if inv.LHTicket != "" {
		attr("LHTICKET", inv.LHTicket)
	}
	for _, a := range inv.Extra {
		attr(a.Name, a.Value)
	}
	b.WriteString("/></UPLOADINFO>\n")
	return []byte(b.String())
}
