package ldap

import (
	"errors"
	"strconv"
	"strings"

	"github.com/castellan-itdr/castellan/mappings/network"
)

// Protocol operations (APPLICATION tags).
const (
	OpBindRequest     = 0
	OpBindResponse    = 1
	OpUnbindRequest   = 2
	OpSearchRequest   = 3
	OpSearchEntry     = 4
	OpSearchDone      = 5
	OpModifyRequest   = 6
	OpModifyResponse  = 7
	OpAddRequest      = 8
	OpAddResponse     = 9
	OpDelRequest      = 10
	OpDelResponse     = 11
	OpModDNRequest    = 12
	OpModDNResponse   = 13
	OpSearchReference = 19
	OpExtendedRequest = 23
	OpExtendedResp    = 24
)

// StartTLSOID is the StartTLS extended operation.
const StartTLSOID = "1.3.6.1.4.1.1466.20037"

const (
	maxList      = 1024 // attributes, values, changes, controls per message
	maxDepth     = 32   // filter nesting
	maxFilterLen = 4096 // rendered filter text
	maxValueLen  = 256  // attribute values copied into events
)

// ErrMalformed reports a message that is not LDAP.
var ErrMalformed = errors.New("ldap: malformed message")

// Message is the decoded envelope of one LDAPMessage.
type Message struct {
	ID       int64
	Op       int
	Body     []byte   // the protocolOp's contents (view into the input)
	Controls []string // control OIDs
}

// ParseMessage decodes an LDAPMessage envelope.
func ParseMessage(b []byte) (Message, error) {
	var m Message
	env, _, err := network.ParseTLV(b)
	if err != nil || !env.Is(network.ClassUniversal, 16) || !env.Constructed {
		return m, ErrMalformed
	}
	id, rest, err := network.ParseTLV(env.Body)
	if err != nil || !id.Is(network.ClassUniversal, 2) {
		return m, ErrMalformed
	}
	if m.ID, err = network.Int(id.Body); err != nil {
		return m, ErrMalformed
	}
	op, rest, err := network.ParseTLV(rest)
	if err != nil || op.Class != network.ClassApplication {
		return m, ErrMalformed
	}
	m.Op, m.Body = op.Tag, op.Body
	if len(rest) > 0 {
		if c, _, err := network.ParseTLV(rest); err == nil && c.Is(network.ClassContext, 0) {
			_ = network.Elements(c.Body, 32, func(ctl network.TLV) bool {
				if oid, _, err := network.ParseTLV(ctl.Body); err == nil {
					m.Controls = append(m.Controls, network.Text(oid.Body))
				}
				return true
			})
		}
	}
	return m, nil
}

// seq reads the elements of a body into dst (at most cap(dst)). Callers
// pass a fresh array (seq(new([n]network.TLV)[:0], body)) that stays on
// their stack.
func seq(dst []network.TLV, body []byte) ([]network.TLV, error) {
	out := dst[:0]
	err := network.Elements(body, cap(dst), func(t network.TLV) bool {
		out = append(out, t)
		return true
	})
	return out, err
}

// Bind is a BindRequest.
type Bind struct {
	Version     int64
	Name        string
	Simple      bool
	PasswordLen int
	Mechanism   string
	Credentials []byte // SASL credentials (view into the input)
}

// ParseBind decodes a BindRequest body.
func ParseBind(body []byte) (Bind, error) {
	var b Bind
	el, err := seq(new([3]network.TLV)[:0], body)
	if err != nil || len(el) != 3 {
		return b, ErrMalformed
	}
	b.Version, _ = network.Int(el[0].Body)
	b.Name = network.Text(el[1].Body)
	auth := el[2]
	switch {
	case auth.Is(network.ClassContext, 0):
		b.Simple = true
		b.PasswordLen = len(auth.Body)
	case auth.Is(network.ClassContext, 3):
		parts, err := seq(new([2]network.TLV)[:0], auth.Body)
		if err != nil || len(parts) == 0 {
			return b, ErrMalformed
		}
		b.Mechanism = network.Text(parts[0].Body)
		if len(parts) > 1 {
			b.Credentials = parts[1].Body
		}
	default:
		return b, ErrMalformed
	}
	return b, nil
}

// Result is an LDAPResult (the start of every response body).
type Result struct {
	Code       int64
	Diagnostic string
	SASLCreds  []byte // BindResponse serverSaslCreds
	Name       string // ExtendedResponse responseName
}

// ParseResult decodes a response body.
func ParseResult(body []byte) (Result, error) {
	var r Result
	el, err := seq(new([8]network.TLV)[:0], body)
	if err != nil || len(el) < 3 {
		return r, ErrMalformed
	}
	if r.Code, err = network.Int(el[0].Body); err != nil {
		return r, ErrMalformed
	}
	r.Diagnostic = network.Text(el[2].Body)
	for _, e := range el[3:] {
		switch {
		case e.Is(network.ClassContext, 7):
			r.SASLCreds = e.Body
		case e.Is(network.ClassContext, 10):
			r.Name = network.Text(e.Body)
		}
	}
	return r, nil
}

