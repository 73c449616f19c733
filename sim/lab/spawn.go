package lab

import (
	"errors"
	"os/exec"
	"runtime"
	"sync"
)

// spawner starts node processes from one OS thread that lives exactly as
// long as the lab. The kernel sends a child its parent-death signal
// (Pdeathsig) when the *thread* that forked it exits, and Go ends every
// thread a goroutine leaves locked, as namespace work does (golang/go#27505):
// forked from an ordinary thread, nodes were killed at random. From this
// thread they die only when the lab does, which is the point.
type spawner struct {
	reqs chan spawnReq
	quit chan struct{} // closed by close: the loop ends
	done chan struct{} // closed when the thread has ended

	closeOnce sync.Once
}

type spawnReq struct {
	cmd *exec.Cmd
	err chan error
}

var errSpawnerClosed = errors.New("lab: closed")

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan spawnReq), quit: make(chan struct{}), done: make(chan struct{})}
	go s.loop()
	return s
}

func (s *spawner) loop() {
	runtime.LockOSThread() // never unlocked: the thread ends with the loop
	defer close(s.done)
	for {
		select {
		case r := <-s.reqs:
			r.err <- r.cmd.Start()
		case <-s.quit:
			return
		}
	}
}

// start starts cmd from the spawner's thread.
func (s *spawner) start(cmd *exec.Cmd) error {
	r := spawnReq{cmd: cmd, err: make(chan error, 1)}
	select {
	case s.reqs <- r:
		return <-r.err
	case <-s.quit:
		return errSpawnerClosed
	}
}

// close ends the thread, after the lab has stopped its nodes; any node
// still alive then gets its parent-death signal.
func (s *spawner) close() {
	s.closeOnce.Do(func() { close(s.quit) })
	<-s.done
}
