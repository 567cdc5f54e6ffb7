package tail

import (
	"bufio"
	"errors"
	"io"
	"os"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// A one-shot source (follow: false) over several files reads them as one
// stream in event-time order, like replay does: per-DC logs of the same
// hours then reach the rules in the order things happened, and a one-shot
// run and a replay of the same files see the same sequence. Each file has
// one decoded event of look-ahead. A checkpoint only ever covers events
// handed on, so a restarted run resumes every file where the committed
// batch left it and merges the rest as the interrupted run would have.

// mergeCursor is one file of a merged read: its reader and next event.
type mergeCursor struct {
	tf      *tailFile
	r       *bufio.Reader
	lineBuf []byte
	pending []byte
	head    schema.Event
	ok      bool     // head holds the file's next event
	end     position // the file's position after head
}

// pollMerged reads every matched file to its end, merging their events by
// timestamp (ties: the path sorted first). It returns false when the source
// is stopping.
func (s *Tailer) pollMerged(paths []string, b *batch) bool {
	var cs []*mergeCursor
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		dev, ino := fileIdentity(fi)
		tf := s.open(p, fi, dev, ino, true, b)
		if tf == nil {
			continue
		}
		s.files[p] = tf
		if _, err := tf.f.Seek(tf.offset, io.SeekStart); err != nil {
			s.log.Warn("cannot seek", "file", tf.path, "error", err)
			continue
		}
		c := &mergeCursor{tf: tf, r: bufio.NewReaderSize(tf.f, 64<<10)}
		s.advance(c)
		cs = append(cs, c)
	}
	for {
		if s.stopping() {
			return false
		}
		var c *mergeCursor
		for _, x := range cs {
			if x.ok && (c == nil || x.head.Timestamp.Before(c.head.Timestamp)) {
				c = x
			}
		}
		if c == nil {
			break
		}
		b.events = append(b.events, c.head)
		c.tf.offset, c.tf.line = c.end.Offset, c.end.Line
		b.pos[CheckpointKey(c.tf.path)] = c.tf.position()
		if len(b.events) >= s.cfg.BatchSize && !s.flush(b) {
			return false
		}
		s.advance(c)
	}
	for _, c := range cs {
		b.pos[CheckpointKey(c.tf.path)] = c.tf.position() // trailing blank or bad records
		s.reportBadLines(c.tf)
	}
	return s.flush(b)
}

// advance reads c's file up to its next event (c.ok false at the end).
// Records before it that give no event (blank, undecodable, skipped) move
// the file's position on; the event's own record does not until it is
// taken.
func (s *Tailer) advance(c *mergeCursor) {
	c.ok = false
	for {
		var line []byte
		var n int64
		var tooLong bool
		var err error
		if s.cfg.Split == nil {
			line, n, _, tooLong, err = readLine(c.r, &c.lineBuf, s.cfg.MaxRecordBytes)
		} else {
			line, n, _, tooLong, err = readSplit(c.r, &c.pending, s.cfg.Split, s.cfg.MaxRecordBytes, true)
		}
		if n == 0 {
			if err != nil && !errors.Is(err, io.EOF) {
				s.log.Warn("cannot read file", "file", c.tf.path, "error", err)
			}
			return
		}
		s.set.Counters.Add(s.cBytes, n)
		tf := c.tf
		ev, ok := s.decodeRecord(tf, tf.line+1, line, tooLong)
		if ok {
			c.head, c.ok = ev, true
			c.end = position{Dev: tf.dev, Ino: tf.ino, Offset: tf.offset + n, Line: tf.line + 1}
			return
		}
		tf.offset += n
		tf.line++
		if err != nil {
			return
		}
	}
}