// Search is a SearchRequest.
type Search struct {
	Base       string
	Scope      int64
	SizeLimit  int64
	TimeLimit  int64
	TypesOnly  bool
	Filter     string
	Attributes []string
}

// ScopeName names a search scope as ldapsearch does: base, one, sub.
func ScopeName(s int64) string {
	switch s {
	case 0:
		return "base"
	case 1:
		return "one"
	case 2:
		return "sub"
	}
	return strconv.FormatInt(s, 10)
}

// ParseSearch decodes a SearchRequest body.
func ParseSearch(body []byte) (Search, error) {
	var s Search
	el, err := seq(new([8]network.TLV)[:0], body)
	if err != nil || len(el) != 8 {
		return s, ErrMalformed
	}
	s.Base = network.Text(el[0].Body)
	s.Scope, _ = network.Int(el[1].Body)
	s.SizeLimit, _ = network.Int(el[3].Body)
	s.TimeLimit, _ = network.Int(el[4].Body)
	s.TypesOnly = len(el[5].Body) == 1 && el[5].Body[0] != 0
	var sb strings.Builder
	sb.Grow(128)
	if err := renderFilter(&sb, el[6], 0); err != nil {
		return s, err
	}
	s.Filter = sb.String()
	err = network.Elements(el[7].Body, maxList, func(t network.TLV) bool {
		s.Attributes = append(s.Attributes, network.Text(t.Body))
		return true
	})
	if err != nil {
		return s, ErrMalformed
	}
	return s, nil
}

// Filter renders a BER-encoded filter as RFC 4515 text.
func Filter(b []byte) (string, error) {
	t, _, err := network.ParseTLV(b)
	if err != nil {
		return "", ErrMalformed
	}
	var sb strings.Builder
	err = renderFilter(&sb, t, 0)
	return sb.String(), err
}

func renderFilter(sb *strings.Builder, f network.TLV, depth int) error {
	if depth > maxDepth || sb.Len() > maxFilterLen || f.Class != network.ClassContext {
		return ErrMalformed
	}
	sb.WriteByte('(')
	switch f.Tag {
	case 0, 1: // and, or
		sb.WriteByte("&|"[f.Tag])
		var ferr error
		err := network.Elements(f.Body, maxList, func(t network.TLV) bool {
			ferr = renderFilter(sb, t, depth+1)
			return ferr == nil
		})
		if err != nil || ferr != nil {
			return ErrMalformed
		}
	case 2: // not
		sb.WriteByte('!')
		t, _, err := network.ParseTLV(f.Body)
		if err != nil {
			return ErrMalformed
		}
		if err := renderFilter(sb, t, depth+1); err != nil {
			return err
		}
	case 3, 5, 6, 8: // equality, >=, <=, ~=
		el, err := seq(new([2]network.TLV)[:0], f.Body)
		if err != nil || len(el) != 2 {
			return ErrMalformed
		}
		sb.WriteString(escapeAttr(el[0].Body))
		sb.WriteString(map[int]string{3: "=", 5: ">=", 6: "<=", 8: "~="}[f.Tag])
		escapeValue(sb, el[1].Body)
	case 4: // substrings
		el, err := seq(new([2]network.TLV)[:0], f.Body)
		if err != nil || len(el) != 2 {
			return ErrMalformed
		}
		sb.WriteString(escapeAttr(el[0].Body))
		sb.WriteByte('=')
		var initial, final bool
		var parts []network.TLV
		err = network.Elements(el[1].Body, maxList, func(t network.TLV) bool {
			parts = append(parts, t)
			return true
		})
		if err != nil {
			return ErrMalformed
		}
		for i, p := range parts {
			switch p.Tag {
			case 0:
				initial = i == 0
				if !initial {
					return ErrMalformed
				}
				escapeValue(sb, p.Body)
			case 1:
				sb.WriteByte('*')
				escapeValue(sb, p.Body)
			case 2:
				sb.WriteByte('*')
				escapeValue(sb, p.Body)
				final = true
			default:
				return ErrMalformed
			}
		}
		if !final {
			sb.WriteByte('*')
		}
	case 7: // present
		sb.WriteString(escapeAttr(f.Body))
		sb.WriteString("=*")
	case 9: // extensibleMatch
		var rule, typ, val []byte
		var dn bool
		err := network.Elements(f.Body, 4, func(t network.TLV) bool {
			switch t.Tag {
			case 1:
				rule = t.Body
			case 2:
				typ = t.Body
			case 3:
				val = t.Body
			case 4:
				dn = len(t.Body) == 1 && t.Body[0] != 0
			}
			return true
		})
		if err != nil {
			return ErrMalformed
		}
		sb.WriteString(escapeAttr(typ))
		if dn {
			sb.WriteString(":dn")
		}
		if len(rule) > 0 {
			sb.WriteByte(':')
			sb.WriteString(escapeAttr(rule))
		}
		sb.WriteString(":=")
		escapeValue(sb, val)
	default:
		return ErrMalformed
	}
	sb.WriteByte(')')
	if sb.Len() > maxFilterLen {
		return ErrMalformed
	}
	return nil
}

