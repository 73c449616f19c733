// Package emuline builds a three-namespace line, A <veth> EMU <veth> B, in
// which a link emulator placed in EMU bridges its two interfaces, so tests
// (and the network lab) can put an impaired link between two hosts. It uses
// the ip(8) command for setup and only 198.18.0.0/15 addresses.
package emuline
