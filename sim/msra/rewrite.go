package msra

import (
	"strconv"
	"strings"
)

// Rewrite prepares an invitation for client-to-client (RA-1): it removes
// the LHTICKET attribute (with the whitespace before it) and replaces every
// IP address in RCTICKET's address list with hostname, keeping each port.
// Entries that are already names stay as they are: they are not IP
// addresses, and the expert's resolver decides where they lead. Every other
// byte is kept: the encoding and byte order mark, the XML declaration,
// attribute order, quoting, whitespace, other attributes. The invitation
// is validated first; errors are as Parse's.
func Rewrite(data []byte, hostname string) ([]byte, error) {
	if err := checkHostname(hostname); err != nil {
		return nil, err
	}
	p, err := parse(data)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	pos := 0
	for _, a := range p.attrs {
		switch a.name {
		case "LHTICKET":
			b.WriteString(p.text[pos:a.start])
			pos = a.end
		case "RCTICKET":
			// Field 3 starts after "65538,1," (validated by parse).
			listStart := a.vStart + len(ticketVersion+","+ticketOne+",")
			listEnd := listStart + strings.IndexByte(a.raw[listStart-a.vStart:], ',')
			b.WriteString(p.text[pos:listStart])
			b.WriteString(rewriteAddrs(p.inv.Ticket.Addrs, hostname))
			pos = listEnd
		}
	}
	b.WriteString(p.text[pos:])
	return encodeText(b.String(), p.enc), nil
}

func rewriteAddrs(addrs []Addr, hostname string) string {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		if _, ok := a.IP(); ok {
			a = Addr{Host: hostname, Port: a.Port}
		}
		out[i] = a.String()
	}
	return strings.Join(out, ";")
}

// checkHostname accepts a DNS name: dot-separated labels of letters,
// digits and hyphens, 1-63 characters each, not starting or ending with a
// hyphen, 253 characters at most; not an IP address.
func checkHostname(h string) error {
	if h == "" || len(h) > 253 {
		return fieldErr("hostname", "is %q, want the device's registered FQDN, e.g. desktop-10B38-AC.example.com", h)
	}
	for i, l := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' || strings.Trim(l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
			return fieldErr("hostname", "label %d %q of %q: want 1-63 letters, digits or hyphens, not starting or ending with a hyphen", i+1, l, h)
		}
	}
	labels := strings.Split(strings.TrimSuffix(h, "."), ".")
	if _, err := strconv.Atoi(labels[len(labels)-1]); err == nil {
		return fieldErr("hostname", "is %q, an IP address or a numeric name; want the registered FQDN", h)
	}
	return nil
}

// scanAttrs reads the attributes of the start tag text[start:end] (which
// encoding/xml has already found well-formed) with their exact spans.
func scanAttrs(text string, start, end int) ([]attrSpan, error) {
	i := start + len("<UPLOADDATA")
	var attrs []attrSpan
	seen := make(map[string]bool)
	for {
		ws := i
		for i < end && isSpace(text[i]) {
			i++
		}
		if i >= end || text[i] == '/' || text[i] == '>' {
			return attrs, nil
		}
		n := i
		for i < end && text[i] != '=' && !isSpace(text[i]) {
			i++
		}
		a := attrSpan{name: text[n:i], start: ws}
		for i < end && (isSpace(text[i]) || text[i] == '=') {
			i++
		}
		q := text[i]
		a.vStart = i + 1
		i = a.vStart + strings.IndexByte(text[a.vStart:end], q)
		a.raw, a.end = text[a.vStart:i], i+1
		i = a.end
		if seen[a.name] {
			return nil, fieldErr(a.name, "appears twice in UPLOADDATA, want it once")
		}
		seen[a.name] = true
		attrs = append(attrs, a)
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
