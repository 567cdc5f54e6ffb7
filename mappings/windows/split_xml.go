package windows

import (
	"bytes"
)

// SplitXMLEvents is a bufio.SplitFunc for a stream of XML events (a file
// written by `wevtutil qe Security /f:xml`, an exported <Events> document, a
// TCP stream): each token is one complete <Event …>…</Event> element, ready
// for DecodeXML or DecodeAny. Whitespace, a byte order mark, <?xml …?>
// prologs, comments and an <Events> wrapper between events are skipped.
//
// It never returns an error, so one bad event does not stop the stream;
// instead it yields error tokens that DecodeXML rejects, for the caller to
// count:
//   - an element longer than MaxLineBytes yields its first MaxLineBytes+1
//     bytes; the rest of it, up to its </Event>, is skipped;
//   - text that is not an event (up to the next <Event) is one token;
//   - an incomplete element at EOF is one token.
//
// The scanner's buffer must hold MaxLineBytes+1 bytes:
// sc.Buffer(make([]byte, 0, 64<<10), 2*MaxLineBytes).
func SplitXMLEvents(data []byte, atEOF bool) (advance int, token []byte, err error) {
	i := 0
	for {
		i = skipXMLSpace(data, i)
		rest := data[i:]
		if len(rest) == 0 {
			return i, nil, nil
		}
		if rest[0] != '<' {
			return splitJunk(data, i, atEOF)
		}
		if len(rest) < len("<Events>") && !atEOF {
			return i, nil, nil // too short to tell what it is
		}
		var end int
		switch {
		case bytes.HasPrefix(rest, []byte("<?")):
			end = indexAfter(rest, "?>")
		case bytes.HasPrefix(rest, []byte("<!--")):
			end = indexAfter(rest, "-->")
		case isStartTag(rest, "Events") || bytes.HasPrefix(rest, []byte("</Events")):
			end, _ = tagEnd(rest)
		case isStartTag(rest, "Event"):
			return splitEvent(data, i, atEOF)
		default:
			return splitJunk(data, i, atEOF)
		}
		if end < 0 { // incomplete prolog, comment or wrapper tag
			if atEOF || len(rest) > MaxLineBytes {
				return splitJunk(data, i, atEOF)
			}
			return i, nil, nil
		}
		i += end
	}
}

// splitEvent splits the element starting at data[i].
func splitEvent(data []byte, i int, atEOF bool) (int, []byte, error) {
	rest := data[i:]
	n, ok := elementEnd(rest)
	// A valid event never contains another <Event> start tag (child names
	// such as EventData do not match it), so one before the element's end
	// means this event was cut off: emit it as an error token and resync.
	if next := nextEventStart(rest); next > 0 && (!ok || next < n) {
		if next > MaxLineBytes {
			next = MaxLineBytes + 1
		}
		return i + next, rest[:next], nil
	}
	if ok {
		if n > MaxLineBytes {
			return i + MaxLineBytes + 1, rest[:MaxLineBytes+1], nil
		}
		return i + n, rest[:n], nil
	}
	switch {
	case len(rest) > MaxLineBytes:
		return i + MaxLineBytes + 1, rest[:MaxLineBytes+1], nil
	case atEOF:
		return len(data), rest, nil
	}
	return i, nil, nil
}

// splitJunk handles bytes at data[i] that do not start an event. Junk that
// runs into a </Event> end tag is the rest of an element cut off as too
// long (or of one the stream began in the middle of): it is skipped. Other
// junk, up to the next <Event, is one error token.
func splitJunk(data []byte, i int, atEOF bool) (int, []byte, error) {
	rest := data[i:]
	start := nextEventStart(rest)
	if end := nextEventEnd(rest); end >= 0 && (start < 0 || end <= start) {
		return i + end, nil, nil // tail of a cut-off element: skip
	}
	switch {
	case start >= 0:
		if start > MaxLineBytes {
			start = MaxLineBytes + 1
		}
		return i + start, rest[:start], nil
	case len(rest) > MaxLineBytes:
		return i + MaxLineBytes + 1, rest[:MaxLineBytes+1], nil
	case atEOF:
		return len(data), rest, nil
	}
	return i, nil, nil
}

