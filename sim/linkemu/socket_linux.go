package linkemu

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// sockBuf is the socket buffer size asked for: room for a few ms of
// bursts at Gbit/s so a busy scheduler does not drop in the kernel.
const sockBuf = 8 << 20

// maxPacket bounds one read: virtio_net_hdr plus a 64 KiB GSO frame.
const maxPacket = vnetHdrLen + 14 + 4 + 65536

// packetConn is an AF_PACKET socket bound to one interface. Its file is
// non-blocking and driven by Go's poller, so Close unblocks a pending Read.
type packetConn struct {
	name string
	f    *os.File
}

// openPacket opens a raw socket on iface in the calling thread's network
// namespace. It sees every frame the interface receives (promiscuous) and
// none that this process sends (PACKET_IGNORE_OUTGOING), so the bridge
// never re-forwards its own writes.
func openPacket(iface string) (*packetConn, error) {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, fmt.Errorf("open %q: %w", iface, err)
	}
	// Protocol 0 receives nothing until bind, so no frame of another
	// interface slips in before the socket is bound.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open %q: socket: %w", iface, err)
	}
	if err := setupPacket(fd, ifi.Index); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("open %q: %w", iface, err)
	}
	return &packetConn{name: iface, f: os.NewFile(uintptr(fd), "packet:"+iface)}, nil
}

func setupPacket(fd, ifindex int) error {
	for _, o := range []struct {
		name       string
		level, opt int
		val        int
	}{
		{"PACKET_IGNORE_OUTGOING", unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1},
		{"PACKET_VNET_HDR", unix.SOL_PACKET, unix.PACKET_VNET_HDR, 1},
		{"SO_RCVBUFFORCE", unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, sockBuf},
		{"SO_SNDBUFFORCE", unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, sockBuf},
	} {
		if err := unix.SetsockoptInt(fd, o.level, o.opt, o.val); err != nil {
			return fmt.Errorf("setsockopt %s: %w", o.name, err)
		}
	}
	mreq := &unix.PacketMreq{Ifindex: int32(ifindex), Type: unix.PACKET_MR_PROMISC}
	if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, mreq); err != nil {
		return fmt.Errorf("setsockopt PACKET_ADD_MEMBERSHIP promisc: %w", err)
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}
	if err := unix.Bind(fd, sa); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	return nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Close is idempotent.
func (c *packetConn) Close() error {
	if err := c.f.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("close %q: %w", c.name, err)
	}
	return nil
}

// openPair opens both interfaces, inside netnsPath when it is set.
func openPair(netnsPath, ifA, ifB string) (a, b *packetConn, err error) {
	if netnsPath == "" {
		return openBoth(ifA, ifB)
	}
	type result struct {
		a, b *packetConn
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		// The thread is never unlocked: it leaves the namespace only by
		// exiting with this goroutine, so no other goroutine inherits it.
		runtime.LockOSThread()
		var r result
		if r.err = enterNetns(netnsPath); r.err == nil {
			r.a, r.b, r.err = openBoth(ifA, ifB)
		}
		ch <- r
	}()
	r := <-ch
	return r.a, r.b, r.err
}

func openBoth(ifA, ifB string) (*packetConn, *packetConn, error) {
	a, err := openPacket(ifA)
	if err != nil {
		return nil, nil, err
	}
	b, err := openPacket(ifB)
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, b, nil
}

// enterNetns moves the calling (locked) thread into the namespace at path.
func enterNetns(path string) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("netns %q: %w", path, err)
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("netns %q: setns: %w", path, err)
	}
	return nil
}

// drops returns how many frames the kernel dropped because the socket's
// receive buffer was full since the last call (PACKET_STATISTICS resets).
func (c *packetConn) drops() uint64 {
	rc, err := c.f.SyscallConn()
	if err != nil {
		return 0
	}
	var n uint64
	rc.Control(func(fd uintptr) {
		if st, err := unix.GetsockoptTpacketStats(int(fd), unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
			n = uint64(st.Drops)
		}
	})
	return n
}
