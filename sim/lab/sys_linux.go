package lab

import (
	"errors"
	"os/exec"
	"syscall"
)

// setNodeAttrs puts a node in its own process group, so a terminal's ^C
// reaches the lab first and the lab stops nodes in order, and has the
// kernel kill the node if the lab dies, so a crash leaves no process.
func setNodeAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// terminate asks a node to stop. SIGCONT first: a frozen node would not
// handle SIGTERM.
func (r processRunner) terminate() {
	_ = r.cmd.Process.Signal(syscall.SIGCONT)
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
}

// freeze stops the node's process (SIGSTOP).
func (r processRunner) freeze() error { return r.cmd.Process.Signal(syscall.SIGSTOP) }

// killPID kills a process of a crashed run; one already gone is fine.
func killPID(pid int) error {
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}
