package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/endpoint"
	"github.com/c2clab/c2clab/sim/lab"
)

// cli runs this test binary as the c2clab CLI, as a script would, and
// returns its stdout.
func cli(t *testing.T, tmp string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), cliEnv+"=1", "TMPDIR="+tmp)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	return string(out), err
}

// TestLabUpDetachRunsUntilLabDown is a script's view: lab up --detach
// --json returns with the table while the lab keeps running, an RDP client
// reaches the desktop through the admin's agent, lab status lists the run,
// and lab down RUN leaves no process and no run directory behind.
func TestLabUpDetachRunsUntilLabDown(t *testing.T) {
	tmp := t.TempDir()
	out, err := cli(t, tmp, "lab", "up", "--detach", "--json", "--tenant", "../../fixtures/tenants/shared-namespace.yaml",
		"--device", "../../fixtures/devices/admin-win-4.5.yaml", "--device", "../../fixtures/devices/win-3.9.0.169-ad.yaml")
	if err != nil {
		t.Fatalf("lab up --detach: %v\n%s", err, out)
	}
	var table labTable
	if err := json.Unmarshal([]byte(out), &table); err != nil {
		t.Fatalf("lab up --detach --json printed no table: %v\n%s", err, out)
	}
	runs, err := lab.Runs(tmp)
	if err != nil || len(runs) != 1 || runs[0].ID != table.Run || !runs[0].Live || !runs[0].Detached() {
		t.Fatalf("after lab up --detach returned: runs %+v (err %v), want the one live detached run %s", runs, err, table.Run)
	}
	run := runs[0]
	t.Cleanup(func() { lab.Stop(run) }) // if the test fails before lab down
	if len(table.Devices) != 2 || table.Devices[0].SOCKS == "" || table.Admin.Token == "" {
		t.Fatalf("table lacks the devices, their SOCKS5 addresses or the admin token: %+v", table)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := lab.DialSOCKS(ctx, table.Devices[0].SOCKS, table.Devices[1].FQDN, 3389)
	if err != nil {
		t.Fatalf("connect through the detached lab: %v", err)
	}
	res, err := endpoint.RDPConnect(ctx, conn, 1) // PROTOCOL_SSL
	conn.Close()
	if err != nil || !strings.Contains(res.String(), "0x1234") {
		t.Fatalf("RDP through the detached lab: %v, %v; want the fake RDP server's Connection Confirm", res, err)
	}
	t.Logf("through the detached lab: %v", res)

	status, err := cli(t, tmp, "lab", "status")
	if err != nil || !strings.Contains(status, table.Run) || !strings.Contains(status, "detached") {
		t.Fatalf("lab status does not show the detached run %s (err %v):\n%s", table.Run, err, status)
	}
	if out, err := cli(t, tmp, "lab", "down", table.Run); err != nil {
		t.Fatalf("lab down %s: %v\n%s", table.Run, err, out)
	}
	pids := map[string]int{"owner": run.Owner}
	for name, pid := range run.Nodes {
		pids[name] = pid
	}
	for name, pid := range pids {
		if alive(pid) {
			t.Errorf("after lab down, %s (pid %d) still runs", name, pid)
		}
	}
	if _, err := os.Stat(run.Dir); !os.IsNotExist(err) {
		t.Errorf("after lab down, the run directory %s is still there (%v)", run.Dir, err)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "c2clab-*")); len(left) > 0 {
		t.Errorf("after lab down, left in TMPDIR: %v", left)
	}
}

// alive reports whether pid runs: a zombie (exited, not reaped) does not.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
