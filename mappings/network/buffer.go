package network

import "errors"

// ErrFraming is returned by a FrameFunc when the stream cannot be framed.
var ErrFraming = errors.New("network: bad framing")

// FrameFunc reports the length of the first message in b: n > 0 when known
// (it may exceed len(b)), 0 when more bytes are needed to tell, or an error
// when b cannot start a message.
type FrameFunc func(b []byte) (n int, err error)

// Buffer frames one direction of a stream into messages while holding at
// most Max bytes of an incomplete message (and never more than the Env's
// budget across all buffers). Bytes beyond a cap are dropped and counted;
// a framing error stops the direction until the next Gap.
type Buffer struct {
	conv   *Conv
	max    int
	buf    []byte
	broken bool
	skip   int // bytes of an oversized message still to discard
}

// NewBuffer returns a Buffer of c holding at most max bytes.
func (c *Conv) NewBuffer(max int) *Buffer { return &Buffer{conv: c, max: max} }

// Broken reports whether the direction has given up until the next Gap.
func (b *Buffer) Broken() bool { return b.broken }

// Break gives up on the direction until the next Gap (e.g. after TLS starts).
func (b *Buffer) Break() { b.broken = true; b.release() }

// Feed appends p and calls msg for every complete message, in order. The
// slice passed to msg is only valid during the call.
func (b *Buffer) Feed(p []byte, frame FrameFunc, msg func([]byte)) {
	if b.broken {
		return
	}
	if b.skip > 0 {
		n := min(b.skip, len(p))
		b.skip -= n
		p = p[n:]
	}
	if len(p) == 0 {
		return
	}
	data := p
	need := 0
	if len(b.buf) > 0 {
		if !b.grow(len(b.buf) + len(p)) {
			return
		}
		b.buf = append(b.buf, p...)
		b.conv.Env.buffered += int64(len(p))
		data = b.buf
	}
	for len(data) > 0 {
		n, err := frame(data)
		if err != nil {
			b.conv.Malformed()
			b.conv.Env.Counters.DroppedBytes += int64(len(data))
			b.Break()
			return
		}
		if n > b.max {
			// Too large to hold: discard this message.
			b.conv.Env.Counters.DroppedBytes += int64(n)
			if n <= len(data) {
				data = data[n:]
				continue
			}
			b.skip = n - len(data)
			b.release()
			return
		}
		if n == 0 || n > len(data) {
			need = n
			break
		}
		msg(data[:n])
		if b.broken {
			return // msg gave up on the direction (Break released the buffer)
		}
		data = data[n:]
	}
	b.keep(data, need)
}

// keep stores the unframed rest (which may alias b.buf); need is the
// length of the incomplete message when the framing knows it, so the
// buffer is sized once instead of growing segment by segment.
func (b *Buffer) keep(rest []byte, need int) {
	if len(rest) == 0 {
		b.release()
		return
	}
	if !b.grow(len(rest)) {
		return
	}
	if len(b.buf) > 0 && &rest[0] == &b.buf[len(b.buf)-len(rest)] {
		n := copy(b.buf, rest)
		b.setLen(n)
		return
	}
	b.setLen(0)
	if b.buf == nil {
		b.buf = b.conv.Env.takeSpare(max(need, len(rest)))
	}
	b.buf = append(b.buf, rest...)
	b.conv.Env.buffered += int64(len(rest))
}

// grow checks that n buffered bytes fit the caps; if not, it drops the
// buffer and reports false.
func (b *Buffer) grow(n int) bool {
	env := b.conv.Env
	extra := int64(n - len(b.buf))
	if n > b.max || (env.Budget > 0 && env.buffered+extra > env.Budget) {
		env.Counters.DroppedBytes += int64(n)
		b.release()
		b.broken = true
		return false
	}
	return true
}

// setLen re-slices the buffer and keeps the Env's account in step.
func (b *Buffer) setLen(n int) {
	b.conv.Env.buffered += int64(n - len(b.buf))
	b.buf = b.buf[:n]
}

func (b *Buffer) release() {
	b.conv.Env.buffered -= int64(len(b.buf))
	b.conv.Env.putSpare(b.buf)
	b.buf = nil
}

// Spare buffers: at most maxSpare arrays of at most maxSpareCap bytes are
// kept for reuse, so what the Env holds beyond its budget stays bounded
// (4 MiB) whatever the number of conversations.
const (
	maxSpare    = 16
	maxSpareCap = 256 << 10
	minSpareCap = 4 << 10
)

// takeSpare returns an empty slice with room for n bytes: a spare array
// when one is large enough, else a new one.
func (e *Env) takeSpare(n int) []byte {
	for i := len(e.spare) - 1; i >= 0; i-- {
		if s := e.spare[i]; cap(s) >= n {
			e.spare[i] = e.spare[len(e.spare)-1]
			e.spare = e.spare[:len(e.spare)-1]
			return s[:0]
		}
	}
	return make([]byte, 0, max(n, minSpareCap))
}

// putSpare keeps a released array for reuse when there is room.
func (e *Env) putSpare(b []byte) {
	if c := cap(b); c >= minSpareCap && c <= maxSpareCap && len(e.spare) < maxSpare {
		e.spare = append(e.spare, b[:0])
	}
}

// Gap drops what is buffered and resumes framing at the next bytes.
func (b *Buffer) Gap() {
	b.release()
	b.broken = false
	b.skip = 0
}
