package lab

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestRunIDs(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		id, err := NewRunID()
		if err != nil {
			t.Fatal(err)
		}
		if !ValidRunID(id) {
			t.Fatalf("NewRunID() = %q, not valid", id)
		}
		seen[id] = true
	}
	if len(seen) < 95 {
		t.Fatalf("only %d distinct IDs in 100", len(seen))
	}
	for _, bad := range []string{"", "c2c", "c2cABCDEF", "c2c12345", "x2c123456", "c2c1234567"} {
		if ValidRunID(bad) {
			t.Errorf("ValidRunID(%q) = true", bad)
		}
	}
}

func TestAddrPoolIsDisjointFromLocalhostAndBounded(t *testing.T) {
	p := newAddrPool("c2c000001")
	for i := 1; i <= 254; i++ {
		a, err := p.take()
		if err != nil {
			t.Fatalf("take %d: %v", i, err)
		}
		b := a.As4()
		if b[0] != 127 || b[1] == 0 || b[3] != byte(i) {
			t.Fatalf("take %d = %v, want 127.A.B.%d with A != 0", i, a, i)
		}
	}
	if _, err := p.take(); err == nil {
		t.Fatal("pool handed out a 255th address")
	}
}

// fakeSOCKS answers one CONNECT with reply and returns the name it was asked for.
func fakeSOCKS(t *testing.T, reply byte) (addr string, asked chan string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	asked = make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 512)
		io.ReadFull(c, buf[:3])
		c.Write([]byte{5, 0})
		io.ReadFull(c, buf[:5])
		n := int(buf[4])
		io.ReadFull(c, buf[:n+2])
		asked <- string(buf[:n]) + ":" + strconv.Itoa(int(buf[n])<<8|int(buf[n+1]))
		c.Write([]byte{5, reply, 0, 1, 127, 0, 0, 1, 0, 0})
		io.Copy(io.Discard, c)
	}()
	return ln.Addr().String(), asked
}

func TestDialSOCKS(t *testing.T) {
	tests := []struct {
		name  string
		reply byte
	}{
		{"connected", 0},
		{"not allowed", 2},
		{"host unreachable", 4},
		{"refused", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, asked := fakeSOCKS(t, tt.reply)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := DialSOCKS(ctx, addr, "desktop-10B38-AC.example.com", 3389)
			if got := <-asked; got != "desktop-10B38-AC.example.com:3389" {
				t.Errorf("proxy was asked for %q", got)
			}
			if tt.reply == 0 {
				if err != nil {
					t.Fatalf("err = %v, want connected", err)
				}
				c.Close()
				return
			}
			if !IsSOCKSReply(err, tt.reply) {
				t.Fatalf("err = %v, want SOCKS reply %d", err, tt.reply)
			}
		})
	}
}

func TestSweepKillsOnlyTheRunsProcessesAndRemovesTheRun(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "c2clab-c2cabc123")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// A "node" whose command line names the run directory, and a bystander
	// that does not: a sweep must kill the first only.
	node := exec.Command("sh", "-c", "sleep 60", filepath.Join(dir, "x.json"))
	bystander := exec.Command("sleep", "60")
	for _, c := range []*exec.Cmd{node, bystander} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	}
	write := func(name string, pid int) {
		if err := writeJSON(filepath.Join(dir, name+".ready"), Ready{PID: pid}); err != nil {
			t.Fatal(err)
		}
	}
	write("node", node.Process.Pid)
	write("bystander", bystander.Process.Pid)
	os.WriteFile(filepath.Join(dir, ownerFile), []byte("999999999"), 0o600)

	runs, err := Runs(tmp)
	if err != nil || len(runs) != 1 {
		t.Fatalf("Runs = %v, %v; want the one run", runs, err)
	}
	if runs[0].Live {
		t.Fatal("run with a dead owner reported live")
	}
	if err := Sweep(runs[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("run directory still exists: %v", err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- node.Wait() }()
	select {
	case <-waitErr:
	case <-time.After(3 * time.Second):
		t.Fatal("the run's node process survived the sweep")
	}
	if !processMentions(bystander.Process.Pid, "") {
		t.Fatal("the sweep killed a process that was not the run's")
	}
}