// nextEventStart returns the offset of the next "<Event" start tag in b
// (after b[0]), or -1.
func nextEventStart(b []byte) int {
	for off := 1; off < len(b); {
		k := bytes.Index(b[off:], []byte("<Event"))
		if k < 0 {
			return -1
		}
		off += k
		if isStartTag(b[off:], "Event") {
			return off
		}
		off++
	}
	return -1
}

// nextEventEnd returns the offset just after the next "</Event>" in b, or -1.
func nextEventEnd(b []byte) int {
	k := bytes.Index(b, []byte("</Event>"))
	if k < 0 {
		return -1
	}
	return k + len("</Event>")
}

func skipXMLSpace(b []byte, i int) int {
	for i < len(b) {
		switch {
		case isSpace(b[i]):
			i++
		case bytes.HasPrefix(b[i:], utf8BOM):
			i += len(utf8BOM)
		default:
			return i
		}
	}
	return i
}

// isStartTag reports whether b starts with "<name" followed by a space, '>'
// or '/'.
func isStartTag(b []byte, name string) bool {
	if len(b) < len(name)+2 || b[0] != '<' || string(b[1:1+len(name)]) != name {
		return false
	}
	c := b[1+len(name)]
	return isSpace(c) || c == '>' || c == '/'
}

// indexAfter returns the offset just after the first sep in b, or -1.
func indexAfter(b []byte, sep string) int {
	k := bytes.Index(b, []byte(sep))
	if k < 0 {
		return -1
	}
	return k + len(sep)
}

// tagEnd returns the offset just after the '>' closing the tag at b[0]
// (quoted attribute values may hold '>'), and whether the tag is
// self-closing; -1 if incomplete.
func tagEnd(b []byte) (int, bool) {
	var quote byte
	for j := 1; j < len(b); j++ {
		c := b[j]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return j + 1, b[j-1] == '/'
		}
	}
	return -1, false
}

// elementEnd returns the length of the element starting at b[0] (an
// "<Event" start tag), skipping comments, CDATA sections and processing
// instructions; ok is false while it is incomplete. A cheap search for an
// end tag first avoids rescanning a growing buffer element by element.
func elementEnd(b []byte) (int, bool) {
	n, self := tagEnd(b)
	if n < 0 {
		return 0, false
	}
	if self {
		return n, true
	}
	if !hasEventEndTag(b[n:]) {
		return 0, false
	}
	depth := 1
	for j := n; ; {
		k := bytes.IndexByte(b[j:], '<')
		if k < 0 {
			return 0, false
		}
		j += k
		rest := b[j:]
		var end int
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			end = indexAfter(rest, "-->")
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			end = indexAfter(rest, "]]>")
		case bytes.HasPrefix(rest, []byte("<?")):
			end = indexAfter(rest, "?>")
		case len(rest) < 2:
			return 0, false
		case rest[1] == '!': // a directive, or a partial comment or CDATA opener
			if len(rest) < len("<![CDATA[") {
				return 0, false
			}
			end, _ = tagEnd(rest)
		case rest[1] == '/':
			end, _ = tagEnd(rest)
			depth--
		default:
			var self bool
			end, self = tagEnd(rest)
			if !self {
				depth++
			}
		}
		if end < 0 {
			return 0, false
		}
		j += end
		if depth == 0 {
			return j, true
		}
	}
}

// hasEventEndTag reports whether b may hold an Event end tag: "Event",
// optional space, '>'. A cheap filter before the element scan.
func hasEventEndTag(b []byte) bool {
	for {
		k := bytes.Index(b, []byte("Event"))
		if k < 0 {
			return false
		}
		b = b[k+len("Event"):]
		j := 0
		for j < len(b) && isSpace(b[j]) {
			j++
		}
		if j < len(b) && b[j] == '>' {
			return true
		}
	}
}
