package tail

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/telemetry"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// maxBackoff caps the wait between retries of a refused batch.
const maxBackoff = 30 * time.Second

// Tailer tails record files and, when configured, listens on TCP. It
// implements component.Component. Start and Shutdown may be called from any
// goroutine.
type Tailer struct {
	cfg    *Config
	set    component.SourceSettings
	log    *slog.Logger
	name   string // log prefix: the source type
	decode DecodeFunc

	cEvents, cErrors, cBytes, cSkipped string // counter names

	mu       sync.Mutex
	started  bool
	stopOnce sync.Once
	stop     chan struct{} // closed by Shutdown: stop reading
	sendCtx  context.Context
	cancel   context.CancelFunc // aborts in-flight ConsumeBatch
	wg       sync.WaitGroup
	done     chan struct{}
	doneOnce sync.Once

	ln  net.Listener // nil without Listen
	lst *listener

	// Owned by the file loop goroutine.
	files   map[string]*tailFile  // by absolute path
	retired map[identity]position // files drained and dropped, by identity
	reader  *bufio.Reader
	lineBuf []byte
	pending []byte // split-func reader: bytes read but not yet consumed
}

// tailFile is one followed file.
type tailFile struct {
	path     string // absolute
	f        *os.File
	dev, ino uint64
	// offset and line are the position of the next unread line.
	offset int64
	line   int64
	// badLines / firstBad / firstErr collect decode errors during one poll.
	badLines int
	firstBad int64
	firstErr error
}

// identity is a file's device and inode.
type identity struct{ dev, ino uint64 }

// maxRetired bounds the memory of dropped files.
const maxRetired = 1024

// retire closes a drained file and remembers where it ended, so a rotated
// file that shows up again under a matched name is not read twice.
func (s *Tailer) retire(path string, tf *tailFile) {
	tf.f.Close()
	delete(s.files, path)
	if tf.dev == 0 && tf.ino == 0 {
		return
	}
	if len(s.retired) >= maxRetired {
		clear(s.retired)
	}
	s.retired[identity{tf.dev, tf.ino}] = tf.position()
}

// position is the checkpoint value of a file.
type position struct {
	Dev    uint64 `json:"dev"`
	Ino    uint64 `json:"ino"`
	Offset int64  `json:"offset"`
	Line   int64  `json:"line"`
}

func newTailer(cfg *Config, name string, decode DecodeFunc, set component.SourceSettings) *Tailer {
	return &Tailer{
		cfg:      cfg,
		set:      set,
		log:      set.Logger.With("source", set.ID),
		name:     name,
		decode:   decode,
		cEvents:  telemetry.Key("source_events", "source", set.ID),
		cErrors:  telemetry.Key("source_decode_errors", "source", set.ID),
		cBytes:   telemetry.Key("source_bytes", "source", set.ID),
		cSkipped: telemetry.Key("source_skipped_records", "source", set.ID),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		files:    map[string]*tailFile{},
		retired:  map[identity]position{},
	}
}

// CheckpointKey is the checkpoint key of a file: "file:" + absolute path.
func CheckpointKey(absPath string) string { return "file:" + absPath }

// Start begins tailing and listening in the background and returns at once.
// A listen address that cannot be bound is an error.
func (s *Tailer) Start(_ context.Context, _ component.Host) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return fmt.Errorf("%s: already started", s.name)
	}
	select {
	case <-s.stop:
		return fmt.Errorf("%s: start after shutdown", s.name)
	default:
	}
	if s.cfg.Listen != "" {
		ln, err := net.Listen("tcp", s.cfg.Listen)
		if err != nil {
			return fmt.Errorf("%s: listen: %w", s.name, err)
		}
		s.ln = ln
	}
	s.started = true
	s.sendCtx, s.cancel = context.WithCancel(context.Background())
	if s.ln != nil {
		s.lst = newListener(s, s.ln)
		s.lst.start()
	}
	if len(s.cfg.Paths) > 0 {
		s.wg.Add(1)
		go s.fileLoop()
	} else {
		s.finish()
	}
	return nil
}

// ListenAddr returns the bound TCP address, or nil without a listener or
// before Start.
func (s *Tailer) ListenAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Done is closed when the source has finished: a non-follow source once it
// has read every file to EOF and handed everything off; any source after
// Shutdown.
func (s *Tailer) Done() <-chan struct{} { return s.done }

func (s *Tailer) finish() { s.doneOnce.Do(func() { close(s.done) }) }

