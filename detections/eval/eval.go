// Package eval measures detection against a labelled corpus: a manifest of
// files, each labelled with the ATT&CK technique it demonstrates. Each file is
// replayed on its own through a fresh processor; a file counts as detected
// when it raised an alert with its labelled technique, a sub-technique of
// it, or its parent.
package eval

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/castellan-itdr/castellan/mappings/mitre"
)

// Entry is one labelled file.
type Entry struct {
	Path      string
	Tactic    string // may be empty: derived from the technique when possible
	Technique string // "T1558.003"; "T1098.xxx" means some sub-technique of T1098
}

// ReadManifest reads a TSV manifest with a header row naming at least the
// columns path and technique (tactic optional). Rows without a technique
// are skipped.
func ReadManifest(r io.Reader) ([]Entry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	if !sc.Scan() {
		return nil, errors.New("manifest: empty")
	}
	cols := map[string]int{}
	for i, c := range strings.Split(strings.TrimRight(sc.Text(), "\r"), "\t") {
		cols[strings.ToLower(strings.TrimSpace(c))] = i
	}
	pi, ok1 := cols["path"]
	ti, ok2 := cols["technique"]
	if !ok1 || !ok2 {
		return nil, errors.New("manifest: header must name the columns path and technique")
	}
	ai, hasTactic := cols["tactic"]
	var out []Entry
	for line := 2; sc.Scan(); line++ {
		f := strings.Split(strings.TrimRight(sc.Text(), "\r"), "\t")
		if len(f) <= max(pi, ti) {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			return nil, fmt.Errorf("manifest line %d: %d columns, want at least %d", line, len(f), max(pi, ti)+1)
		}
		e := Entry{Path: f[pi], Technique: strings.TrimSpace(f[ti])}
		if hasTactic && ai < len(f) {
			e.Tactic = strings.TrimSpace(f[ai])
		}
		if e.Technique == "" {
			continue
		}
		if e.Tactic == "" {
			if t, ok := mitre.LookupTechnique(base(e.Technique)); ok && len(t.Tactics) > 0 {
				e.Tactic = t.Tactics[0]
			}
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// base strips a ".xxx" placeholder sub-technique.
func base(tech string) string {
	if b, ok := strings.CutSuffix(strings.ToUpper(tech), ".XXX"); ok {
		return b
	}
	return strings.ToUpper(tech)
}

func parent(tech string) string {
	if i := strings.IndexByte(tech, '.'); i > 0 {
		return tech[:i]
	}
	return tech
}

// Matches reports whether an alert technique answers a label: the same
// technique, the label's parent, or a sub-technique of a parent-level label
// ("T1098.xxx" and "T1098" accept any T1098 sub-technique).
func Matches(label, alert string) bool {
	label, alert = strings.ToUpper(label), strings.ToUpper(alert)
	placeholder := strings.HasSuffix(label, ".XXX")
	label = base(label)
	switch {
	case alert == label:
		return true
	case alert == parent(label):
		return true
	case (placeholder || !strings.Contains(label, ".")) && parent(alert) == label:
		return true
	}
	return false
}

// FileResult is the outcome of one file.
type FileResult struct {
	Entry
	Events     int
	Alerts     int
	Techniques []string // distinct alert techniques, sorted
	Detected   bool
	// Other counts alerts whose technique does not answer the label.
	Other int
	Err   error
}

// Score folds an alert-technique list into a FileResult.
func Score(e Entry, events int, techniques []string) FileResult {
	r := FileResult{Entry: e, Events: events, Alerts: len(techniques)}
	seen := map[string]bool{}
	for _, t := range techniques {
		if Matches(e.Technique, t) {
			r.Detected = true
		} else {
			r.Other++
		}
		if !seen[t] {
			seen[t] = true
			r.Techniques = append(r.Techniques, t)
		}
	}
	sort.Strings(r.Techniques)
	return r
}

// IdentityTactics are the tactics the recall goal is measured over.
var IdentityTactics = []string{"TA0003", "TA0004", "TA0006", "TA0007", "TA0008"}

type tally struct{ files, detected, other, errs int }

// Report prints per-technique and per-tactic tables and the recall lines;
// the last line is "recall H/N (P%)" over every labelled file.
func Report(w io.Writer, results []FileResult) error {
	byTech := map[string]*tally{}
	byTactic := map[string]*tally{}
	total, identity := &tally{}, &tally{}
	isIdentity := map[string]bool{}
	for _, t := range IdentityTactics {
		isIdentity[t] = true
	}
	for _, r := range results {
		for _, t := range []*tally{get(byTech, base(r.Technique)), get(byTactic, r.Tactic), total} {
			t.files++
			if r.Detected {
				t.detected++
			}
			t.other += r.Other
			if r.Err != nil {
				t.errs++
			}
		}
		if isIdentity[r.Tactic] {
			identity.files++
			if r.Detected {
				identity.detected++
			}
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TECHNIQUE\tNAME\tFILES\tDETECTED\tOTHER ALERTS\tERRORS")
	for _, k := range sortedTally(byTech) {
		t := byTech[k]
		name := ""
		if m, ok := mitre.LookupTechnique(k); ok {
			name = m.Name
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", k, name, t.files, t.detected, t.other, t.errs)
	}
	fmt.Fprintln(tw, "\t\t\t\t\t")
	fmt.Fprintln(tw, "TACTIC\tNAME\tFILES\tDETECTED\tOTHER ALERTS\tRECALL")
	for _, k := range sortedTally(byTactic) {
		t := byTactic[k]
		name := ""
		if m, ok := mitre.LookupTactic(k); ok {
			name = m.Name
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", k, name, t.files, t.detected, t.other, pct(t.detected, t.files))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nidentity tactics (%s): recall %d/%d (%s)\n", strings.Join(IdentityTactics, ", "), identity.detected, identity.files, pct(identity.detected, identity.files))
	_, err := fmt.Fprintf(w, "recall %d/%d (%s)\n", total.detected, total.files, pct(total.detected, total.files))
	return err
}

func get(m map[string]*tally, k string) *tally {
	if k == "" {
		k = "-"
	}
	t := m[k]
	if t == nil {
		t = &tally{}
		m[k] = t
	}
	return t
}

func sortedTally(m map[string]*tally) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func pct(a, b int) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(a)/float64(b))
}

// OpenManifest reads a manifest file.
func OpenManifest(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadManifest(f)
}
