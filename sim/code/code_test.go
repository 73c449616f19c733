package code

import "testing"

func TestSentenceNamesTheCode(t *testing.T) {
	got := C2CMtunnelFailedForward.Sentence("nothing listens on port 7", "EP-1")
	if want := "nothing listens on port 7 (C2C_MTUNNEL_FAILED_FORWARD, EP-1)"; got != want {
		t.Fatalf("Sentence = %q, want %q", got, want)
	}
	if got := BrkAppNotFound.Sentence("no segment"); got != "no segment (BRK_MT_SETUP_FAIL_APP_NOT_FOUND)" {
		t.Fatalf("Sentence without requirements = %q", got)
	}
}
