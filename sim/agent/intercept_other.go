//go:build !linux

package agent

import (
	"errors"
	"net"
	"net/netip"
)

var errNoOriginalDst = errors.New("transparent interception needs Linux (SO_ORIGINAL_DST)")

func interceptSupported() error { return errNoOriginalDst }

func originalDst(*net.TCPConn) (netip.AddrPort, error) { return netip.AddrPort{}, errNoOriginalDst }
