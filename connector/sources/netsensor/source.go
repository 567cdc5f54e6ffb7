package netsensor

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/telemetry"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// maxBackoff caps the wait between retries of a refused batch.
const maxBackoff = 30 * time.Second

// Source reads capture files (or a live interface) and hands the events to
// the pipeline. It implements component.Component; Start and Shutdown may
// be called from any goroutine.
type Source struct {
	cfg *Config
	set component.SourceSettings
	log *slog.Logger

	cEvents, cPackets, cMalformed, cDropped, cEncrypted, cSkippedFiles string
	cDNSQueries, cDNSEvents                                            string

	life *component.Lifecycle
}

// position is a file's checkpoint: its identity and the packets handed off.
type position struct {
	Dev     uint64 `json:"dev"`
	Ino     uint64 `json:"ino"`
	Size    int64  `json:"size"`
	Packets int64  `json:"packets"`
	// Complete is set once the whole file has been handed off.
	Complete bool `json:"complete"`
}

// CheckpointKey is the checkpoint key of a file: "file:" + absolute path.
func CheckpointKey(absPath string) string { return "file:" + absPath }

func newSource(cfg *Config, set component.SourceSettings) *Source {
	return &Source{
		cfg:           cfg,
		set:           set,
		log:           set.Logger.With("source", set.ID),
		cEvents:       telemetry.Key("source_events", "source", set.ID),
		cPackets:      telemetry.Key("source_packets", "source", set.ID),
		cMalformed:    telemetry.Key("source_malformed", "source", set.ID),
		cDropped:      telemetry.Key("source_dropped_bytes", "source", set.ID),
		cEncrypted:    telemetry.Key("source_encrypted_conversations", "source", set.ID),
		cSkippedFiles: telemetry.Key("source_skipped_files", "source", set.ID),
		cDNSQueries:   telemetry.Key("source_dns_queries", "source", set.ID),
		cDNSEvents:    telemetry.Key("source_dns_events", "source", set.ID),
		life:          component.NewLifecycle("netsensor"),
	}
}

// Start begins reading in the background and returns at once.
func (s *Source) Start(_ context.Context, _ component.Host) error {
	return s.life.Start(func() error {
		if s.cfg.Interface != "" && !liveAvailable {
			return ErrNoLive
		}
		return nil
	}, s.run)
}

// Done is closed when every file has been read and handed off, or after
// Shutdown. It never closes on its own for live capture.
func (s *Source) Done() <-chan struct{} { return s.life.Done() }

// Shutdown stops reading and waits for the in-flight hand-off, aborting it
// when ctx ends. Packets read but not accepted are read again after a
// restart. Safe without Start and safe twice.
func (s *Source) Shutdown(ctx context.Context) error { return s.life.Shutdown(ctx) }

func (s *Source) run() {
	if s.cfg.Interface != "" {
		s.live()
		return
	}
	for _, p := range s.expand() {
		if !s.readFile(p) {
			return
		}
	}
	s.life.Finish()
}

// send hands one batch over, retrying a refused one with backoff until it
// is accepted or the source stops.
func (s *Source) send(b component.Batch) bool {
	return component.Handoff{Next: s.set.Next, Stop: s.life.Stop(), Backoff: 100 * time.Millisecond,
		MaxBackoff: maxBackoff, Logger: s.log, Counters: s.set.Counters, EventsCounter: s.cEvents}.Send(s.life.Context(), b)
}

// expand returns the absolute capture files the paths name, sorted.
func (s *Source) expand() []string {
	out := map[string]bool{}
	for _, pat := range s.cfg.Paths {
		matches, _ := filepath.Glob(pat)
		for _, m := range matches {
			abs, err := filepath.Abs(m)
			if err != nil {
				continue
			}
			fi, err := os.Stat(abs)
			switch {
			case err != nil:
			case fi.Mode().IsRegular():
				out[abs] = true
			case fi.IsDir():
				_ = filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
					if err == nil && d.Type().IsRegular() {
						out[p] = true
					}
					return nil
				})
			}
		}
	}
	sorted := make([]string, 0, len(out))
	for p := range out {
		sorted = append(sorted, p)
	}
	sort.Strings(sorted)
	return sorted
}

func (s *Source) checkpoint(path string) *position {
	if s.set.Checkpoints == nil {
		return nil
	}
	v, err := s.set.Checkpoints.Checkpoint(CheckpointKey(path))
	if err != nil || v == nil {
		return nil
	}
	var p position
	if json.Unmarshal(v, &p) != nil {
		return nil
	}
	return &p
}

