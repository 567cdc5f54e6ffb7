package pipeline

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/config"
	entrasrc "github.com/castellan-itdr/castellan/connector/sources/entra"
	"github.com/castellan-itdr/castellan/connector/sources/eventhub"
	evtxsrc "github.com/castellan-itdr/castellan/connector/sources/evtx"
	"github.com/castellan-itdr/castellan/connector/sources/ldap"
	"github.com/castellan-itdr/castellan/connector/sources/netsensor"
	"github.com/castellan-itdr/castellan/connector/sources/samba"
	"github.com/castellan-itdr/castellan/connector/sources/winjson"
	"github.com/castellan-itdr/castellan/sinks/delivery"
	"github.com/castellan-itdr/castellan/sinks/elastic"
	"github.com/castellan-itdr/castellan/sinks/file"
	"github.com/castellan-itdr/castellan/sinks/sentinel"
	"github.com/castellan-itdr/castellan/sinks/splunk"
	"github.com/castellan-itdr/castellan/sinks/stdout"
)

// Source is a running source: a Component whose Done channel closes when a
// one-shot source has handed off all its input (it never closes for a
// source that follows its input).
type Source interface {
	component.Component
	Done() <-chan struct{}
}

// SourceFactory builds one type of source.
type SourceFactory struct {
	Type             string
	NewDefaultConfig func() config.Validator
	Create           func(cfg config.Validator, set component.SourceSettings) (Source, error)
}

// Sink is a built sink: the Pusher its sender drives, the records it takes,
// how records are encoded for its queue, an optional Start (network checks,
// template installs: run before its sender starts), its delivery tuning,
// and a Close for its resources.
type Sink struct {
	Pusher    delivery.Pusher
	Selection delivery.Selection
	// Encode turns a record into the item queued for this sink, once, when
	// it is queued (typically the sink's own wire payload, so Push does not
	// decode and re-map it). Nil queues the record's schema JSON
	// (delivery.NewItem). The Pusher must read both.
	Encode delivery.EncodeFunc
	Start  func(ctx context.Context) error
	// Sender overrides the pipeline's delivery settings where non-zero.
	Sender delivery.SenderConfig
	Close  func() error
}

// SinkFactory builds one type of sink.
type SinkFactory struct {
	Type             string
	NewDefaultConfig func() config.Validator
	Create           func(cfg config.Validator, set component.SinkSettings) (Sink, error)
}

// SourceFactories lists every source type. Adding a source = one line here.
func SourceFactories() []SourceFactory {
	return []SourceFactory{
		{
			Type:             evtxsrc.Type,
			NewDefaultConfig: func() config.Validator { return evtxsrc.NewDefaultConfig() },
			Create: func(cfg config.Validator, set component.SourceSettings) (Source, error) {
				return evtxsrc.New(cfg.(*evtxsrc.Config), set)
			},
		},
		{
			Type:             entrasrc.Type,
			NewDefaultConfig: func() config.Validator { return entrasrc.NewDefaultConfig() },
			Create: func(cfg config.Validator, set component.SourceSettings) (Source, error) {
				return entrasrc.New(cfg.(*entrasrc.Config), set)
			},
		},
		{
			Type:             eventhub.Type,
			NewDefaultConfig: func() config.Validator { return eventhub.NewDefaultConfig() },
			Create: func(cfg config.Validator, set component.SourceSettings) (Source, error) {
				return eventhub.New(cfg.(*eventhub.Config), set)
			},
		},
		{
			Type:             netsensor.Type,
			NewDefaultConfig: func() config.Validator { return netsensor.NewDefaultConfig() },
			Create: func(cfg config.Validator, set component.SourceSettings) (Source, error) {
				return netsensor.New(cfg.(*netsensor.Config), set)
			},
		},
		{
			Type:             samba.Type,
			NewDefaultConfig: func() config.Validator { return samba.NewDefaultConfig() },
			Create: func(cfg config.Validator, set component.SourceSettings) (Source, error) {
				return samba.New(cfg.(*samba.Config), set)
			},
		},
		{
			Type:             winjson.Type,
			NewDefaultConfig: func() config.Validator { return winjson.NewDefaultConfig() },
			Create: func(cfg config.Validator, set component.SourceSettings) (Source, error) {
				return winjson.New(cfg.(*winjson.Config), set)
			},
		},
	}
}

