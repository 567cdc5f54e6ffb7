package samples

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/samples/evtxwrite"
	"github.com/castellan-itdr/castellan/samples/scenario"
)

// evtxName is the EVTX file name of a JSON-lines file name: dc01-security.evtx.
func evtxName(name string) string { return strings.TrimSuffix(name, filepath.Ext(name)) + ".evtx" }

// sink writes the events of one logging host.
type sink interface {
	// write appends e, recorded at t with record number rec.
	write(e *scenario.Event, t time.Time, rec int64) error
	// size is the file size so far (for EVTX: once closed, including the open chunk).
	size() int64
	close() error
}

// writeEvents writes the files of res into dir and returns the number of events of each.
// With size > 0 the benign day is repeated on the following days until the files
// together hold size bytes.
func writeEvents(dir, format string, size int64, res, benign *scenario.Result) (counts []int, err error) {
	sinks := make([]sink, len(res.Files))
	defer func() {
		for _, s := range sinks {
			if s != nil {
				if cerr := s.close(); err == nil {
					err = cerr
				}
			}
		}
	}()
	for i, f := range res.Files {
		if sinks[i], err = newSink(dir, format, f); err != nil {
			return nil, err
		}
	}
	counts = make([]int, len(res.Files))
	total := func() int64 {
		var n int64
		for _, s := range sinks {
			n += s.size()
		}
		return n
	}
	// Day 0: the scenario, written in full.
	if _, err := writeDay(sinks, counts, res, perFile(res), 0, nil); err != nil {
		return nil, err
	}
	if size <= 0 {
		return counts, nil
	}
	day := perFile(benign)
	stop := func() bool { return total() >= size }
	if len(benign.Events) == 0 {
		return counts, nil // nothing to repeat
	}
	for d := 1; !stop(); d++ {
		if _, err := writeDay(sinks, counts, res, day, d, stop); err != nil {
			return nil, err
		}
	}
	return counts, nil
}

// perFile splits a day's events by output file, each sorted by time.
func perFile(res *scenario.Result) [][]scenario.Event {
	idx := make(map[string]int, len(res.Files))
	for i, f := range res.Files {
		idx[f.Name] = i
	}
	out := make([][]scenario.Event, len(res.Files))
	for _, e := range res.Events {
		i := idx[e.File]
		out[i] = append(out[i], e)
	}
	for _, evs := range out {
		slices.SortStableFunc(evs, func(a, b scenario.Event) int { return a.Time.Compare(b.Time) })
	}
	return out
}

// writeDay writes one day's events, shifted by d days, merged across files in time order
// (ties in file order). It stops early, returning true, once stop reports true.
func writeDay(sinks []sink, counts []int, res *scenario.Result, day [][]scenario.Event, d int, stop func() bool) (bool, error) {
	shift := time.Duration(d) * 24 * time.Hour
	next := make([]int, len(day))
	for {
		f := -1
		for i, evs := range day {
			if next[i] < len(evs) && (f < 0 || evs[next[i]].Time.Before(day[f][next[f]].Time)) {
				f = i
			}
		}
		if f < 0 {
			return false, nil
		}
		e := &day[f][next[f]]
		next[f]++
		if err := sinks[f].write(e, e.Time.Add(shift), res.Files[f].RecordBase+int64(counts[f])); err != nil {
			return false, fmt.Errorf("write %s: %w", res.Files[f].Name, err)
		}
		counts[f]++
		if stop != nil && stop() {
			return true, nil
		}
	}
}

func newSink(dir, format string, f scenario.LogFile) (sink, error) {
	name := f.Name
	if format == OutputEVTX {
		name = evtxName(name)
	}
	path := filepath.Join(dir, name)
	file, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if format == OutputEVTX {
		return &evtxSink{file: file, w: evtxwrite.NewWriter(file), computer: f.Computer}, nil
	}
	return &jsonSink{file: file, bw: bufio.NewWriterSize(file, 256<<10), f: f}, nil
}

// jsonSink writes JSON lines.
type jsonSink struct {
	file *os.File
	bw   *bufio.Writer
	f    scenario.LogFile
	buf  []byte
	n    int64
}

func (s *jsonSink) write(e *scenario.Event, t time.Time, rec int64) error {
	ev := *e
	ev.Time = t
	if s.f.Format == scenario.FormatWinlogbeat {
		s.buf = appendWinlogbeat(s.buf[:0], s.f.Computer, rec, &ev)
	} else {
		s.buf = appendNXLog(s.buf[:0], s.f.Computer, rec, &ev)
	}
	s.buf = append(s.buf, '\n')
	s.n += int64(len(s.buf))
	_, err := s.bw.Write(s.buf)
	return err
}

func (s *jsonSink) size() int64 { return s.n }

func (s *jsonSink) close() error {
	return errors.Join(s.bw.Flush(), s.file.Close())
}

// evtxSink writes an EVTX file.
type evtxSink struct {
	file     *os.File
	w        *evtxwrite.Writer
	computer string
	fields   []evtxwrite.Field
}

func (s *evtxSink) write(e *scenario.Event, t time.Time, rec int64) error {
	s.fields = s.fields[:0]
	for _, fd := range e.Data {
		s.fields = append(s.fields, evtxwrite.Field{Name: fd.Name, Value: fd.Value})
	}
	ev := evtxwrite.Event{EventID: e.ID, Provider: e.Provider, Channel: e.Channel, Computer: s.computer,
		RecordID: uint64(rec), Time: t, UserData: e.UserData, Fields: s.fields}
	if e.UserData == evtxwrite.LogClearedElement {
		ev.UserDataNS = evtxwrite.LogClearedNamespace
	}
	return s.w.WriteEvent(evtxwrite.Defaults(ev, e.Failure))
}

func (s *evtxSink) size() int64 { return s.w.Size() }

func (s *evtxSink) close() error {
	return errors.Join(s.w.Close(), s.file.Close())
}
