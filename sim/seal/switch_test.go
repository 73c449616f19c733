package seal

import (
	"errors"
	"io"
	"testing"
)

// TestSwitch: the client's first Read consumes the server's TLS tail up to
// the switch record; anything else there fails the stream.
func TestSwitch(t *testing.T) {
	tests := []struct {
		name   string
		record string // what the server sends in place of SwitchRecord; "" sends it
		want   error
	}{
		{"switch record", "", nil},
		{"other application data", "c2c/1 framez", ErrMalformed},
		{"longer record", SwitchRecord + "!", ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ct, st := tlsTCPPair(t, true)
			client, err := Client(ct, ct.NetConn().(*records).Conn)
			if err != nil {
				t.Fatal(err)
			}
			var server *Conn
			if tc.record == "" {
				server, err = Server(st, st.NetConn().(*records).Conn)
			} else {
				st.Write([]byte(tc.record))
				cs := st.ConnectionState()
				send, recv, _ := Derive(&cs, false)
				server, err = New(st.NetConn().(*records).Conn, send, recv)
			}
			if err != nil {
				t.Fatal(err)
			}
			server.Write([]byte("data"))
			server.CloseWrite()
			got, err := io.ReadAll(client)
			if tc.want == nil {
				if err != nil || string(got) != "data" {
					t.Fatalf("read %q, %v", got, err)
				}
				return
			}
			if !errors.Is(err, tc.want) || len(got) != 0 {
				t.Fatalf("read %q, %v; want nothing and %v", got, err, tc.want)
			}
		})
	}
}
