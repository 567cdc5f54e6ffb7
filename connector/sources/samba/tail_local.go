package samba

// This file is a private stand-in for connector/sources/tail, which is being
// extracted from winjson. It has that package's API in lower case (Config →
// tailConfig, DecodeFunc → decodeFunc, ErrSkip → errSkip, New → newTailer)
// and goes away when the shared package lands. Only newline-separated
// records are supported (no Split).

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"time"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/telemetry"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

type tailConfig struct {
	Paths          []string
	StartAt        string
	PollInterval   time.Duration
	BatchSize      int
	Follow         bool
	MaxRecordBytes int
}

// decodeFunc turns one record into an event; errSkip marks a record that is
// not an event.
type decodeFunc func(record []byte) (schema.Event, error)

var errSkip = errors.New("skip")

// maxRetryWait caps the wait between retries of a refused batch.
const maxRetryWait = 30 * time.Second

// maxGone bounds the memory of drained files.
const maxGone = 1024

// fileKey is a file's device and inode.
type fileKey struct{ dev, ino uint64 }

// filePos is a file's checkpoint: identity and the position of the next
// unread record.
type filePos struct {
	Dev    uint64 `json:"dev"`
	Ino    uint64 `json:"ino"`
	Offset int64  `json:"offset"`
	Line   int64  `json:"line"`
}

func (p filePos) key() fileKey { return fileKey{p.Dev, p.Ino} }

type tailFile struct {
	path string // absolute
	f    *os.File
	pos  filePos
	// bad, badLine and badErr collect decode errors during one read.
	bad     int
	badLine int64
	badErr  error
}

// pending is a batch being filled.
type pending struct {
	events []schema.Event
	pos    map[string]filePos // by checkpoint key
}

type tailer struct {
	cfg    tailConfig
	decode decodeFunc
	set    component.SourceSettings
	log    *slog.Logger

	cEvents, cErrors, cSkipped, cBytes string

	mu       sync.Mutex
	started  bool
	stopOnce sync.Once
	stop     chan struct{}
	sendCtx  context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	done     chan struct{}
	doneOnce sync.Once

	// Owned by the run goroutine.
	files map[string]*tailFile
	gone  map[fileKey]filePos // files drained and dropped, by identity
	br    *bufio.Reader
	buf   []byte
}

func newTailer(cfg tailConfig, decode decodeFunc, set component.SourceSettings) (*tailer, error) {
	if decode == nil || set.Next == nil || cfg.BatchSize <= 0 || cfg.PollInterval <= 0 || cfg.MaxRecordBytes <= 0 {
		return nil, errors.New("tail: incomplete configuration")
	}
	if set.Logger == nil {
		set.Logger = slog.New(slog.DiscardHandler)
	}
	return &tailer{
		cfg:      cfg,
		decode:   decode,
		set:      set,
		log:      set.Logger.With("source", set.ID),
		cEvents:  telemetry.Key("source_events", "source", set.ID),
		cErrors:  telemetry.Key("source_decode_errors", "source", set.ID),
		cSkipped: telemetry.Key("source_skipped", "source", set.ID),
		cBytes:   telemetry.Key("source_bytes", "source", set.ID),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		files:    map[string]*tailFile{},
		gone:     map[fileKey]filePos{},
	}, nil
}

func (t *tailer) Start(context.Context, component.Host) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.started {
		return errors.New("already started")
	}
	select {
	case <-t.stop:
		return errors.New("start after shutdown")
	default:
	}
	t.started = true
	t.sendCtx, t.cancel = context.WithCancel(context.Background())
	t.wg.Add(1)
	go t.run()
	return nil
}

func (t *tailer) Shutdown(ctx context.Context) error {
	t.mu.Lock()
	started := t.started
	t.stopOnce.Do(func() { close(t.stop) })
	t.mu.Unlock()
	if !started {
		t.finish()
		return nil
	}
	waited := make(chan struct{})
	go func() { t.wg.Wait(); close(waited) }()
	var err error
	select {
	case <-waited:
	case <-ctx.Done():
		err = fmt.Errorf("shutdown: %w", ctx.Err())
	}
	t.cancel() // aborts an in-flight hand-off
	t.finish()
	return err
}

func (t *tailer) Done() <-chan struct{} { return t.done }

func (t *tailer) finish() { t.doneOnce.Do(func() { close(t.done) }) }

func (t *tailer) stopping() bool {
	select {
	case <-t.stop:
		return true
	default:
		return false
	}
}

func (t *tailer) run() {
	defer t.wg.Done()
	defer func() {
		for p, tf := range t.files {
			tf.f.Close()
			delete(t.files, p)
		}
	}()
	t.br = bufio.NewReaderSize(nil, 64<<10)
	tick := time.NewTicker(t.cfg.PollInterval)
	defer tick.Stop()
	for first := true; ; first = false {
		ok := t.poll(first)
		if !t.cfg.Follow {
			if ok {
				t.finish()
			}
			return
		}
		if !ok {
			return
		}
		select {
		case <-t.stop:
			return
		case <-tick.C:
		}
	}
}

