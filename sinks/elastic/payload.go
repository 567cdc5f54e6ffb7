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

// encoder builds payloads; it reuses its buffers (not safe for concurrent use).
type encoder struct {
	namespace string
	buf       bytes.Buffer
	enc       *json.Encoder
}

func newEncoder(namespace string) *encoder {
	e := &encoder{namespace: namespace}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}

// encodeItem appends the action and source lines of one item to e.buf.
func (e *encoder) encodeItem(it delivery.Item, ingested time.Time) (op string, err error) {
	doc, err := ecs.FromJSON(it.Kind, it.Body, ecs.Options{Namespace: e.namespace, Ingested: ingested})
	if err != nil {
		return "", err
	}
	op, index := Target(it.Kind, e.namespace)
	id, _ := json.Marshal(it.ID)
	e.buf.WriteString(`{"` + op + `":{"_index":"` + index + `","_id":`)
	e.buf.Write(id)
	e.buf.WriteString("}}\n")
	if err := e.enc.Encode(doc); err != nil { // Encode ends the line with \n
		return "", err
	}
	return op, nil
}

// parallelMin is the batch size from which items are encoded on several
// goroutines.
const parallelMin = 64

// encode turns a batch into _bulk requests. Items whose record cannot be
// decoded or mapped are reported in bad as permanent failures. Large
// batches are encoded on up to GOMAXPROCS goroutines, each with its own
// encoder.
func (e *encoder) encode(batch []delivery.Item, ingested time.Time, flushBytes int) payload {
	lines := make([][]byte, len(batch))
	ops := make([]string, len(batch))
	errs := make([]error, len(batch))
	encodeRange := func(enc *encoder, lo, hi int) {
		for i := lo; i < hi; i++ {
			enc.buf.Reset()
			ops[i], errs[i] = enc.encodeItem(batch[i], ingested)
			if errs[i] == nil {
				lines[i] = bytes.Clone(enc.buf.Bytes())
			}
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(batch)/parallelMin)
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

	var p payload
	var cur request
	flush := func() {
		if len(cur.index) > 0 {
			p.requests = append(p.requests, cur)
		}
		cur = request{}
	}
	for i, it := range batch {
		if errs[i] != nil {
			p.bad = append(p.bad, delivery.ItemError{Index: i, Err: delivery.Permanent(fmt.Errorf("elastic: encode %s %s: %w", it.Kind, it.ID, errs[i]))})
			continue
		}
		if len(cur.index) > 0 && flushBytes > 0 && len(cur.body)+len(lines[i]) > flushBytes {
			flush()
		}
		cur.body = append(cur.body, lines[i]...)
		cur.index = append(cur.index, i)
		cur.ops = append(cur.ops, ops[i])
	}
	flush()
	return p
}
