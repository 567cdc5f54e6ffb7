package cron

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // TestNextAcrossDST needs America/New_York on any machine
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse("2006-01-02 15:04 Mon", s)
	if err != nil {
		v, err = time.Parse("2006-01-02 15:04", s)
	}
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNext(t *testing.T) {
	cases := []struct {
		expr, from string
		want       []string // successive runs
	}{
		{"0 3 * * *", "2026-11-28 10:29", []string{"2026-11-29 03:00", "2026-11-30 03:00"}},
		{"*/15 * * * *", "2026-11-28 10:29", []string{"2026-11-28 10:30", "2026-11-28 10:45", "2026-11-28 11:00"}},
		{"30 2 1 * *", "2026-12-15 00:00", []string{"2027-01-01 02:30", "2027-02-01 02:30"}},
		{"0 0 * * mon-fri", "2026-11-27 12:00", []string{"2026-11-30 00:00", "2026-12-01 00:00"}},                 // Fri → Mon
		{"0 0 * * 7", "2026-11-28 12:00", []string{"2026-11-29 00:00", "2026-12-06 00:00"}},                       // 7 = Sunday
		{"0 12 13 * 5", "2026-11-01 00:00", []string{"2026-11-06 12:00", "2026-11-13 12:00", "2026-11-20 12:00"}}, // dom OR dow
		{"5,10-12/2 8 * feb *", "2026-11-28 10:29", []string{"2027-02-01 08:05", "2027-02-01 08:10", "2027-02-01 08:12", "2027-02-02 08:05"}},
		{"0 0 29 2 *", "2026-03-01 00:00", []string{"2028-02-29 00:00"}},
		{"@hourly", "2026-11-28 10:29", []string{"2026-11-28 11:00"}},
		{"@daily", "2026-11-28 00:00", []string{"2026-11-29 00:00"}},
		{"10/20 * * * *", "2026-11-28 10:29", []string{"2026-11-28 10:30", "2026-11-28 10:50", "2026-11-28 11:10"}},
	}
	for _, c := range cases {
		s, err := Parse(c.expr)
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.expr, err)
		}
		at := mustTime(t, c.from)
		for _, w := range c.want {
			at = s.Next(at)
			if got := at.Format("2006-01-02 15:04"); got != w {
				t.Errorf("%q: next = %s, want %s", c.expr, got, w)
				break
			}
		}
	}
}

func TestNextImpossible(t *testing.T) {
	s, err := Parse("0 0 30 2 *")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Next(mustTime(t, "2026-01-01 00:00")); !got.IsZero() {
		t.Errorf("30 Feb: next = %v, want zero", got)
	}
	var zero Schedule
	if got := zero.Next(time.Now()); !got.IsZero() {
		t.Errorf("zero Schedule: next = %v, want zero", got)
	}
}

func TestNextKeepsLocation(t *testing.T) {
	loc := time.FixedZone("X", 5*3600)
	s, _ := Parse("0 3 * * *")
	got := s.Next(time.Date(2026, 11, 28, 4, 0, 0, 0, loc))
	if got.Location() != loc || got.Hour() != 3 || got.Day() != 29 {
		t.Errorf("next = %v", got)
	}
}

func TestParseErrors(t *testing.T) {
	for expr, want := range map[string]string{
		"":                       "has 0 fields",
		"* * * *":                "has 4 fields",
		"* * * * * *":            "has 6 fields",
		"60 * * * *":             "minute",
		"* 24 * * *":             "hour",
		"* * 0 * *":              "day-of-month",
		"* * * 13 *":             "month",
		"* * * * 8":              "day-of-week",
		"5-1 * * * *":            "ends before it starts",
		"*/0 * * * *":            "bad step",
		"1,,2 * * * *":           "empty list item",
		"@fortnightly":           "unknown macro",
		"x * * * *":              "not a value",
		"* * * foo *":            "month",
		strings.Repeat("1", 300): "longer than",
	} {
		_, err := Parse(expr)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want error containing %q", expr, err, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"0 3 * * *", "*/5 1-2 1,15 jan-mar mon", "@daily", "1-2/3 4 5 6 7"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		s, err := Parse(expr)
		if err != nil {
			return
		}
		from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		next := s.Next(from)
		if !next.IsZero() && !next.After(from) {
			t.Fatalf("%q: next %v not after %v", expr, next, from)
		}
	})
}

func BenchmarkNext(b *testing.B) {
	s, _ := Parse("0 3 * * mon")
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		t = s.Next(t)
	}
}

func TestNextAcrossDST(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := Parse("45 1 * * *")
	// 2026-11-01: clocks fall back at 02:00 EDT to 01:00 EST; 01:45 occurs twice.
	second := time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC).In(ny) // 01:30 EST, the second 01:30
	got := s.Next(second)
	if !got.After(second) || got.Day() != 2 || got.Hour() != 1 || got.Minute() != 45 {
		t.Errorf("after the second 01:30: next = %v, want 2026-11-02 01:45", got)
	}
	s2, _ := Parse("30 2 * * *") // 2026-03-08: 02:30 does not exist in New York
	got = s2.Next(time.Date(2026, 3, 8, 0, 0, 0, 0, ny))
	if !got.After(time.Date(2026, 3, 8, 0, 0, 0, 0, ny)) {
		t.Errorf("spring forward: next = %v", got)
	}
}
