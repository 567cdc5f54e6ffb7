package ldap

import (
	"math"
	"strconv"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// attr reads one entry's attributes, case-insensitively.
type attr struct{ e *goldap.Entry }

func (a attr) str(name string) string { return a.e.GetEqualFoldAttributeValue(name) }

func (a attr) strs(name string) []string {
	v := a.e.GetEqualFoldAttributeValues(name)
	if len(v) == 0 {
		return nil
	}
	return v
}

func (a attr) raw(name string) []byte { return a.e.GetEqualFoldRawAttributeValue(name) }

func (a attr) raws(name string) [][]byte { return a.e.GetEqualFoldRawAttributeValues(name) }

func (a attr) has(name string) bool { return len(a.e.GetEqualFoldRawAttributeValues(name)) > 0 }

// int64 parses an integer attribute; 0 when absent or malformed.
func (a attr) int64(name string) int64 {
	v, err := strconv.ParseInt(strings.TrimSpace(a.str(name)), 10, 64)
	if err != nil {
		return 0
	}
	return v
}

func (a attr) int(name string) int { return int(a.int64(name)) }

// uint32 reads a 32-bit flags attribute, which AD returns signed
// ("-2147483646" for a security global group).
func (a attr) uint32(name string) uint32 { return uint32(a.int64(name)) }

// fileTimeEpoch is 1601-01-01 in Unix seconds.
const fileTimeEpoch = -11644473600

// fileTime converts a FILETIME (100 ns since 1601, UTC) attribute such as
// pwdLastSet or lastLogonTimestamp; zero when absent, 0 or "never"
// (0x7FFFFFFFFFFFFFFF).
func (a attr) fileTime(name string) time.Time { return fileTime(a.int64(name)) }

func fileTime(v int64) time.Time {
	if v <= 0 || v == math.MaxInt64 {
		return time.Time{}
	}
	return time.Unix(fileTimeEpoch+v/1e7, (v%1e7)*100).UTC()
}

// interval converts a negative 100 ns interval (maxPwdAge, lockoutDuration)
// to a duration; 0 for "never" (math.MinInt64) and absent.
func (a attr) interval(name string) time.Duration {
	v := a.int64(name)
	if v == math.MinInt64 || v == 0 {
		return 0
	}
	if v < 0 {
		v = -v
	}
	if v > math.MaxInt64/100 {
		return 0
	}
	return time.Duration(v * 100)
}

// generalized parses a GeneralizedTime attribute (whenCreated).
func (a attr) generalized(name string) time.Time {
	v := a.str(name)
	if v == "" {
		return time.Time{}
	}
	for _, layout := range []string{"20060102150405.0Z", "20060102150405Z", "20060102150405.0-0700"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// hasClass reports objectClass contains class.
func (a attr) hasClass(class string) bool {
	for _, c := range a.e.GetEqualFoldAttributeValues("objectClass") {
		if strings.EqualFold(c, class) {
			return true
		}
	}
	return false
}

// mostSpecificClass is the last objectClass value (AD lists the chain from
// top to the structural class).
func (a attr) mostSpecificClass() string {
	v := a.e.GetEqualFoldAttributeValues("objectClass")
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// parseRange splits a ranged attribute description "member;range=0-1499"
// into its base name and the last index ("*" → -1, the final chunk).
func parseRange(desc string) (base string, end int, ok bool) {
	i := strings.Index(strings.ToLower(desc), ";range=")
	if i < 0 {
		return desc, 0, false
	}
	base = desc[:i]
	_, hi, found := strings.Cut(desc[i+len(";range="):], "-")
	if !found {
		return base, 0, false
	}
	if hi == "*" {
		return base, -1, true
	}
	n, err := strconv.Atoi(hi)
	if err != nil || n < 0 {
		return base, 0, false
	}
	return base, n, true
}

// parseGPLink splits a gPLink value "[LDAP://cn={GUID},cn=policies,…;0][…;2]"
// into DN and options (1 disabled, 2 enforced).
func parseGPLink(v string) []gpLink {
	var out []gpLink
	for _, part := range strings.Split(v, "[") {
		part = strings.TrimSuffix(strings.TrimSpace(part), "]")
		if part == "" {
			continue
		}
		dn, opt, _ := strings.Cut(part, ";")
		if len(dn) >= 7 && strings.EqualFold(dn[:7], "LDAP://") {
			dn = dn[7:]
		}
		if dn == "" {
			continue
		}
		o, _ := strconv.Atoi(opt)
		out = append(out, gpLink{dn: dn, options: o})
	}
	return out
}

type gpLink struct {
	dn      string
	options int
}
