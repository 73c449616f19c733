package linkemu

import "encoding/binary"

// The forwarder reads and writes frames with a virtio_net_hdr in front
// (PACKET_VNET_HDR), so TCP segmentation offload and partial checksums pass
// through untouched and a 64 KiB GSO frame costs one read and one write.
const (
	vnetHdrLen       = 10
	vnetNeedsCsum    = 1    // flags: checksum to be completed at csum_start
	vnetGSOTCPv4     = 1    // gso_type values
	vnetGSOUDP       = 3    // UFO
	vnetGSOTCPv6     = 4    // ...
	vnetGSOUDPL4     = 5    // UDP GSO
	vnetGSOTypeMask  = 0x7f // gso_type without the ECN bit
	tcpDataOffsetOff = 12   // byte in the TCP header holding the data offset
)

// wireLen returns how many bytes pkt (virtio_net_hdr + Ethernet frame)
// occupies on the wire once segmented: one frame's length, plus a copy of
// the headers for each further segment of a GSO frame, as the kernel's
// qdisc_pkt_len_init counts it. Rate shaping charges this length.
func wireLen(pkt []byte) int {
	if len(pkt) < vnetHdrLen {
		return len(pkt)
	}
	frame := len(pkt) - vnetHdrLen
	gsoType := pkt[1] & vnetGSOTypeMask
	gsoSize := int(binary.LittleEndian.Uint16(pkt[4:]))
	if gsoType == 0 || gsoSize == 0 {
		return frame
	}
	hdr := gsoHeaderLen(pkt, gsoType)
	if hdr <= 0 || hdr >= frame {
		return frame
	}
	segs := (frame - hdr + gsoSize - 1) / gsoSize
	return frame + (segs-1)*hdr
}

// gsoHeaderLen is the length of the headers repeated in each segment, from
// the L4 offset (csum_start) and the L4 header, or hdr_len as a fallback.
func gsoHeaderLen(pkt []byte, gsoType byte) int {
	hdrLen := int(binary.LittleEndian.Uint16(pkt[2:]))
	if pkt[0]&vnetNeedsCsum == 0 {
		return hdrLen
	}
	l4 := int(binary.LittleEndian.Uint16(pkt[6:]))
	switch gsoType {
	case vnetGSOTCPv4, vnetGSOTCPv6:
		off := vnetHdrLen + l4 + tcpDataOffsetOff
		if off >= len(pkt) {
			return hdrLen
		}
		return l4 + int(pkt[off]>>4)*4
	case vnetGSOUDP, vnetGSOUDPL4:
		return l4 + 8
	}
	return hdrLen
}
