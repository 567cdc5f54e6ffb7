package pcapgen

import (
	"fmt"
	"strings"
)

// LDAP result codes (RFC 4511).
const (
	LDAPSuccess            = 0
	LDAPInvalidCredentials = 49
)

// LDAP search scopes.
const (
	ScopeBase = 0
	ScopeOne  = 1
	ScopeSub  = 2
)

func ldapMessage(id int, op []byte) []byte { return seq(derInt(int64(id)), op) }

// LDAPSimpleBind encodes a BindRequest with a simple (cleartext) password.
func LDAPSimpleBind(id int, name, password string) []byte {
	return ldapMessage(id, app(0, derInt(3), derOctets([]byte(name)), tlv(0x80, []byte(password))))
}

// LDAPSASLBind encodes a BindRequest with SASL mechanism and credentials.
func LDAPSASLBind(id int, mechanism string, creds []byte) []byte {
	return ldapMessage(id, app(0, derInt(3), derOctets(nil),
		tlv(classContext|constructed|3, derOctets([]byte(mechanism)), derOctets(creds))))
}

func ldapResult(code int, diag string) [][]byte {
	return [][]byte{derEnum(code), derOctets(nil), derOctets([]byte(diag))}
}

// LDAPBindResponse encodes a BindResponse.
func LDAPBindResponse(id, code int, diag string) []byte {
	return ldapMessage(id, app(1, ldapResult(code, diag)...))
}

// LDAPSearch encodes a SearchRequest; filter is RFC 4515 text and must
// parse (the builders are for crafted traffic, so a bad filter panics).
func LDAPSearch(id int, base string, scope int, filter string, attrs ...string) []byte {
	f, err := EncodeFilter(filter)
	if err != nil {
		panic(err)
	}
	var as [][]byte
	for _, a := range attrs {
		as = append(as, derOctets([]byte(a)))
	}
	return ldapMessage(id, app(3, derOctets([]byte(base)), derEnum(scope), derEnum(0), derInt(1000), derInt(0),
		derBool(false), f, seq(as...)))
}

// LDAPEntry encodes a SearchResultEntry with one value per attribute
// (attrs alternate name, value).
func LDAPEntry(id int, dn string, attrs ...string) []byte {
	var pa [][]byte
	for i := 0; i+1 < len(attrs); i += 2 {
		pa = append(pa, seq(derOctets([]byte(attrs[i])), tlv(0x31, derOctets([]byte(attrs[i+1])))))
	}
	return ldapMessage(id, app(4, derOctets([]byte(dn)), seq(pa...)))
}

// LDAPSearchDone encodes a SearchResultDone.
func LDAPSearchDone(id, code int) []byte { return ldapMessage(id, app(5, ldapResult(code, "")...)) }

// LDAPUnbind encodes an UnbindRequest.
func LDAPUnbind(id int) []byte { return ldapMessage(id, []byte{0x42, 0x00}) }

// EncodeFilter encodes an RFC 4515 filter string as the Filter CHOICE of
// RFC 4511.
func EncodeFilter(s string) ([]byte, error) {
	p := filterParser{s: s}
	b, err := p.filter()
	if err == nil && p.i != len(s) {
		err = fmt.Errorf("pcapgen: filter %q: trailing text at %d", s, p.i)
	}
	return b, err
}

type filterParser struct {
	s string
	i int
}

func (p *filterParser) filter() ([]byte, error) {
	if p.i >= len(p.s) || p.s[p.i] != '(' {
		return nil, fmt.Errorf("pcapgen: filter %q: want ( at %d", p.s, p.i)
	}
	p.i++
	if p.i >= len(p.s) {
		return nil, fmt.Errorf("pcapgen: filter %q: truncated", p.s)
	}
	var out []byte
	switch c := p.s[p.i]; c {
	case '&', '|', '!':
		p.i++
		var subs [][]byte
		for p.i < len(p.s) && p.s[p.i] == '(' {
			f, err := p.filter()
			if err != nil {
				return nil, err
			}
			subs = append(subs, f)
		}
		tag := map[byte]byte{'&': 0xa0, '|': 0xa1, '!': 0xa2}[c]
		out = tlv(tag, subs...)
	default:
		end := strings.IndexByte(p.s[p.i:], ')')
		if end < 0 {
			return nil, fmt.Errorf("pcapgen: filter %q: unclosed item", p.s)
		}
		item := p.s[p.i : p.i+end]
		p.i += end
		var err error
		if out, err = filterItem(item); err != nil {
			return nil, fmt.Errorf("pcapgen: filter %q: %w", p.s, err)
		}
	}
	if p.i >= len(p.s) || p.s[p.i] != ')' {
		return nil, fmt.Errorf("pcapgen: filter %q: want ) at %d", p.s, p.i)
	}
	p.i++
	return out, nil
}

func filterItem(item string) ([]byte, error) {
	eq := strings.IndexByte(item, '=')
	if eq <= 0 {
		return nil, fmt.Errorf("item %q: no attribute=value", item)
	}
	attr, val := item[:eq], item[eq+1:]
	switch {
	case strings.HasSuffix(attr, ">"):
		return tlv(0xa5, derOctets([]byte(attr[:len(attr)-1])), derOctets([]byte(val))), nil
	case strings.HasSuffix(attr, "<"):
		return tlv(0xa6, derOctets([]byte(attr[:len(attr)-1])), derOctets([]byte(val))), nil
	case strings.HasSuffix(attr, "~"):
		return tlv(0xa8, derOctets([]byte(attr[:len(attr)-1])), derOctets([]byte(val))), nil
	case strings.HasSuffix(attr, ":"):
		// attr:rule: or attr:dn:rule: (extensible match)
		parts := strings.Split(strings.TrimSuffix(attr, ":"), ":")
		var fs [][]byte
		if len(parts) > 1 && parts[len(parts)-1] != "dn" {
			fs = append(fs, tlv(0x81, []byte(parts[len(parts)-1])))
		}
		if parts[0] != "" {
			fs = append(fs, tlv(0x82, []byte(parts[0])))
		}
		fs = append(fs, tlv(0x83, []byte(val)))
		if len(parts) > 1 && parts[1] == "dn" {
			fs = append(fs, tlv(0x84, []byte{0xff}))
		}
		return tlv(0xa9, fs...), nil
	case val == "*":
		return tlv(0x87, []byte(attr)), nil
	case strings.Contains(val, "*"):
		pieces := strings.Split(val, "*")
		var subs [][]byte
		for i, s := range pieces {
			switch {
			case s == "":
			case i == 0:
				subs = append(subs, tlv(0x80, []byte(s)))
			case i == len(pieces)-1:
				subs = append(subs, tlv(0x82, []byte(s)))
			default:
				subs = append(subs, tlv(0x81, []byte(s)))
			}
		}
		return tlv(0xa4, derOctets([]byte(attr)), seq(subs...)), nil
	}
	return tlv(0xa3, derOctets([]byte(attr)), derOctets([]byte(val))), nil
}
