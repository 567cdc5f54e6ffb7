package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/castellan-itdr/castellan/connector/sources/netsensor"
	"github.com/castellan-itdr/castellan/connector/sources/tail"
	"github.com/castellan-itdr/castellan/mappings/entra"
	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/mappings/windows"
	"github.com/castellan-itdr/castellan/mappings/windows/evtx"
)

// Input formats recognized by content.
const (
	FormatWinJSON = "winjson" // JSON lines of Windows events (Winlogbeat or NXLog shape)
	FormatWinXML  = "winxml"  // Windows XML <Event> elements (wevtutil /f:xml, WEF)
	FormatEVTX    = "evtx"    // Windows EVTX files
	FormatPcap    = "pcap"    // network captures (pcap, pcapng)
	FormatEntra   = "entra"   // JSON lines of Entra ID records: Graph sign-ins, audits, risk, or diagnostic records
)

// DetectFormat names the format of a file from its first bytes.
func DetectFormat(head []byte) (string, error) {
	// Before trimming: the pcapng magic starts with "\n\r\r\n".
	if netsensor.IsCapture(head) {
		return FormatPcap, nil
	}
	trimmed := bytes.TrimLeft(head, " \t\r\n\xef\xbb\xbf")
	switch {
	case len(trimmed) == 0:
		return "", errors.New("empty input")
	case bytes.HasPrefix(head, []byte("ElfFile\x00")):
		return FormatEVTX, nil
	case trimmed[0] == '{':
		first := trimmed
		if i := bytes.IndexByte(first, '\n'); i >= 0 {
			first = first[:i]
		}
		if entra.LooksLikeRecord(first) {
			return FormatEntra, nil
		}
		return FormatWinJSON, nil
	case trimmed[0] == '<':
		return FormatWinXML, nil
	}
	return "", fmt.Errorf("unrecognized input format (starts with %q)", head[:min(len(head), 8)])
}

// ReplayOptions configures an offline replay.
type ReplayOptions struct {
	// Events writes the normalized events instead of alerts and incidents.
	Events bool
	// Out receives one JSON object per line.
	Out io.Writer
	// Warn receives problems (bad lines, unreadable files), one per line;
	// may be nil.
	Warn io.Writer
	// BatchSize is how many events go through the processor at once; default 1000.
	BatchSize int
	// OnRecord, if set, sees every alert and incident version as emitted.
	OnRecord func(schema.Record)
}

// ReplayStats counts what a replay did.
type ReplayStats struct {
	Files, Lines, Events, DecodeErrors, Alerts, Incidents int
	// Records counts EVTX records and capture events read; Damaged counts
	// damaged EVTX records and chunks and malformed packets skipped.
	Records, Damaged int
	// Skipped counts files found in a directory whose format is not
	// recognized (a README, a golden file): warned about, not replayed.
	Skipped int
}

// maxWarnings caps per-line problem reports; the rest are only counted.
const maxWarnings = 20

