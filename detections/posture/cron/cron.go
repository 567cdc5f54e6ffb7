package cron

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed expression. The zero value matches nothing.
type Schedule struct {
	minute, hour, dom, month, dow uint64 // bit i set: value i matches
	domStar, dowStar              bool
	expr                          string
}

// String returns the expression as parsed.
func (s Schedule) String() string { return s.expr }

type field struct {
	name     string
	min, max int
	names    []string // names[i] is value min+i
}

var (
	minuteField = field{name: "minute", min: 0, max: 59}
	hourField   = field{name: "hour", min: 0, max: 23}
	domField    = field{name: "day-of-month", min: 1, max: 31}
	monthField  = field{name: "month", min: 1, max: 12, names: []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}}
	dowField    = field{name: "day-of-week", min: 0, max: 7, names: []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}}
)

var macros = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

// maxExprLen bounds the input Parse reads.
const maxExprLen = 256

// Parse parses a five-field expression or a macro.
func Parse(expr string) (Schedule, error) {
	orig := expr
	if len(expr) > maxExprLen {
		return Schedule{}, fmt.Errorf("cron: expression longer than %d bytes", maxExprLen)
	}
	expr = strings.TrimSpace(expr)
	if m, ok := macros[strings.ToLower(expr)]; ok {
		expr = m
	} else if strings.HasPrefix(expr, "@") {
		return Schedule{}, fmt.Errorf("cron: unknown macro %q (want @yearly, @monthly, @weekly, @daily or @hourly)", expr)
	}
	parts := strings.Fields(expr)
	if len(parts) != 5 {
		return Schedule{}, fmt.Errorf("cron: %q has %d fields, want 5 (minute hour day-of-month month day-of-week)", orig, len(parts))
	}
	s := Schedule{expr: strings.TrimSpace(orig)}
	var errs []error
	parse := func(f field, text string) uint64 {
		v, err := f.parse(text)
		if err != nil {
			errs = append(errs, err)
		}
		return v
	}
	s.minute = parse(minuteField, parts[0])
	s.hour = parse(hourField, parts[1])
	s.dom = parse(domField, parts[2])
	s.month = parse(monthField, parts[3])
	s.dow = parse(dowField, parts[4])
	if err := errors.Join(errs...); err != nil {
		return Schedule{}, err
	}
	if s.dow&(1<<7) != 0 { // 7 is Sunday too
		s.dow = s.dow&^(1<<7) | 1
	}
	s.domStar = strings.HasPrefix(parts[2], "*")
	s.dowStar = strings.HasPrefix(parts[4], "*")
	return s, nil
}

func (f field) parse(text string) (uint64, error) {
	var set uint64
	for _, item := range strings.Split(text, ",") {
		if item == "" {
			return 0, fmt.Errorf("cron: %s: empty list item in %q", f.name, text)
		}
		rng, stepText, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n <= 0 || n > f.max {
				return 0, fmt.Errorf("cron: %s: bad step %q", f.name, stepText)
			}
			step = n
		}
		lo, hi := f.min, f.max
		switch {
		case rng == "*":
		default:
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if lo, err = f.value(a); err != nil {
				return 0, err
			}
			hi = lo
			if isRange {
				if hi, err = f.value(b); err != nil {
					return 0, err
				}
				if hi < lo {
					return 0, fmt.Errorf("cron: %s: range %q ends before it starts", f.name, rng)
				}
			} else if hasStep {
				hi = f.max // "a/n" means a through the maximum, every n
			}
		}
		for v := lo; v <= hi; v += step {
			set |= 1 << uint(v)
		}
	}
	return set, nil
}

func (f field) value(text string) (int, error) {
	for i, n := range f.names {
		if strings.EqualFold(text, n) {
			return f.min + i, nil
		}
	}
	v, err := strconv.Atoi(text)
	if err != nil || v < f.min || v > f.max {
		return 0, fmt.Errorf("cron: %s: %q is not a value in %d-%d", f.name, text, f.min, f.max)
	}
	return v, nil
}

// dayMatches applies the day-of-month / day-of-week rule.
func (s Schedule) dayMatches(t time.Time) bool {
	domOK := s.dom&(1<<uint(t.Day())) != 0
	dowOK := s.dow&(1<<uint(t.Weekday())) != 0
	switch {
	case s.domStar || s.dowStar:
		return domOK && dowOK
	default:
		return domOK || dowOK
	}
}

// Next returns the first time strictly after t (truncated to the minute)
// that the schedule matches, in t's location; the zero time if none within
// five years (e.g. "0 0 30 2 *").
func (s Schedule) Next(t time.Time) time.Time {
	if s.minute == 0 || s.hour == 0 || s.month == 0 {
		return time.Time{}
	}
	loc := t.Location()
	from := t
	t = t.Truncate(time.Minute).Add(time.Minute)
	limit := t.AddDate(5, 0, 0)
	for t.Before(limit) {
		if s.month&(1<<uint(t.Month())) == 0 {
			t = forward(t, time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, loc))
			continue
		}
		if !s.dayMatches(t) {
			t = forward(t, time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc))
			continue
		}
		if s.hour&(1<<uint(t.Hour())) == 0 {
			next := nextBit(s.hour, t.Hour())
			if next < 0 {
				t = forward(t, time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc))
			} else {
				t = forward(t, time.Date(t.Year(), t.Month(), t.Day(), next, 0, 0, 0, loc))
			}
			continue
		}
		if s.minute&(1<<uint(t.Minute())) == 0 {
			next := nextBit(s.minute, t.Minute())
			if next < 0 {
				t = forward(t, time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, loc))
			} else {
				t = forward(t, time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), next, 0, 0, loc))
			}
			continue
		}
		if !t.After(from) {
			// A wall-clock time repeated when clocks fall back resolved to
			// its first occurrence, before from: step past it.
			t = from.Add(time.Minute).Truncate(time.Minute)
			from = t
			continue
		}
		return t
	}
	return time.Time{}
}

// nextBit returns the lowest set bit of set above from, or -1.
func nextBit(set uint64, from int) int {
	rest := set >> uint(from+1) << uint(from+1)
	if rest == 0 {
		return -1
	}
	return bits.TrailingZeros64(rest)
}

// forward returns next when it is after t; otherwise (a wall-clock time
// that a daylight-saving change skipped resolved to an earlier instant)
// the start of the next absolute hour, so the search always advances.
func forward(t, next time.Time) time.Time {
	if next.After(t) {
		return next
	}
	return t.Truncate(time.Hour).Add(time.Hour)
}
