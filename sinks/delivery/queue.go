package delivery

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Item is one queued record: its kind, id, severity and body, and the
// format of the body.
type Item struct {
	Kind     string          `json:"k"`
	ID       string          `json:"i"`
	Severity schema.Severity `json:"s"`
	// Format names the encoding of Body. "" (FormatRecord) is the record's
	// schema JSON, as NewItem writes it and as every sink can read it. A
	// sink's encoder (EncodeFunc) may instead store the sink's own wire
	// payload under a format name of its own, so Push only frames bytes;
	// such a sink still reads FormatRecord items (queued before an upgrade,
	// or by another encoder).
	Format string          `json:"f,omitempty"`
	Body   json.RawMessage `json:"b"`
}

// FormatRecord is the Format of an item whose Body is the record's schema
// JSON.
const FormatRecord = ""

// EncodeFunc turns a typed record into the item a sink queues. A sink
// provides one to encode records once, when they are queued, into its own
// wire payload; the pipeline calls it once per record and sink. It must be
// safe for concurrent use and must keep the record's kind, id and severity.
type EncodeFunc func(r schema.Record) (Item, error)

// NewItem encodes a record as its schema JSON (FormatRecord).
func NewItem(r schema.Record) (Item, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return Item{}, fmt.Errorf("delivery: encode %s %s: %w", r.RecordKind(), r.RecordID(), err)
	}
	return Item{Kind: r.RecordKind(), ID: r.RecordID(), Severity: r.RecordSeverity(), Body: body}, nil
}

// Queue is one sink's durable FIFO in the state file: bucket
// "queue/<sink id>", keys are big-endian sequence numbers. Safe for
// concurrent use.
type Queue struct {
	db     *bolt.DB
	bucket []byte
	dead   []byte

	mu     sync.Mutex
	notify chan struct{}
}

// NewQueue opens (creating) the queue and dead-letter buckets of a sink.
func NewQueue(db *bolt.DB, sinkID string) (*Queue, error) {
	q := &Queue{
		db:     db,
		bucket: []byte("queue/" + sinkID),
		dead:   []byte("deadletter/" + sinkID),
		notify: make(chan struct{}, 1),
	}
	err := db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(q.bucket); err != nil {
			return err
		}
		_, err := tx.CreateBucketIfNotExists(q.dead)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("delivery: queue %s: %w", sinkID, err)
	}
	return q, nil
}

// EnqueueTx appends items inside the caller's transaction, so they become
// durable atomically with whatever else the caller writes. Call Notify after
// the transaction commits.
func (q *Queue) EnqueueTx(tx *bolt.Tx, items []Item) error {
	b := tx.Bucket(q.bucket)
	if b == nil {
		return fmt.Errorf("delivery: queue bucket %s missing", q.bucket)
	}
	for _, it := range items {
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		v, err := json.Marshal(it)
		if err != nil {
			return err
		}
		if err := b.Put(seqKey(seq), v); err != nil {
			return err
		}
	}
	return nil
}

// Enqueue appends items in a transaction of its own and notifies the sender.
func (q *Queue) Enqueue(items []Item) error {
	if err := q.db.Update(func(tx *bolt.Tx) error { return q.EnqueueTx(tx, items) }); err != nil {
		return err
	}
	q.Notify()
	return nil
}

// Notify wakes the sender after new items committed.
func (q *Queue) Notify() {
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// Len returns the number of queued items.
func (q *Queue) Len() int {
	n := 0
	_ = q.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(q.bucket); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n
}

// peek returns up to maxItems oldest items whose bodies add up to at most
// maxBytes (at least one item is always returned if any is queued).
func (q *Queue) peek(maxItems, maxBytes int) (keys [][]byte, items []Item, err error) {
	err = q.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(q.bucket).Cursor()
		size := 0
		for k, v := c.First(); k != nil && len(items) < maxItems; k, v = c.Next() {
			var it Item
			if err := json.Unmarshal(v, &it); err != nil {
				return fmt.Errorf("delivery: corrupt queue entry %x: %w", k, err)
			}
			if len(items) > 0 && size+len(it.Body) > maxBytes {
				break
			}
			size += len(it.Body)
			keys = append(keys, append([]byte(nil), k...))
			items = append(items, it)
		}
		return nil
	})
	return keys, items, err
}

// ack removes delivered items; dead, if non-nil, moves them to the
// dead-letter bucket instead, with the reason.
func (q *Queue) ack(keys [][]byte, items []Item, deadReason error) error {
	return q.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(q.bucket)
		d := tx.Bucket(q.dead)
		for i, k := range keys {
			if deadReason != nil {
				seq, _ := d.NextSequence()
				v, err := json.Marshal(DeadLetter{Item: items[i], Reason: deadReason.Error()})
				if err != nil {
					return err
				}
				if err := d.Put(seqKey(seq), v); err != nil {
					return err
				}
			}
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeadLetter is a permanently rejected item and why.
type DeadLetter struct {
	Item   Item   `json:"item"`
	Reason string `json:"reason"`
}

// DeadLetters lists a sink's dead-lettered items, oldest first.
func (q *Queue) DeadLetters() ([]DeadLetter, error) {
	var out []DeadLetter
	err := q.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(q.dead).ForEach(func(k, v []byte) error {
			var d DeadLetter
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			out = append(out, d)
			return nil
		})
	})
	return out, err
}

// ReplayDeadLetters moves every dead-lettered item back to the end of the
// queue, for delivery after the cause was fixed. It returns how many moved.
func (q *Queue) ReplayDeadLetters() (int, error) {
	n := 0
	err := q.db.Update(func(tx *bolt.Tx) error {
		d := tx.Bucket(q.dead)
		var items []Item
		var keys [][]byte
		err := d.ForEach(func(k, v []byte) error {
			var dl DeadLetter
			if err := json.Unmarshal(v, &dl); err != nil {
				return fmt.Errorf("delivery: corrupt dead letter %x: %w", k, err)
			}
			items = append(items, dl.Item)
			keys = append(keys, append([]byte(nil), k...))
			return nil
		})
		if err != nil {
			return err
		}
		if err := q.EnqueueTx(tx, items); err != nil {
			return err
		}
		for _, k := range keys {
			if err := d.Delete(k); err != nil {
				return err
			}
		}
		n = len(items)
		return nil
	})
	if err == nil && n > 0 {
		q.Notify()
	}
	return n, err
}

// QueueIDs lists the sink ids that have a queue in db.
func QueueIDs(db *bolt.DB) ([]string, error) {
	var ids []string
	err := db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			if id, ok := strings.CutPrefix(string(name), "queue/"); ok {
				ids = append(ids, id)
			}
			return nil
		})
	})
	return ids, err
}

func seqKey(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}