// Shutdown stops reading, waits for the in-flight batch hand-off (aborting
// it when ctx ends) and flushes the events the listener has buffered.
// Safe without Start and safe twice.
func (s *Tailer) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	started := s.started
	s.stopOnce.Do(func() { close(s.stop) })
	s.mu.Unlock()
	if !started {
		s.finish()
		return nil
	}
	if s.lst != nil {
		s.lst.close()
	}
	waited := make(chan struct{})
	go func() { s.wg.Wait(); close(waited) }()
	var err error
	select {
	case <-waited:
	case <-ctx.Done():
		// Abort the in-flight hand-off; the goroutines exit on their own.
		err = fmt.Errorf("%s: shutdown: %w", s.name, ctx.Err())
	}
	s.cancel()
	s.finish()
	return err
}

func (s *Tailer) stopping() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

// send hands one batch to the pipeline, retrying a refused batch with
// backoff until it is accepted or the source stops. It reports whether the
// batch was accepted.
func (s *Tailer) send(b component.Batch) bool {
	return component.Handoff{Next: s.set.Next, Stop: s.stop, Backoff: min(s.cfg.PollInterval, time.Second),
		MaxBackoff: maxBackoff, Logger: s.log, Counters: s.set.Counters, EventsCounter: s.cEvents}.Send(s.sendCtx, b)
}

// fileLoop polls the configured files until Shutdown (or EOF without Follow).
func (s *Tailer) fileLoop() {
	defer s.wg.Done()
	defer s.closeFiles()
	s.reader = bufio.NewReaderSize(nil, 64<<10)
	first := true
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	for {
		ok := s.poll(first)
		first = false
		if !s.cfg.Follow {
			if ok {
				s.finish()
			}
			return
		}
		if !ok {
			return
		}
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
	}
}

// batch accumulates events and the positions they reach.
type batch struct {
	events []schema.Event
	pos    map[string]position // by checkpoint key
}

// flush sends the batch; false when the source stops before it is accepted.
// A batch with positions but no events (only blank or bad lines) still
// commits the positions.
func (s *Tailer) flush(b *batch) bool {
	if len(b.events) == 0 && len(b.pos) == 0 {
		return true
	}
	keys := make([]string, 0, len(b.pos))
	for k := range b.pos {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	cps := make([]component.Checkpoint, 0, len(keys))
	for _, k := range keys {
		v, _ := json.Marshal(b.pos[k])
		cps = append(cps, component.Checkpoint{Key: k, Value: v})
	}
	if !s.send(component.Batch{Events: b.events, Checkpoints: cps}) {
		return false
	}
	b.events = b.events[:0]
	clear(b.pos)
	return true
}

// poll re-globs, reconciles the tracked files and reads new lines. It returns
// false when the source is stopping.
func (s *Tailer) poll(first bool) bool {
	paths, matched := s.glob()
	b := &batch{events: make([]schema.Event, 0, min(s.cfg.BatchSize, 1024)), pos: map[string]position{}}
	if !s.cfg.Follow && len(paths) > 1 {
		return s.pollMerged(paths, b) // one pass over several files: in event-time order
	}
	for _, p := range paths {
		if s.stopping() {
			return false
		}
		if !s.pollPath(p, first, b) {
			return false
		}
	}
	// Files no longer matched (deleted or renamed away): drain and drop.
	for p, tf := range s.files {
		if matched[p] {
			continue
		}
		if !s.readFile(tf, true, b) {
			return false
		}
		s.retire(p, tf)
	}
	return s.flush(b)
}

// glob returns the absolute paths matching the patterns, sorted and as a set.
func (s *Tailer) glob() ([]string, map[string]bool) {
	out := map[string]bool{}
	for _, pat := range s.cfg.Paths {
		matches, err := filepath.Glob(pat)
		if err != nil {
			continue // validated in Config.Validate
		}
		for _, m := range matches {
			abs, err := filepath.Abs(m)
			if err != nil {
				continue
			}
			out[abs] = true
		}
	}
	sorted := make([]string, 0, len(out))
	for p := range out {
		sorted = append(sorted, p)
	}
	sort.Strings(sorted)
	return sorted, out
}

// pollPath handles one matched path: open it if new, detect rotation and
// truncation, read new lines.
func (s *Tailer) pollPath(path string, first bool, b *batch) bool {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return true
	}
	dev, ino := fileIdentity(fi)
	tf := s.files[path]
	if tf != nil && (tf.dev != dev || tf.ino != ino) {
		// Rotated: finish the old file, then follow the new one from 0.
		if !s.readFile(tf, true, b) {
			return false
		}
		s.retire(path, tf)
		tf = nil
		first = false
	}
	if tf == nil {
		tf = s.open(path, fi, dev, ino, first, b)
		if tf == nil {
			return true
		}
		s.files[path] = tf
	} else if fi.Size() < tf.offset {
		s.log.Info("file truncated, reading from the start", "file", path)
		tf.offset, tf.line = 0, 0
	}
	return s.readFile(tf, false, b)
}

