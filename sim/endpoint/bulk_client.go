package endpoint

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"
)

// BulkResult is one bulk transfer as the client saw it.
type BulkResult struct {
	// Bytes is how many bytes arrived at the checking side (the server for
	// BulkSend, the client otherwise).
	Bytes int64
	// Duration runs from writing the header to the last byte checked
	// (BulkSend: to the server's trailer, so it includes one round trip).
	Duration time.Duration
	// CorruptOffset is the offset of the first wrong byte, or -1 if every
	// byte matched the expected data.
	CorruptOffset int64
}

// MBps is the transfer rate in megabytes (10^6) per second.
func (r BulkResult) MBps() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Bytes) / r.Duration.Seconds() / 1e6
}

// BulkSend sends n bytes of the data for seed to a bulk service on conn,
// which checks every byte. A wrong byte gives a *CorruptError (ErrCorrupt),
// as soon as the service sees it; a transfer cut short ErrShort. A relay
// that loses the tail of the data but keeps the connection open leaves the
// call waiting until ctx ends. After an error conn should be closed.
func BulkSend(ctx context.Context, conn net.Conn, n int64, seed uint64) (BulkResult, error) {
	res := BulkResult{CorruptOffset: -1}
	if n < 0 {
		return res, fmt.Errorf("bulk send: length %d is negative", n)
	}
	defer watch(ctx, conn)()
	start := time.Now()
	if err := writeStream(conn, bulkHeader{mode: modeSink, length: n, seed: seed}); err != nil {
		return res, fmt.Errorf("bulk send: %w", ctxErr(ctx, err))
	}
	t := make([]byte, bulkTrailerLen)
	if _, err := io.ReadFull(conn, t); err != nil {
		return res, fmt.Errorf("bulk send: read trailer: %w", ctxErr(ctx, err))
	}
	res.Duration = time.Since(start)
	res.Bytes = int64(binary.BigEndian.Uint64(t))
	if bad := binary.BigEndian.Uint64(t[8:]); bad != bulkNoError {
		res.CorruptOffset = int64(bad)
		return res, fmt.Errorf("bulk send: %w", &CorruptError{Offset: res.CorruptOffset, Side: "server"})
	}
	if res.Bytes != n {
		return res, fmt.Errorf("bulk send: server received %d of %d bytes: %w", res.Bytes, n, ErrShort)
	}
	return res, nil
}

// BulkReceive asks the bulk service on conn for n bytes of the data for
// seed and checks every byte. Errors as BulkSend.
func BulkReceive(ctx context.Context, conn net.Conn, n int64, seed uint64) (BulkResult, error) {
	res := BulkResult{CorruptOffset: -1}
	if n < 0 {
		return res, fmt.Errorf("bulk receive: length %d is negative", n)
	}
	defer watch(ctx, conn)()
	start := time.Now()
	if err := writePattern(conn, bulkHeader{mode: modeGenerate, length: n, seed: seed}.marshal(), nil, 0); err != nil {
		return res, fmt.Errorf("bulk receive: write header: %w", ctxErr(ctx, err))
	}
	res, err := readStream(conn, n, seed)
	res.Duration = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("bulk receive: %w", ctxErr(ctx, err))
	}
	return res, nil
}

// BulkEcho sends n bytes of the data for seed to the bulk service on conn,
// which returns them, and checks every byte that comes back: both directions
// at once. Errors as BulkSend.
func BulkEcho(ctx context.Context, conn net.Conn, n int64, seed uint64) (BulkResult, error) {
	if n < 0 {
		return BulkResult{CorruptOffset: -1}, fmt.Errorf("bulk echo: length %d is negative", n)
	}
	defer watch(ctx, conn)()
	start := time.Now()
	werr := make(chan error, 1)
	go func() { werr <- writeStream(conn, bulkHeader{mode: modeEcho, length: n, seed: seed}) }()
	res, err := readStream(conn, n, seed)
	res.Duration = time.Since(start)
	if err != nil {
		conn.SetWriteDeadline(aLongTimeAgo) // unblock the writer; conn is spent
	}
	if e := <-werr; err == nil && e != nil {
		err = e
	}
	if err != nil {
		return res, fmt.Errorf("bulk echo: %w", ctxErr(ctx, err))
	}
	return res, nil
}

// writeStream writes h and then its h.length bytes of data.
func writeStream(conn net.Conn, h bulkHeader) error {
	return writePattern(conn, h.marshal(), newPattern(h.seed, h.length), h.length)
}

// readStream reads n bytes and checks them against the data for seed.
func readStream(conn net.Conn, n int64, seed uint64) (BulkResult, error) {
	v := newVerifier(seed, n)
	buf := make([]byte, bulkBufSize)
	for v.off < n {
		k, err := conn.Read(buf[:min(int64(len(buf)), n-v.off)])
		if !v.check(buf[:k]) {
			return BulkResult{Bytes: v.off, CorruptOffset: v.bad}, &CorruptError{Offset: v.bad, Side: "client"}
		}
		if err != nil {
			if err == io.EOF {
				err = fmt.Errorf("received %d of %d bytes: %w", v.off, n, ErrShort)
			}
			return BulkResult{Bytes: v.off, CorruptOffset: -1}, err
		}
	}
	return BulkResult{Bytes: v.off, CorruptOffset: -1}, nil
}
