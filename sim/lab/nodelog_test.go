package lab

import (
	"os"
	"path/filepath"
	"testing"
)

// TestNodeLogReadsOnlyThatNode checks that NodeLog returns the named
// node's whole log, not another's, and says when there is no such node.
func TestNodeLogReadsOnlyThatNode(t *testing.T) {
	dir := t.TempDir()
	l := &Lab{}
	for name, text := range map[string]string{"desk-agent": "WARN relay failed conn=c-1\n", "desk-ref-agent": "INFO registered\n"} {
		path := filepath.Join(dir, name+".log")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		l.order = append(l.order, &proc{name: name, logPath: path})
	}
	if got, ok := l.NodeLog("desk-agent"); !ok || got != "WARN relay failed conn=c-1\n" {
		t.Errorf("NodeLog(desk-agent) = %q, %t; want its own log", got, ok)
	}
	if got, ok := l.NodeLog("desk"); ok {
		t.Errorf("NodeLog(desk) = %q, true; want false: no node has that name", got)
	}
}
