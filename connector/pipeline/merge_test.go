package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// secEvent is one Security event as a Winlogbeat-shaped JSON line.
func secEvent(host string, rec int, at time.Time, id int, user string) string {
	m := map[string]any{
		"EventID": id, "Channel": "Security", "SourceName": "Microsoft-Windows-Security-Auditing",
		"Hostname": host, "RecordNumber": rec, "@timestamp": at.Format(time.RFC3339Nano),
		"TargetUserName": user, "TargetDomainName": "CORP", "Status": "0x0",
		"TicketEncryptionType": "0x12", "TicketOptions": "0x40810010", "IpAddress": "::ffff:10.0.5.20", "IpPort": "50100",
	}
	if id == 4768 {
		m["ServiceName"], m["PreAuthType"] = "krbtgt", "2"
	} else {
		m["TargetUserName"], m["TargetDomainName"] = user+"@CORP.LOCAL", "CORP.LOCAL"
		m["ServiceName"], m["TransmittedServices"] = "FS01$", "-"
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func writeLines(t *testing.T, path string, lines ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// replayEvents replays paths and returns the normalized events in the order
// they were processed.
func replayEvents(t *testing.T, paths ...string) ([]schema.Event, ReplayStats, string) {
	t.Helper()
	proc, err := NewProcessor(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	var out, warn bytes.Buffer
	st, err := Replay(context.Background(), proc, paths, ReplayOptions{Events: true, Out: &out, Warn: &warn, BatchSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	var evs []schema.Event
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev schema.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	return evs, st, warn.String()
}

// TestReplayMergesInputsInTimeOrder: events of several files come out in
// event-time order (ties to the first file), each file's own order is kept
// even where it is not sorted, and counts and warnings of every file are
// kept — across many batch boundaries.
func TestReplayMergesInputsInTimeOrder(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	var a, b []string
	n := 3*mergeBatchEvents + 17 // several reader batches per file
	for i := 0; i < n; i++ {
		a = append(a, secEvent("DC01", i, t0.Add(time.Duration(2*i)*time.Second), 4768, fmt.Sprintf("a%d", i)))
		b = append(b, secEvent("DC02", i, t0.Add(time.Duration(2*i+1)*time.Second), 4768, fmt.Sprintf("b%d", i)))
	}
	// b's last event is older than its previous one (a file need not be
	// sorted; its order is kept), and one line is bad.
	b = append(b, "{not json", secEvent("DC02", n, t0.Add(-time.Hour), 4768, "late"))
	// c ties with a's first event: a comes first (listed first).
	c := []string{secEvent("DC03", 0, t0, 4768, "tie")}
	writeLines(t, filepath.Join(dir, "a.jsonl"), a...)
	writeLines(t, filepath.Join(dir, "b.jsonl"), b...)
	writeLines(t, filepath.Join(dir, "c.jsonl"), c...)

	evs, st, warn := replayEvents(t, dir)
	if st.Files != 3 || st.Events != 2*n+2 || st.Lines != 2*n+3 || st.DecodeErrors != 1 {
		t.Fatalf("stats = %+v", st)
	}
	if !strings.Contains(warn, "b.jsonl:") {
		t.Errorf("warning for the bad line missing: %q", warn)
	}
	if len(evs) != st.Events {
		t.Fatalf("%d events written, %d counted", len(evs), st.Events)
	}
	names := make([]string, len(evs))
	for i := range evs {
		names[i] = evs[i].User.Name
	}
	if names[0] != "a0" || names[1] != "tie" || names[2] != "b0" || names[3] != "a1" {
		t.Fatalf("merge starts %v, want [a0 tie b0 a1]", names[:4])
	}
	if names[len(names)-1] != "late" || names[len(names)-2] != fmt.Sprintf("b%d", n-1) {
		t.Fatalf("merge ends %v: b's unsorted last event must stay last", names[len(names)-2:])
	}
	for i := 1; i < len(evs)-1; i++ {
		if evs[i].Timestamp.Before(evs[i-1].Timestamp) {
			t.Fatalf("event %d (%s) before event %d (%s)", i, names[i], i-1, names[i-1])
		}
	}
}

// TestReplayMergeStopsOnCancelAndReadError: a cancelled context and an
// unreadable input end a merged replay with the error, and no reader is
// left running.
func TestReplayMergeStopsOnCancelAndReadError(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	var lines []string
	for i := 0; i < 5*mergeBatchEvents; i++ {
		lines = append(lines, secEvent("DC01", i, t0.Add(time.Duration(i)*time.Second), 4768, "u"))
	}
	writeLines(t, filepath.Join(dir, "a.jsonl"), lines...)
	writeLines(t, filepath.Join(dir, "b.jsonl"), lines...)
	before := runtime.NumGoroutine()
	proc, err := NewProcessor(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	if _, err := Replay(ctx, proc, []string{dir}, ReplayOptions{Out: &out}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled replay: err = %v", err)
	}
	// A file that cannot be read (a directory named like an input) is an
	// error of the merge, after the readable one started.
	bad := filepath.Join(dir, "zz.evtx")
	if err := os.WriteFile(bad, []byte("ElfFile\x00short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Replay(context.Background(), proc, []string{dir}, ReplayOptions{Out: &out}); err == nil || !strings.Contains(err.Error(), "zz.evtx") {
		t.Fatalf("replay with a broken EVTX: err = %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after the replays, %d before", n, before)
	}
}

// TestGoldenTicketAcrossDCLogs: with every DC's log replayed together, a
// service ticket on one DC whose TGT another DC issued is no golden ticket
// (not even with the DCs' clocks a minute apart), and a service ticket with
// no TGT on any DC is. Read one file after the other instead, the first
// case is a false alert: that is what the merge is for.
func TestGoldenTicketAcrossDCLogs(t *testing.T) {
	const rule = "golden-ticket-tgs-without-tgt"
	dir := t.TempDir()
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	at := func(h, m, s int) time.Time {
		return t0.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
	}
	dc01 := filepath.Join(dir, "dc01-security.jsonl")
	dc02 := filepath.Join(dir, "dc02-security.jsonl")
	writeLines(t, dc01,
		secEvent("DC01.corp.local", 1, at(0, 0, 0), 4768, "alice"),   // learning starts
		secEvent("DC01.corp.local", 2, at(11, 0, 30), 4769, "carol"), // TGT from DC02
		secEvent("DC01.corp.local", 3, at(11, 20, 0), 4769, "henry"), // TGT from DC02, clock a minute ahead
		secEvent("DC01.corp.local", 4, at(11, 30, 0), 4769, "dave"),  // no TGT anywhere: forged
		secEvent("DC01.corp.local", 5, at(12, 0, 0), 4768, "frank"),
	)
	writeLines(t, dc02,
		secEvent("DC02.corp.local", 1, at(0, 0, 10), 4768, "bob"),
		secEvent("DC02.corp.local", 2, at(11, 0, 0), 4768, "carol"),
		secEvent("DC02.corp.local", 3, at(11, 21, 0), 4768, "henry"),
		secEvent("DC02.corp.local", 4, at(11, 45, 0), 4768, "grace"),
	)
	cfg := config.Default()
	cfg.Detections.Disabled = nil // the rule is off by default
	cfg.Detections.DomainControllers = []string{"DC01", "DC02"}
	alerted := func(run func(p *Processor, emit func(schema.Record))) []string {
		p, err := NewProcessor(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var users []string
		run(p, func(r schema.Record) {
			if a, ok := r.(schema.Alert); ok && a.Rule.ID == rule {
				users = append(users, a.User.Name)
			}
		})
		return users
	}
	merged := alerted(func(p *Processor, emit func(schema.Record)) {
		if _, err := Replay(context.Background(), p, []string{dc01, dc02}, ReplayOptions{Out: &bytes.Buffer{}, OnRecord: emit}); err != nil {
			t.Fatal(err)
		}
	})
	if fmt.Sprint(merged) != "[dave]" {
		t.Errorf("merged replay: %s alerts for %v, want [dave]", rule, merged)
	}
	oneByOne := alerted(func(p *Processor, emit func(schema.Record)) {
		var st ReplayStats
		for _, path := range []string{dc01, dc02} {
			var evs []schema.Event
			if err := readInput(sniffedInput{path: path, format: FormatWinJSON}, &st, func(ev schema.Event) { evs = append(evs, ev) }, t.Logf); err != nil {
				t.Fatal(err)
			}
			p.Process(evs, emit)
		}
		p.Flush(emit)
	})
	if fmt.Sprint(oneByOne) != "[carol henry dave]" {
		t.Errorf("files one after another: alerts for %v, want [carol henry dave] (the false alerts the merge prevents)", oneByOne)
	}
}
