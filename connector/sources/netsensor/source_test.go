package netsensor

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/castellan-itdr/castellan/internal/corpus"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// recorder is a consumer that keeps batches and serves committed checkpoints.
type recorder struct {
	mu     sync.Mutex
	events []schema.Event
	cps    map[string][]byte
	block  chan struct{} // when set, ConsumeBatch waits on it (or ctx)
}

func (r *recorder) ConsumeBatch(ctx context.Context, b component.Batch) error {
	if r.block != nil {
		select {
		case <-r.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, b.Events...)
	for _, c := range b.Checkpoints {
		r.cps[c.Key] = c.Value
	}
	return nil
}

func (r *recorder) Checkpoint(key string) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cps[key], nil
}

func newRecorder() *recorder { return &recorder{cps: map[string][]byte{}} }

func newTestSource(t *testing.T, r *recorder, paths ...string) *Source {
	t.Helper()
	cfg := NewDefaultConfig()
	cfg.Paths = paths
	cfg.BatchSize = 3
	s, err := New(cfg, component.SourceSettings{ID: "netsensor/test", Next: r, Checkpoints: r})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func waitDone(t *testing.T, s *Source) {
	t.Helper()
	select {
	case <-s.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("source not done")
	}
}

func TestSourceReadsAndCheckpoints(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"kerberos-as.pcap", "ldap-recon.pcap"} {
		b, err := os.ReadFile(filepath.Join(samplesDir, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a capture"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newRecorder()
	s := newTestSource(t, r, dir)
	if err := s.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	waitDone(t, s)
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, n := range []string{"kerberos-as.pcap", "ldap-recon.pcap"} {
		evs, _ := readSample(t, n)
		want += len(evs)
	}
	if len(r.events) != want {
		t.Fatalf("events: got %d want %d", len(r.events), want)
	}
	for _, n := range []string{"kerberos-as.pcap", "ldap-recon.pcap"} {
		var p position
		if err := json.Unmarshal(r.cps[CheckpointKey(filepath.Join(dir, n))], &p); err != nil || !p.Complete || p.Packets == 0 {
			t.Fatalf("%s: checkpoint %+v %v", n, p, err)
		}
	}
	// A restart with the committed checkpoints reads nothing again.
	before := len(r.events)
	s2 := newTestSource(t, r, dir)
	if err := s2.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	waitDone(t, s2)
	_ = s2.Shutdown(context.Background())
	if len(r.events) != before {
		t.Fatalf("re-read %d events after restart", len(r.events)-before)
	}
}

// A checkpoint in the middle of a file resumes after the packets handed off.
func TestSourceResumesMidFile(t *testing.T) {
	path, _ := filepath.Abs(filepath.Join(samplesDir, "ldap-recon.pcap"))
	all, _ := readSample(t, "ldap-recon.pcap")
	r := newRecorder()
	fi, _ := os.Stat(path)
	dev, ino := fileIdentity(fi)
	// Packets up to the second connection's start (packet 11) were handed off.
	v, _ := json.Marshal(position{Dev: dev, Ino: ino, Size: fi.Size(), Packets: 11})
	r.cps[CheckpointKey(path)] = v
	s := newTestSource(t, r, path)
	if err := s.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	waitDone(t, s)
	_ = s.Shutdown(context.Background())
	if len(r.events) == 0 || len(r.events) >= len(all) {
		t.Fatalf("resumed read gave %d events of %d", len(r.events), len(all))
	}
	ids := map[string]bool{}
	for _, ev := range all {
		ids[ev.ID] = true
	}
	for _, ev := range r.events {
		if !ids[ev.ID] {
			t.Errorf("resumed event %s (%s) has an id a full read does not give", ev.ID, ev.Event.Kind)
		}
	}
}

func TestSourceLifecycle(t *testing.T) {
	path := filepath.Join(samplesDir, "ldap-recon.pcap")
	t.Run("shutdown without start", func(t *testing.T) {
		s := newTestSource(t, newRecorder(), path)
		if err := s.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := s.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		<-s.Done()
		if err := s.Start(context.Background(), nil); err == nil {
			t.Fatal("start after shutdown accepted")
		}
	})
	t.Run("start and shutdown twice", func(t *testing.T) {
		s := newTestSource(t, newRecorder(), path)
		if err := s.Start(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		if err := s.Start(context.Background(), nil); err == nil {
			t.Fatal("second start accepted")
		}
		waitDone(t, s)
		for range 2 {
			if err := s.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("shutdown with pending data", func(t *testing.T) {
		r := newRecorder()
		r.block = make(chan struct{})
		s := newTestSource(t, r, path)
		if err := s.Start(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		err := s.Shutdown(ctx)
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatal(err)
		}
		<-s.Done()
		if len(r.cps) != 0 {
			t.Fatal("checkpoint committed without hand-off")
		}
	})
	t.Run("config errors", func(t *testing.T) {
		cfg := NewDefaultConfig()
		cfg.Follow = true
		cfg.BPF = "tcp port 88"
		err := cfg.Validate()
		for _, want := range []string{"paths:", "follow:", "bpf:"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("want %q in %v", want, err)
			}
		}
	})
}

// Every real capture of the OTRF lateral-movement set reads to its end.
func TestOTRFCorpus(t *testing.T) {
	dir := corpus.Dir(t, "otrf-lateral-movement", "network")
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) == 0 {
		t.Fatalf("no captures in %s", dir)
	}
	total := map[schema.EventKind]int64{}
	var packets, malformed, panics, damaged int64
	for _, f := range files {
		st, err := ReadFile(f, func(schema.Event) {}, Options{})
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		// Some captures end in a cut-off record (the capture was stopped
		// mid-write): counted as damage at the tail, the rest is read.
		if st.Damage != "" {
			if !strings.Contains(st.Damage, "unexpected EOF") {
				t.Errorf("%s: %s", filepath.Base(f), st.Damage)
			}
			damaged++
		}
		packets += st.Packets
		malformed += st.Dissect.Malformed
		panics += st.Panics
		for k, v := range st.EventsByKind {
			total[k] += v
		}
	}
	if panics != 0 {
		t.Errorf("%d dissector panics", panics)
	}
	kinds := make([]string, 0, len(total))
	for k, v := range total {
		kinds = append(kinds, string(k)+"="+itoa(v))
	}
	sort.Strings(kinds)
	t.Logf("%d files (%d cut off at the end), %d packets, %d malformed messages, events: %s", len(files), damaged, packets, malformed, strings.Join(kinds, " "))
}

func itoa(v int64) string { b, _ := json.Marshal(v); return string(b) }
