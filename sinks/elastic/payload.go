package elastic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/castellan-itdr/castellan/mappings/ecs"
	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/sinks/delivery"
)

// Bulk operations.
const (
	opCreate = "create"
	opIndex  = "index"
)

// Target returns the bulk op and the data stream or index a record kind is
// written to in a namespace.
func Target(kind, namespace string) (op, index string) {
	switch kind {
	case schema.RecordIncident:
		return opIndex, ecs.IncidentIndex(namespace)
	case schema.RecordEvent:
		return opCreate, ecs.DataStreamName(ecs.DatasetEvent, namespace)
	case schema.RecordFinding:
		return opCreate, ecs.DataStreamName(ecs.DatasetFinding, namespace)
	case schema.RecordAction:
		return opCreate, ecs.DataStreamName(ecs.DatasetAction, namespace)
	default:
		return opCreate, ecs.DataStreamName(ecs.DatasetAlert, namespace)
	}
}

// payload is a batch encoded as _bulk NDJSON, split into requests of at
// most flushBytes (a single larger item gets a request of its own).
type payload struct {
	requests []request
	// bad holds the items that could not be encoded (never sent).
	bad []delivery.ItemError
}

// request is one _bulk body and which batch items it carries, in order.
type request struct {
	body  []byte
	index []int // batch index of each item in body
	ops   []string
}

// Format is the delivery.Item format Encode writes: the record's ECS
// document as JSON without data_stream and event.ingested, which Push adds
// from the sink's namespace and the time of the push (the External Alerts
// rule windows on event.ingested, so it must be the hand-off time, not the
// time the record was queued).
const Format = "ecs/1"

// Encode maps a record onto its ECS document once, when it is queued, so
// Push only frames bytes. Its _id stays the record id.
func Encode(r schema.Record) (delivery.Item, error) {
	doc, err := ecs.FromRecord(r, ecs.Options{})
	if err != nil {
		return delivery.Item{}, fmt.Errorf("elastic: encode %s %s: %w", r.RecordKind(), r.RecordID(), err)
	}
	body, err := doc.AppendJSON(make([]byte, 0, 1536))
	if err != nil {
		return delivery.Item{}, fmt.Errorf("elastic: encode %s %s: %w", r.RecordKind(), r.RecordID(), err)
	}
	return delivery.Item{Kind: r.RecordKind(), ID: r.RecordID(), Severity: r.RecordSeverity(), Format: Format, Body: body}, nil
}

// encoder builds payloads; it reuses its buffers (not safe for concurrent use).
type encoder struct {
	namespace string
	buf       bytes.Buffer
	// ingested is the event.ingested value of the last encoded item, as
	// JSON, and when; streams holds the data_stream object per dataset.
	ingested     time.Time
	ingestedJSON []byte
	streams      map[string][]byte
}

func newEncoder(namespace string) *encoder {
	return &encoder{namespace: namespace}
}

// encodeItem appends the action and source lines of one item to e.buf.
func (e *encoder) encodeItem(it delivery.Item, ingested time.Time) (op string, err error) {
	op, index := Target(it.Kind, e.namespace)
	switch it.Format {
	case delivery.FormatRecord:
		// Queued before records were encoded at enqueue (or by a generic
		// encoder): decode and map it here.
		doc, err := ecs.FromJSON(it.Kind, it.Body, ecs.Options{Namespace: e.namespace, Ingested: ingested})
		if err != nil {
			return "", err
		}
		e.action(op, index, it.ID)
		line, err := doc.AppendJSON(e.buf.AvailableBuffer())
		if err != nil {
			return "", err
		}
		e.buf.Write(line)
		e.buf.WriteByte('\n')
	case Format:
		b, err := e.appendFramed(e.buf.AvailableBuffer(), it, op, index, ingested)
		if err != nil {
			return "", err
		}
		e.buf.Write(b)
	default:
		return "", fmt.Errorf("unknown item format %q", it.Format)
	}
	return op, nil
}

// appendFramed appends the action and source lines of an item in Format:
// its document with data_stream and event.ingested spliced in.
func (e *encoder) appendFramed(dst []byte, it delivery.Item, op, index string, ingested time.Time) ([]byte, error) {
	doc := it.Body
	i, j, err := eventBounds(doc)
	if err != nil {
		return dst, err
	}
	dst = append(dst, `{"`...)
	dst = append(dst, op...)
	dst = append(dst, `":{"_index":"`...)
	dst = append(dst, index...)
	dst = append(dst, `","_id":`...)
	if plainID(it.ID) {
		dst = append(append(append(dst, '"'), it.ID...), '"')
	} else {
		idJSON, _ := json.Marshal(it.ID)
		dst = append(dst, idJSON...)
	}
	dst = append(dst, "}}\n"...)
	dst = append(dst, doc[:i]...)
	dst = append(dst, e.dataStream(it.Kind)...)
	dst = append(dst, doc[i:j]...)
	if !ingested.IsZero() {
		dst = append(dst, `,"ingested":`...)
		dst = append(dst, e.ingestedAt(ingested)...)
	}
	dst = append(dst, doc[j:]...)
	return append(dst, '\n'), nil
}

