package windows

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// maxXMLDepth caps element nesting in an XML event (an Event nests four
// deep; UserData a little more).
const maxXMLDepth = 32

// DecodeXML parses one <Event> element, as written by `wevtutil qe /f:xml`,
// Get-WinEvent's ToXml() and Windows Event Forwarding, into a Record:
//
//   - System: Provider@Name, EventID (text; the Qualifiers attribute is
//     ignored), TimeCreated@SystemTime, EventRecordID, Channel, Computer;
//   - EventData: Data@Name → value; unnamed Data → Data1, Data2, ... in
//     order; Binary → "Binary";
//   - UserData: the leaf elements of its single child by local name.
//
// RenderingInfo (the rendered Message, Level, Task, Keywords) and the other
// System elements are skipped, so an event normalizes the same as its
// forwarded JSON. An XML prolog, comments and surrounding whitespace are
// allowed; DTDs and entity declarations are refused (encoding/xml in Strict
// mode without an entity map expands only the five predefined entities and
// character references). Errors wrap ErrMalformed: not XML, not an Event
// element, no event id, nesting deeper than 32, longer than MaxLineBytes.
func DecodeXML(data []byte) (Record, error) {
	if len(data) > MaxLineBytes {
		return Record{}, fmt.Errorf("%w: event of %d bytes exceeds %d", ErrMalformed, len(data), MaxLineBytes)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	p := xmlParser{d: d}
	r, err := p.event()
	if err != nil {
		return Record{}, fmt.Errorf("%w: xml: %v", ErrMalformed, err)
	}
	return r, nil
}

// DecodeXMLEvent is DecodeXML followed by Normalize.
func DecodeXMLEvent(data []byte, dataset string) (schema.Event, error) {
	r, err := DecodeXML(data)
	if err != nil {
		return schema.Event{}, err
	}
	return normalize(&r, dataset, r.Data), nil
}

// DecodeAny decodes a JSON event (first non-space byte '{') or an XML event
// ('<', or a UTF-8 byte order mark) and normalizes it. Anything else is
// ErrMalformed.
func DecodeAny(data []byte, dataset string) (schema.Event, error) {
	t := trimJSONSpace(data)
	switch {
	case len(t) > 0 && t[0] == '{':
		return DecodeJSONEvent(data, dataset)
	case len(t) > 0 && t[0] == '<':
		return DecodeXMLEvent(t, dataset)
	case bytes.HasPrefix(t, utf8BOM):
		return DecodeXMLEvent(t[len(utf8BOM):], dataset)
	}
	return schema.Event{}, fmt.Errorf("%w: neither a JSON object nor an XML element", ErrMalformed)
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

var (
	errNoEvent   = errors.New("no Event element")
	errXMLDepth  = errors.New("nesting too deep")
	errDirective = errors.New("DTDs and directives are not allowed")
	errTrailing  = errors.New("data after the Event element")
)

// xmlParser walks the token stream of one Event element.
type xmlParser struct {
	d     *xml.Decoder
	depth int // open elements inside Event
	text  []byte
}

// next returns the next token, refusing directives and tracking depth.
func (p *xmlParser) next() (xml.Token, error) {
	tok, err := p.d.Token()
	if err != nil {
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch tok.(type) {
	case xml.Directive:
		return nil, errDirective
	case xml.StartElement:
		p.depth++
		if p.depth > maxXMLDepth {
			return nil, errXMLDepth
		}
	case xml.EndElement:
		p.depth--
	}
	return tok, nil
}

func (p *xmlParser) event() (Record, error) {
	// Prolog: whitespace, comments, processing instructions.
	for {
		tok, err := p.next()
		if err != nil {
			if err == io.ErrUnexpectedEOF {
				return Record{}, errNoEvent
			}
			return Record{}, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "Event" {
				return Record{}, fmt.Errorf("root element %q is not Event", truncate(t.Name.Local))
			}
			return p.body()
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return Record{}, errNoEvent
			}
		}
	}
}

// body reads the children of Event, then checks nothing but space, comments
// or processing instructions follow.
func (p *xmlParser) body() (Record, error) {
	r := Record{Data: make(map[string]string, 32)}
	haveID := false
	for p.depth > 0 {
		tok, err := p.next()
		if err != nil {
			return Record{}, err
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch start.Name.Local {
		case "System":
			if haveID, err = p.system(&r); err != nil {
				return Record{}, err
			}
		case "EventData":
			if err := p.eventData(&r); err != nil {
				return Record{}, err
			}
		case "UserData":
			if err := p.leaves(&r, p.depth); err != nil {
				return Record{}, err
			}
		default: // RenderingInfo, ProcessingErrorData, DebugData, ...
			if err := p.skip(); err != nil {
				return Record{}, err
			}
		}
	}
	for {
		tok, err := p.d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Record{}, err
		}
		switch t := tok.(type) {
		case xml.Comment, xml.ProcInst:
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return Record{}, errTrailing
			}
		default:
			return Record{}, errTrailing
		}
	}
	if !haveID {
		return Record{}, errors.New("no event id")
	}
	return r, nil
}

// skip consumes the rest of the element just opened.
func (p *xmlParser) skip() error {
	for target := p.depth - 1; p.depth > target; {
		if _, err := p.next(); err != nil {
			return err
		}
	}
	return nil
}

// textOf reads the character data of the element just opened up to its end;
// child elements are an error.
func (p *xmlParser) textOf() (string, error) {
	p.text = p.text[:0]
	for {
		tok, err := p.next()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			p.text = append(p.text, t...)
		case xml.StartElement:
			return "", fmt.Errorf("unexpected element %q in %s", truncate(t.Name.Local), "text")
		case xml.EndElement:
			return string(p.text), nil
		}
	}
}

