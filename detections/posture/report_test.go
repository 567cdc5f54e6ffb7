package posture

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/directory"
)

func TestWriteReport(t *testing.T) {
	r := checkFixture(t, func(f fx) {
		f.computer("WS1$").UAC |= directory.UACTrustedForDelegation
		f.user("alice").Description = `<script>alert(1)</script>`
		f.user("alice").SPNs = []string{`http/<b>x</b>`}
		f.s.Domain.MachineAccountQuota = 10
	})
	hist := []HistoryPoint{{At: r.At.Add(-48 * time.Hour), Score: Score{Total: 40}}, {At: r.At.Add(-24 * time.Hour), Score: Score{Total: 55}}}
	var b bytes.Buffer
	if err := WriteReport(&b, r, ReportOptions{History: hist, Source: "ldaps://dc1.corp.test"}); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, want := range []string{
		"Identity security posture — corp.test",
		"userAccountControl 0x80000 (TRUSTED_FOR_DELEGATION) on CN=WS1,CN=Computers,DC=corp,DC=test",
		`id="unconstrained-delegation"`, "ms-DS-MachineAccountQuota 10", "How to fix", "<polyline",
		"http/&lt;b&gt;x&lt;/b&gt;", // evidence is escaped
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "http://", "https://", "<link", "@import", "src="} {
		if strings.Contains(html, bad) {
			t.Errorf("report is not self-contained / safe: contains %q", bad)
		}
	}
	if r.Score.Total > 55 && !strings.Contains(html, "▲") || r.Score.Total < 55 && !strings.Contains(html, "▼") {
		t.Errorf("trend delta missing (score %d after 55)", r.Score.Total)
	}
}
