package kubetest

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// procAttr makes the kernel kill a control-plane process if the test
// process dies without running its cleanups.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }

// StartProcess starts cmd from one OS thread that stays for the life of
// the test binary. Pdeathsig fires when the thread that forked a child
// ends, not the process: a kubelet forked from an ordinary thread was
// killed, silently, the moment the Go runtime ended that thread, which it
// does when a goroutine exits locked to it (sim/lab's spawner does at
// every lab's Close, and a lab's thread can be the one that had forked
// the kubelet). From this thread a child dies with the test binary only.
func StartProcess(cmd *exec.Cmd) error {
	req := startReq{cmd: cmd, err: make(chan error, 1)}
	starter() <- req
	return <-req.err
}

type startReq struct {
	cmd *exec.Cmd
	err chan error
}

// starter is the thread's queue, made with its thread on first use.
var starter = sync.OnceValue(func() chan startReq {
	reqs := make(chan startReq)
	go startLoop(reqs)
	return reqs
})

func startLoop(reqs chan startReq) {
	runtime.LockOSThread() // never unlocked, and the loop never ends
	for r := range reqs {
		r.err <- r.cmd.Start()
	}
}