// escapeAttr keeps attribute descriptions printable.
func escapeAttr(b []byte) string {
	if len(b) > 256 {
		b = b[:256]
	}
	var sb strings.Builder
	for _, c := range b {
		if c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '*' && c != '\\' && c != '=' {
			sb.WriteByte(c)
		} else {
			sb.WriteString(`\` + hex2(c))
		}
	}
	return sb.String()
}

// escapeValue writes an assertion value with RFC 4515 escapes (and escapes
// non-printable bytes, so binary values such as SIDs read as \xx).
func escapeValue(sb *strings.Builder, b []byte) {
	if len(b) > maxValueLen {
		b = b[:maxValueLen]
	}
	for _, c := range b {
		switch {
		case c == '*' || c == '(' || c == ')' || c == '\\' || c < 0x20 || c >= 0x7f:
			sb.WriteString(`\` + hex2(c))
		default:
			sb.WriteByte(c)
		}
	}
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&0xf]})
}

// Change is one attribute of a Modify or Add request.
type Change struct {
	Op     string // add | delete | replace | increment (Modify), add (Add)
	Attr   string
	Values []string // capped and redacted
	Count  int      // number of values
}

// secret attributes: values never leave the sensor.
var secrets = map[string]bool{
	"unicodepwd": true, "userpassword": true, "dbcspwd": true, "ntpwdhistory": true,
	"lmpwdhistory": true, "supplementalcredentials": true, "unixuserpassword": true,
	"msds-managedpassword": true, "cleartextpassword": true, "ms-mcs-admpwd": true,
	"mslaps-password": true, "mslaps-encryptedpassword": true, "initialauthincoming": true,
	"initialauthoutgoing": true, "trustauthincoming": true, "trustauthoutgoing": true,
	"currentvalue": true, "priorvalue": true,
}

// Secret reports whether values of attr are redacted.
func Secret(attr string) bool { return secrets[strings.ToLower(attr)] }

// Redacted replaces secret values.
const Redacted = "[REDACTED]"

// Object is a Modify or Add request.
type Object struct {
	DN      string
	Changes []Change
}

var modOps = [...]string{"add", "delete", "replace", "increment"}

// ParseModify decodes a ModifyRequest body.
func ParseModify(body []byte) (Object, error) {
	var o Object
	el, err := seq(new([2]network.TLV)[:0], body)
	if err != nil || len(el) != 2 {
		return o, ErrMalformed
	}
	o.DN = network.Text(el[0].Body)
	var perr error
	err = network.Elements(el[1].Body, maxList, func(ch network.TLV) bool {
		parts, err := seq(new([2]network.TLV)[:0], ch.Body)
		if err != nil || len(parts) != 2 {
			perr = ErrMalformed
			return false
		}
		op, _ := network.Int(parts[0].Body)
		c, err := partialAttribute(parts[1].Body)
		if err != nil {
			perr = err
			return false
		}
		if op >= 0 && int(op) < len(modOps) {
			c.Op = modOps[op]
		} else {
			c.Op = strconv.FormatInt(op, 10)
		}
		o.Changes = append(o.Changes, c)
		return true
	})
	if err != nil || perr != nil {
		return o, ErrMalformed
	}
	return o, nil
}

// ParseAdd decodes an AddRequest body.
func ParseAdd(body []byte) (Object, error) {
	var o Object
	el, err := seq(new([2]network.TLV)[:0], body)
	if err != nil || len(el) != 2 {
		return o, ErrMalformed
	}
	o.DN = network.Text(el[0].Body)
	var perr error
	err = network.Elements(el[1].Body, maxList, func(a network.TLV) bool {
		c, err := partialAttribute(a.Body)
		if err != nil {
			perr = err
			return false
		}
		c.Op = "add"
		o.Changes = append(o.Changes, c)
		return true
	})
	if err != nil || perr != nil {
		return o, ErrMalformed
	}
	return o, nil
}

func partialAttribute(body []byte) (Change, error) {
	var c Change
	parts, err := seq(new([2]network.TLV)[:0], body)
	if err != nil || len(parts) != 2 {
		return c, ErrMalformed
	}
	c.Attr = network.Text(parts[0].Body)
	secret := Secret(c.Attr)
	err = network.Elements(parts[1].Body, maxList, func(v network.TLV) bool {
		c.Count++
		if len(c.Values) < 8 {
			switch {
			case secret:
				c.Values = append(c.Values, Redacted)
			case len(v.Body) > maxValueLen:
				c.Values = append(c.Values, network.Text(v.Body[:maxValueLen])+"…")
			default:
				c.Values = append(c.Values, network.Text(v.Body))
			}
		}
		return true
	})
	if err != nil {
		return c, ErrMalformed
	}
	return c, nil
}
