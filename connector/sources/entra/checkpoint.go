package entra

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"
)

// MaxRecent caps the ids a resource remembers for deduplication. Past it
// the oldest are forgotten (counted in source_recent_evicted); a record
// seen again after its id was forgotten would be handed off twice.
const MaxRecent = 200_000

// shortIDLen is the length of a remembered id: the first 16 hex digits
// (64 bits) of the event id.
const shortIDLen = 16

// resState is one resource's polling state: the committed watermark and
// the ids seen within the overlap window.
type resState struct {
	res *resource
	// since is the newest record time handed off; zero before any.
	since time.Time
	// recent maps short event ids to their record time (unix seconds).
	recent map[string]int64
}

// checkpoint is the JSON value of a resource's checkpoint.
type checkpoint struct {
	// Since is the newest record time handed off.
	Since time.Time `json:"since"`
	// Recent lists the short ids of records within the overlap window, by
	// record time in unix seconds.
	Recent map[string][]string `json:"recent,omitempty"`
}

func shortID(eventID string) string {
	if len(eventID) > shortIDLen {
		return eventID[:shortIDLen]
	}
	return eventID
}

// decodeState reads a committed checkpoint; nil or empty gives a fresh state.
func decodeState(res *resource, b []byte) (*resState, error) {
	st := &resState{res: res, recent: map[string]int64{}}
	if len(b) == 0 {
		return st, nil
	}
	var cp checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", CheckpointKey(res.name), err)
	}
	st.since = cp.Since.UTC()
	for ts, ids := range cp.Recent {
		t, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("checkpoint %s: recent time %q: %w", CheckpointKey(res.name), ts, err)
		}
		for _, id := range ids {
			st.recent[id] = t
		}
	}
	return st, nil
}

// encode returns the checkpoint the state would have after handing off
// pending with the watermark since.
func (st *resState) encode(since time.Time, pending map[string]int64) []byte {
	byTime := make(map[string][]string, 64)
	add := func(id string, t int64) {
		k := strconv.FormatInt(t, 10)
		byTime[k] = append(byTime[k], id)
	}
	for id, t := range st.recent {
		add(id, t)
	}
	for id, t := range pending {
		if _, dup := st.recent[id]; !dup {
			add(id, t)
		}
	}
	for _, ids := range byTime {
		sort.Strings(ids)
	}
	b, _ := json.Marshal(checkpoint{Since: since.UTC(), Recent: byTime})
	return b
}

// commit applies a handed-off batch to the state.
func (st *resState) commit(since time.Time, pending map[string]int64) {
	st.since = since
	for id, t := range pending {
		st.recent[id] = t
	}
}

// lower is the inclusive lower bound of the next query: the watermark
// minus overlap, or startAt before now for a fresh state.
func (st *resState) lower(now time.Time, overlap, startAt time.Duration) time.Time {
	if st.since.IsZero() {
		return now.Add(-startAt).UTC().Truncate(time.Second)
	}
	return st.since.Add(-overlap).UTC().Truncate(time.Second)
}

// prune forgets ids older than lower (no query reaches them any more) and,
// past MaxRecent, the oldest. It returns how many were evicted by the cap.
func (st *resState) prune(lower time.Time, max int) int {
	cut := lower.Unix() - 1
	for id, t := range st.recent {
		if t < cut {
			delete(st.recent, id)
		}
	}
	if len(st.recent) <= max {
		return 0
	}
	type kv struct {
		id string
		t  int64
	}
	all := make([]kv, 0, len(st.recent))
	for id, t := range st.recent {
		all = append(all, kv{id, t})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].t < all[j].t || all[i].t == all[j].t && all[i].id < all[j].id })
	n := len(all) - max
	for _, e := range all[:n] {
		delete(st.recent, e.id)
	}
	return n
}
