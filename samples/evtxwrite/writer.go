package evtxwrite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/castellan-itdr/castellan/mappings/windows"
)

// Sizes of the on-disk structures.
const (
	FileHeaderSize  = 4096  // the file header block
	ChunkSize       = 65536 // one chunk
	chunkHeaderSize = 512   // chunk header with its string and template tables
	maxChunks       = 0xffff
)

// Errors returned by the writer.
var (
	ErrClosed         = errors.New("evtxwrite: writer closed")
	ErrRecordTooLarge = errors.New("evtxwrite: record does not fit in an empty chunk")
	ErrRecordID       = errors.New("evtxwrite: record ids must increase")
	ErrFileFull       = errors.New("evtxwrite: file holds the maximum of 65535 chunks")
	ErrInvalid        = errors.New("evtxwrite: invalid event")
)

// Well-known provider GUIDs, written as the Provider Guid attribute.
var providerGUIDs = map[string]string{
	windows.ProviderSecurity: "{54849625-5478-4994-A5BA-3E3B0328C30D}",
	windows.ProviderEventlog: "{fc65ddd8-d6ef-4962-83d5-6e5cfe9ce148}",
	windows.ProviderSCM:      "{555908d1-a6d7-4695-8e1e-26931d2012f4}",
}

// Keywords Windows sets on the events the generator produces.
const (
	KeywordsAuditSuccess uint64 = 0x8020000000000000
	KeywordsAuditFailure uint64 = 0x8010000000000000
	KeywordsClassic      uint64 = 0x8080000000000000
	keywordsLogCleared   uint64 = 0x4020000000000000
)

// UserData names of event 1102 (the audit log was cleared).
const (
	LogClearedElement   = "LogFileCleared"
	LogClearedNamespace = "http://manifests.microsoft.com/win/2004/08/windows/eventlog"
)

// securityTasks are the task (category) numbers of Security events.
var securityTasks = map[int]uint16{
	4624: 12544, 4625: 12544, 4634: 12545, 4647: 12545, 4672: 12548,
	4768: 14339, 4771: 14339, 4769: 14337, 4776: 14336, 4662: 14080,
	4720: 13824, 4722: 13824, 4724: 13824, 4725: 13824, 4726: 13824, 4738: 13824, 4740: 13824,
	4728: 13826, 4732: 13826, 4756: 13826, 4729: 13826, 4733: 13826, 4757: 13826,
}

// Field is one named EventData or UserData value.
type Field struct{ Name, Value string }

// Event is one record with its fields in document order. [Writer.WriteEvent] fills zero
// Keywords, Level, Task, Version, ProcessID and ThreadID from what Windows logs for the
// provider and event id (see [Defaults]).
type Event struct {
	EventID      int // 0–65535
	Qualifiers   int // EventID Qualifiers attribute (16384 for Service Control Manager); 0 omits it
	Provider     string
	ProviderGUID string // "" uses the well-known GUID of the provider, if any
	Channel      string
	Computer     string
	RecordID     uint64    // 0 assigns the previous id + 1 (the first record gets 1)
	Time         time.Time // TimeCreated and the record's written time
	Keywords     uint64
	Level        uint8
	Task         uint16
	Opcode       uint8
	Version      uint8
	ProcessID    uint32
	ThreadID     uint32
	// UserData, when set, names the element under <UserData> the fields go into
	// (LogFileCleared for 1102), with namespace UserDataNS; otherwise fields are
	// <EventData><Data Name=…>.
	UserData   string
	UserDataNS string
	Fields     []Field
}