// poll re-globs, reads what is new and hands it off; false when stopping.
func (t *tailer) poll(first bool) bool {
	paths, matched := t.glob()
	p := &pending{events: make([]schema.Event, 0, min(t.cfg.BatchSize, 1024)), pos: map[string]filePos{}}
	for _, path := range paths {
		if t.stopping() || !t.pollPath(path, first, p) {
			return false
		}
	}
	for path, tf := range t.files {
		if !matched[path] { // deleted or renamed away: finish it
			if !t.read(tf, true, p) {
				return false
			}
			t.drop(path, tf)
		}
	}
	return t.flush(p)
}

func (t *tailer) glob() ([]string, map[string]bool) {
	set := map[string]bool{}
	for _, pat := range t.cfg.Paths {
		ms, _ := filepath.Glob(pat) // patterns are validated by the config
		for _, m := range ms {
			if abs, err := filepath.Abs(m); err == nil {
				set[abs] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, set
}

func (t *tailer) pollPath(path string, first bool, p *pending) bool {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return true
	}
	key := identity(fi)
	tf := t.files[path]
	if tf != nil && tf.pos.key() != key {
		// Rotated: finish the old file, then read the new one from 0.
		if !t.read(tf, true, p) {
			return false
		}
		t.drop(path, tf)
		tf, first = nil, false
	}
	if tf == nil {
		if tf = t.open(path, fi, key, first, p); tf == nil {
			return true
		}
		t.files[path] = tf
	} else if fi.Size() < tf.pos.Offset {
		t.log.Info("file truncated, reading from the start", "file", path)
		tf.pos.Offset, tf.pos.Line = 0, 0
	}
	return t.read(tf, false, p)
}

// open starts following a file: where it was under another name, at its
// checkpoint, or per StartAt.
func (t *tailer) open(path string, fi os.FileInfo, key fileKey, first bool, p *pending) *tailFile {
	f, err := os.Open(path)
	if err != nil {
		t.log.Warn("cannot open file", "file", path, "error", err)
		return nil
	}
	tf := &tailFile{path: path, f: f, pos: filePos{Dev: key.dev, Ino: key.ino}}
	if key != (fileKey{}) {
		for other, o := range t.files {
			if other != path && o.pos.key() == key { // renamed to a matched name
				tf.pos = o.pos
				o.f.Close()
				delete(t.files, other)
				return tf
			}
		}
		if pos, ok := t.gone[key]; ok && fi.Size() >= pos.Offset {
			delete(t.gone, key)
			tf.pos = pos
			return tf
		}
	}
	if cp := t.checkpoint(path); cp != nil {
		switch {
		case cp.key() != key:
			t.log.Info("file replaced since checkpoint, reading from the start", "file", path)
		case fi.Size() < cp.Offset:
			t.log.Info("file truncated since checkpoint, reading from the start", "file", path)
		default:
			tf.pos = *cp
		}
		return tf
	}
	if first && t.cfg.StartAt == StartEnd {
		tf.pos.Offset = fi.Size()
		p.pos[CheckpointKey(path)] = tf.pos
	}
	return tf
}

// drop closes a drained file and remembers where it ended, so the same file
// showing up under another matched name is not read twice.
func (t *tailer) drop(path string, tf *tailFile) {
	tf.f.Close()
	delete(t.files, path)
	if tf.pos.key() == (fileKey{}) {
		return
	}
	if len(t.gone) >= maxGone {
		clear(t.gone)
	}
	t.gone[tf.pos.key()] = tf.pos
}

func (t *tailer) checkpoint(path string) *filePos {
	if t.set.Checkpoints == nil {
		return nil
	}
	v, err := t.set.Checkpoints.Checkpoint(CheckpointKey(path))
	if err != nil || v == nil {
		if err != nil {
			t.log.Warn("cannot read checkpoint, reading from the start", "file", path, "error", err)
		}
		return nil
	}
	var pos filePos
	if err := json.Unmarshal(v, &pos); err != nil || pos.Offset < 0 || pos.Line < 0 {
		t.log.Warn("bad checkpoint, reading from the start", "file", path, "error", err)
		return nil
	}
	return &pos
}

// read decodes complete records from the file's position to EOF, handing
// off full batches on the way. final also takes a last record without a
// newline (the file is done). False when stopping.
func (t *tailer) read(tf *tailFile, final bool, p *pending) bool {
	final = final || !t.cfg.Follow
	if _, err := tf.f.Seek(tf.pos.Offset, io.SeekStart); err != nil {
		t.log.Warn("cannot seek", "file", tf.path, "error", err)
		return true
	}
	t.br.Reset(tf.f)
	defer t.reportBad(tf)
	key := CheckpointKey(tf.path)
	for {
		rec, n, complete, tooLong, err := t.readRecord()
		if n == 0 || (!complete && !final) {
			break // nothing more, or a record still being written
		}
		tf.pos.Offset += n
		tf.pos.Line++
		t.set.Counters.Add(t.cBytes, n)
		t.decodeRecord(tf, rec, tooLong, p)
		p.pos[key] = tf.pos
		if len(p.events) >= t.cfg.BatchSize && !t.flush(p) {
			return false
		}
		if err != nil || t.stopping() {
			break
		}
	}
	return !t.stopping()
}

func (t *tailer) decodeRecord(tf *tailFile, rec []byte, tooLong bool, p *pending) {
	var err error
	if tooLong {
		err = fmt.Errorf("record longer than %d bytes", t.cfg.MaxRecordBytes)
	} else {
		for len(rec) > 0 && (rec[len(rec)-1] == '\n' || rec[len(rec)-1] == '\r') {
			rec = rec[:len(rec)-1]
		}
		if len(rec) == 0 {
			return
		}
		var ev schema.Event
		if ev, err = t.decode(rec); err == nil {
			p.events = append(p.events, ev)
			return
		}
		if errors.Is(err, errSkip) {
			t.set.Counters.Add(t.cSkipped, 1)
			return
		}
	}
	t.set.Counters.Add(t.cErrors, 1)
	if tf.bad == 0 {
		tf.badLine, tf.badErr = tf.pos.Line, err
	}
	tf.bad++
}

// reportBad logs one warning per file per read, naming the first bad line.
func (t *tailer) reportBad(tf *tailFile) {
	if tf.bad == 0 {
		return
	}
	t.log.Warn("undecodable records skipped", "file", tf.path, "line", tf.badLine, "count", tf.bad, "error", tf.badErr)
	tf.bad, tf.badErr = 0, nil
}

// readRecord reads one line. n counts the bytes consumed; complete is false
// at EOF without a newline; the content of a line over MaxRecordBytes is
// dropped (tooLong). The record is valid until the next call.
func (t *tailer) readRecord() (rec []byte, n int64, complete, tooLong bool, err error) {
	acc := t.buf[:0]
	for {
		frag, e := t.br.ReadSlice('\n')
		n += int64(len(frag))
		if e == nil && len(acc) == 0 && !tooLong {
			return frag, n, true, false, nil // the common case: no copy
		}
		if !tooLong {
			if len(acc)+len(frag) > t.cfg.MaxRecordBytes+2 {
				tooLong, acc = true, acc[:0]
			} else {
				acc = append(acc, frag...)
			}
		}
		if e == bufio.ErrBufferFull {
			continue
		}
		t.buf = acc
		return acc, n, e == nil, tooLong, e
	}
}

// flush hands the batch off (a batch of positions only still commits them);
// false when the source stops before it is accepted.
func (t *tailer) flush(p *pending) bool {
	if len(p.events) == 0 && len(p.pos) == 0 {
		return true
	}
	keys := make([]string, 0, len(p.pos))
	for k := range p.pos {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	cps := make([]component.Checkpoint, 0, len(keys))
	for _, k := range keys {
		v, _ := json.Marshal(p.pos[k])
		cps = append(cps, component.Checkpoint{Key: k, Value: v})
	}
	if !t.send(component.Batch{Events: p.events, Checkpoints: cps}) {
		return false
	}
	p.events = p.events[:0]
	clear(p.pos)
	return true
}

// send retries a refused batch with backoff until it is accepted or the
// source stops.
func (t *tailer) send(b component.Batch) bool {
	wait := min(t.cfg.PollInterval, time.Second)
	for attempt := 1; ; attempt++ {
		err := t.set.Next.ConsumeBatch(t.sendCtx, b)
		if err == nil {
			t.set.Counters.Add(t.cEvents, int64(len(b.Events)))
			return true
		}
		if t.stopping() {
			t.log.Warn("batch not accepted at shutdown; it will be read again after restart",
				"events", len(b.Events), "error", err)
			return false
		}
		t.log.Warn("batch refused, retrying", "events", len(b.Events), "attempt", attempt, "retry_in", wait, "error", err)
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-t.stop:
			timer.Stop()
		}
		wait = min(wait*2, maxRetryWait)
	}
}

// identity returns a file's device and inode where the platform's stat
// structure has them (read by name, so this file builds everywhere);
// elsewhere rotation is detected by size only.
func identity(fi os.FileInfo) fileKey {
	v := reflect.ValueOf(fi.Sys())
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return fileKey{}
	}
	s := v.Elem()
	return fileKey{dev: uintField(s, "Dev"), ino: uintField(s, "Ino")}
}

func uintField(s reflect.Value, name string) uint64 {
	f := s.FieldByName(name)
	switch {
	case !f.IsValid():
		return 0
	case f.CanUint():
		return f.Uint()
	case f.CanInt():
		return uint64(f.Int())
	}
	return 0
}