// readFile reads one capture, handing events off in batches, each with the
// file's position. It returns false when the source is stopping.
func (s *Source) readFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		s.log.Warn("netsensor: cannot open capture", "file", path, "error", err)
		s.set.Counters.Add(s.cSkippedFiles, 1)
		return true
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return true
	}
	dev, ino := fileIdentity(fi)
	pos := position{Dev: dev, Ino: ino, Size: fi.Size()}
	if cp := s.checkpoint(path); cp != nil && cp.Dev == dev && cp.Ino == ino && fi.Size() >= cp.Size {
		if cp.Complete && cp.Size == fi.Size() {
			return true
		}
		pos.Packets = cp.Packets
	}
	src, err := newPacketSource(f)
	if err != nil {
		s.log.Warn("netsensor: not a capture, skipped", "file", path, "error", err)
		s.set.Counters.Add(s.cSkippedFiles, 1)
		return true
	}
	var st Stats
	var events []schema.Event
	e := newEngine(s.options(),
		&st, func(ev schema.Event) { events = append(events, ev) })
	cpKey := CheckpointKey(path)
	flush := func(packets int64, complete bool) bool {
		p := pos
		p.Packets, p.Complete = packets, complete
		v, _ := json.Marshal(p)
		ok := s.send(component.Batch{Events: events, Checkpoints: []component.Checkpoint{{Key: cpKey, Value: v}}})
		clear(events)
		events = events[:0]
		return ok
	}
	defer s.report(&st)
	for i := int64(0); ; i++ {
		if s.life.Stopping() {
			return false
		}
		data, info, err := src.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			s.log.Warn("netsensor: damaged capture, rest of file skipped", "file", path, "packet", i, "error", err)
			break
		}
		if i >= pos.Packets {
			e.packet(data, info)
		}
		if len(events) >= s.cfg.BatchSize {
			if !flush(i+1, false) {
				return false
			}
		}
	}
	e.finish()
	return flush(st.Packets+pos.Packets, true)
}

// report adds a file's counters to the telemetry.
func (s *Source) report(st *Stats) { s.reportSince(st, &reported{}) }

// reported is what reportSince already added to the telemetry.
type reported struct {
	packets, malformed, dropped, encrypted, dnsQueries, dnsEvents int64
}

// reportSince adds to the telemetry what st counted since last, and
// records it in last (live capture reports every second).
func (s *Source) reportSince(st *Stats, last *reported) {
	now := reported{packets: st.Packets, malformed: st.Dissect.Malformed + st.Undecodable,
		dropped: st.Dissect.DroppedBytes, encrypted: st.Dissect.Encrypted,
		dnsQueries: st.Dissect.DNSQueries, dnsEvents: st.EventsByKind[schema.KindDNSQuery]}
	s.set.Counters.Add(s.cPackets, now.packets-last.packets)
	s.set.Counters.Add(s.cMalformed, now.malformed-last.malformed)
	s.set.Counters.Add(s.cDropped, now.dropped-last.dropped)
	s.set.Counters.Add(s.cEncrypted, now.encrypted-last.encrypted)
	s.set.Counters.Add(s.cDNSQueries, now.dnsQueries-last.dnsQueries)
	s.set.Counters.Add(s.cDNSEvents, now.dnsEvents-last.dnsEvents)
	*last = now
}

// options are the engine options of the configuration.
func (s *Source) options() Options { return s.cfg.options() }

// options are the engine options of a (validated) configuration.
func (c *Config) options() Options {
	dnsEvents, _ := c.dnsEvents() // validated by New
	return Options{StreamTimeout: c.StreamTimeout, MaxBufferedBytes: c.MaxBufferedBytes, DNSEvents: dnsEvents}
}

// DefaultOptions are the engine options of a default source configuration:
// offline replays use them, so a replay sees the events the daemon would
// (DNS: zone transfers only).
func DefaultOptions() Options { return NewDefaultConfig().options() }

// live captures until Shutdown, handing events off without checkpoints
// every BatchSize events or second.
func (s *Source) live() {
	var st Stats
	var last reported // counters already added to the telemetry
	var mu sync.Mutex
	var events []schema.Event
	e := newEngine(s.options(),
		&st, func(ev schema.Event) { events = append(events, ev) })
	cfg := *s.cfg
	if cfg.BPF == "" {
		cfg.BPF = DefaultBPF(e.reg)
	}
	errc := make(chan error, 1)
	go func() {
		errc <- capture(s.life.Context(), &cfg, func(data []byte, info packetInfo) {
			mu.Lock()
			e.packet(data, info)
			mu.Unlock()
		})
	}()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case err := <-errc:
			if err != nil {
				s.log.Error("netsensor: live capture stopped", "interface", cfg.Interface, "error", err)
			}
			return
		case <-s.life.Stop():
			s.life.Cancel()
			<-errc
			return
		case <-t.C:
		}
		mu.Lock()
		e.sweep(e.now.Add(-e.opts.StreamTimeout))
		batch := append([]schema.Event(nil), events...)
		events = events[:0]
		s.reportSince(&st, &last)
		mu.Unlock()
		if len(batch) > 0 && !s.send(component.Batch{Events: batch}) {
			return
		}
	}
}
