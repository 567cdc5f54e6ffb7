package evtx

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/telemetry"
	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/mappings/windows"
	winevtx "github.com/castellan-itdr/castellan/mappings/windows/evtx"
)

// dataset is event.dataset for every event of this source.
const dataset = "evtx"

const (
	// maxBackoff caps the wait between retries of a refused batch.
	maxBackoff = 30 * time.Second
	// maxRetired bounds the memory of files no longer matched.
	maxRetired = 1024
	// maxWarned bounds the memory of damage already reported.
	maxWarned = 4096
	// maxTail bounds the damage held back per file while it is written.
	maxTail = 64
	// settleReads is how many reads in a row may report the same damage at
	// the tail of a file being written before it is reported anyway.
	settleReads = 3
	// settleDirty is how long damage at the tail of a file still marked
	// open (dirty) may stay unchanged before it is reported anyway.
	settleDirty = time.Minute
	// stopCheck is how many records are read between checks for Shutdown.
	stopCheck = 256
	// racyWindow: a file read less than this after its last modification
	// is read again at the next poll even if size and mtime look the same,
	// since file systems stamp mtime with a coarse clock and a write in the
	// same tick as the read would go unseen.
	racyWindow = time.Second
)

// Source reads EVTX files, follows the live ones, and hands their records
// to the pipeline. It implements component.Component. Start and Shutdown may
// be called from any goroutine.
type Source struct {
	cfg *Config
	set component.SourceSettings
	log *slog.Logger

	// counter names
	cEvents, cBytes, cDamagedRecords, cDamagedChunks, cSkippedFiles string

	// life is Start/Shutdown: its Stop is closed by Shutdown (stop
	// reading) and its Context aborts an in-flight ConsumeBatch.
	life *component.Lifecycle

	// Owned by the poll goroutine.
	files   map[string]*fileState   // tracked files by absolute path
	retired map[identity]*fileState // files no longer matched, by identity
	warned  map[damageKey]struct{}  // damage already reported
	settle  int                     // settleReads; tests lower or raise it
}

// identity is a file's device and inode.
type identity struct{ dev, ino uint64 }

// position is the checkpoint value of a file: its identity, its size when
// the record was read, and the id of the last record handed off.
type position struct {
	Dev      uint64 `json:"dev"`
	Ino      uint64 `json:"ino"`
	RecordID uint64 `json:"record_id"`
	Size     int64  `json:"size"`
}

func (p position) identity() identity { return identity{p.Dev, p.Ino} }

// fileState is what the source knows of one file. It moves with the file
// when the file is renamed to another matched name.
type fileState struct {
	path string // absolute, current name
	id   identity
	// pos is committed: the pipeline accepted every record up to it.
	// cursor is where reading got to; it becomes pos when the batch holding
	// those records is accepted.
	pos, cursor position
	// read is set after a complete read; size, mtime and dirty (the
	// header's flag) are the file's then.
	read  bool
	size  int64
	mtime time.Time
	dirty bool
	// racy is set when the read was too close to the last modification
	// to trust mtime (see racyWindow), or stopped at a gap.
	racy bool
	// gapAt is the missing record id a read of a live file stopped at, and
	// gapReads how many reads in a row did.
	gapAt    uint64
	gapReads int
	// notEVTX marks a file skipped for its content (until it is replaced).
	notEVTX bool
	// lastErr is the last open/read problem warned about, not repeated.
	lastErr string
	// pending is damage at the tail of a file being written, held back
	// (by offset) until the file settles: a record still being written
	// looks damaged until the writer finishes it.
	pending map[int64]pendingDamage
}

type pendingDamage struct {
	d     winevtx.Damage
	reads int       // consecutive reads that reported it
	since time.Time // first reported
}

// damageKey names one damaged place: the file (by identity where known, so
// a renamed file does not warn again) and the offset.
type damageKey struct {
	path     string
	dev, ino uint64
	off      int64
}

func newSource(cfg *Config, set component.SourceSettings) *Source {
	return &Source{
		cfg:             cfg,
		set:             set,
		log:             set.Logger.With("source", set.ID),
		cEvents:         telemetry.Key("source_events", "source", set.ID),
		cBytes:          telemetry.Key("source_bytes", "source", set.ID),
		cDamagedRecords: telemetry.Key("source_damaged_records", "source", set.ID),
		cDamagedChunks:  telemetry.Key("source_damaged_chunks", "source", set.ID),
		cSkippedFiles:   telemetry.Key("source_skipped_files", "source", set.ID),
		life:            component.NewLifecycle("evtx"),
		files:           map[string]*fileState{},
		retired:         map[identity]*fileState{},
		warned:          map[damageKey]struct{}{},
		settle:          settleReads,
	}
}

