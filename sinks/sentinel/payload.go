package sentinel

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/castellan-itdr/castellan/mappings/asim"
	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/sinks/delivery"
)

// Format is the delivery.Item format Encode writes: the JSON of the
// record's table row. Push sends it as is, to the stream of the record's
// kind.
const Format = "asim/1"

// rowEncoders serve Encode, which the pipeline may call concurrently.
var rowEncoders = sync.Pool{New: func() any { return new(rowEncoder) }}

// Encode maps a record onto its table row once, when it is queued, so Push
// only packs bytes. EventId stays the record id. Records of a kind without
// a table (none today) are queued as schema JSON, which Push dead-letters.
func Encode(r schema.Record) (delivery.Item, error) {
	row, ok := asimRow(r)
	if !ok {
		return delivery.NewItem(r)
	}
	e := rowEncoders.Get().(*rowEncoder)
	defer rowEncoders.Put(e)
	b, err := e.marshal(row)
	if err != nil {
		return delivery.Item{}, fmt.Errorf("sentinel: encode %s %s: %w", r.RecordKind(), r.RecordID(), err)
	}
	return delivery.Item{Kind: r.RecordKind(), ID: r.RecordID(), Severity: r.RecordSeverity(), Format: Format, Body: bytes.Clone(b)}, nil
}

// asimRow maps a typed record onto its row; ok is false for kinds without
// a table.
func asimRow(r schema.Record) (row any, ok bool) {
	switch v := r.(type) {
	case schema.Event:
		return asim.FromEvent(&v), true
	case *schema.Event:
		return asim.FromEvent(v), true
	case schema.Alert:
		return asim.FromAlert(&v), true
	case *schema.Alert:
		return asim.FromAlert(v), true
	case schema.Incident:
		return asim.FromIncident(&v), true
	case *schema.Incident:
		return asim.FromIncident(v), true
	case schema.Finding:
		return asim.FromFinding(&v), true
	case *schema.Finding:
		return asim.FromFinding(v), true
	case schema.Action:
		return asim.FromAction(&v), true
	case *schema.Action:
		return asim.FromAction(v), true
	}
	return nil, false
}

// encodeRow turns a queued record into the JSON of its table row.
func encodeRow(it *delivery.Item) ([]byte, error) {
	var e rowEncoder
	return e.encode(it)
}

// rowEncoder encodes rows into a shared arena to spare an allocation per
// row. Not safe for concurrent use; the rows it returns stay valid.
type rowEncoder struct {
	buf   bytes.Buffer
	enc   *json.Encoder
	arena []byte
}

// encode returns the row of a queued item: the body itself for an item in
// Format; for a FormatRecord item (queued before an upgrade) the record is
// decoded and mapped.
func (e *rowEncoder) encode(it *delivery.Item) ([]byte, error) {
	switch it.Format {
	case Format:
		return it.Body, nil
	case delivery.FormatRecord:
	default:
		return nil, fmt.Errorf("unknown item format %q", it.Format)
	}
	var row any
	switch it.Kind {
	case schema.RecordEvent:
		var ev schema.Event
		if err := json.Unmarshal(it.Body, &ev); err != nil {
			return nil, err
		}
		row = asim.FromEvent(&ev)
	case schema.RecordAlert:
		var a schema.Alert
		if err := json.Unmarshal(it.Body, &a); err != nil {
			return nil, err
		}
		row = asim.FromAlert(&a)
	case schema.RecordIncident:
		var in schema.Incident
		if err := json.Unmarshal(it.Body, &in); err != nil {
			return nil, err
		}
		row = asim.FromIncident(&in)
	case schema.RecordFinding:
		var f schema.Finding
		if err := json.Unmarshal(it.Body, &f); err != nil {
			return nil, err
		}
		row = asim.FromFinding(&f)
	case schema.RecordAction:
		var a schema.Action
		if err := json.Unmarshal(it.Body, &a); err != nil {
			return nil, err
		}
		row = asim.FromAction(&a)
	default:
		return nil, fmt.Errorf("no Sentinel table for %s records", it.Kind)
	}
	b, err := e.marshal(row)
	if err != nil {
		return nil, err
	}
	if cap(e.arena)-len(e.arena) < len(b) {
		e.arena = make([]byte, 0, max(256<<10, len(b)))
	}
	start := len(e.arena)
	e.arena = append(e.arena, b...)
	return e.arena[start:len(e.arena):len(e.arena)], nil
}