// open starts following a file at its checkpoint, or per StartAt.
func (s *Tailer) open(path string, fi os.FileInfo, dev, ino uint64, first bool, b *batch) *tailFile {
	f, err := os.Open(path)
	if err != nil {
		s.log.Warn("cannot open file", "file", path, "error", err)
		return nil
	}
	tf := &tailFile{path: path, f: f, dev: dev, ino: ino}
	// A file renamed from a path we follow keeps its position.
	if dev != 0 || ino != 0 {
		for p, old := range s.files {
			if old.dev == dev && old.ino == ino && p != path {
				tf.offset, tf.line = old.offset, old.line
				old.f.Close()
				delete(s.files, p)
				return tf
			}
		}
		if pos, ok := s.retired[identity{dev, ino}]; ok && fi.Size() >= pos.Offset {
			delete(s.retired, identity{dev, ino})
			tf.offset, tf.line = pos.Offset, pos.Line
			return tf
		}
	}
	if cp := s.checkpoint(path); cp != nil {
		switch {
		case cp.Dev != dev || cp.Ino != ino:
			s.log.Info("file replaced since checkpoint, reading from the start", "file", path)
		case fi.Size() < cp.Offset:
			s.log.Info("file truncated since checkpoint, reading from the start", "file", path)
		default:
			tf.offset, tf.line = cp.Offset, cp.Line
		}
		return tf
	}
	if first && s.cfg.StartAt == StartEnd {
		tf.offset = fi.Size()
		b.pos[CheckpointKey(path)] = tf.position()
	}
	return tf
}

func (tf *tailFile) position() position {
	return position{Dev: tf.dev, Ino: tf.ino, Offset: tf.offset, Line: tf.line}
}

// checkpoint reads the committed position of a file; nil when none.
func (s *Tailer) checkpoint(path string) *position {
	if s.set.Checkpoints == nil {
		return nil
	}
	v, err := s.set.Checkpoints.Checkpoint(CheckpointKey(path))
	if err != nil {
		s.log.Warn("cannot read checkpoint, reading from the start", "file", path, "error", err)
		return nil
	}
	if v == nil {
		return nil
	}
	var p position
	if err := json.Unmarshal(v, &p); err != nil || p.Offset < 0 {
		s.log.Warn("bad checkpoint, reading from the start", "file", path, "error", err)
		return nil
	}
	return &p
}

// readFile reads complete lines from the file's position to EOF, flushing
// full batches on the way. final consumes a trailing line without newline
// (the file is done: rotated away or not followed). It returns false when
// the source is stopping.
func (s *Tailer) readFile(tf *tailFile, final bool, b *batch) bool {
	final = final || !s.cfg.Follow
	if _, err := tf.f.Seek(tf.offset, io.SeekStart); err != nil {
		s.log.Warn("cannot seek", "file", tf.path, "error", err)
		return true
	}
	s.reader.Reset(tf.f)
	s.pending = nil
	key := CheckpointKey(tf.path)
	defer s.reportBadLines(tf)
	for {
		line, n, complete, tooLong, err := s.readLine(final)
		if n == 0 {
			break
		}
		if !complete && !final {
			break // a partial line: wait for the writer to finish it
		}
		tf.offset += n
		tf.line++
		s.set.Counters.Add(s.cBytes, n)
		s.decodeLine(tf, line, tooLong, b)
		b.pos[key] = tf.position()
		if len(b.events) >= s.cfg.BatchSize {
			if !s.flush(b) {
				return false
			}
			// Still at the same place in the file: flush does not read.
		}
		if err != nil || s.stopping() {
			break
		}
	}
	return !s.stopping()
}

func (s *Tailer) decodeLine(tf *tailFile, line []byte, tooLong bool, b *batch) {
	if ev, ok := s.decodeRecord(tf, tf.line, line, tooLong); ok {
		b.events = append(b.events, ev)
	}
}

