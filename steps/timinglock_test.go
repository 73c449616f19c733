//go:build unix

package steps

import (
	"testing"
	"time"
)

// privateLocks points the timing lock at a directory of the test's own,
// so that suites running on the machine do not make it wait.
func privateLocks(t *testing.T) {
	old := lockDir
	lockDir = t.TempDir()
	t.Cleanup(func() { lockDir = old })
}

// held takes the lock in a goroutine and hands over its unlock once held.
func held(t *testing.T, exclusive bool) (got chan func()) {
	t.Helper()
	got = make(chan func(), 1)
	go func() {
		unlock, err := timingLock(exclusive)
		if err != nil {
			t.Error(err)
			return
		}
		got <- unlock
	}()
	return got
}

// Shared holders run together; a measuring scenario waits for them, and
// once it waits no new shared holder starts before it has run.
func TestTimingLockLetsAMeasuringScenarioRunAlone(t *testing.T) {
	privateLocks(t)
	const wait = 300 * time.Millisecond
	s1 := <-held(t, false)
	var s2 func()
	select {
	case s2 = <-held(t, false):
	case <-time.After(5 * time.Second):
		t.Fatal("a second shared holder waited for the first")
	}
	x := held(t, true)
	select {
	case <-x:
		t.Fatal("the exclusive holder ran beside shared ones")
	case <-time.After(wait):
	}
	s3 := held(t, false)
	select {
	case <-s3:
		t.Fatal("a new shared holder started while an exclusive one waited")
	case <-time.After(wait):
	}
	s1()
	s2()
	var unlockX func()
	select {
	case unlockX = <-x:
	case <-time.After(5 * time.Second):
		t.Fatal("the exclusive holder did not get the lock once the shared ones left")
	}
	select {
	case <-s3:
		t.Fatal("a shared holder ran beside the exclusive one")
	case <-time.After(wait):
	}
	unlockX()
	select {
	case u := <-s3:
		u()
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting shared holder did not start after the exclusive one")
	}
}

// A measuring phase holds the lock exclusively from its first scenario to
// its end, not only while each scenario runs: no other suite's scenario
// starts between two of its scenarios. A phase that never started a
// scenario holds nothing.
func TestMeasuringPhaseHoldsTheLockBetweenItsScenarios(t *testing.T) {
	privateLocks(t)
	const wait = 300 * time.Millisecond
	idle := &phaseLock{measures: true}
	idle.close()
	select {
	case u := <-held(t, false):
		u()
	case <-time.After(5 * time.Second):
		t.Fatal("a measuring phase that ran no scenario kept others out")
	}
	l := &phaseLock{measures: true}
	leave, err := l.enter()
	if err != nil {
		t.Fatal(err)
	}
	leave() // the first scenario ends
	other := held(t, false)
	select {
	case <-other:
		t.Fatal("another scenario started between two of a measuring phase's")
	case <-time.After(wait):
	}
	entered := make(chan error, 1)
	go func() {
		leave, err := l.enter() // the second scenario: the phase holds it already
		if err == nil {
			leave()
		}
		entered <- err
	}()
	select {
	case err := <-entered:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the phase's second scenario waited for its own phase's lock")
	}
	l.close()
	select {
	case u := <-other:
		u()
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting scenario did not start once the measuring phase ended")
	}
}