// CheckpointKey is the checkpoint key of a file: "file:" + absolute path.
func CheckpointKey(absPath string) string { return "file:" + absPath }

// Start begins reading in the background and returns at once.
func (s *Source) Start(_ context.Context, _ component.Host) error {
	return s.life.Start(nil, s.loop)
}

// Done is closed when the source has finished: without Follow once every
// file has been read to its end and handed off; in any case after Shutdown.
func (s *Source) Done() <-chan struct{} { return s.life.Done() }

// Shutdown stops reading and waits for the in-flight batch hand-off,
// aborting it when ctx ends. Records read but not accepted are read again
// after a restart. Safe without Start and safe twice.
func (s *Source) Shutdown(ctx context.Context) error { return s.life.Shutdown(ctx) }

// loop polls the configured paths until Shutdown (or, without Follow, until
// everything has been read once).
func (s *Source) loop() {
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	first := true
	for {
		ok := s.poll(first)
		first = false
		if !s.cfg.Follow {
			if ok {
				s.life.Finish()
			}
			return
		}
		if !ok {
			return
		}
		select {
		case <-s.life.Stop():
			return
		case <-t.C:
		}
	}
}

// send hands one batch to the pipeline, retrying a refused batch with
// backoff until it is accepted or the source stops. It reports whether the
// batch was accepted.
func (s *Source) send(b component.Batch) bool {
	return component.Handoff{Next: s.set.Next, Stop: s.life.Stop(), Backoff: min(s.cfg.PollInterval, time.Second),
		MaxBackoff: maxBackoff, Logger: s.log, Counters: s.set.Counters, EventsCounter: s.cEvents}.Send(s.life.Context(), b)
}

// batch accumulates events and the file positions they reach.
type batch struct {
	events  []schema.Event
	pos     map[string]position // by checkpoint key
	touched map[*fileState]struct{}
}

func (b *batch) advance(st *fileState) {
	b.pos[CheckpointKey(st.path)] = st.cursor
	b.touched[st] = struct{}{}
}

// flush sends the batch and, once it is accepted, commits the positions it
// carries. It returns false when the source stops before acceptance.
func (s *Source) flush(b *batch) bool {
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
	// Everything read so far is in this batch: the cursors are accepted.
	for st := range b.touched {
		st.pos = st.cursor
	}
	clear(b.events)
	b.events = b.events[:0]
	clear(b.pos)
	clear(b.touched)
	return true
}

// poll expands the paths, reconciles the tracked files and reads new
// records. It returns false when the source is stopping.
func (s *Source) poll(first bool) bool {
	paths, matched := s.expand()
	b := &batch{
		events:  make([]schema.Event, 0, min(s.cfg.BatchSize, 1024)),
		pos:     map[string]position{},
		touched: map[*fileState]struct{}{},
	}
	// Checkpoints of newly matched paths, also by identity: a file renamed
	// while the source was stopped continues from the checkpoint stored
	// under its old name.
	cps := map[string]*position{}
	byID := map[identity]position{}
	for _, p := range paths {
		if s.files[p] != nil {
			continue
		}
		if cp := s.checkpoint(p); cp != nil {
			cps[p] = cp
			if id := cp.identity(); id != (identity{}) {
				if old, ok := byID[id]; !ok || cp.RecordID > old.RecordID {
					byID[id] = *cp
				}
			}
		}
	}
	for _, p := range paths {
		if s.life.Stopping() {
			return false
		}
		if !s.pollPath(p, first, cps[p], byID, b) {
			return false
		}
	}
	// Files no longer matched (deleted or renamed away).
	for p, st := range s.files {
		if !matched[p] {
			s.retire(p, st)
		}
	}
	return s.flush(b)
}

