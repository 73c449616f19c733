package endpoint

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// The pieces of the bulk protocol, for a client that drives it itself:
// BulkSend, BulkReceive and BulkEcho run one whole transfer each, while a
// throughput probe (sim/measure) must time part of a stream, stop it after
// a while, or queue the next transfer before the last one is answered.

// BulkMode is the mode byte of a bulk transfer header.
type BulkMode byte

// The modes of the bulk protocol.
const (
	BulkModeSink      BulkMode = modeSink
	BulkModeGenerate  BulkMode = modeGenerate
	BulkModeEcho      BulkMode = modeEcho
	BulkModeTimedSink BulkMode = modeTimed
)

// BulkHeaderLen is the size of a transfer header.
const BulkHeaderLen = bulkHeaderLen

// BulkHeader returns the header that opens a transfer of length bytes of the
// data for seed.
func BulkHeader(mode BulkMode, length int64, seed uint64) []byte {
	return bulkHeader{mode: byte(mode), length: length, seed: seed}.marshal()
}

// BulkData is the data of a transfer for one seed.
type BulkData struct{ p pattern }

// NewBulkData returns the data for seed of a transfer of n bytes; it holds
// min(n, 4,194,301) bytes, the period of the data.
func NewBulkData(seed uint64, n int64) BulkData { return BulkData{newPattern(seed, n)} }

// At returns the data from offset off on, at most limit bytes and at least
// one (limit > 0), stopping at the end of a period. The caller must not
// modify it.
func (d BulkData) At(off, limit int64) []byte { return d.p.at(off, limit) }

// BulkVerifier checks received data against the data for a seed.
type BulkVerifier struct{ v *verifier }

// NewBulkVerifier returns a verifier for a transfer of n bytes of the data
// for seed.
func NewBulkVerifier(seed uint64, n int64) *BulkVerifier {
	return &BulkVerifier{newVerifier(seed, n)}
}

// Check compares b with the data at the current offset and reports whether
// every byte so far matched; after a mismatch it only counts. The caller
// must not pass more bytes in total than the transfer's length.
func (v *BulkVerifier) Check(b []byte) bool { return v.v.check(b) }

// Checked is how many bytes Check has been given.
func (v *BulkVerifier) Checked() int64 { return v.v.off }

// FirstWrong is the offset of the first wrong byte, or -1 if none.
func (v *BulkVerifier) FirstWrong() int64 { return v.v.bad }

// BulkTrailer is the service's answer to a sink or timed sink transfer.
type BulkTrailer struct {
	Received   int64         // bytes the service received
	FirstWrong int64         // offset of the first wrong byte, or -1
	Elapsed    time.Duration // timed sink only: header read to last byte in, on the service's clock
}

// ReadBulkTrailer reads the trailer that answers a transfer of mode
// (BulkModeSink or BulkModeTimedSink).
func ReadBulkTrailer(r io.Reader, mode BulkMode) (BulkTrailer, error) {
	n := bulkTrailerLen
	if mode == BulkModeTimedSink {
		n = bulkTimedTrailerLen
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return BulkTrailer{}, fmt.Errorf("bulk: read trailer: %w", err)
	}
	t := BulkTrailer{Received: int64(binary.BigEndian.Uint64(b)), FirstWrong: -1}
	if bad := binary.BigEndian.Uint64(b[8:]); bad != bulkNoError {
		t.FirstWrong = int64(bad)
	}
	if mode == BulkModeTimedSink {
		t.Elapsed = time.Duration(binary.BigEndian.Uint64(b[16:]))
	}
	return t, nil
}
