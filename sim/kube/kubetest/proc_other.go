//go:build !linux

package kubetest

import (
	"os/exec"
	"syscall"
)

func procAttr() *syscall.SysProcAttr { return nil }

// StartProcess starts cmd; only Linux has parent-death signals to mind.
func StartProcess(cmd *exec.Cmd) error { return cmd.Start() }
