package linkemu

import (
	"bufio"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
)

// The messages an emulator logs its counters under: StatsMsg when asked
// while it runs (SIGUSR1), stoppedMsg once it has stopped. ParseStats reads
// back what logStats writes; both live here so the format is decided once.
const (
	StatsMsg   = "linkemu: stats"
	stoppedMsg = "linkemu: stopped"
)

func logStats(msg, dir string, st DirStats) {
	slog.Info(msg, "dir", dir, "frames", st.Frames, "dropped", st.Dropped,
		"overflow", st.Overflow, "writeErrors", st.WriteErrors, "kernelDrops", st.KernelDrops)
}

// Lost is how many frames the emulator lost that its impairments did not
// ask for: the writer fell behind, the kernel refused to send, or the
// kernel dropped them before the emulator read them (a busy machine).
func (s DirStats) Lost() uint64 { return s.Overflow + s.WriteErrors + s.KernelDrops }

// ParseStats returns the last counters a node's log reports under msg for
// each direction ("atob", "btoa"), and how many such reports it holds. The
// log is slog's text format, as the node command writes it.
func ParseStats(log, msg string) (last map[string]DirStats, reports int, err error) {
	last = map[string]DirStats{}
	sc := bufio.NewScanner(strings.NewReader(log))
	for line := 1; sc.Scan(); line++ {
		if !strings.Contains(sc.Text(), `msg="`+msg+`"`) {
			continue
		}
		dir, st, err := parseStatsLine(sc.Text())
		if err != nil {
			return nil, 0, fmt.Errorf("line %d: %w", line, err)
		}
		last[dir] = st
		reports++
	}
	return last, reports, sc.Err()
}

func parseStatsLine(line string) (string, DirStats, error) {
	var dir string
	var st DirStats
	fields := map[string]*uint64{"frames": &st.Frames, "dropped": &st.Dropped, "overflow": &st.Overflow,
		"writeErrors": &st.WriteErrors, "kernelDrops": &st.KernelDrops}
	found := 0
	for _, kv := range strings.Fields(line) {
		k, v, _ := strings.Cut(kv, "=")
		if k == "dir" {
			dir = v
			continue
		}
		p, ok := fields[k]
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return "", st, fmt.Errorf("%s=%q is not a count", k, v)
		}
		*p = n
		found++
	}
	if dir == "" || found != len(fields) {
		return "", st, fmt.Errorf("want dir and %d counters in %q", len(fields), line)
	}
	return dir, st, nil
}
