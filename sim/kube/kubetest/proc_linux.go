package kubetest

import "syscall"

// procAttr makes the kernel kill a control-plane process if the test
// process dies without running its cleanups.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
