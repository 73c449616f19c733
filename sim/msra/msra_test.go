package msra

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in fixtures/msra/golden")

const (
	fixtures = "../../fixtures/msra/"
	testHost = "desktop-10B38-AC.example.com"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(fixtures + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseFixtures(t *testing.T) {
	tests := []struct {
		file      string
		user      string
		addrs     []string
		lhticket  bool
		dtLength  int64
		extraAttr int
	}{
		{"win10-ipv4.msrcincident", "jdoe", []string{"192.168.1.100:49664", "10.10.4.23:49665"}, true, 360, 0},
		{"win11-utf16le.msrcincident", "Zscaler", []string{"192.168.1.100:54606", "[fe80::8d4c:2a1b:93e5:c7f0%12]:54607", "100.64.0.2:54607"}, true, 720, 1},
		{"ipv6-bare.msrcincident", "asmith", []string{"2001:db8:4a::17:3389", "fe80::1c2e:ff:fe00:7%eth0:3390"}, true, 60, 0},
		{"several-addresses.msrcincident", `HR\mjones`, []string{"172.16.0.5:50001", "172.16.0.6:50001", "ws1.corp.example.com:50002", "[2001:db8::5]:50003"}, true, 360, 1},
		{"no-lhticket.msrcincident", "kiosk", []string{"192.168.56.12:3389"}, false, 360, 0},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			inv, err := Parse(readFixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range inv.Ticket.Addrs {
				got = append(got, a.String())
			}
			if !reflect.DeepEqual(got, tt.addrs) {
				t.Errorf("addresses = %q, want %q", got, tt.addrs)
			}
			if inv.Username != tt.user || (inv.LHTicket != "") != tt.lhticket || inv.DtLength != tt.dtLength || len(inv.Extra) != tt.extraAttr || !inv.Encrypted {
				t.Errorf("got user %q lhticket %t dtLength %d extra %v encrypted %t", inv.Username, inv.LHTicket != "", inv.DtLength, inv.Extra, inv.Encrypted)
			}
		})
	}
}

func TestParseBroken(t *testing.T) {
	tests := []struct {
		file string
		line int
		want string
	}{
		{"version-65537", 1, `RCTICKET field 1: is "65537", want 65538`},
		{"field2-not-1", 1, `RCTICKET field 2: is "2", want 1`},
		{"field4-not-star", 1, `RCTICKET field 4: is "-", want *`},
		{"seven-fields", 1, `RCTICKET: has 7 comma-separated fields, want 8`},
		{"address-no-port", 1, `RCTICKET field 3 entry 2: "10.10.4.23": want HOST:PORT`},
		{"address-port-range", 1, `RCTICKET field 3 entry 2: "10.10.4.23:70000": port "70000", want 1-65535`},
		{"address-list-empty", 1, `RCTICKET field 3: is empty, want HOST:PORT[;HOST:PORT...]`},
		{"address-bad-ipv6", 1, `RCTICKET field 3 entry 2: "fe80::1:49665:x": port "x"`},
		{"blob-not-base64", 1, `RCTICKET field 8: is "not base64!hrUmL0i9JoGR2WPLOfE4spC36SA=", want non-empty base64`},
		{"dtlength-not-number", 1, `DtLength: is "6h", want a non-negative decimal integer`},
		{"encrypted-not-bool", 1, `RCTICKETENCRYPTED: is "yes", want 0 or 1`},
		{"type-not-escalated", 1, `UPLOADINFO TYPE: is "Unsolicited", want Escalated`},
		{"no-passstub", 1, `PassStub: is missing or empty`},
		{"not-xml", 0, `file: is not well-formed XML`},
		{"duplicate-rcticket", 1, `RCTICKET: appears twice in UPLOADDATA`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data := readFixture(t, "broken/"+tt.file+".msrcincident")
			_, err := Parse(data)
			checkFieldErr(t, err, tt.line, tt.want)
			_, err = Rewrite(data, testHost)
			checkFieldErr(t, err, tt.line, tt.want)
		})
	}
}

func checkFieldErr(t *testing.T, err error, line int, want string) {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want a *FieldError matching ErrInvalid", err)
	}
	if !strings.HasPrefix(err.Error(), want) || fe.Line != line {
		t.Errorf("err = line %d: %q, want line %d: %q...", fe.Line, err, line, want)
	}
}

func TestParseErrorLine(t *testing.T) {
	data := bytes.Replace(readFixture(t, "several-addresses.msrcincident"), []byte("DtLength='360'"), []byte("DtLength='x'"), 1)
	_, err := Parse(data)
	checkFieldErr(t, err, 11, `DtLength: is "x"`)
}

// TestRewriteGolden compares Rewrite's output on every valid fixture with
// fixtures/msra/golden; go test -run RewriteGolden -update rewrites them.
func TestRewriteGolden(t *testing.T) {
	files, _ := filepath.Glob(fixtures + "*.msrcincident")
	if len(files) < 5 {
		t.Fatalf("found %d fixtures, want at least 5", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			in := readFixture(t, filepath.Base(f))
			out, err := Rewrite(in, testHost)
			if err != nil {
				t.Fatal(err)
			}
			golden := fixtures + "golden/" + filepath.Base(f)
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("Rewrite differs from %s:\n got %q\nwant %q", golden, out, want)
			}
			checkRewritten(t, in, out, testHost)
		})
	}
}

