package sinktest

import "github.com/castellan-itdr/castellan/sinks/jsonscan"

// ValidJSON reports whether b is one valid JSON value, as json.Valid, in a
// single pass; the doubles check every request body with it.
func ValidJSON(b []byte) bool { return jsonscan.Valid(b) }

// ValidJSONPrefix reports whether b starts with one valid JSON value and
// where it ends (see jsonscan.ValidPrefix).
func ValidJSONPrefix(b []byte) (end int, ok bool) { return jsonscan.ValidPrefix(b) }
