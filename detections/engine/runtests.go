package engine

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// maxSampleLine bounds one line of a sample file.
const maxSampleLine = 1 << 20

// TestResult is the outcome of one rule sample test. Err is set when the
// sample could not be read or decoded; otherwise the test passed when Got
// equals Expect.
type TestResult struct {
	Rule   string
	Sample string
	Expect int
	Got    int
	Err    error
}

// Passed reports whether the test ran and produced the expected count.
func (t TestResult) Passed() bool { return t.Err == nil && t.Got == t.Expect }

// String renders the result for a test report.
func (t TestResult) String() string {
	switch {
	case t.Err != nil:
		return fmt.Sprintf("FAIL %s %s: %v", t.Rule, t.Sample, t.Err)
	case t.Got != t.Expect:
		return fmt.Sprintf("FAIL %s %s: got %d alerts, want %d", t.Rule, t.Sample, t.Got, t.Expect)
	default:
		return fmt.Sprintf("ok   %s %s: %d alerts", t.Rule, t.Sample, t.Got)
	}
}

// RunTests runs the rule's sample tests. Each sample (JSON lines; blank
// lines and lines starting with '#' or "//" are skipped) is opened with
// open, each line decoded with decode and passed through enrich (may be
// nil), then through a fresh engine holding only this rule; at the end of
// the sample the engine is flushed (see Engine.Flush). The number of alerts
// must equal the test's Expect.
func RunTests(r *Rule, open func(path string) (io.ReadCloser, error), decode func([]byte) (schema.Event, error), enrich func(*schema.Event)) []TestResult {
	out := make([]TestResult, 0, len(r.Tests))
	for _, t := range r.Tests {
		res := TestResult{Rule: r.ID, Sample: t.Sample, Expect: t.Expect}
		res.Got, res.Err = runSample(r, t.Sample, open, decode, enrich)
		out = append(out, res)
	}
	return out
}

func runSample(r *Rule, sample string, open func(string) (io.ReadCloser, error), decode func([]byte) (schema.Event, error), enrich func(*schema.Event)) (int, error) {
	e, err := New([]*Rule{r}, Options{})
	if err != nil {
		return 0, err
	}
	f, err := open(sample)
	if err != nil {
		return 0, fmt.Errorf("open sample: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), maxSampleLine)
	alerts, lineNo := 0, 0
	for sc.Scan() {
		lineNo++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' || bytes.HasPrefix(line, []byte("//")) {
			continue
		}
		ev, err := decode(line)
		if err != nil {
			return alerts, fmt.Errorf("%s:%d: decode: %w", sample, lineNo, err)
		}
		if enrich != nil {
			enrich(&ev)
		}
		e.Process(&ev, func(schema.Alert) { alerts++ })
	}
	if err := sc.Err(); err != nil {
		return alerts, fmt.Errorf("%s: read: %w", sample, err)
	}
	e.Flush(func(schema.Alert) { alerts++ })
	return alerts, nil
}