// Replay reads every input path (files, or directories walked recursively),
// detects each file's format by content, runs detection and correlation, and
// writes alerts as they fire and the final version of every incident at the
// end (or, with Events, the normalized events). Bad lines are counted and
// reported, never fatal.
func Replay(ctx context.Context, proc *Processor, paths []string, o ReplayOptions) (ReplayStats, error) {
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	if o.Warn == nil {
		o.Warn = io.Discard
	}
	files, err := expandInputs(paths)
	if err != nil {
		return ReplayStats{}, err
	}
	var st ReplayStats
	out := bufio.NewWriterSize(o.Out, 64<<10)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	incidents := map[string]schema.Incident{}
	var writeErr error
	emit := func(r schema.Record) {
		if o.OnRecord != nil {
			o.OnRecord(r)
		}
		switch v := r.(type) {
		case schema.Alert:
			st.Alerts++
			if !o.Events && writeErr == nil {
				writeErr = enc.Encode(v)
			}
		case schema.Incident:
			incidents[v.ID] = v
		}
	}
	warnings := &warner{w: o.Warn}
	warn := warnings.warnf
	batch := make([]schema.Event, 0, o.BatchSize)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		proc.Process(batch, emit)
		if o.Events && writeErr == nil {
			for i := range batch {
				if writeErr = enc.Encode(batch[i]); writeErr != nil {
					break
				}
			}
		}
		batch = batch[:0]
	}
	add := func(ev schema.Event) {
		st.Events++
		batch = append(batch, ev)
		if len(batch) == o.BatchSize {
			flush()
		}
	}
	inputs, err := sniffInputs(files, &st, warn)
	if err != nil {
		return st, err
	}
	if len(inputs) > 1 {
		// Several inputs (per-DC logs): one stream in event-time order.
		err = mergeInputs(inputs, &st, add, warnings, func() error {
			if writeErr != nil {
				return fmt.Errorf("write output: %w", writeErr)
			}
			return ctx.Err()
		})
	} else {
		for _, in := range inputs {
			if err = ctx.Err(); err == nil {
				err = readInput(in, &st, add, warn)
			}
		}
	}
	if err != nil {
		return st, err
	}
	if writeErr != nil {
		return st, fmt.Errorf("write output: %w", writeErr)
	}
	flush()
	proc.Flush(emit)
	if !o.Events {
		for _, inc := range FinalIncidents(incidents) {
			st.Incidents++
			if err := enc.Encode(inc); err != nil {
				return st, fmt.Errorf("write output: %w", err)
			}
		}
	}
	if writeErr != nil {
		return st, fmt.Errorf("write output: %w", writeErr)
	}
	return st, out.Flush()
}

// warner writes the first maxWarnings problems and counts the rest.
type warner struct {
	w io.Writer
	n int
}

func (w *warner) warnf(format string, args ...any) {
	if w.n < maxWarnings {
		fmt.Fprintf(w.w, format+"\n", args...)
		w.n++
		return
	}
	w.count()
}

// count counts a problem without showing it.
func (w *warner) count() {
	if w.n == maxWarnings {
		fmt.Fprintln(w.w, "further problems are counted, not shown")
	}
	w.n++
}

// sniffedInput is an input file and its format.
type sniffedInput struct {
	path, format string
}

// sniffInputs names each file's format, counting files; an unrecognized
// file found in a directory is skipped with a warning, one named on the
// command line is an error.
func sniffInputs(files []input, st *ReplayStats, warn func(string, ...any)) ([]sniffedInput, error) {
	out := make([]sniffedInput, 0, len(files))
	for _, in := range files {
		st.Files++
		format, err := sniff(in.name)
		if err != nil {
			if in.fromDir {
				st.Skipped++
				warn("%v (skipped)", err)
				continue
			}
			return nil, err
		}
		out = append(out, sniffedInput{path: in.name, format: format})
	}
	return out, nil
}

