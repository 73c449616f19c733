//go:build !c2clab_perfwork

package seal

// extraWork is the test-only per-frame work knob of perfwork_on.go; in an
// ordinary build it does nothing and is inlined away.
func extraWork([]byte) {}