// expand returns the absolute regular files the paths name, sorted and as a
// set: files and glob matches as they are, directories by every *.evtx
// below them.
func (s *Source) expand() ([]string, map[string]bool) {
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
			fi, err := os.Stat(abs)
			switch {
			case err != nil:
			case fi.Mode().IsRegular():
				out[abs] = true
			case fi.IsDir():
				_ = filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
					if err != nil {
						return nil // unreadable subdirectory: skip it
					}
					if !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".evtx") {
						out[p] = true
					}
					return nil
				})
			}
		}
	}
	sorted := make([]string, 0, len(out))
	for p := range out {
		sorted = append(sorted, p)
	}
	sort.Strings(sorted)
	return sorted, out
}

// pollPath handles one matched path: track it if new, notice replacement,
// read it if it changed.
func (s *Source) pollPath(path string, first bool, cp *position, byID map[identity]position, b *batch) bool {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return true
	}
	dev, ino := fileIdentity(fi)
	id := identity{dev, ino}
	st := s.files[path]
	if st != nil && st.id != id {
		// Replaced under this name (Windows archived the live log, or it
		// was deleted and created again). The old file continues under
		// its new name if that is matched too.
		s.log.Info("evtx: file replaced, reading the new one from the start", "file", path)
		s.retire(path, st)
		st, first, cp = nil, false, nil
	}
	if st == nil {
		st = s.track(path, fi, id, first, cp, byID, b)
		s.files[path] = st
	}
	if st.notEVTX {
		return true
	}
	if st.read && !st.racy && fi.Size() == st.size && fi.ModTime().Equal(st.mtime) {
		// Unchanged since the last read: damage held back at its tail is
		// real, unless the writer still has the file open (dirty) and may
		// yet finish the record; then it is given settleDirty.
		s.reportPending(st, !st.dirty)
		return true
	}
	if st.read && fi.Size() < st.size {
		s.log.Info("evtx: file shrank (cleared?), reading it from the start", "file", path)
		st.cursor = position{Dev: dev, Ino: ino}
		b.advance(st)
	}
	return s.readFile(st, b)
}

// track starts following a file: where a renamed file left off, at its
// checkpoint, or per StartAt.
func (s *Source) track(path string, fi os.FileInfo, id identity, first bool, cp *position, byID map[identity]position, b *batch) *fileState {
	if id != (identity{}) {
		// Renamed from another tracked name, or back into the matched
		// names: keep its state. A smaller file is another one that got
		// the inode of a deleted file.
		for q, old := range s.files {
			if q != path && old.id == id && fi.Size() >= old.size {
				delete(s.files, q)
				old.path = path
				return old
			}
		}
		if old, ok := s.retired[id]; ok {
			delete(s.retired, id)
			if fi.Size() >= old.size {
				old.path = path
				return old
			}
		}
	}
	st := &fileState{path: path, id: id}
	start := position{Dev: id.dev, Ino: id.ino}
	renamed, wasRenamed := byID[id]
	wasRenamed = wasRenamed && id != (identity{}) && fi.Size() >= renamed.Size
	switch {
	case cp != nil && cp.identity() == id && fi.Size() >= cp.Size:
		start = *cp
	case cp != nil && cp.identity() == id:
		s.log.Info("evtx: file shrank since checkpoint (cleared?), reading it from the start", "file", path)
	case wasRenamed:
		// Renamed while stopped: its old name's checkpoint.
		start = renamed
	case cp != nil:
		s.log.Info("evtx: file replaced since checkpoint, reading it from the start", "file", path)
	case first && s.cfg.StartAt == StartEnd:
		s.seekEnd(st, b)
		return st
	}
	st.pos, st.cursor = start, start
	return st
}

// seekEnd positions a file after its last record and commits that
// position, so records written later are all that is read.
func (s *Source) seekEnd(st *fileState, b *batch) {
	f, err := os.Open(st.path)
	if err != nil {
		return // readFile warns
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return
	}
	r, err := winevtx.NewReader(f, fi.Size(), winevtx.Options{})
	if err != nil {
		return // readFile warns or skips
	}
	last := r.Header().NextRecordID
	if last > 0 {
		last-- // the header may lag: look past it
	}
	r.SkipTo(last)
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		last = max(last, rec.RecordID)
	}
	st.cursor = position{Dev: st.id.dev, Ino: st.id.ino, RecordID: last, Size: fi.Size()}
	st.read, st.size, st.mtime = true, fi.Size(), fi.ModTime()
	b.advance(st)
}