// Defaults returns e with zero header values replaced by what Windows logs: Security events
// carry the audit keywords (failure when failed is true), their task number, level 0 and
// the LSA process; 1102 is LogFileCleared user data; System events are level 4 with the
// classic keywords, and Service Control Manager events have qualifiers 16384.
func Defaults(e Event, failed bool) Event {
	switch {
	case e.Provider == windows.ProviderEventlog && e.EventID == 1102:
		e.Keywords = or(e.Keywords, keywordsLogCleared)
		e.Level = or(e.Level, 4)
		e.Task = or(e.Task, 104)
		e.ProcessID, e.ThreadID = or(e.ProcessID, 1188), or(e.ThreadID, 6576)
		if e.UserData == "" {
			e.UserData, e.UserDataNS = LogClearedElement, LogClearedNamespace
		}
	case e.Channel == windows.ChannelSecurity || e.Provider == windows.ProviderSecurity:
		kw := KeywordsAuditSuccess
		if failed {
			kw = KeywordsAuditFailure
		}
		e.Keywords = or(e.Keywords, kw)
		e.Task = or(e.Task, securityTasks[e.EventID])
		if e.EventID == 4624 {
			e.Version = or(e.Version, 2)
		}
		e.ProcessID, e.ThreadID = or(e.ProcessID, 780), or(e.ThreadID, 2716)
	default:
		e.Keywords = or(e.Keywords, KeywordsClassic)
		e.Level = or(e.Level, 4)
		if e.Provider == windows.ProviderSCM {
			e.Qualifiers = or(e.Qualifiers, 16384)
			e.ProcessID, e.ThreadID = or(e.ProcessID, 740), or(e.ThreadID, 5428)
		}
	}
	return e
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Options tune a Writer.
type Options struct {
	// Dirty leaves the file header as Windows leaves a log that is still open: the dirty
	// flag set and a checksum that no longer matches the header.
	Dirty bool
}

// Writer writes one EVTX file. It is not safe for concurrent use.
type Writer struct {
	out    io.Writer
	seeker io.WriteSeeker // out, when it can seek
	base   int64          // position of the file header in seeker
	opts   Options

	err    error // sticky write error
	closed bool

	headerWritten bool
	chunks        int    // chunks flushed
	records       uint64 // records written (record numbers are 1-based)
	firstID       uint64
	lastID        uint64

	c        chunk
	records0 uint64 // record number of the current chunk's first record
	specs    map[string]*template
	key      []byte // scratch for template keys
	types    []byte // scratch for value types
}

// NewWriter returns a Writer that writes an EVTX file to w. If w is an [io.WriteSeeker]
// the file header is finalized at Close; otherwise see the package documentation.
func NewWriter(w io.Writer) *Writer { return NewWriterOptions(w, Options{}) }

// NewWriterOptions is [NewWriter] with options.
func NewWriterOptions(w io.Writer, o Options) *Writer {
	wr := &Writer{out: w, opts: o, specs: make(map[string]*template)}
	wr.seeker, _ = w.(io.WriteSeeker)
	wr.c.init()
	return wr
}

// Write appends one record. Fields are written in name order (a map has none); event
// 1102 of the Eventlog provider goes into LogFileCleared user data. The record counts as
// an audit failure when it is event 4625 or 4771, or has a Status other than 0x0.
func (w *Writer) Write(rec windows.Record) error {
	e := Event{EventID: rec.EventID, Provider: rec.Provider, Channel: rec.Channel,
		Computer: rec.Computer, RecordID: rec.RecordID, Time: rec.Time}
	for _, k := range slices.Sorted(maps.Keys(rec.Data)) {
		e.Fields = append(e.Fields, Field{k, rec.Data[k]})
	}
	status, hasStatus := rec.Data["Status"]
	failed := rec.EventID == 4625 || rec.EventID == 4771 || hasStatus && status != "0x0"
	return w.WriteEvent(Defaults(e, failed))
}

// WriteEvent appends one record as given; see [Defaults] for the header values Windows
// would log.
func (w *Writer) WriteEvent(e Event) error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if e.EventID < 0 || e.EventID > 0xffff || e.Qualifiers < 0 || e.Qualifiers > 0xffff {
		return fmt.Errorf("%w: event id %d qualifiers %d", ErrInvalid, e.EventID, e.Qualifiers)
	}
	ft, ok := fileTime(e.Time)
	if !ok {
		return fmt.Errorf("%w: time %v before 1601", ErrInvalid, e.Time)
	}
	id := e.RecordID
	if id == 0 {
		id = w.lastID + 1
	} else if id <= w.lastID {
		return fmt.Errorf("%w: %d after %d", ErrRecordID, id, w.lastID)
	}
	tp, err := w.template(&e)
	if err != nil {
		return err
	}
	if w.c.count > 0 && !w.c.appendRecord(&e, tp, w.types, id, ft) {
		if err := w.flushChunk(); err != nil {
			return err
		}
	}
	if w.c.count == 0 {
		if w.chunks >= maxChunks {
			return ErrFileFull
		}
		w.records0 = w.records + 1
		if !w.c.appendRecord(&e, tp, w.types, id, ft) {
			return fmt.Errorf("%w: event %d with %d fields", ErrRecordTooLarge, e.EventID, len(e.Fields))
		}
	}
	if w.records == 0 {
		w.firstID = id
	}
	w.records++
	w.lastID = id
	return nil
}

// template returns the template spec for e and leaves the field value types in w.types.
func (w *Writer) template(e *Event) (*template, error) {
	w.types = w.types[:0]
	for _, f := range e.Fields {
		if len(f.Value) > 0xffff/2 && utf16Len(f.Value) > 0xffff/2 {
			return nil, fmt.Errorf("%w: field %s longer than 32767 UTF-16 units", ErrInvalid, f.Name)
		}
		w.types = append(w.types, valueType(f.Name, f.Value))
	}
	guid := e.ProviderGUID
	if guid == "" {
		guid = providerGUIDs[e.Provider]
	}
	k := w.key[:0]
	for _, s := range []string{e.Provider, guid, e.Channel, e.Computer, e.UserData, e.UserDataNS} {
		k = append(k, s...)
		k = append(k, 0)
	}
	k = binary.LittleEndian.AppendUint16(k, uint16(e.EventID))
	for i, f := range e.Fields {
		k = append(k, w.types[i])
		k = append(k, f.Name...)
		k = append(k, 0)
	}
	w.key = k
	if tp, ok := w.specs[string(k)]; ok {
		return tp, nil
	}
	tp := newTemplate(string(k), e, guid, w.types)
	w.specs[tp.key] = tp
	return tp, nil
}

