//go:build !linux

package node

// keepSysmonAwake is Linux-only (lab nodes run on Linux); elsewhere a node
// runs with the runtime's defaults.
func keepSysmonAwake() {}