// checkRewritten checks the properties RA-1 asks of a rewrite, independent
// of the golden file: valid, no LHTICKET, no IP left, ports and names kept,
// every other attribute unchanged, idempotent.
func checkRewritten(t *testing.T, in, out []byte, host string) {
	t.Helper()
	before, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	after, err := Parse(out)
	if err != nil {
		t.Fatalf("rewritten invitation does not parse: %v", err)
	}
	if after.LHTicket != "" {
		t.Error("LHTICKET is still there")
	}
	if len(after.Ticket.Addrs) != len(before.Ticket.Addrs) {
		t.Fatalf("%d addresses after, %d before", len(after.Ticket.Addrs), len(before.Ticket.Addrs))
	}
	for i, a := range after.Ticket.Addrs {
		b := before.Ticket.Addrs[i]
		_, wasIP := b.IP()
		if a.Port != b.Port || (wasIP && a.Host != host) || (!wasIP && a.Host != b.Host) {
			t.Errorf("entry %d: %s became %s, want host %s, same port", i+1, b, a, host)
		}
	}
	before.LHTicket, before.Ticket.Addrs, after.Ticket.Addrs = "", nil, nil
	if !reflect.DeepEqual(before, after) {
		t.Errorf("other fields changed:\nbefore %+v\nafter  %+v", before, after)
	}
	again, err := Rewrite(out, host)
	if err != nil || !bytes.Equal(again, out) {
		t.Errorf("rewriting twice changed the file (err %v)", err)
	}
}

func TestRewriteKeepsBytes(t *testing.T) {
	in := readFixture(t, "win10-ipv4.msrcincident")
	out, err := Rewrite(in, testHost)
	if err != nil {
		t.Fatal(err)
	}
	inv, _ := Parse(in)
	want := strings.Replace(string(in), ` LHTICKET="`+inv.LHTicket+`"`, "", 1)
	want = strings.Replace(want, "192.168.1.100:49664;10.10.4.23:49665", testHost+":49664;"+testHost+":49665", 1)
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	u16, err := Rewrite(readFixture(t, "win11-utf16le.msrcincident"), testHost)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(u16, []byte{0xFF, 0xFE, '<', 0}) || !bytes.HasSuffix(u16, []byte{'\r', 0, '\n', 0}) {
		t.Errorf("UTF-16LE file lost its byte order mark or line end: % x ... % x", u16[:4], u16[len(u16)-4:])
	}
}

func TestRewriteHostname(t *testing.T) {
	in := readFixture(t, "no-lhticket.msrcincident")
	tests := []struct {
		name, host, wantErr string
	}{
		{"fqdn", "ws1.example.com", ""},
		{"trailing dot", "ws1.example.com.", ""},
		{"empty", "", `hostname: is ""`},
		{"ipv4", "192.168.1.1", "an IP address"},
		{"underscore", "ws_1.example.com", `label 1 "ws_1"`},
		{"leading hyphen", "-ws.example.com", `label 1 "-ws"`},
		{"empty label", "ws..example.com", `label 2 ""`},
		{"port", "ws.example.com:3389", `label 3 "com:3389"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Rewrite(in, tt.host)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				checkRewritten(t, in, out, tt.host)
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalid) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	files, _ := filepath.Glob(fixtures + "*.msrcincident")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			inv, err := Parse(readFixture(t, filepath.Base(f)))
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(inv.Marshal())
			if err != nil {
				t.Fatalf("Marshal's output does not parse: %v\n%s", err, inv.Marshal())
			}
			if !reflect.DeepEqual(inv, back) {
				t.Errorf("round trip changed the invitation:\n%+v\n%+v", inv, back)
			}
		})
	}
}

func TestParseTicket(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
		addrs             int
	}{
		{"one", "65538,1,10.0.0.1:3389,*,QUJD,*,*,REVG", "", 1},
		{"seed example", "65538,1,desktop@safemarch.com:54606;100.64.0.2:54607,*,QUJD,*,*,REVG", "", 2},
		{"nine fields", "65538,1,10.0.0.1:3389,*,QUJD,*,*,REVG,x", "has 9 comma-separated fields", 0},
		{"field 6", "65538,1,10.0.0.1:3389,*,QUJD,x,*,REVG", `RCTICKET field 6: is "x", want *`, 0},
		{"field 7", "65538,1,10.0.0.1:3389,*,QUJD,*,,REVG", `RCTICKET field 7: is "", want *`, 0},
		{"session empty", "65538,1,10.0.0.1:3389,*,,*,*,REVG", "RCTICKET field 5: is \"\", want non-empty base64", 0},
		{"port zero", "65538,1,10.0.0.1:0,*,QUJD,*,*,REVG", `port "0"`, 0},
		{"empty entry", "65538,1,10.0.0.1:1;,*,QUJD,*,*,REVG", "entry 2", 0},
		{"bracketed ipv4", "65538,1,[10.0.0.1]:1,*,QUJD,*,*,REVG", "not an IPv6 address", 0},
		{"space in host", "65538,1,a b:1,*,QUJD,*,*,REVG", `host "a b"`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk, err := ParseTicket(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(tk.Addrs) != tt.addrs || tk.String() != tt.in {
				t.Errorf("got %d addrs, String %q; want %d, %q", len(tk.Addrs), tk, tt.addrs, tt.in)
			}
		})
	}
}
