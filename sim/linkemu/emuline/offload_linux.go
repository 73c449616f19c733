package emuline

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SetSegmentationOffload turns TSO, GSO and GRO on the hosts' links (eth0
// in A and in B) on or off. With them on (the veth default) the emulator
// sees up to 64 KiB super-frames and each impairment acts on a whole one, as
// netem does on a GSO skb; off, it sees one frame per MTU-sized packet, so
// loss and queueing act per packet like a real link.
func (l *Line) SetSegmentationOffload(on bool) error {
	for _, ns := range []string{l.A, l.B} {
		if err := Do(ns, func() error { return setOffload(HostLink, on) }); err != nil {
			return fmt.Errorf("emuline: namespace %q: %w", ns, err)
		}
	}
	return nil
}

// SetOffload turns TSO, GSO and GRO of iface on or off in the calling
// thread's network namespace (run it inside Do or ns.Do for another one).
func SetOffload(iface string, on bool) error { return setOffload(iface, on) }

// ethtoolValue is struct ethtool_value.
type ethtoolValue struct {
	cmd, data uint32
}

// ifreqData is struct ifreq with ifr_data, padded to the kernel's size.
type ifreqData struct {
	name [unix.IFNAMSIZ]byte
	data unsafe.Pointer
	_    [24 - unsafe.Sizeof(uintptr(0))]byte
}

func setOffload(iface string, on bool) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("ethtool socket: %w", err)
	}
	defer unix.Close(fd)
	val := uint32(0)
	if on {
		val = 1
	}
	for _, c := range []struct {
		name string
		cmd  uint32
	}{{"tso", unix.ETHTOOL_STSO}, {"gso", unix.ETHTOOL_SGSO}, {"gro", unix.ETHTOOL_SGRO}} {
		ev := ethtoolValue{cmd: c.cmd, data: val}
		var ifr ifreqData
		copy(ifr.name[:], iface)
		ifr.data = unsafe.Pointer(&ev)
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr)))
		if errno != 0 {
			return fmt.Errorf("ethtool %q %s=%v: %w", iface, c.name, on, errno)
		}
	}
	return nil
}
