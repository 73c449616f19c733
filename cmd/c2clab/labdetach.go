package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/c2clab/c2clab/sim/kube"
)

// detachedChildFlag is the hidden flag of the process a detached lab up
// starts to run the lab.
const detachedChildFlag = "detached-child"

// detachedReport is what the lab's own process tells the lab up that
// started it, on file descriptor 3: the table once every node is ready,
// or why it could not start the lab.
type detachedReport struct {
	Table *labTable `json:"table,omitempty"`
	Error string    `json:"error,omitempty"`
}

// detachWait bounds how long lab up --detach waits for the lab to be up.
const detachWait = 5 * time.Minute

// labUpDetach starts this binary again as the lab's own process (in a
// session of its own, so closing the shell does not stop it), waits for
// its table and prints it. The lab then runs until lab down RUN.
func labUpDetach(cmd *cobra.Command, f labUpFlags, args []string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return failed(fmt.Errorf("lab up --detach: %w", err))
	}
	defer r.Close()
	child := exec.Command(exe, childArgs(f, args)...)
	child.ExtraFiles = []*os.File{w} // file descriptor 3
	child.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = child.Start()
	w.Close() // the child holds its own copy: EOF when it exits or reports
	if err != nil {
		return failed(fmt.Errorf("lab up --detach: start the lab's process: %w", err))
	}
	// Reap the child if it ends while this process still runs (it does
	// when this is a test calling run in-process).
	go child.Wait()
	// One message, not EOF: the lab's nodes may hold the pipe open.
	timer := time.AfterFunc(detachWait, func() { r.Close() })
	defer timer.Stop()
	var rep detachedReport
	if err := json.NewDecoder(r).Decode(&rep); err != nil || (rep.Table == nil && rep.Error == "") {
		child.Process.Kill()
		return failed(fmt.Errorf("lab up --detach: the lab's process (pid %d) ended without reporting: run lab up without --detach to see why", child.Process.Pid))
	}
	if rep.Error != "" {
		return failed(errors.New(rep.Error))
	}
	if f.asJSON {
		return writeJSONOut(cmd.OutOrStdout(), rep.Table)
	}
	printLab(cmd.OutOrStdout(), *rep.Table, "c2clab lab down "+rep.Table.Run+" stops it")
	return nil
}

// childArgs are the lab up arguments of the detached lab's own process.
func childArgs(f labUpFlags, args []string) []string {
	out := append([]string{"lab", "up", "--" + detachedChildFlag, "--backend", f.backend}, args...)
	if f.tenant != "" {
		out = append(out, "--tenant", f.tenant)
	}
	for _, d := range f.devices {
		out = append(out, "--device", d)
	}
	if f.ignoreLinks {
		out = append(out, "--ignore-links")
	}
	if f.backend == kube.Backend {
		out = append(out, f.kube.args()...)
	}
	return out
}

// detachOut is the pipe to the lab up that started this process, until
// reportDetached has used it; set by labUp in the detached child only.
var detachOut *os.File

// reportDetached tells the lab up that started this process the table, or
// err, and closes the pipe; later calls do nothing.
func reportDetached(t labTable, err error) {
	out := detachOut
	if out == nil {
		return
	}
	detachOut = nil
	rep := detachedReport{Table: &t}
	if err != nil {
		rep = detachedReport{Error: strings.TrimSpace(err.Error())}
	}
	json.NewEncoder(out).Encode(rep)
	out.Close()
}
