package tail

import (
	"bufio"
	"io"
)

// RecordReader reads a whole stream record by record — lines, or the
// tokens of a split function — with each record bounded like the tailer's.
// Offline readers (replay) use it so they frame records exactly as the
// daemon does.
type RecordReader struct {
	r       *bufio.Reader
	split   bufio.SplitFunc
	max     int
	lineBuf []byte
	pending []byte
}

// NewRecordReader reads from r; split nil means lines; max caps a record.
func NewRecordReader(r io.Reader, split bufio.SplitFunc, max int) *RecordReader {
	if max <= 0 {
		max = DefaultMaxRecordBytes
	}
	return &RecordReader{r: bufio.NewReaderSize(r, 256<<10), split: split, max: max}
}

// Next returns the next record (valid until the next call). A record over
// the limit comes back with tooLong set and no content; the reader goes on
// after it. io.EOF ends the stream; a trailing record without terminator is
// returned before it.
func (rr *RecordReader) Next() (rec []byte, tooLong bool, err error) {
	for {
		var n int64
		var complete bool
		if rr.split == nil {
			rec, n, complete, tooLong, err = readLine(rr.r, &rr.lineBuf, rr.max)
		} else {
			rec, n, complete, tooLong, err = readSplit(rr.r, &rr.pending, rr.split, rr.max, true)
		}
		if n == 0 && err != nil {
			return nil, false, err
		}
		if n > 0 && (complete || err != nil) {
			if err == io.EOF {
				err = nil
			}
			if len(trimLine(rec)) == 0 && !tooLong && err == nil {
				continue
			}
			return trimLine(rec), tooLong, err
		}
		if err != nil {
			return nil, false, err
		}
	}
}