// decodeRecord decodes record n of tf; false when it gives no event (blank,
// skipped, or bad: counted and kept for the file's report).
func (s *Tailer) decodeRecord(tf *tailFile, n int64, line []byte, tooLong bool) (schema.Event, bool) {
	var err error
	if tooLong {
		err = fmt.Errorf("%w: record longer than %d bytes", ErrTooLong, s.cfg.MaxRecordBytes)
	} else {
		line = trimLine(line)
		if len(line) == 0 {
			return schema.Event{}, false
		}
		var ev schema.Event
		ev, err = s.decode(line)
		switch {
		case err == nil:
			return ev, true
		case errors.Is(err, ErrSkip):
			s.set.Counters.Add(s.cSkipped, 1)
			return schema.Event{}, false
		}
	}
	s.set.Counters.Add(s.cErrors, 1)
	if tf.badLines == 0 {
		tf.firstBad, tf.firstErr = n, err
	}
	tf.badLines++
	return schema.Event{}, false
}

// reportBadLines logs one warning per file per poll.
func (s *Tailer) reportBadLines(tf *tailFile) {
	if tf.badLines == 0 {
		return
	}
	// Line numbers for line records; record ordinals for split records.
	s.log.Warn("undecodable lines skipped", "file", tf.path, "line", tf.firstBad,
		"count", tf.badLines, "error", tf.firstErr)
	tf.badLines, tf.firstErr = 0, nil
}

// trimLine drops the line ending and surrounding space.
func trimLine(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// readLine reads one record from s.reader: a line, or with Config.Split a
// token of the split function. n is the bytes consumed; complete is false at
// EOF without a record end; tooLong reports a record over MaxRecordBytes,
// whose content is dropped.
func (s *Tailer) readLine(final bool) (line []byte, n int64, complete, tooLong bool, err error) {
	if s.cfg.Split == nil {
		return readLine(s.reader, &s.lineBuf, s.cfg.MaxRecordBytes)
	}
	return readSplit(s.reader, &s.pending, s.cfg.Split, s.cfg.MaxRecordBytes, final)
}

// readLine reads one line. It is shared by the file reader and the TCP
// listener. The returned line is valid until the next call.
func readLine(r *bufio.Reader, buf *[]byte, maxBytes int) (line []byte, n int64, complete, tooLong bool, err error) {
	acc := (*buf)[:0]
	multi := false
	for {
		frag, e := r.ReadSlice('\n')
		n += int64(len(frag))
		if !multi && e == nil {
			return frag, n, true, false, nil // the common case: no copy
		}
		if !tooLong {
			if len(acc)+len(frag) > maxBytes+2 {
				tooLong, acc = true, acc[:0]
			} else {
				acc = append(acc, frag...)
			}
		}
		multi = true
		if e == bufio.ErrBufferFull {
			continue
		}
		*buf = acc
		if e == nil {
			return acc, n, true, tooLong, nil
		}
		return acc, n, false, tooLong, e
	}
}

// readSplit reads one token of split from r. pending carries bytes read
// past the token to the next call. At EOF a trailing token is returned as
// incomplete unless final, when split is asked with atEOF.
func readSplit(r *bufio.Reader, pending *[]byte, split bufio.SplitFunc, maxBytes int, final bool) (tok []byte, n int64, complete, tooLong bool, err error) {
	buf := *pending
	for {
		if len(buf) > 0 {
			adv, t, serr := split(buf, false)
			if serr != nil {
				*pending = nil
				return nil, int64(len(buf)), true, false, serr
			}
			if adv > 0 {
				*pending = append(buf[:0:0], buf[adv:]...)
				if len(t) > maxBytes {
					return nil, int64(adv), true, true, nil
				}
				return append([]byte(nil), t...), int64(adv), true, false, nil
			}
			if len(buf) > maxBytes+2 {
				// No token end within the limit: drop what we have.
				*pending = nil
				return nil, int64(len(buf)), true, true, nil
			}
		}
		chunk := make([]byte, 32<<10)
		m, rerr := r.Read(chunk)
		buf = append(buf, chunk[:m]...)
		if rerr != nil {
			*pending = buf
			if len(buf) == 0 {
				return nil, 0, false, false, rerr
			}
			if !final {
				*pending = nil
				return nil, int64(len(buf)), false, false, rerr
			}
			adv, t, serr := split(buf, true)
			*pending = nil
			if serr != nil || adv == 0 {
				return nil, int64(len(buf)), true, false, errors.Join(serr, rerr)
			}
			return append([]byte(nil), t...), int64(adv), true, false, nil
		}
	}
}

func (s *Tailer) closeFiles() {
	for p, tf := range s.files {
		tf.f.Close()
		delete(s.files, p)
	}
}
