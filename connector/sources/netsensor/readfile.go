package netsensor

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// ReadFile streams a pcap or pcapng file through the dissectors and calls
// fn for every event, in capture order (events still pending at the end
// come last, in conversation order). Damaged or malformed packets are
// counted in Stats, never fatal; a capture damaged past recovery ends the
// read with Stats.Damage set and a nil error. The error is for files that
// cannot be opened or are not captures (ErrNotCapture).
func ReadFile(path string, fn func(schema.Event), o Options) (Stats, error) {
	f, err := os.Open(path)
	if err != nil {
		return Stats{}, err
	}
	defer f.Close()
	st, err := Read(f, fn, o)
	if err != nil {
		return st, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

// Read is ReadFile over any reader.
func Read(r io.Reader, fn func(schema.Event), o Options) (Stats, error) {
	var st Stats
	src, err := newPacketSource(r)
	if err != nil {
		return st, err
	}
	e := newEngine(o, &st, fn)
	for i := int64(0); ; i++ {
		data, info, err := src.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			st.Damage = err.Error()
			break
		}
		if i < e.opts.Skip {
			continue
		}
		e.packet(data, info)
	}
	e.finish()
	st.Skipped = src.skipped()
	return st, nil
}
