package msra

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Fixed values of Connection String 1 (MS-RAI 2.2.1).
const (
	ticketVersion = "65538"
	ticketOne     = "1"
	ticketStar    = "*"
	ticketFields  = 8
)

// Ticket is the RCTICKET attribute, Connection String 1 of MS-RAI 2.2.1:
//
//	65538,1,ADDRESSES,*,SESSIONID,*,*,BLOB
//
// ADDRESSES is a ';'-separated list of host:port where the novice's
// computer listens; SESSIONID and BLOB are base64 (encrypted when the
// invitation says RCTICKETENCRYPTED="1").
type Ticket struct {
	Addrs     []Addr
	SessionID string // field 5, base64
	Blob      string // field 8, base64
}

// Addr is one entry of the ticket's address list.
type Addr struct {
	// Host is an IP address (IPv6 without brackets, zone kept) or a name,
	// exactly as the file spells it.
	Host string
	Port uint16
	// bracketed: the file wrote an IPv6 address as [addr]:port.
	bracketed bool
}

// IP returns the entry's address when Host is an IP literal.
func (a Addr) IP() (netip.Addr, bool) {
	ip, err := netip.ParseAddr(a.Host)
	return ip, err == nil
}

// String is the entry as the file spells it.
func (a Addr) String() string {
	if a.bracketed {
		return "[" + a.Host + "]:" + strconv.Itoa(int(a.Port))
	}
	return a.Host + ":" + strconv.Itoa(int(a.Port))
}

// String formats t as Connection String 1.
func (t Ticket) String() string {
	addrs := make([]string, len(t.Addrs))
	for i, a := range t.Addrs {
		addrs[i] = a.String()
	}
	return strings.Join([]string{ticketVersion, ticketOne, strings.Join(addrs, ";"), ticketStar, t.SessionID, ticketStar, ticketStar, t.Blob}, ",")
}

// ParseTicket parses Connection String 1. Errors are *FieldError naming
// the field (1-based, as MS-RAI numbers them) and what it wants.
func ParseTicket(s string) (Ticket, error) {
	f := strings.Split(s, ",")
	if len(f) != ticketFields {
		return Ticket{}, fieldErr("RCTICKET", "has %d comma-separated fields, want 8: 65538,1,HOST:PORT;...,*,SESSIONID,*,*,BLOB", len(f))
	}
	fixed := map[int]string{1: ticketVersion, 2: ticketOne, 4: ticketStar, 6: ticketStar, 7: ticketStar}
	for i := 1; i <= ticketFields; i++ {
		if want, ok := fixed[i]; ok && f[i-1] != want {
			return Ticket{}, fieldErr(ticketField(i), "is %q, want %s", f[i-1], want)
		}
	}
	addrs, err := parseAddrList(f[2])
	if err != nil {
		return Ticket{}, err
	}
	for _, i := range []int{5, 8} {
		if err := checkBase64(f[i-1]); err != nil {
			return Ticket{}, fieldErr(ticketField(i), "is %q, want non-empty base64: %v", clip(f[i-1]), err)
		}
	}
	return Ticket{Addrs: addrs, SessionID: f[4], Blob: f[7]}, nil
}

func ticketField(i int) string { return "RCTICKET field " + strconv.Itoa(i) }

func checkBase64(s string) error {
	if s == "" {
		return fmt.Errorf("empty")
	}
	_, err := base64.StdEncoding.DecodeString(s)
	return err
}

// parseAddrList parses field 3: host:port entries separated by ';'.
func parseAddrList(s string) ([]Addr, error) {
	if s == "" {
		return nil, fieldErr(ticketField(3), "is empty, want HOST:PORT[;HOST:PORT...]")
	}
	var addrs []Addr
	for i, e := range strings.Split(s, ";") {
		a, err := parseAddr(e)
		if err != nil {
			return nil, fieldErr(fmt.Sprintf("%s entry %d", ticketField(3), i+1), "%q: %v", e, err)
		}
		addrs = append(addrs, a)
	}
	return addrs, nil
}

// parseAddr parses one entry. The port follows the last colon, so IPv6
// may be written bare (fe80::1%11:3389) or bracketed ([fe80::1%11]:3389).
func parseAddr(e string) (Addr, error) {
	i := strings.LastIndexByte(e, ':')
	if i < 0 {
		return Addr{}, fmt.Errorf("want HOST:PORT")
	}
	host, portStr := e[:i], e[i+1:]
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 || portStr[0] == '+' {
		return Addr{}, fmt.Errorf("port %q, want 1-65535", portStr)
	}
	a := Addr{Host: host, Port: uint16(port)}
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		a.Host, a.bracketed = host[1:len(host)-1], true
		if ip, ok := a.IP(); !ok || !ip.Is6() {
			return Addr{}, fmt.Errorf("%q in brackets is not an IPv6 address", a.Host)
		}
		return a, nil
	}
	if strings.Contains(host, ":") {
		if ip, ok := a.IP(); !ok || !ip.Is6() {
			return Addr{}, fmt.Errorf("host %q is not an IPv6 address (write IPv6 as [ADDR]:PORT)", host)
		}
		return a, nil
	}
	if host == "" || strings.ContainsAny(host, " \t\r\n[]\"'<>&") {
		return Addr{}, fmt.Errorf("host %q, want an IP address or a hostname", host)
	}
	return a, nil
}

// clip shortens long values in error messages.
func clip(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}
