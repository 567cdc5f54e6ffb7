package samba

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Limits on what one line may cost.
const (
	// MaxLineBytes caps one log line; longer lines are rejected unread.
	MaxLineBytes = 1 << 20
	// MaxOriginalFields caps the flattened fields kept in Event.Original.
	MaxOriginalFields = 128
	// MaxOriginalValue caps one value in Event.Original, in bytes.
	MaxOriginalValue = 1024
)

// Dataset is event.dataset of every event; Provider is event.provider.
const (
	Dataset  = "samba"
	Provider = "Samba"
)

// Audit record types (the "type" member, also event.channel).
const (
	TypeAuthentication  = "Authentication"
	TypeAuthorization   = "Authorization"
	TypeDSDBChange      = "dsdbChange"
	TypeDSDBTransaction = "dsdbTransaction"
	TypePasswordChange  = "passwordChange"
	TypeGroupChange     = "groupChange"
)

var (
	// ErrSkip is returned for a line that holds no JSON audit record (debug
	// headers, Kerberos trace lines, blank lines). It is not an error.
	ErrSkip = errors.New("samba: not an audit record")
	// ErrMalformed is wrapped by every error for a line that holds a broken
	// audit record.
	ErrMalformed = errors.New("malformed samba audit record")
)

// record is one decoded audit record.
type record struct {
	typ  string
	ts   time.Time
	body map[string]any // the object named by typ
}

// mapper fills the type-specific parts of ev.
type mapper func(r *record, ev *schema.Event)

var mappers = map[string]mapper{
	TypeAuthentication:  mapAuthentication,
	TypeAuthorization:   mapAuthorization,
	TypeDSDBChange:      mapDSDBChange,
	TypePasswordChange:  mapPasswordChange,
	TypeGroupChange:     mapGroupChange,
	TypeDSDBTransaction: mapTransaction,
}

// Decode parses one audit log line. host names the domain controller that
// wrote the log (host.name; the log does not carry it). Lines without a JSON
// audit record return ErrSkip; broken records an error wrapping ErrMalformed.
// Never panics.
func Decode(line []byte, host string) (schema.Event, error) {
	obj, err := extract(line)
	if err != nil {
		return schema.Event{}, err
	}
	top, err := parseObject(obj)
	if err != nil {
		return schema.Event{}, err
	}
	var r record
	if r.typ, _ = top["type"].(string); r.typ == "" {
		return schema.Event{}, fmt.Errorf("%w: no type", ErrMalformed)
	}
	rawTS := str(top, "timestamp")
	if r.ts, err = parseTime(rawTS); err != nil {
		return schema.Event{}, fmt.Errorf("%w: timestamp %q: %v", ErrMalformed, truncate(rawTS, 40), err)
	}
	var ok bool
	if r.body, ok = top[r.typ].(map[string]any); !ok {
		return schema.Event{}, fmt.Errorf("%w: no %q object", ErrMalformed, truncate(r.typ, 40))
	}

	fields := make(map[string]string, 32)
	for k, v := range top {
		if k != r.typ {
			flatten(fields, k, v)
		}
	}
	for k, v := range r.body {
		flatten(fields, k, v)
	}
	ev := schema.Event{
		ID:        recordID(host, r.typ, fields),
		Timestamp: r.ts,
		Event: schema.EventMeta{
			Kind:     schema.KindOther,
			Code:     str(r.body, "eventId"),
			Provider: Provider,
			Channel:  r.typ,
			Dataset:  Dataset,
		},
		Host:     hostOf(host),
		Original: capOriginal(fields),
	}
	if m := mappers[r.typ]; m != nil {
		m(&r, &ev)
	}
	return ev, nil
}

// extract returns the JSON object of an audit line, or ErrSkip. The object
// starts at the line's first '{', after nothing but white space or a prefix
// ending in ": " (syslog, a relayed helper, "JSON Authentication: "), and
// names a timestamp.
func extract(line []byte) ([]byte, error) {
	if len(line) > MaxLineBytes {
		return nil, fmt.Errorf("%w: line of %d bytes exceeds %d", ErrMalformed, len(line), MaxLineBytes)
	}
	i := bytes.IndexByte(line, '{')
	if i < 0 {
		return nil, ErrSkip
	}
	prefix, obj := line[:i], bytes.TrimRight(line[i:], " \t\r\n")
	if p := bytes.TrimRight(prefix, " \t"); len(p) > 0 && (p[len(p)-1] != ':' || len(p) == len(prefix)) {
		return nil, ErrSkip
	}
	if !bytes.Contains(obj, []byte(`"timestamp"`)) {
		return nil, ErrSkip
	}
	return obj, nil
}