// checkpoint reads the committed position of a file; nil when none.
func (s *Source) checkpoint(path string) *position {
	if s.set.Checkpoints == nil {
		return nil
	}
	v, err := s.set.Checkpoints.Checkpoint(CheckpointKey(path))
	if err != nil {
		s.log.Warn("evtx: cannot read checkpoint, reading from the start", "file", path, "error", err)
		return nil
	}
	if v == nil {
		return nil
	}
	var p position
	if err := json.Unmarshal(v, &p); err != nil || p.Size < 0 {
		s.log.Warn("evtx: bad checkpoint, reading from the start", "file", path, "error", err)
		return nil
	}
	return &p
}

// retire stops tracking a path. The state is remembered by identity so the
// file, should it appear under another matched name, is not read twice.
func (s *Source) retire(path string, st *fileState) {
	delete(s.files, path)
	s.reportPending(st, true)
	if st.id == (identity{}) {
		return
	}
	if len(s.retired) >= maxRetired {
		clear(s.retired)
	}
	s.retired[st.id] = st
}

// warnOnce logs a file problem unless it is the one logged last for the
// file.
func (s *Source) warnOnce(st *fileState, msg string, err error) {
	if e := msg + err.Error(); e != st.lastErr {
		st.lastErr = e
		s.log.Warn(msg, "file", st.path, "error", err)
	}
}

// readFile reads the records after the file's cursor to the end of the
// file, flushing full batches on the way. It returns false when the source
// is stopping.
func (s *Source) readFile(st *fileState, b *batch) bool {
	f, err := os.Open(st.path)
	if err != nil {
		s.warnOnce(st, "evtx: cannot open file", err)
		return true
	}
	defer f.Close()
	now := time.Now()
	fi, err := f.Stat()
	if err != nil {
		s.warnOnce(st, "evtx: cannot stat file", err)
		return true
	}
	if dev, ino := fileIdentity(fi); (identity{dev, ino}) != st.id {
		return true // replaced between stat and open: the next poll sees it
	}
	size := fi.Size()
	// tail holds damage not yet followed by a good record: at the end of a
	// file being written it may be a record the writer has not finished.
	var tail []winevtx.Damage
	// damagedID is the id of the last damaged record: not a gap.
	var damagedID uint64
	onDamage := func(d winevtx.Damage) {
		damagedID = d.RecordID
		if _, ok := s.warned[s.damageKey(st, d.Offset)]; ok {
			return
		}
		if !s.cfg.Follow || len(tail) >= maxTail {
			s.reportDamage(st, d)
			return
		}
		tail = append(tail, d)
	}
	r, err := winevtx.NewReader(f, size, winevtx.Options{OnDamage: onDamage})
	switch {
	case errors.Is(err, winevtx.ErrNotEVTX) && s.cfg.Follow && size < winevtx.HeaderSize:
		return true // still being created: look again next poll
	case errors.Is(err, winevtx.ErrNotEVTX):
		st.notEVTX = true
		s.set.Counters.Add(s.cSkippedFiles, 1)
		s.log.Warn("evtx: not an EVTX file, skipped", "file", st.path, "size", size)
		return true
	case err != nil:
		s.warnOnce(st, "evtx: cannot read file", err)
		return true
	}
	after := st.cursor.RecordID
	r.SkipTo(after)
	// Record ids are consecutive in write order. A live file read while
	// the writer is at a chunk boundary can show a record of the new chunk
	// without the last ones of the previous chunk: delivering it would move
	// the cursor past records not yet seen. So a read of a followed file
	// stops before a gap, and reads again; a gap that stays (a lost record,
	// a wrapped log) is passed after a few reads.
	expect := uint64(0)
	if after > 0 {
		expect = after + 1
	}
	gap := false
	var bytes int64
	addBytes := func() {
		n := r.Stats().Bytes
		s.set.Counters.Add(s.cBytes, n-bytes)
		bytes = n
	}
	defer addBytes()
	for n := 1; ; n++ {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			// An I/O error: the cursor stays, the next poll tries again.
			s.warnOnce(st, "evtx: cannot read file", err)
			return !s.life.Stopping()
		}
		for _, d := range tail {
			s.reportDamage(st, d) // followed by a good record: real damage
		}
		tail = tail[:0]
		if rec.RecordID != 0 && rec.RecordID <= after {
			continue
		}
		if damagedID != 0 && damagedID == expect {
			expect++ // reported as damage already
		}
		if s.cfg.Follow && expect != 0 && rec.RecordID > expect && !s.passGap(st, expect) {
			gap = true
			break
		}
		if rec.RecordID != 0 {
			expect = rec.RecordID + 1
		}
		b.events = append(b.events, windows.NormalizeOwned(&rec, dataset))
		st.cursor = position{Dev: st.id.dev, Ino: st.id.ino, RecordID: max(st.cursor.RecordID, rec.RecordID), Size: size}
		b.advance(st)
		if len(b.events) >= s.cfg.BatchSize {
			addBytes()
			if !s.flush(b) {
				return false
			}
		}
		if n%stopCheck == 0 && s.life.Stopping() {
			return false
		}
	}
	st.lastErr = ""
	changed := !st.read || size != st.size || !fi.ModTime().Equal(st.mtime)
	st.read, st.size, st.mtime, st.dirty = true, size, fi.ModTime(), r.Header().Dirty
	age := now.Sub(st.mtime)
	st.racy = gap || (age > -racyWindow && age < racyWindow)
	if !gap {
		st.gapAt, st.gapReads = 0, 0
		s.holdTail(st, tail, changed)
	}
	return !s.life.Stopping()
}

