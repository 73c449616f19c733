//go:build !unix

package steps

// timingLock has no cross-process lock without flock: measuring scenarios
// still run alone within their own run (see phases).
func timingLock(bool) (func(), error) { return func() {}, nil }
