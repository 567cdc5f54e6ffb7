package respond

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// JournalEntry is one enforced action as the journal keeps it: the record,
// where it acted and how to reverse it.
type JournalEntry struct {
	Action        schema.Action `json:"action"`
	Directory     string        `json:"directory"`
	Key           string        `json:"key"` // DN or object id
	Undo          *Undo         `json:"undo,omitempty"`
	NotReversible string        `json:"not_reversible,omitempty"`
}

// Journal keeps the sliding rate-limit window and the enforced actions
// (for undo). A file journal is a bbolt file opened only for the duration
// of each operation, so the daemon and an operator's CLI share it; a
// memory journal lasts as long as the process.
type Journal struct {
	path string

	mu  sync.Mutex
	mem map[string][]byte // bucket "\x00" key → value (memory journal)
}

const (
	bucketActions = "actions"
	bucketRate    = "rate"
	rateWindow    = time.Hour
	globalKey     = "global"
	lockTimeout   = 10 * time.Second
)

// OpenJournal returns the journal in the file at path, creating it.
func OpenJournal(path string) (*Journal, error) {
	j := &Journal{path: path}
	if err := j.update(func(journalKV) error { return nil }); err != nil {
		return nil, err
	}
	return j, nil
}

// MemoryJournal returns a journal that lives in memory.
func MemoryJournal() *Journal { return &Journal{mem: map[string][]byte{}} }

// journalKV is the tiny store the journal needs.
type journalKV interface {
	get(bucket, key string) []byte
	put(bucket, key string, v []byte) error
}

type memKV map[string][]byte

func (m memKV) get(b, k string) []byte { return m[b+"\x00"+k] }
func (m memKV) put(b, k string, v []byte) error {
	m[b+"\x00"+k] = v
	return nil
}

type boltKV struct{ tx *bolt.Tx }

func (b boltKV) get(bucket, key string) []byte {
	bk := b.tx.Bucket([]byte(bucket))
	if bk == nil {
		return nil
	}
	return append([]byte(nil), bk.Get([]byte(key))...)
}

func (b boltKV) put(bucket, key string, v []byte) error {
	bk, err := b.tx.CreateBucketIfNotExists([]byte(bucket))
	if err != nil {
		return err
	}
	return bk.Put([]byte(key), v)
}

// update runs fn in one write transaction.
func (j *Journal) update(fn func(journalKV) error) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.mem != nil {
		return fn(memKV(j.mem))
	}
	db, err := bolt.Open(j.path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		return fmt.Errorf("response journal %s: %w", j.path, err)
	}
	defer db.Close()
	return db.Update(func(tx *bolt.Tx) error { return fn(boltKV{tx}) })
}

// window reads a rate-limit key's times within the hour before now.
func window(kv journalKV, key string, now time.Time) []time.Time {
	var ts []time.Time
	_ = json.Unmarshal(kv.get(bucketRate, key), &ts)
	out := ts[:0]
	for _, t := range ts {
		if now.Sub(t) < rateWindow && !t.After(now) {
			out = append(out, t)
		}
	}
	return out
}

// Allow reports (as an error starting "rate limit") whether one more
// enforced action fits: fewer than perHour in the last hour overall and,
// for a rule, fewer than perRule for that rule. 0 means no cap.
func (j *Journal) Allow(now time.Time, rule string, perHour, perRule int) error {
	var err error
	uerr := j.update(func(kv journalKV) error {
		if n := len(window(kv, globalKey, now)); perHour > 0 && n >= perHour {
			err = fmt.Errorf("rate limit: %d enforced actions in the last hour (response.rate_limit.per_hour: %d)", n, perHour)
			return nil
		}
		if rule != "" && perRule > 0 {
			if n := len(window(kv, "rule:"+rule, now)); n >= perRule {
				err = fmt.Errorf("rate limit: rule %s ran %d enforced actions in the last hour (response.rate_limit.per_rule_per_hour: %d)", rule, n, perRule)
			}
		}
		return nil
	})
	return errors.Join(uerr, err)
}

// count adds one action at now to the global and rule windows.
func count(kv journalKV, now time.Time, rule string) error {
	keys := []string{globalKey}
	if rule != "" {
		keys = append(keys, "rule:"+rule)
	}
	for _, k := range keys {
		b, err := json.Marshal(append(window(kv, k, now), now))
		if err != nil {
			return err
		}
		if err := kv.put(bucketRate, k, b); err != nil {
			return err
		}
	}
	return nil
}

// Count adds one enforced action at now to the rate-limit windows.
func (j *Journal) Count(now time.Time, rule string) error {
	return j.update(func(kv journalKV) error { return count(kv, now, rule) })
}

// Record stores an enforced action and, when counted, adds it to the
// rate-limit windows (global, and rule's when not empty), in one
// transaction.
func (j *Journal) Record(e JournalEntry, rule string, counted bool) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return j.update(func(kv journalKV) error {
		if counted {
			if err := count(kv, e.Action.Timestamp, rule); err != nil {
				return err
			}
		}
		return kv.put(bucketActions, e.Action.ID, b)
	})
}

// Get returns the enforced action with id.
func (j *Journal) Get(id string) (JournalEntry, error) {
	var e JournalEntry
	var raw []byte
	if err := j.update(func(kv journalKV) error { raw = kv.get(bucketActions, id); return nil }); err != nil {
		return e, err
	}
	if raw == nil {
		return e, fmt.Errorf("action %s: %w", id, ErrNotFound)
	}
	return e, json.Unmarshal(raw, &e)
}

// OperatorTrigger is the trigger of an operator's action.
func OperatorTrigger(name string) string { return "operator:" + name }
