package evtx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/castellan-itdr/castellan/mappings/windows"
)

// Sizes fixed by the format.
const (
	HeaderSize = 4096  // file header block
	ChunkSize  = 65536 // one chunk: 512-byte header, then records
)

// ErrNotEVTX is returned by NewReader when the file does not start with the
// EVTX signature.
var ErrNotEVTX = errors.New("not an EVTX file")

const (
	chunkHeaderSize  = 512
	recordHeaderSize = 24
	fileSig          = "ElfFile\x00"
	chunkSig         = "ElfChnk\x00"
	recordMagic      = 0x00002a2a
)

// FileHeader is the decoded file header. The header lags behind a file that
// is open for writing; the Reader only uses it for information.
type FileHeader struct {
	FirstChunk, LastChunk, NextRecordID uint64
	ChunkCount                          uint16
	MajorVersion, MinorVersion          uint16
	Dirty, Full                         bool
}

// Damage describes a chunk or record that could not be read.
type Damage struct {
	Offset   int64  // file offset of the damaged chunk or record
	Chunk    int    // chunk slot index (0 = first chunk after the file header)
	RecordID uint64 // 0 when the whole chunk is damaged or the id is unreadable
	Err      error
}

func (d Damage) Error() string {
	if d.RecordID != 0 {
		return fmt.Sprintf("evtx: chunk %d record %d at offset %d: %v", d.Chunk, d.RecordID, d.Offset, d.Err)
	}
	return fmt.Sprintf("evtx: chunk %d at offset %d: %v", d.Chunk, d.Offset, d.Err)
}

// Stats counts what a Reader has seen so far.
type Stats struct {
	Chunks, Records, DamagedChunks, DamagedRecords int
	Bytes                                          int64 // bytes of chunks read
}

// Options tune a Reader.
type Options struct {
	// OnDamage is called for every damaged chunk or record, synchronously
	// from Next. Nil: damages are only counted in Stats.
	OnDamage func(Damage)
}

// Reader streams the records of one EVTX file. It is not safe for
// concurrent use.
type Reader struct {
	ra    io.ReaderAt
	size  int64
	opt   Options
	hdr   FileHeader
	after uint64 // SkipTo: only records with id > after
	stats Stats

	buf      []byte // the current chunk, ChunkSize bytes, reused
	slot     int    // index of the next slot to load
	cur      int    // index of the loaded chunk, -1 if none
	curOff   int64  // file offset of the loaded chunk
	loaded   bool   // buf holds a chunk whose records are being read
	pos      int    // offset of the next record within buf
	end      int    // records end (bounded by the chunk size)
	finished bool   // scan ended (zero slot or end of file)

	dec decoder
}

// NewReader reads and checks the file header of the EVTX file r of the
// given size. A bad header checksum or a dirty flag is not fatal.
func NewReader(r io.ReaderAt, size int64, o Options) (*Reader, error) {
	var h [128]byte
	if size < int64(len(h)) {
		return nil, ErrNotEVTX
	}
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return nil, fmt.Errorf("evtx: read file header: %w", err)
	}
	if string(h[:8]) != fileSig {
		return nil, ErrNotEVTX
	}
	le := binary.LittleEndian
	flags := le.Uint32(h[120:])
	rd := &Reader{
		ra:   r,
		size: size,
		opt:  o,
		hdr: FileHeader{
			FirstChunk:   le.Uint64(h[8:]),
			LastChunk:    le.Uint64(h[16:]),
			NextRecordID: le.Uint64(h[24:]),
			MinorVersion: le.Uint16(h[36:]),
			MajorVersion: le.Uint16(h[38:]),
			ChunkCount:   le.Uint16(h[42:]),
			Dirty:        flags&1 != 0,
			Full:         flags&2 != 0,
		},
		buf: make([]byte, ChunkSize),
		cur: -1,
	}
	rd.dec.init()
	return rd, nil
}

// Header returns the file header as read by NewReader.
func (r *Reader) Header() FileHeader { return r.hdr }

// Stats returns the counters so far.
func (r *Reader) Stats() Stats { return r.stats }

// Offset is the file offset of the chunk Next is reading (or will read
// next), for checkpoints and reports.
func (r *Reader) Offset() int64 {
	if r.loaded {
		return r.curOff
	}
	return HeaderSize + int64(r.slot)*ChunkSize
}

// SkipTo makes Next return only records with id > afterRecordID. Whole
// chunks whose header says their last record id is ≤ afterRecordID are
// skipped without decoding. Calling SkipTo after io.EOF rescans the file
// from the start, so a file that grew is read again from the right place.
func (r *Reader) SkipTo(afterRecordID uint64) {
	r.after = afterRecordID
	if r.finished {
		r.finished = false
		r.slot = 0
		r.loaded = false
		r.cur = -1
	}
}

func (r *Reader) damage(d Damage) {
	if r.opt.OnDamage != nil {
		r.opt.OnDamage(d)
	}
}

func (r *Reader) chunkDamage(slot int, off int64, err error) {
	r.stats.DamagedChunks++
	r.damage(Damage{Offset: off, Chunk: slot, Err: err})
}