// SinkFactories lists every sink type. Adding a sink = one line here.
// stdout is where the stdout sink writes (os.Stdout when nil).
func SinkFactories(stdoutW io.Writer) []SinkFactory {
	return []SinkFactory{
		{
			Type:             file.Type,
			NewDefaultConfig: func() config.Validator { return file.NewDefaultConfig() },
			Create: func(cfg config.Validator, _ component.SinkSettings) (Sink, error) {
				c := cfg.(*file.Config)
				s, err := file.New(c)
				if err != nil {
					return Sink{}, err
				}
				return Sink{Pusher: s, Selection: c.Select, Close: s.Close}, nil
			},
		},
		{
			Type:             elastic.Type,
			NewDefaultConfig: func() config.Validator { return elastic.NewDefaultConfig() },
			Create: func(cfg config.Validator, _ component.SinkSettings) (Sink, error) {
				c := cfg.(*elastic.Config)
				s, err := elastic.New(c)
				if err != nil {
					return Sink{}, err
				}
				return Sink{Pusher: s, Selection: c.Select, Encode: elastic.Encode, Start: s.Start, Close: s.Close}, nil
			},
		},
		{
			Type:             sentinel.Type,
			NewDefaultConfig: func() config.Validator { return sentinel.NewDefaultConfig() },
			Create: func(cfg config.Validator, _ component.SinkSettings) (Sink, error) {
				c := cfg.(*sentinel.Config)
				s, err := sentinel.New(c)
				if err != nil {
					return Sink{}, err
				}
				// Each upload holds up to 1 MB gzipped (~8 MB of rows): hand the
				// sink large batches, collected for up to a second, so calls
				// are packed near the limit.
				return Sink{Pusher: s, Selection: c.Select, Encode: sentinel.Encode, Close: s.Close,
					Sender: delivery.SenderConfig{MaxItems: 20000, MaxBytes: 24 << 20, Linger: time.Second}}, nil
			},
		},
		{
			Type:             splunk.Type,
			NewDefaultConfig: func() config.Validator { return splunk.NewDefaultConfig() },
			Create: func(cfg config.Validator, _ component.SinkSettings) (Sink, error) {
				c := cfg.(*splunk.Config)
				s, err := splunk.New(c)
				if err != nil {
					return Sink{}, err
				}
				return Sink{Pusher: s, Selection: c.Select, Encode: splunk.Encode, Start: s.Check, Close: s.Close}, nil
			},
		},
		{
			Type:             stdout.Type,
			NewDefaultConfig: func() config.Validator { return stdout.NewDefaultConfig() },
			Create: func(cfg config.Validator, _ component.SinkSettings) (Sink, error) {
				return Sink{Pusher: stdout.New(stdoutW), Selection: cfg.(*stdout.Config).Select, Close: func() error { return nil }}, nil
			},
		},
	}
}

// Registry is the config registry built from the factories.
func Registry() config.Registry {
	reg := config.Registry{Sources: map[string]func() config.Validator{}, Sinks: map[string]func() config.Validator{},
		Posture: map[string]func() config.Validator{
			"ldap":  func() config.Validator { return ldap.NewDefaultConfig() },
			"entra": func() config.Validator { return entrasrc.NewDefaultConfig() },
		}}
	for _, f := range SourceFactories() {
		reg.Sources[f.Type] = f.NewDefaultConfig
	}
	for _, f := range SinkFactories(nil) {
		reg.Sinks[f.Type] = f.NewDefaultConfig
	}
	return reg
}

func sourceFactory(typ string) (SourceFactory, error) {
	for _, f := range SourceFactories() {
		if f.Type == typ {
			return f, nil
		}
	}
	return SourceFactory{}, fmt.Errorf("unknown source type %q", typ)
}

// BuildSink creates one configured sink (not started).
func BuildSink(c config.Component, set component.SinkSettings, stdoutW io.Writer) (Sink, error) {
	f, err := sinkFactory(c.Type, stdoutW)
	if err != nil {
		return Sink{}, err
	}
	s, err := f.Create(c.Config, set)
	if err != nil {
		return Sink{}, err
	}
	if s.Close == nil {
		s.Close = func() error { return nil }
	}
	return s, nil
}

func sinkFactory(typ string, stdoutW io.Writer) (SinkFactory, error) {
	for _, f := range SinkFactories(stdoutW) {
		if f.Type == typ {
			return f, nil
		}
	}
	return SinkFactory{}, fmt.Errorf("unknown sink type %q", typ)
}
