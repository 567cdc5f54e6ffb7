package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/castellan-itdr/castellan/detections/posture"
	"github.com/castellan-itdr/castellan/internal/sambalab"
)

func TestPostureList(t *testing.T) {
	out, _, err := execute(t, "posture", "list", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var list []struct {
		ID, Title, Severity, Category, MDI string
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) < 30 || len(list) != len(posture.Assessments()) {
		t.Fatalf("%d assessments listed", len(list))
	}
	for _, a := range list {
		if a.ID == "" || a.Title == "" || a.Severity == "" || a.Category == "" || a.MDI == "" {
			t.Errorf("incomplete entry %+v", a)
		}
	}
	text, _, err := execute(t, "posture", "list")
	if err != nil || !strings.HasPrefix(text, "ID") || !strings.Contains(text, "dcsync-rights") || strings.Count(text, "\n") != len(list)+1 {
		t.Errorf("table: %v\n%s", err, text)
	}
}

func TestPostureRunNeedsASection(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("state: {path: %q}\nsinks: {stdout: {}}\n", filepath.Join(dir, "s.db"))), 0o600)
	_, _, err := execute(t, "posture", "run", "-c", cfg)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "no posture section") {
		t.Errorf("err %v (code %d)", err, exitCode(err))
	}
}

// TestPostureRunOnLab runs the command against the Samba lab twice: the
// JSON result, the exported findings, the report and the trend.
func TestPostureRunOnLab(t *testing.T) {
	env := sambalab.Env(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "findings.jsonl")
	report := filepath.Join(dir, "report.html")
	cfg := filepath.Join(dir, "castellan.yaml")
	yaml := fmt.Sprintf(`state: { path: %q }
sinks:
  file: { path: %q, kinds: [finding] }
posture:
  ldap:
    url: %q
    ca_file: %q
    bind_dn: %q
    password: "${env:CASTELLAN_TEST_LDAP_PASSWORD}"
  schedule: "0 3 * * *"
`, filepath.Join(dir, "state.db"), out, env["LAB_LDAPS_URL"], env["LAB_CA_PEM"], env["LAB_ADMIN"])
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CASTELLAN_TEST_LDAP_PASSWORD", env["LAB_ADMIN_PASS"])

	stdout, stderr, err := execute(t, "posture", "run", "-c", cfg, "--report", report, "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if strings.Contains(stdout+stderr, env["LAB_ADMIN_PASS"]) {
		t.Fatal("the bind password leaked into the output")
	}
	var res struct {
		Domain  string
		Score   posture.Score
		Results []struct {
			ID, Status string
			Entities   int
		}
		Queued   map[string]int
		Previous *int `json:"previous_score"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if res.Domain != "lab.test" || len(res.Results) != len(posture.Assessments()) || res.Score.Total <= 0 || res.Score.Total >= 100 || res.Previous != nil {
		t.Errorf("result: %+v", res)
	}
	maq := false
	for _, r := range res.Results {
		if r.ID == "machine-account-quota" && r.Status == "failed" && r.Entities == 1 {
			maq = true
		}
	}
	if !maq {
		t.Error("machine-account-quota (10 on Samba) not failed")
	}
	lines := 0
	if b, err := os.ReadFile(out); err == nil {
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if !strings.Contains(l, `"kind":"finding"`) {
				t.Fatalf("not a finding: %s", l)
			}
			lines++
		}
	}
	if lines == 0 || lines != res.Queued["file"] {
		t.Errorf("file sink got %d findings, queued %v", lines, res.Queued)
	}
	html, err := os.ReadFile(report)
	if err != nil || !strings.Contains(string(html), "ms-DS-MachineAccountQuota 10 on DC=lab,DC=test") {
		t.Errorf("report: %v", err)
	}

	table, _, err := execute(t, "posture", "run", "-c", cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Identity posture of lab.test", "score ", "SEVERITY", "machine-account-quota", "Records queued: file "} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}
