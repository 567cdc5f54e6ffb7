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

	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/mappings/windows"
)

// Input formats recognized by content.
const (
	FormatWinJSON = "winjson" // JSON lines of Windows events (Winlogbeat or NXLog shape)
)

// DetectFormat names the format of a file from its first bytes.
func DetectFormat(head []byte) (string, error) {
	trimmed := bytes.TrimLeft(head, " \t\r\n\xef\xbb\xbf")
	switch {
	case len(trimmed) == 0:
		return "", errors.New("empty input")
	case trimmed[0] == '{':
		return FormatWinJSON, nil
	case bytes.HasPrefix(head, []byte("ElfFile\x00")):
		return "", errors.New("EVTX input is not supported yet")
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
}

// ReplayStats counts what a replay did.
type ReplayStats struct {
	Files, Lines, Events, DecodeErrors, Alerts, Incidents int
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
	warned := 0
	warn := func(format string, args ...any) {
		if warned < maxWarnings {
			fmt.Fprintf(o.Warn, format+"\n", args...)
		} else if warned == maxWarnings {
			fmt.Fprintln(o.Warn, "further problems are counted, not shown")
		}
		warned++
	}
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
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		st.Files++
		err := readJSONLines(path, func(lineNo int, line []byte) {
			st.Lines++
			ev, err := windows.DecodeJSONEvent(line, FormatWinJSON)
			if err != nil {
				st.DecodeErrors++
				warn("%s:%d: %v", path, lineNo, err)
				return
			}
			st.Events++
			batch = append(batch, ev)
			if len(batch) == o.BatchSize {
				flush()
			}
		})
		if err != nil {
			return st, err
		}
		if writeErr != nil {
			return st, fmt.Errorf("write output: %w", writeErr)
		}
	}
	flush()
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

// expandInputs turns paths into a sorted list of regular files.
func expandInputs(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, p)
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
		files = append(files, found...)
	}
	if len(files) == 0 {
		return nil, errors.New("no input files")
	}
	return files, nil
}

// readJSONLines detects the file's format and calls fn for each non-blank
// line. Lines longer than windows.MaxLineBytes are reported through fn as
// such (so they are counted), never buffered whole.
func readJSONLines(path string, fn func(lineNo int, line []byte)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 256<<10)
	head, _ := r.Peek(64)
	if len(bytes.TrimSpace(head)) == 0 {
		return nil // empty file: nothing to replay
	}
	if _, err := DetectFormat(head); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	lineNo := 0
	var long []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(long) <= windows.MaxLineBytes {
				long = append(long, chunk...)
			}
			continue
		}
		if len(chunk) > 0 || long != nil {
			lineNo++
			line := chunk
			if long != nil {
				line = append(long, chunk...)
				long = nil
			}
			if len(bytes.TrimSpace(line)) > 0 {
				fn(lineNo, line)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
}