// passGap reports whether a read may go on past the missing record id
// want: once settle reads in a row have stopped there.
func (s *Source) passGap(st *fileState, want uint64) bool {
	if st.gapAt != want {
		st.gapAt, st.gapReads = want, 0
	}
	st.gapReads++
	if st.gapReads < s.settle {
		return false
	}
	s.log.Warn("evtx: records missing, going on without them", "file", st.path, "from_record_id", want)
	st.gapAt, st.gapReads = 0, 0
	return true
}

// holdTail keeps damage found at the end of a read for the next look at
// the file: if the file has not changed by then, or a few reads of a
// changed file in a row report it, it is real damage and reported.
func (s *Source) holdTail(st *fileState, tail []winevtx.Damage, changed bool) {
	prev := st.pending
	st.pending = nil
	now := time.Now()
	for _, d := range tail {
		p, ok := prev[d.Offset]
		if !ok {
			p.since = now
		}
		p.d = d
		if changed || !ok {
			p.reads++
		}
		if p.reads >= s.settle {
			s.reportDamage(st, d)
			continue
		}
		if st.pending == nil {
			st.pending = map[int64]pendingDamage{}
		}
		st.pending[d.Offset] = p
	}
}

// reportPending reports the damage held back for a file: all of it when
// force is set, else what has waited settleDirty.
func (s *Source) reportPending(st *fileState, force bool) {
	offs := make([]int64, 0, len(st.pending))
	for off, p := range st.pending {
		if force || time.Since(p.since) >= settleDirty {
			offs = append(offs, off)
		}
	}
	sort.Slice(offs, func(i, j int) bool { return offs[i] < offs[j] })
	for _, off := range offs {
		s.reportDamage(st, st.pending[off].d)
		delete(st.pending, off)
	}
}

func (s *Source) damageKey(st *fileState, off int64) damageKey {
	if st.id == (identity{}) {
		return damageKey{path: st.path, off: off}
	}
	return damageKey{dev: st.id.dev, ino: st.id.ino, off: off}
}

// reportDamage counts and warns about one damaged chunk or record, once per
// file and offset.
func (s *Source) reportDamage(st *fileState, d winevtx.Damage) {
	k := s.damageKey(st, d.Offset)
	if _, ok := s.warned[k]; ok {
		return
	}
	if len(s.warned) >= maxWarned {
		clear(s.warned)
	}
	s.warned[k] = struct{}{}
	if isChunkDamage(d) {
		s.set.Counters.Add(s.cDamagedChunks, 1)
		s.log.Warn("evtx: damaged chunk skipped", "file", st.path, "offset", d.Offset, "chunk", d.Chunk, "error", d.Err)
		return
	}
	s.set.Counters.Add(s.cDamagedRecords, 1)
	s.log.Warn("evtx: damaged record skipped", "file", st.path, "offset", d.Offset, "chunk", d.Chunk,
		"record_id", d.RecordID, "error", d.Err)
}

// isChunkDamage tells a whole-chunk damage (reported at the chunk's own
// offset) from a record's.
func isChunkDamage(d winevtx.Damage) bool {
	return d.Offset >= winevtx.HeaderSize && (d.Offset-winevtx.HeaderSize)%winevtx.ChunkSize == 0
}