// flushChunk writes the current chunk out and starts an empty one.
func (w *Writer) flushChunk() error {
	if w.c.count == 0 {
		return nil
	}
	w.c.finish(w.records0, w.records)
	if !w.headerWritten {
		if err := w.writeHeader(false); err != nil {
			return err
		}
	}
	if _, err := w.out.Write(w.c.buf[:]); err != nil {
		w.err = fmt.Errorf("evtxwrite: write chunk: %w", err)
		return w.err
	}
	w.chunks++
	w.c.reset()
	return nil
}

// writeHeader writes the file header. Before the first chunk (final false) it describes
// the chunks flushed so far plus the one about to be written; on a seekable destination it
// is a placeholder that Close rewrites (final true).
func (w *Writer) writeHeader(final bool) error {
	chunks := w.chunks
	if !final {
		chunks++
	}
	h := w.header(chunks, w.lastID+1)
	// A header that more chunks may follow is dirty, unless Close rewrites it.
	lastChunk := final || (w.seeker == nil && w.closed)
	if w.opts.Dirty || !lastChunk {
		setFlags(&h, 1)
	}
	if w.opts.Dirty {
		// The checksum of the header as it was when the log was created: stale.
		old := w.header(1, w.firstID)
		setFlags(&old, 1)
		copy(h[124:128], old[124:128])
	}
	if !final && w.seeker != nil {
		pos, err := w.seeker.Seek(0, io.SeekCurrent)
		if err != nil {
			w.err = fmt.Errorf("evtxwrite: %w", err)
			return w.err
		}
		w.base = pos
	}
	if _, err := w.out.Write(h[:]); err != nil {
		w.err = fmt.Errorf("evtxwrite: write header: %w", err)
		return w.err
	}
	w.headerWritten = true
	return nil
}

// header builds a clean file header.
func (w *Writer) header(chunks int, next uint64) [FileHeaderSize]byte {
	var h [FileHeaderSize]byte
	le := binary.LittleEndian
	copy(h[:], "ElfFile\x00")
	le.PutUint64(h[8:], 0) // first chunk
	if chunks > 0 {
		le.PutUint64(h[16:], uint64(chunks-1))
	}
	le.PutUint64(h[24:], next)
	le.PutUint32(h[32:], 128)
	le.PutUint16(h[36:], 1) // minor version
	le.PutUint16(h[38:], 3) // major version
	le.PutUint16(h[40:], FileHeaderSize)
	le.PutUint16(h[42:], uint16(chunks))
	le.PutUint32(h[124:], crc32.ChecksumIEEE(h[:120]))
	return h
}

// setFlags sets the header flags and recomputes its checksum.
func setFlags(h *[FileHeaderSize]byte, flags uint32) {
	binary.LittleEndian.PutUint32(h[120:], flags)
	binary.LittleEndian.PutUint32(h[124:], crc32.ChecksumIEEE(h[:120]))
}

// Close flushes the last chunk and finalizes the file header. It does not close the
// underlying writer. Close is safe to call twice.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if err := w.flushChunk(); err != nil {
		return err
	}
	if !w.headerWritten { // no records: header only
		return w.writeHeader(true)
	}
	if w.seeker == nil {
		return nil
	}
	end, err := w.seeker.Seek(0, io.SeekCurrent)
	if err == nil {
		_, err = w.seeker.Seek(w.base, io.SeekStart)
	}
	if err == nil {
		err = w.writeHeader(true)
	}
	if err == nil {
		_, err = w.seeker.Seek(end, io.SeekStart)
	}
	if err != nil && w.err == nil {
		w.err = fmt.Errorf("evtxwrite: finalize header: %w", err)
	}
	return w.err
}

// Chunks returns the number of chunks written so far, including the one being filled.
func (w *Writer) Chunks() int {
	if w.c.count > 0 {
		return w.chunks + 1
	}
	return w.chunks
}

// Size returns the size of the file once closed, if no further record is written.
func (w *Writer) Size() int64 { return FileHeaderSize + int64(w.Chunks())*ChunkSize }

// fileTime converts t to a Windows FILETIME (100 ns since 1601-01-01 UTC).
func fileTime(t time.Time) (uint64, bool) {
	const epochDiff = 11644473600 // seconds from 1601 to 1970
	s := t.Unix() + epochDiff
	if s < 0 {
		return 0, false
	}
	return uint64(s)*10_000_000 + uint64(t.Nanosecond()/100), true
}