func attr(e xml.StartElement, name string) (string, bool) {
	for _, a := range e.Attr {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value, true
		}
	}
	return "", false
}

// system reads the System element; it reports whether an EventID was found.
func (p *xmlParser) system(r *Record) (bool, error) {
	haveID := false
	end := p.depth - 1
	for p.depth > end {
		tok, err := p.next()
		if err != nil {
			return false, err
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch start.Name.Local {
		case "Provider":
			r.Provider, _ = attr(start, "Name")
			err = p.skip()
		case "TimeCreated":
			v, _ := attr(start, "SystemTime")
			r.Time = parseTime(strings.TrimSpace(v))
			err = p.skip()
		case "EventID":
			var v string
			if v, err = p.textOf(); err == nil {
				var ok bool
				r.EventID, ok, err = parseEventID(v)
				if err == nil && !ok {
					err = errors.New("empty EventID")
				}
				haveID = ok
			}
		case "EventRecordID":
			var v string
			if v, err = p.textOf(); err == nil {
				r.RecordID, err = parseRecordID(v)
			}
		case "Channel":
			r.Channel, err = p.textOf()
			r.Channel = strings.TrimSpace(r.Channel)
		case "Computer":
			r.Computer, err = p.textOf()
			r.Computer = strings.TrimSpace(r.Computer)
		default:
			err = p.skip()
		}
		if err != nil {
			return false, err
		}
	}
	return haveID, nil
}

// eventData reads EventData: Data@Name, unnamed Data numbered, Binary.
func (p *xmlParser) eventData(r *Record) error {
	unnamed := 0
	end := p.depth - 1
	for p.depth > end {
		tok, err := p.next()
		if err != nil {
			return err
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch start.Name.Local {
		case "Data":
			name, _ := attr(start, "Name")
			v, err := p.textOf()
			if err != nil {
				return err
			}
			if name == "" {
				unnamed++
				name = "Data" + strconv.Itoa(unnamed)
			}
			r.Data[name] = v
		case "Binary":
			v, err := p.textOf()
			if err != nil {
				return err
			}
			r.Data["Binary"] = v
		default:
			if err := p.skip(); err != nil {
				return err
			}
		}
	}
	return nil
}

// leaves reads UserData: every element without child elements below it
// becomes a field named by its local name. top is the depth of UserData.
func (p *xmlParser) leaves(r *Record, top int) error {
	var name string // the innermost open element, "" once it has a child
	p.text = p.text[:0]
	for p.depth >= top {
		tok, err := p.next()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name = t.Name.Local
			p.text = p.text[:0]
		case xml.CharData:
			if name != "" {
				p.text = append(p.text, t...)
			}
		case xml.EndElement:
			if name != "" && p.depth >= top+1 { // a leaf below the UserData child
				r.Data[name] = string(p.text)
			}
			name = ""
		}
	}
	return nil
}
