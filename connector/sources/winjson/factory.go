package winjson

import (
	"errors"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/sources/tail"
	"github.com/castellan-itdr/castellan/mappings/entra"
	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/mappings/windows"
)

// Type is the source type name used in configuration ("winjson/dc01").
const Type = "winjson"

// dataset is event.dataset for every event of this source.
const dataset = "winjson"

// Source tails files of forwarded Windows events and, when configured,
// listens on TCP. It implements component.Component.
type Source = tail.Tailer

// CheckpointKey is the checkpoint key of a file: "file:" + absolute path.
func CheckpointKey(absPath string) string { return tail.CheckpointKey(absPath) }

// New validates cfg and returns a source that is not yet started.
func New(cfg *Config, set component.SourceSettings) (*Source, error) {
	if cfg == nil {
		return nil, errors.New("winjson: nil config")
	}
	if err := cfg.Validate(); err != nil {
		return nil, errors.Join(errors.New("winjson: invalid config"), err)
	}
	tc := cfg.Tail
	tc.MaxRecordBytes = windows.MaxLineBytes
	decode := func(rec []byte) (schema.Event, error) { return windows.DecodeJSONEvent(rec, dataset) }
	switch cfg.Format {
	case FormatXML:
		tc.Split = windows.SplitXMLEvents
		decode = func(rec []byte) (schema.Event, error) { return windows.DecodeXMLEvent(rec, dataset) }
	case FormatEntra:
		tc.MaxRecordBytes = entra.MaxRecordBytes
		decode = entra.FromAny
	}
	return tail.New(tc, Type, decode, set)
}
