package posture

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

//go:embed report.html.tmpl
var reportTemplate string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"sevclass": func(s schema.Severity) string { return "sev-" + s.String() },
	"scoreclass": func(n int) string {
		switch {
		case n >= 90:
			return "good"
		case n >= 70:
			return "fair"
		case n >= 50:
			return "poor"
		}
		return "bad"
	},
	"add":  func(a, b int) int { return a + b },
	"time": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
}).Parse(reportTemplate))

// ReportOptions add context to a report.
type ReportOptions struct {
	// History are past points, oldest first (the run's own point is added
	// when missing).
	History []HistoryPoint
	// Source names where the snapshot came from ("ldaps://dc1.lab.test").
	Source string
	// Warnings are collector warnings to show (unreadable attributes…).
	Warnings []string
	// MaxEntities caps the findings listed per assessment before the rest
	// are folded into a count; default 200.
	MaxEntities int
	// Generated is the time shown as the report's creation; default now.
	Generated time.Time
}

type reportData struct {
	Run       Run
	Source    string
	Warnings  []string
	Spark     template.HTML
	Delta     string
	Failed    []reportAssessment
	Passed    []*Assessment
	Skipped   []Result
	BySev     []sevCount
	Generated string
}

type reportAssessment struct {
	A        *Assessment
	Findings []schema.Finding
	Hidden   int
	Tactic   string
}

type sevCount struct {
	Severity    schema.Severity
	Assessments int
	Findings    int
}

// WriteReport renders a self-contained HTML report of a run (inline CSS
// and SVG, no external assets, no script).
func WriteReport(w io.Writer, r Run, o ReportOptions) error {
	if o.MaxEntities <= 0 {
		o.MaxEntities = 200
	}
	if o.Generated.IsZero() {
		o.Generated = time.Now()
	}
	d := reportData{Run: r, Source: o.Source, Warnings: o.Warnings, Generated: o.Generated.UTC().Format("2006-01-02 15:04 UTC")}
	hist := o.History
	if n := len(hist); n == 0 || !hist[n-1].At.Equal(r.At) {
		hist = append(append([]HistoryPoint(nil), hist...), r.Point())
	}
	d.Spark = sparkline(hist)
	if n := len(hist); n >= 2 {
		diff := hist[n-1].Score.Total - hist[n-2].Score.Total
		switch {
		case diff > 0:
			d.Delta = fmt.Sprintf("▲ %d since %s", diff, hist[n-2].At.UTC().Format("2006-01-02"))
		case diff < 0:
			d.Delta = fmt.Sprintf("▼ %d since %s", -diff, hist[n-2].At.UTC().Format("2006-01-02"))
		default:
			d.Delta = "unchanged since " + hist[n-2].At.UTC().Format("2006-01-02")
		}
	}
	for sev := schema.SeverityCritical; sev >= schema.SeverityLow; sev-- {
		d.BySev = append(d.BySev, sevCount{Severity: sev, Assessments: r.Score.Failed[sev.String()], Findings: r.Score.Findings[sev.String()]})
	}
	for _, res := range r.Results {
		switch res.Status {
		case StatusFailed:
			ra := reportAssessment{A: res.Assessment, Findings: res.Findings}
			if len(ra.Findings) > o.MaxEntities {
				ra.Hidden = len(ra.Findings) - o.MaxEntities
				ra.Findings = ra.Findings[:o.MaxEntities]
			}
			if len(res.Findings) > 0 {
				ra.Tactic = res.Findings[0].Threat.Tactic.Name
			}
			d.Failed = append(d.Failed, ra)
		case StatusPassed:
			d.Passed = append(d.Passed, res.Assessment)
		default:
			d.Skipped = append(d.Skipped, res)
		}
	}
	sort.SliceStable(d.Failed, func(i, j int) bool { return d.Failed[i].A.Severity > d.Failed[j].A.Severity })
	return reportTmpl.Execute(w, d)
}

// sparkline draws the score history as an inline SVG polyline.
func sparkline(points []HistoryPoint) template.HTML {
	const w, h, pad = 260.0, 56.0, 4.0
	if len(points) > 90 {
		points = points[len(points)-90:]
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="spark" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="score trend">`, w, h, w, h)
	fmt.Fprintf(&b, `<line x1="0" y1="%.1f" x2="%.0f" y2="%.1f" class="grid"/>`, pad+(h-2*pad)*0.1, w, pad+(h-2*pad)*0.1)
	var pts []string
	var lastX, lastY float64
	for i, p := range points {
		x := w / 2
		if len(points) > 1 {
			x = pad + (w-2*pad)*float64(i)/float64(len(points)-1)
		}
		y := pad + (h-2*pad)*(1-float64(p.Score.Total)/100)
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
		lastX, lastY = x, y
	}
	if len(pts) > 1 {
		fmt.Fprintf(&b, `<polyline points="%s"/>`, strings.Join(pts, " "))
	}
	fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5"/>`, lastX, lastY)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
