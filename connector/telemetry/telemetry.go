// Package telemetry holds the connector's counters: named, labelled monotonic
// counts that components raise instead of logging per-event problems.
package telemetry

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Counters is a set of named counters. The zero value is not usable; use New.
// Safe for concurrent use.
type Counters struct {
	mu sync.RWMutex
	m  map[string]*atomic.Int64
}

// New returns an empty counter set.
func New() *Counters { return &Counters{m: map[string]*atomic.Int64{}} }

// Key builds a counter name from a base name and label pairs:
// Key("source_errors", "source", "winjson/a") = `source_errors{source="winjson/a"}`.
func Key(name string, labels ...string) string {
	if len(labels) == 0 {
		return name
	}
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('{')
	for i := 0; i+1 < len(labels); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(labels[i])
		b.WriteString(`="`)
		b.WriteString(labels[i+1])
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// Get returns the counter for name, creating it at zero.
func (c *Counters) Get(name string) *atomic.Int64 {
	c.mu.RLock()
	v := c.m[name]
	c.mu.RUnlock()
	if v != nil {
		return v
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v = c.m[name]; v == nil {
		v = new(atomic.Int64)
		c.m[name] = v
	}
	return v
}

// Add adds delta to the named counter. A nil *Counters ignores the call.
func (c *Counters) Add(name string, delta int64) {
	if c == nil {
		return
	}
	c.Get(name).Add(delta)
}

// Value reads a counter (0 if it was never raised).
func (c *Counters) Value(name string) int64 {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if v := c.m[name]; v != nil {
		return v.Load()
	}
	return 0
}

// Snapshot returns every counter, sorted by name.
func (c *Counters) Snapshot() []Sample {
	c.mu.RLock()
	out := make([]Sample, 0, len(c.m))
	for k, v := range c.m {
		out = append(out, Sample{Name: k, Value: v.Load()})
	}
	c.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Sample is one counter reading.
type Sample struct {
	Name  string
	Value int64
}
