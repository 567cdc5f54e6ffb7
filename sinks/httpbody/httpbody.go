package httpbody

import "io"

// Read is io.ReadAll(r) into one buffer of size+1 bytes (the extra byte
// sees EOF without growing) when size is known (> 0) and at most limit,
// else io.ReadAll. A body longer than announced still reads in full. The
// caller limits r itself (io.LimitReader) when the body may be larger.
func Read(r io.Reader, size, limit int64) ([]byte, error) {
	if size <= 0 || size > limit {
		return io.ReadAll(r)
	}
	b := make([]byte, 0, size+1)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}
