package posture

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// historyBucket is the state-file bucket that keeps past scores, keyed by
// the run time (big-endian Unix nanoseconds) so a cursor walks them in
// time order.
var historyBucket = []byte("posture/history")

// MaxHistory bounds the points kept; the oldest are dropped first (a daily
// schedule keeps over five years).
const MaxHistory = 2000

// HistoryPoint is one past run's score.
type HistoryPoint struct {
	At     time.Time `json:"at"`
	Domain string    `json:"domain,omitempty"`
	Score  Score     `json:"score"`
}

// Point is the run's history point.
func (r Run) Point() HistoryPoint { return HistoryPoint{At: r.At, Domain: r.Domain, Score: r.Score} }

// SaveHistory appends a point in a state-file transaction (so it commits
// with the run's queued findings) and drops points beyond MaxHistory.
func SaveHistory(tx *bolt.Tx, p HistoryPoint) error {
	b, err := tx.CreateBucketIfNotExists(historyBucket)
	if err != nil {
		return fmt.Errorf("posture: history bucket: %w", err)
	}
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("posture: encode history point: %w", err)
	}
	key := make([]byte, 8)
	binary.BigEndian.PutUint64(key, uint64(p.At.UnixNano()))
	if err := b.Put(key, body); err != nil {
		return fmt.Errorf("posture: save history point: %w", err)
	}
	n := 0
	c := b.Cursor()
	for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
		n++
	}
	for k, _ := c.First(); k != nil && n > MaxHistory; k, _ = c.First() {
		if err := c.Delete(); err != nil {
			return fmt.Errorf("posture: trim history: %w", err)
		}
		n--
	}
	return nil
}

// History reads up to limit most recent points (all when limit <= 0),
// oldest first. A point that does not decode is skipped and counted in
// bad (a state file written by a future version must not stop a report).
func History(db *bolt.DB, limit int) (points []HistoryPoint, bad int, err error) {
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(historyBucket)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil && (limit <= 0 || len(points) < limit); k, v = c.Prev() {
			var p HistoryPoint
			if err := json.Unmarshal(v, &p); err != nil {
				bad++
				continue
			}
			points = append(points, p)
		}
		return nil
	})
	for i, j := 0, len(points)-1; i < j; i, j = i+1, j-1 {
		points[i], points[j] = points[j], points[i]
	}
	return points, bad, err
}