// marshal writes row as compact JSON without HTML escaping; the result is
// valid until the next call.
func (e *rowEncoder) marshal(row any) ([]byte, error) {
	if e.enc == nil {
		e.enc = json.NewEncoder(&e.buf)
		e.enc.SetEscapeHTML(false)
	}
	e.buf.Reset()
	if err := e.enc.Encode(row); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(e.buf.Bytes(), []byte{'\n'}), nil
}

// call is one packed upload: the gzip body and the batch indexes of its rows.
type call struct {
	body []byte
	idx  []int
	raw  int // uncompressed JSON size
}

// packer greedily fills gzip bodies up to a compressed and an uncompressed
// limit.
//
// The compressed size of rows still inside the compressor is unknown, so
// the packer keeps an exact count L of the bytes written at the last flush
// and bounds the pending rows U by their incompressible worst case: a row
// is added while L + worst(U + row) stays within the limit; when it would
// not, the compressor is flushed (L becomes exact again, U zero) and the
// test repeated. Far from the limit flushes are rare; near it the packer
// flushes per row, so a call ends within one row's worth of the limit
// without ever exceeding it.
type packer struct {
	limit    int // compressed bytes per call
	rawLimit int // uncompressed bytes per call
}

// worst is the largest deflate output for n input bytes plus a sync flush:
// stored blocks of at most 65,535 bytes with 5-byte headers, and slack for
// block boundaries.
func worst(n int) int { return n + 5*(n/16384+2) + 5 }

// trailer bounds what the worst case leaves out: the 10-byte gzip header
// (before the first flush), the final block and the 8-byte gzip trailer.
const trailer = 32

var gzPool = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

// pack splits rows (with their batch indexes) into calls. A row that
// cannot fit even alone is returned in tooBig.
func (p packer) pack(rows [][]byte, idx []int) (calls []call, tooBig []int) {
	zw := gzPool.Get().(*gzip.Writer)
	defer gzPool.Put(zw)
	var buf bytes.Buffer
	var cur call
	flushedAt, pending := 0, 0 // L and U
	start := func() {
		buf = bytes.Buffer{}
		buf.Grow(p.limit + 4096)
		zw.Reset(&buf)
		_, _ = zw.Write([]byte{'['})
		cur = call{raw: 1}
		pending = 1
		flushedAt = 0
	}
	finish := func() {
		_, _ = zw.Write([]byte{']'})
		_ = zw.Close()
		cur.body = buf.Bytes()
		calls = append(calls, cur)
	}
	fits := func(n int) bool {
		return flushedAt+worst(pending+n)+trailer <= p.limit && cur.raw+n+1 <= p.rawLimit
	}
	start()
	for i, row := range rows {
		n := len(row) + 1 // the comma or closing bracket
		if !fits(n) && pending > 0 {
			_ = zw.Flush()
			flushedAt, pending = buf.Len(), 0
		}
		if !fits(n) {
			if len(cur.idx) > 0 {
				finish()
				start()
			}
			if !fits(n) {
				// Alone and over the worst case: it may still compress under
				// the limit; try it in a call of its own.
				single, ok := p.alone(row)
				if !ok {
					tooBig = append(tooBig, idx[i])
					continue
				}
				calls = append(calls, call{body: single, idx: []int{idx[i]}, raw: len(row) + 2})
				continue
			}
		}
		if len(cur.idx) > 0 {
			_, _ = zw.Write([]byte{','})
		}
		_, _ = zw.Write(row)
		cur.idx = append(cur.idx, idx[i])
		cur.raw += n
		pending += n
	}
	if len(cur.idx) > 0 {
		finish()
	}
	return calls, tooBig
}

// alone compresses one row as its own call and reports whether it fits.
func (p packer) alone(row []byte) ([]byte, bool) {
	if len(row)+2 > p.rawLimit {
		return nil, false
	}
	body, err := gzipRows([][]byte{row})
	if err != nil || len(body) > p.limit {
		return nil, false
	}
	return body, true
}

// gzipRows compresses rows as one JSON array.
func gzipRows(rows [][]byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzPool.Get().(*gzip.Writer)
	defer gzPool.Put(zw)
	zw.Reset(&buf)
	_, _ = zw.Write([]byte{'['})
	for i, r := range rows {
		if i > 0 {
			_, _ = zw.Write([]byte{','})
		}
		_, _ = zw.Write(r)
	}
	_, _ = zw.Write([]byte{']'})
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