// Next returns the next record in file order, io.EOF at the end. A damaged
// chunk or record is reported through Options.OnDamage, counted and skipped.
func (r *Reader) Next() (windows.Record, error) {
	for {
		if !r.loaded {
			if r.finished {
				return windows.Record{}, io.EOF
			}
			if err := r.loadChunk(); err != nil {
				return windows.Record{}, err
			}
			continue
		}
		rec, ok := r.nextRecord()
		if ok {
			return rec, nil
		}
	}
}

// loadChunk loads the next usable chunk into buf, or sets finished.
// Only read errors of the underlying ReaderAt are returned.
func (r *Reader) loadChunk() error {
	for !r.finished {
		slot := r.slot
		off := HeaderSize + int64(slot)*ChunkSize
		if off >= r.size {
			r.finished = true
			return nil
		}
		r.slot++
		n := int64(ChunkSize)
		if r.size-off < n {
			n = r.size - off
		}
		b := r.buf[:n]
		if _, err := r.ra.ReadAt(b, off); err != nil && !(errors.Is(err, io.EOF) && len(b) > 0) {
			return fmt.Errorf("evtx: read chunk %d at offset %d: %w", slot, off, err)
		}
		if allZero(b) {
			// Preallocated, never written: the end of the log.
			r.finished = true
			return nil
		}
		if n < ChunkSize {
			r.chunkDamage(slot, off, fmt.Errorf("truncated chunk: %d of %d bytes", n, ChunkSize))
			r.finished = true
			return nil
		}
		if string(b[:8]) != chunkSig {
			r.chunkDamage(slot, off, errors.New("bad chunk signature"))
			continue
		}
		if r.startChunk(slot, off) {
			return nil
		}
	}
	return nil
}

// startChunk checks the chunk in buf and prepares reading its records.
// It reports false when the chunk is skipped whole.
func (r *Reader) startChunk(slot int, off int64) bool {
	b := r.buf
	le := binary.LittleEndian
	lastID := le.Uint64(b[32:])
	freeOff := le.Uint32(b[48:])
	headerOK := le.Uint32(b[124:]) == chunkHeaderCRC(b)
	// The last chunk written of a dirty file (open log) may carry stale
	// checksums: that is normal, not damage.
	lastOfDirty := r.hdr.Dirty && uint64(slot) >= r.hdr.LastChunk
	end := ChunkSize
	recordsOK := false
	if freeOff >= chunkHeaderSize && freeOff <= ChunkSize {
		recordsOK = le.Uint32(b[52:]) == crc32.ChecksumIEEE(b[chunkHeaderSize:freeOff])
		if recordsOK || !lastOfDirty {
			end = int(freeOff)
		}
	}
	damaged := false
	switch {
	case !headerOK && !lastOfDirty:
		damaged = true
		r.chunkDamage(slot, off, errors.New("bad chunk header checksum"))
	case !recordsOK && !lastOfDirty:
		damaged = true
		r.chunkDamage(slot, off, errors.New("bad chunk records checksum"))
	}
	r.stats.Chunks++
	r.stats.Bytes += ChunkSize
	// Skip whole chunks already read, trusting only a sound header.
	if r.after > 0 && headerOK && !damaged && lastID <= r.after && !lastOfDirty {
		return false
	}
	r.cur, r.curOff, r.loaded = slot, off, true
	r.pos, r.end = chunkHeaderSize, end
	r.dec.reset(b)
	return true
}

// chunkHeaderCRC is the CRC32 of chunk header bytes 0..120 and 128..512.
func chunkHeaderCRC(b []byte) uint32 {
	c := crc32.Update(0, crc32.IEEETable, b[:120])
	return crc32.Update(c, crc32.IEEETable, b[128:chunkHeaderSize])
}

func allZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// nextRecord decodes the next record of the loaded chunk. ok is false when
// the chunk has no more records (loaded is then cleared) or the record was
// skipped.
func (r *Reader) nextRecord() (windows.Record, bool) {
	b := r.buf
	le := binary.LittleEndian
	p := r.pos
	if p+recordHeaderSize > r.end || le.Uint32(b[p:]) != recordMagic {
		r.loaded = false
		return windows.Record{}, false
	}
	size := int(le.Uint32(b[p+4:]))
	id := le.Uint64(b[p+8:])
	off := r.curOff + int64(p)
	if size < recordHeaderSize+4 || size > r.end-p || int(le.Uint32(b[p+size-4:])) != size {
		// Framing broken: nothing after it in this chunk can be located.
		r.stats.DamagedRecords++
		r.damage(Damage{Offset: off, Chunk: r.cur, RecordID: id, Err: errors.New("bad record size")})
		r.loaded = false
		return windows.Record{}, false
	}
	r.pos = p + size
	if id <= r.after {
		// Still decoded for its template definitions, which later records
		// of the chunk may reference.
		r.dec.prime(p+recordHeaderSize, p+size-4)
		return windows.Record{}, false
	}
	rec := windows.Record{RecordID: id, Time: filetime(le.Uint64(b[p+16:]))}
	if err := r.dec.record(&rec, p+recordHeaderSize, p+size-4); err != nil {
		r.stats.DamagedRecords++
		r.damage(Damage{Offset: off, Chunk: r.cur, RecordID: id, Err: err})
		return windows.Record{}, false
	}
	r.stats.Records++
	return rec, true
}
