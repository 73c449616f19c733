package bench

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A profile is fetched from every relay node with the seconds asked for,
// while the load runs again and again; the load stops once all are in.
func TestProfileUnderFetchesEveryNodeWhileTheLoadRuns(t *testing.T) {
	var loads atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/debug/pprof/profile" || r.URL.Query().Get("seconds") != "3" {
			http.Error(w, "unexpected "+r.URL.String(), http.StatusBadRequest)
			return
		}
		for loads.Load() < 2 { // the profile covers the load
			if r.Context().Err() != nil {
				return
			}
			time.Sleep(time.Millisecond)
		}
		w.Write([]byte("profile of " + r.Host))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	b := &bench{relayDebug: map[string]string{"broker": addr, "admin-agent": addr}}
	dir := t.TempDir()
	err := b.profileUnder(context.Background(), Config{Profile: dir, ProfileSeconds: 3}, "setup", func(ctx context.Context) error {
		loads.Add(1)
		time.Sleep(time.Millisecond) // a load takes its time
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, node := range []string{"broker", "admin-agent"} {
		data, err := os.ReadFile(filepath.Join(dir, "setup-"+node+".pprof"))
		if err != nil || string(data) != "profile of "+addr {
			t.Errorf("%s: %q, %v", node, data, err)
		}
	}
	n := loads.Load()
	if n < 2 {
		t.Errorf("the load ran %d times during the profiles, want at least 2", n)
	}
}

// A failing load or node fails the step, naming the node.
func TestProfileUnderReportsAFailingLoadAndNode(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	b := &bench{relayDebug: map[string]string{"broker": strings.TrimPrefix(srv.URL, "http://")}}
	boom := errors.New("boom")
	err := b.profileUnder(context.Background(), Config{Profile: t.TempDir(), ProfileSeconds: 1}, "roundtrip", func(ctx context.Context) error {
		return boom
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "broker: GET") {
		t.Fatalf("err = %v, want the load's error and the broker's 404", err)
	}
}
