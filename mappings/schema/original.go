package schema

import (
	"sort"
	"strconv"
	"strings"
)

// CapOriginal bounds a flattened Original map in place, for sources whose
// raw records are arbitrary JSON: values are cut to maxValue bytes, and only
// the maxFields shallowest keys are kept (fewest dots, then sorted), so a
// record's own fields win over deeply nested lists. When keys are dropped,
// "original_truncated" holds how many.
func CapOriginal(fields map[string]string, maxFields, maxValue int) map[string]string {
	for k, v := range fields {
		if len(v) > maxValue {
			fields[k] = Truncate(v, maxValue)
		}
	}
	if len(fields) <= maxFields {
		return fields
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		di, dj := strings.Count(keys[i], "."), strings.Count(keys[j], ".")
		if di != dj {
			return di < dj
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys[maxFields:] {
		delete(fields, k)
	}
	fields["original_truncated"] = strconv.Itoa(len(keys) - maxFields)
	return fields
}

// Truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n]
}