// readInput reads one input file, calling add for each event in file order
// and warn for each problem, and counting lines, records, damage and decode
// errors in st. Bad lines and damaged records are counted, never fatal.
func readInput(in sniffedInput, st *ReplayStats, add func(schema.Event), warn func(string, ...any)) error {
	path := in.path
	switch in.format {
	case FormatEVTX:
		return readEVTX(path, func(rec *windows.Record) {
			st.Records++
			add(windows.NormalizeOwned(rec, FormatEVTX))
		}, func(d evtx.Damage) {
			st.Damaged++
			warn("%s: offset %d: damaged EVTX data skipped: %v", path, d.Offset, d.Err)
		})
	case FormatPcap:
		ps, err := netsensor.ReadFile(path, func(ev schema.Event) {
			st.Records++
			add(ev)
		}, netsensor.DefaultOptions())
		st.Damaged += int(ps.Undecodable + ps.Dissect.Malformed)
		if ps.Damage != "" {
			warn("%s: %s", path, ps.Damage)
		}
		return err
	case FormatWinXML:
		return readRecords(path, windows.SplitXMLEvents, func(n int, rec []byte, tooLong bool) {
			st.Lines++
			ev, err := decodeBounded(rec, tooLong, func(b []byte) (schema.Event, error) { return windows.DecodeXMLEvent(b, FormatWinXML) })
			if err != nil {
				st.DecodeErrors++
				warn("%s: event %d: %v", path, n, err)
				return
			}
			add(ev)
		})
	case FormatEntra:
		return readRecords(path, nil, func(lineNo int, line []byte, tooLong bool) {
			st.Lines++
			ev, err := decodeBounded(line, tooLong, entra.FromAny)
			if err != nil {
				st.DecodeErrors++
				warn("%s:%d: %v", path, lineNo, err)
				return
			}
			add(ev)
		})
	}
	return readRecords(path, nil, func(lineNo int, line []byte, tooLong bool) {
		st.Lines++
		ev, err := decodeBounded(line, tooLong, func(b []byte) (schema.Event, error) { return windows.DecodeJSONEvent(b, FormatWinJSON) })
		if err != nil {
			st.DecodeErrors++
			warn("%s:%d: %v", path, lineNo, err)
			return
		}
		add(ev)
	})
}

// FinalIncidents orders the latest version of each incident by first-seen,
// leaving out incidents merged into another.
func FinalIncidents(byID map[string]schema.Incident) []schema.Incident {
	out := make([]schema.Incident, 0, len(byID))
	for _, inc := range byID {
		if inc.Status != schema.IncidentMerged {
			out = append(out, inc)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].FirstSeen.Equal(out[j].FirstSeen) {
			return out[i].FirstSeen.Before(out[j].FirstSeen)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// input is one file to replay; fromDir marks files found by walking a
// directory (an unrecognized one is skipped, not an error).
type input struct {
	name    string
	fromDir bool
}

// expandInputs turns paths into a sorted list of regular files.
func expandInputs(paths []string) ([]input, error) {
	var files []input
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, input{name: p})
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() && filepath.Base(path) != "manifest.json" {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		for _, f := range found {
			files = append(files, input{name: f, fromDir: true})
		}
	}
	if len(files) == 0 {
		return nil, errors.New("no input files")
	}
	return files, nil
}

// decodeBounded decodes a record, or reports it as too long.
func decodeBounded(rec []byte, tooLong bool, decode func([]byte) (schema.Event, error)) (schema.Event, error) {
	if tooLong {
		return schema.Event{}, fmt.Errorf("%w: record longer than %d bytes", windows.ErrMalformed, windows.MaxLineBytes)
	}
	return decode(rec)
}

// sniff reads a file's first bytes and names its format; an empty file is
// JSON lines (with nothing in it).
func sniff(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 4096) // an Entra record's first line names its time property early
	n, _ := io.ReadFull(f, head)
	if len(bytes.TrimSpace(head[:n])) == 0 {
		return FormatWinJSON, nil
	}
	format, err := DetectFormat(head[:n])
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return format, nil
}

// readEVTX streams an EVTX file's records; damage is reported, not fatal.
func readEVTX(path string, fn func(*windows.Record), onDamage func(evtx.Damage)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	r, err := evtx.NewReader(f, fi.Size(), evtx.Options{OnDamage: onDamage})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		fn(&rec)
	}
}

// readRecords calls fn for each non-blank record of a file: lines when
// split is nil, else the split function's tokens, framed and bounded as the
// daemon's tailer does. An oversized record is passed to fn as an empty
// record marked by tooLong so it is counted, never buffered whole.
func readRecords(path string, split bufio.SplitFunc, fn func(n int, rec []byte, tooLong bool)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rr := tail.NewRecordReader(f, split, windows.MaxLineBytes)
	for n := 1; ; n++ {
		rec, tooLong, err := rr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		fn(n, rec, tooLong)
	}
}