// parseObject decodes exactly one JSON object, numbers kept as text.
func parseObject(obj []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if top == nil {
		return nil, fmt.Errorf("%w: not an object", ErrMalformed)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the object", ErrMalformed)
	}
	return top, nil
}

// timeLayouts: ISO 8601 with a numeric zone (4.9 and later), then the
// RFC 1123-like form of older releases.
var timeLayouts = [...]string{
	"2006-01-02T15:04:05.999999999-0700",
	time.RFC3339Nano,
	"Mon, 02 Jan 2006 15:04:05.999999999 MST",
	"Mon, 02 Jan 2006 15:04:05 MST",
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("missing")
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("unknown format")
}

// flatten adds v under key: scalars as text, objects and arrays as dotted
// keys (array elements by index). nulls are dropped.
func flatten(dst map[string]string, key string, v any) {
	switch x := v.(type) {
	case nil:
	case string:
		dst[key] = x
	case json.Number:
		dst[key] = x.String()
	case bool:
		dst[key] = strconv.FormatBool(x)
	case map[string]any:
		for k, e := range x {
			flatten(dst, key+"."+k, e)
		}
	case []any:
		for i, e := range x {
			flatten(dst, key+"."+strconv.Itoa(i), e)
		}
	}
}

// recordID hashes the record's type, host and every field (see the package
// documentation).
func recordID(host, typ string, fields map[string]string) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(fields[k])
		b.WriteByte(0)
	}
	return schema.EventID(Dataset, host, typ, b.String())
}

// capOriginal bounds fields (see schema.CapOriginal).
func capOriginal(fields map[string]string) map[string]string {
	return schema.CapOriginal(fields, MaxOriginalFields, MaxOriginalValue)
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string { return schema.Truncate(s, n) }

// str reads a member as text: strings as they are, numbers in their JSON
// form, booleans as true/false; absent, null and nested values give "".
func str(m map[string]any, key string) string {
	switch x := m[key].(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// num reads an integer member (JSON number or numeric string); 0 when absent
// or not an integer.
func num(m map[string]any, key string) int {
	n, err := strconv.Atoi(str(m, key))
	if err != nil {
		return 0
	}
	return n
}

// hostOf splits a computer name into host name and DNS domain.
func hostOf(computer string) schema.Host {
	h := schema.Host{Name: computer}
	if i := strings.IndexByte(computer, '.'); i > 0 && i < len(computer)-1 {
		h.Domain = computer[i+1:]
	}
	return h
}

// parseAddress reads Samba's tsocket form "ipv4:127.0.0.1:55048" or
// "ipv6:::1:55048" (also "ipv6:[::1]:55048"); other forms give "", 0.
func parseAddress(s string) (ip string, port int) {
	rest, ok := strings.CutPrefix(s, "ipv4:")
	if !ok {
		if rest, ok = strings.CutPrefix(s, "ipv6:"); !ok {
			return "", 0
		}
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return "", 0
	}
	ip = strings.TrimSuffix(strings.TrimPrefix(rest[:i], "["), "]")
	if p, err := strconv.Atoi(rest[i+1:]); err == nil && p > 0 && p <= 65535 {
		port = p
	}
	if v4, ok := strings.CutPrefix(ip, "::ffff:"); ok && strings.IndexByte(v4, '.') > 0 {
		ip = v4
	}
	return ip, port
}

// plainDN reduces an extended DN "<GUID=…>;<SID=…>;CN=x,DC=y" to "CN=x,DC=y".
func plainDN(v string) string {
	for strings.HasPrefix(v, "<") {
		i := strings.Index(v, ">;")
		if i < 0 {
			return v
		}
		v = v[i+2:]
	}
	return v
}

// firstRDNValue returns the value of the first RDN of a DN:
// "CN=Doe\, John,OU=X,DC=corp" → "Doe, John". Not a DN → "".
func firstRDNValue(dn string) string {
	eq := strings.IndexByte(dn, '=')
	if eq <= 0 || strings.ContainsAny(dn[:eq], ",\\") {
		return ""
	}
	var b strings.Builder
	s := dn[eq+1:]
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == ',' || c == '+':
			return strings.TrimSpace(b.String())
		default:
			b.WriteByte(c)
		}
	}
	return strings.TrimSpace(b.String())
}

// succeeded reads the statusCode / status pair of directory records:
// statusCode 0 (or status "Success") is success.
func succeeded(m map[string]any) (ok bool, reason string) {
	code, status := str(m, "statusCode"), str(m, "status")
	if code == "0" || (code == "" && (status == "" || strings.EqualFold(status, "Success"))) {
		return true, ""
	}
	return false, status
}

// outcome turns a success flag into event.outcome.
func outcome(ok bool) string {
	if ok {
		return schema.OutcomeSuccess
	}
	return schema.OutcomeFailure
}
