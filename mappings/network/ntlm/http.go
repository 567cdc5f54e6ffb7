package ntlm

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"time"

	"github.com/castellan-itdr/castellan/mappings/network"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// MaxHTTPHeader caps an HTTP header block held for decoding.
const MaxHTTPHeader = 64 << 10

// HTTP dissects NTLM in HTTP Authorization headers (NTLM and Negotiate
// schemes) on TCP 80, 5985 (WinRM) and 8080.
type HTTP struct{}

// NewHTTP returns the HTTP dissector.
func NewHTTP() HTTP { return HTTP{} }

// Name returns "http".
func (HTTP) Name() string { return "http" }

// Ports claims TCP 80, 5985 and 8080.
func (HTTP) Ports() []network.Port {
	return []network.Port{{Transport: network.TCP, Number: 80}, {Transport: network.TCP, Number: 5985},
		{Transport: network.TCP, Number: 8080}}
}

// NewHandler returns the state of one HTTP connection.
func (HTTP) NewHandler(c *network.Conv) network.Handler {
	h := &httpHandler{conv: c}
	for d := range h.dirs {
		h.dirs[d] = &httpDir{buf: c.NewBuffer(MaxHTTPHeader)}
	}
	return h
}

type httpDir struct {
	buf     *network.Buffer
	body    int64 // body bytes still to skip
	chunked bool
	chunk   int64 // bytes of the current chunk still to skip (+2 for CRLF)
	toEOF   bool  // response body runs to the end of the connection
}

type httpHandler struct {
	conv    *network.Conv
	dirs    [2]*httpDir
	pending []schema.Event // AUTHENTICATEs awaiting a response, in order
}

func (h *httpHandler) Data(dir network.Direction, ts time.Time, b []byte) {
	d := h.dirs[dir]
	d.buf.Feed(b, d.frame, func(m []byte) { h.unit(dir, ts, m) })
}

// frame cuts the stream into units: header blocks, body pieces, chunk-size
// lines and chunk pieces, by the direction's state.
func (d *httpDir) frame(b []byte) (int, error) {
	switch {
	case d.toEOF:
		return len(b), nil
	case d.body > 0:
		return int(min(d.body, int64(len(b)))), nil
	case d.chunk > 0:
		return int(min(d.chunk, int64(len(b)))), nil
	case d.chunked:
		i := bytes.Index(b, []byte("\r\n"))
		if i < 0 {
			if len(b) > 128 {
				return 0, network.ErrFraming
			}
			return 0, nil
		}
		return i + 2, nil
	case bytes.HasPrefix(b, []byte("\r\n")):
		return 2, nil // blank line after a chunked body's trailers
	}
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		return i + 4, nil
	}
	if !isToken(b[0]) {
		return 0, network.ErrFraming
	}
	return 0, nil
}

func isToken(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }

// unit handles one unit cut by frame.
func (h *httpHandler) unit(dir network.Direction, ts time.Time, m []byte) {
	d := h.dirs[dir]
	switch {
	case d.toEOF:
	case d.body > 0:
		d.body -= int64(len(m))
	case d.chunk > 0:
		d.chunk -= int64(len(m))
	case d.chunked:
		line := bytes.TrimSpace(m)
		line, _, _ = bytes.Cut(line, []byte(";"))
		size, err := strconv.ParseInt(string(line), 16, 64)
		if err != nil || size < 0 || size > 1<<40 {
			h.conv.Malformed()
			d.buf.Break()
			return
		}
		if size == 0 {
			d.chunked = false
			return
		}
		d.chunk = size + 2
	case len(m) == 2:
	default:
		h.header(dir, ts, m)
	}
}

// header handles one header block: requests carry Authorization, responses
// their status and WWW-Authenticate.
func (h *httpHandler) header(dir network.Direction, ts time.Time, hdr []byte) {
	d := h.dirs[dir]
	lines := bytes.Split(hdr, []byte("\r\n"))
	first := lines[0]
	status := 0
	if dir == network.ToClient {
		if !bytes.HasPrefix(first, []byte("HTTP/")) {
			h.conv.Malformed()
			return
		}
		if f := bytes.Fields(first); len(f) >= 2 {
			status, _ = strconv.Atoi(string(f[1]))
		}
	}
	h.conv.Decoded()
	var length int64 = -1
	for _, l := range lines[1:] {
		name, val, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			continue
		}
		val = bytes.TrimSpace(val)
		switch string(bytes.ToLower(bytes.TrimSpace(name))) {
		case "content-length":
			length, _ = strconv.ParseInt(string(val), 10, 64)
		case "transfer-encoding":
			d.chunked = bytes.Contains(bytes.ToLower(val), []byte("chunked"))
		case "authorization", "www-authenticate", "proxy-authorization":
			h.auth(dir, ts, val)
		}
	}
	if length > 1<<40 {
		length = 1 << 40
	}
	if length > 0 {
		d.body = length
	} else if dir == network.ToClient && length < 0 && !d.chunked && status >= 200 && status != 204 && status != 304 {
		d.toEOF = true
	}
	if dir == network.ToClient && status >= 200 && len(h.pending) > 0 {
		ev := h.pending[0]
		h.pending = h.pending[1:]
		ev.Original["HTTPStatus"] = strconv.Itoa(status)
		if status == 401 || status == 403 {
			ev.Event.Outcome = schema.OutcomeFailure
			ev.Auth.FailureCode = "0xc000006d"
			ev.Event.Reason = "logon failure"
		} else {
			ev.Event.Outcome = schema.OutcomeSuccess
		}
		h.conv.Emit(ev)
	}
}

func (h *httpHandler) auth(dir network.Direction, ts time.Time, val []byte) {
	scheme, tok, ok := bytes.Cut(val, []byte(" "))
	if !ok {
		return
	}
	s := string(bytes.ToLower(scheme))
	if s != "ntlm" && s != "negotiate" {
		return
	}
	tok = bytes.TrimSpace(tok)
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(tok)))
	n, err := base64.StdEncoding.Decode(raw, tok)
	if err != nil {
		h.conv.Malformed()
		return
	}
	raw = raw[:n]
	i := Find(raw)
	if i < 0 {
		return // Kerberos inside Negotiate
	}
	m, err := Parse(raw[i:])
	if err != nil {
		h.conv.Malformed()
		return
	}
	switch {
	case m.Type == TypeChallenge && dir == network.ToClient:
		Learn(h.conv, &m)
	case m.Type == TypeAuthenticate && dir == network.ToServer:
		ev := Event(h.conv, ts, h.conv.NextIndex(), &m, "http")
		if len(h.pending) >= 16 {
			h.conv.Emit(ev)
			return
		}
		h.pending = append(h.pending, ev)
	}
}

func (h *httpHandler) Gap(dir network.Direction) {
	d := h.dirs[dir]
	d.buf.Gap()
	d.body, d.chunk, d.chunked = 0, 0, false
}

func (h *httpHandler) Close(time.Time) {
	for _, ev := range h.pending {
		h.conv.Emit(ev)
	}
	h.pending = nil
}
