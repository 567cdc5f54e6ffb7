package httpbody

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestReadMatchesReadAll checks Read against io.ReadAll whether the
// announced size is right, short, long, unknown or over the limit.
func TestReadMatchesReadAll(t *testing.T) {
	body := strings.Repeat("castellan ", 1000)
	for _, size := range []int64{int64(len(body)), 1, 100, int64(len(body)) * 2, 0, -1, 1 << 40} {
		for _, half := range []bool{false, true} {
			var r io.Reader = strings.NewReader(body)
			if half {
				r = iotest.HalfReader(r)
			}
			got, err := Read(r, size, 1<<20)
			if err != nil || string(got) != body {
				t.Errorf("size %d half %v: got %d bytes, %v; want %d", size, half, len(got), err, len(body))
			}
		}
	}
}

// TestReadOneBuffer checks that an exact announced size reads into one
// buffer of size+1.
func TestReadOneBuffer(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 4096)
	got, err := Read(bytes.NewReader(body), int64(len(body)), 1<<20)
	if err != nil || !bytes.Equal(got, body) || cap(got) != len(body)+1 {
		t.Errorf("got len %d cap %d err %v; want len %d cap %d", len(got), cap(got), err, len(body), len(body)+1)
	}
}

// TestReadError checks that a read error comes back with what was read.
func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	got, err := Read(io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(boom)), 10, 100)
	if !errors.Is(err, boom) || string(got) != "abc" {
		t.Errorf("got %q, %v; want \"abc\", boom", got, err)
	}
}