// plainID reports whether id needs no JSON escaping (the hex ids records
// carry).
func plainID(id string) bool {
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

func (e *encoder) action(op, index, id string) {
	idJSON, _ := json.Marshal(id)
	e.buf.WriteString(`{"` + op + `":{"_index":"` + index + `","_id":`)
	e.buf.Write(idJSON)
	e.buf.WriteString("}}\n")
}

// eventBounds finds, in a document written by Encode, where the top-level
// "event" key starts (i) and the closing brace of its object (j). The
// document's earlier members (@timestamp, message, labels, tags, ecs) hold
// only strings and flat objects of strings, so the first `,"event":{` is
// the top-level one; the event object holds strings, numbers and arrays of
// strings, never an object.
func eventBounds(doc []byte) (i, j int, err error) {
	const key = `,"event":{`
	k := bytes.Index(doc, []byte(key))
	if k < 0 {
		return 0, 0, fmt.Errorf("queued %s document has no event object", Format)
	}
	for p := k + len(key); p < len(doc); p++ {
		switch doc[p] {
		case '"':
			for p++; p < len(doc) && doc[p] != '"'; p++ {
				if doc[p] == '\\' {
					p++
				}
			}
		case '{':
			return 0, 0, fmt.Errorf("queued %s document has a nested object in event", Format)
		case '}':
			return k + 1, p, nil
		}
	}
	return 0, 0, fmt.Errorf("queued %s document is truncated", Format)
}

// dataStream returns the data_stream member (with its trailing comma) for
// a record kind written to a data stream in the namespace, nil otherwise:
// what ecs.Options.Namespace adds.
func (e *encoder) dataStream(kind string) []byte {
	if kind == schema.RecordIncident || e.namespace == "" {
		return nil
	}
	ds := datasets[kind]
	if ds == "" {
		ds = ecs.DatasetAlert
	}
	if b, ok := e.streams[ds]; ok {
		return b
	}
	v, _ := json.Marshal(ecs.DataStream{Type: "logs", Dataset: ds, Namespace: e.namespace})
	b := append(append([]byte(`"data_stream":`), v...), ',')
	if e.streams == nil {
		e.streams = map[string][]byte{}
	}
	e.streams[ds] = b
	return b
}

// datasets maps record kinds to their data stream datasets, as Target does.
var datasets = map[string]string{
	schema.RecordEvent:   ecs.DatasetEvent,
	schema.RecordAlert:   ecs.DatasetAlert,
	schema.RecordFinding: ecs.DatasetFinding,
	schema.RecordAction:  ecs.DatasetAction,
}

// ingestedAt returns t in UTC as JSON, cached for the batch.
func (e *encoder) ingestedAt(t time.Time) []byte {
	if e.ingestedJSON == nil || !t.Equal(e.ingested) {
		e.ingested = t
		e.ingestedJSON, _ = t.UTC().MarshalJSON()
	}
	return e.ingestedJSON
}

// parallelMin is the batch size from which items are encoded on several
// goroutines.
const parallelMin = 64

// encode turns a batch into _bulk requests. Items whose record cannot be
// decoded or mapped are reported in bad as permanent failures. Large
// batches of FormatRecord items are encoded on up to GOMAXPROCS
// goroutines, each with its own encoder; items in Format are only framed.
func (e *encoder) encode(batch []delivery.Item, ingested time.Time, flushBytes int) payload {
	lines := make([][]byte, len(batch))
	ops := make([]string, len(batch))
	errs := make([]error, len(batch))
	encodeRange := func(enc *encoder, lo, hi int) {
		for i := lo; i < hi; i++ {
			if batch[i].Format == Format {
				continue // framed below, straight into the request body
			}
			enc.buf.Reset()
			ops[i], errs[i] = enc.encodeItem(batch[i], ingested)
			if errs[i] == nil {
				lines[i] = bytes.Clone(enc.buf.Bytes())
			}
		}
	}
	slow, size := 0, 0
	for i := range batch {
		if batch[i].Format != Format {
			slow++
		}
		size += len(batch[i].Body) + 256
	}
	workers := min(runtime.GOMAXPROCS(0), slow/parallelMin)
	if workers <= 1 {
		encodeRange(e, 0, len(batch))
	} else {
		var wg sync.WaitGroup
		for w := range workers {
			lo, hi := w*len(batch)/workers, (w+1)*len(batch)/workers
			enc := e
			if w > 0 {
				enc = newEncoder(e.namespace)
			}
			wg.Go(func() { encodeRange(enc, lo, hi) })
		}
		wg.Wait()
	}
	if flushBytes > 0 {
		size = min(size, flushBytes+flushBytes/8)
	}

	var p payload
	cur := request{body: make([]byte, 0, size)}
	// flush ends the current request; the next one gets its buffer when
	// it has a line (none after the last flush).
	flush := func() {
		if len(cur.index) > 0 {
			p.requests = append(p.requests, cur)
			cur = request{}
		}
	}
	grow := func() {
		if cur.body == nil {
			cur.body = make([]byte, 0, size)
		}
	}
	for i, it := range batch {
		if it.Format == Format && errs[i] == nil {
			op, index := Target(it.Kind, e.namespace)
			grow()
			start := len(cur.body)
			var err error
			if cur.body, err = e.appendFramed(cur.body, it, op, index, ingested); err != nil {
				cur.body, errs[i] = cur.body[:start], err
			} else {
				if len(cur.index) > 0 && flushBytes > 0 && len(cur.body) > flushBytes {
					line := bytes.Clone(cur.body[start:])
					cur.body = cur.body[:start]
					flush()
					grow()
					cur.body = append(cur.body, line...)
				}
				cur.index = append(cur.index, i)
				cur.ops = append(cur.ops, op)
				continue
			}
		}
		if errs[i] != nil {
			p.bad = append(p.bad, delivery.ItemError{Index: i, Err: delivery.Permanent(fmt.Errorf("elastic: encode %s %s: %w", it.Kind, it.ID, errs[i]))})
			continue
		}
		if len(cur.index) > 0 && flushBytes > 0 && len(cur.body)+len(lines[i]) > flushBytes {
			flush()
		}
		grow()
		cur.body = append(cur.body, lines[i]...)
		cur.index = append(cur.index, i)
		cur.ops = append(cur.ops, ops[i])
	}
	flush()
	return p
}
