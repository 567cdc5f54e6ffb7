package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/castellan-itdr/castellan/connector/config"
	entrasrc "github.com/castellan-itdr/castellan/connector/sources/entra"
	"github.com/castellan-itdr/castellan/connector/sources/entra/graphfake"
	"github.com/castellan-itdr/castellan/connector/state"
	"github.com/castellan-itdr/castellan/detections/posture"
	"github.com/castellan-itdr/castellan/internal/azcloud"
	"github.com/castellan-itdr/castellan/mappings/asim"
	"github.com/castellan-itdr/castellan/mappings/directory"
	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/sinks/delivery"
	"github.com/castellan-itdr/castellan/sinks/sentinel"
	"github.com/castellan-itdr/castellan/sinks/sinktest/dcefake"
	"github.com/castellan-itdr/castellan/sinks/sinktest/esfake"
	"github.com/castellan-itdr/castellan/sinks/sinktest/hecfake"
)

const postureDomSID = "S-1-5-21-7-8-9"

// postureSnapshot is a small domain with two weaknesses: an AS-REP
// roastable user and the default machine account quota.
func postureSnapshot(taken time.Time) *directory.Snapshot {
	s := &directory.Snapshot{
		Taken: taken, Source: "ldaps://dc1.corp.test",
		Domain: directory.Domain{DN: "DC=corp,DC=test", DNSName: "corp.test", SID: postureDomSID, MachineAccountQuota: 10,
			PasswordPolicy: directory.PasswordPolicy{MinLength: 14, Properties: directory.PwdComplex}},
		Users: []directory.User{{Account: directory.Account{DN: "CN=roast,CN=Users,DC=corp,DC=test", SAMAccountName: "roast", SID: postureDomSID + "-1105",
			ObjectClass: "user", UAC: directory.UACNormalAccount | directory.UACDontReqPreauth, PrimaryGroupID: 513, PwdLastSet: taken, WhenCreated: taken}}},
		Groups: []directory.Group{{DN: "CN=Domain Users,CN=Users,DC=corp,DC=test", Name: "Domain Users", SID: postureDomSID + "-513"}},
	}
	s.Resolve()
	return s
}

func postureConfig(t *testing.T, dir, sinks string) *config.Config {
	t.Helper()
	yaml := fmt.Sprintf(`
state: { path: %q }
detections: { rules: [], sigma: [] }
sinks:
%s
posture:
  ldap: { url: "ldaps://dc1.corp.test", bind_dn: "svc@corp.test", password: "x" }
  report: %q
`, filepath.Join(dir, "state.db"), sinks, filepath.Join(dir, "posture.html"))
	cfg, err := config.Parse([]byte(yaml), "posture.yaml", Registry())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func readJSONLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func TestRunPostureQueuesFindingsHistoryAndReport(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.jsonl")
	cfg := postureConfig(t, dir, fmt.Sprintf("  file: { path: %q }", out))
	taken := time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)
	calls := 0
	p := startPosture(t, cfg, Options{PostureCollect: func(ctx context.Context, c config.Posture) (*directory.Snapshot, error) {
		calls++
		if _, ok := c.LDAP.(interface{ Validate() error }); !ok {
			t.Error("collector got no ldap config")
		}
		return postureSnapshot(taken.Add(time.Duration(calls) * 24 * time.Hour)), nil
	}})
	var res PostureResult
	for range 2 {
		res = runPosture(t, p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	hist, err := p.PostureHistory(0)
	if err != nil || len(hist) != 2 || hist[1].Score.Total != res.Run.Score.Total || !hist[0].At.Before(hist[1].At) {
		t.Fatalf("history %+v %v", hist, err)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	recs := readJSONLines(t, out)
	var failed []string
	passed := 0
	for _, r := range recs {
		if r["kind"] != "finding" {
			t.Fatalf("record kind %v", r["kind"])
		}
		switch r["status"] {
		case "failed":
			failed = append(failed, r["assessment_id"].(string))
			if r["evidence"] == "" || r["remediation"] == "" {
				t.Errorf("finding without evidence or remediation: %v", r)
			}
		case "passed":
			passed++
		}
	}
	slices.Sort(failed)
	// Two runs, each: asrep-roastable, machine-account-quota, and the
	// built-in accounts this tiny snapshot lacks are simply absent.
	if want := []string{"asrep-roastable", "asrep-roastable", "machine-account-quota", "machine-account-quota"}; !slices.Equal(failed, want) {
		t.Errorf("failed findings %v, want %v", failed, want)
	}
	if passed == 0 || res.Queued["file"] != len(recs)/2 {
		t.Errorf("passed %d, queued %v, delivered %d", passed, res.Queued, len(recs))
	}
	html, err := os.ReadFile(filepath.Join(dir, "posture.html"))
	if err != nil || !strings.Contains(string(html), "userAccountControl 0x400000 (DONT_REQ_PREAUTH) on CN=roast") || !strings.Contains(string(html), "<polyline") {
		t.Errorf("report: %v (%d bytes)", err, len(html))
	}
}

// startPosture builds the pipeline (quiet logger) and starts it.
func startPosture(t *testing.T, cfg *config.Config, opts Options) *Pipeline {
	t.Helper()
	opts.Logger = quietLog()
	p, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return p
}

// runPosture runs one posture assessment.
func runPosture(t *testing.T, p *Pipeline) PostureResult {
	t.Helper()
	res, err := p.RunPosture(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// startEveryMinute starts a pipeline whose posture schedule runs every
// minute on a clock 300 ms before the next minute, so the first tick comes
// at once, and returns when that run has called collect.
func startEveryMinute(t *testing.T, cfg *config.Config, opts Options, collect func() (*directory.Snapshot, error)) *Pipeline {
	t.Helper()
	cfg.Posture.Schedule = "* * * * *"
	now := time.Now()
	offset := now.Truncate(time.Minute).Add(time.Minute).Sub(now) - 300*time.Millisecond
	ran := make(chan struct{}, 4)
	opts.Now = func() time.Time { return time.Now().Add(offset) }
	opts.PostureCollect = func(context.Context, config.Posture) (*directory.Snapshot, error) {
		defer func() { ran <- struct{}{} }()
		return collect()
	}
	p := startPosture(t, cfg, opts)
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("the schedule did not run")
	}
	return p
}

func TestPostureScheduleRunsInTheDaemon(t *testing.T) {
	dir := t.TempDir()
	cfg := postureConfig(t, dir, fmt.Sprintf("  file: { path: %q }", filepath.Join(dir, "out.jsonl")))
	p := startEveryMinute(t, cfg, Options{}, func() (*directory.Snapshot, error) {
		return postureSnapshot(time.Now()), nil
	})
	// Shutdown waits for the run in progress, then drains the sinks.
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := p.Counters().Get("posture_runs").Load(); got != 1 {
		t.Errorf("posture_runs = %d, want 1", got)
	}
	recs := readJSONLines(t, filepath.Join(dir, "out.jsonl"))
	if len(recs) == 0 {
		t.Error("scheduled run exported nothing")
	}
}

func TestPostureScheduleSurvivesCollectorErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := postureConfig(t, dir, "  stdout: {}")
	p := startEveryMinute(t, cfg, Options{Stdout: io.Discard}, func() (*directory.Snapshot, error) {
		return nil, fmt.Errorf("ldap: bind: invalid credentials")
	})
	deadline := time.Now().Add(5 * time.Second)
	for p.Counters().Get("posture_runs_failed").Load() != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := p.Counters().Get("posture_runs_failed").Load(); got != 1 {
		t.Errorf("posture_runs_failed = %d", got)
	}
}

// TestPostureExportThroughSinkDoubles sends one posture run through the
// Elastic and Splunk sinks, built by BuildSink from config and fed by the
// durable queues, into their doubles.
func TestPostureExportThroughSinkDoubles(t *testing.T) {
	es := esfake.New(esfake.Options{APIKey: "id:key"})
	defer es.Close()
	hec := hecfake.New(hecfake.Options{})
	defer hec.Close()
	dir := t.TempDir()
	cfg := postureConfig(t, dir, fmt.Sprintf(`  elastic: { addresses: [%q], api_key: "id:key", tls: { insecure_skip_verify: true } }
  splunk: { endpoint: %q, token: %q, tls: { insecure_skip_verify: true } }`, es.URL(), hec.URL(), hecfake.Token))
	p := startPosture(t, cfg, Options{PostureCollect: func(context.Context, config.Posture) (*directory.Snapshot, error) {
		return postureSnapshot(time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)), nil
	}})
	res := runPosture(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := res.Run.Records()
	var failedIDs []string
	for _, f := range res.Run.Failed() {
		failedIDs = append(failedIDs, f.ID)
	}
	if len(failedIDs) != 2 {
		t.Fatalf("failed findings %d, want 2", len(failedIDs))
	}

	// Elastic: ECS documents in the findings data stream, evidence kept.
	if got := len(es.Accepted()); got != len(want) {
		t.Errorf("elastic stored %d documents, want %d", got, len(want))
	}
	target := ""
	for _, tg := range es.Targets() {
		if strings.Contains(tg, "finding") {
			target = tg
		}
	}
	for _, id := range failedIDs {
		d, ok := es.Document(target, id)
		if !ok {
			t.Fatalf("elastic: finding %s not in %q (targets %v)", id, target, es.Targets())
		}
		var doc struct {
			Event     struct{ Kind, Outcome string } `json:"event"`
			Castellan struct {
				Finding struct{ AssessmentID, Evidence string } `json:"finding"`
			} `json:"castellan"`
		}
		if err := json.Unmarshal(d.Source, &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Event.Kind != "state" || doc.Event.Outcome != "failure" || doc.Castellan.Finding.Evidence == "" {
			t.Errorf("elastic finding document: %s", d.Source)
		}
	}

	// Splunk: CIM-mapped events with the finding sourcetype.
	evs := hec.Events()
	if len(evs) != len(want) {
		t.Errorf("splunk stored %d events, want %d", len(evs), len(want))
	}
	seen := map[string]bool{}
	for _, e := range evs {
		if !strings.HasSuffix(e.Sourcetype, ":finding") {
			t.Errorf("splunk sourcetype %q", e.Sourcetype)
		}
		seen[e.ID()] = true
	}
	for _, id := range failedIDs {
		if !seen[id] {
			t.Errorf("splunk: finding %s missing", id)
		}
	}
}

// TestPostureExportThroughSentinelDouble sends a posture run's records the
// way the pipeline does — the sink's encoder, the durable queue, the
// delivery sender — through the Sentinel sink into dcefake. (The sink is
// built with a fake token credential: BuildSink would ask Entra for a
// token.)
func TestPostureExportThroughSentinelDouble(t *testing.T) {
	d := dcefake.New(dcefake.Options{})
	defer d.Close()
	cfg := sentinel.NewDefaultConfig()
	cfg.Endpoint, cfg.RuleID = d.URL(), d.RuleID()
	cfg.Auth = sentinel.Auth{Method: azcloud.AuthClientSecret, TenantID: "t", ClientID: "c", ClientSecret: "s"}
	cfg.Select.Kinds = []string{schema.RecordFinding}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	sink, err := sentinel.NewWithCredential(cfg, &azfake.TokenCredential{}, azcore.ClientOptions{Transport: d.Client()})
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	q, err := delivery.NewQueue(st.DB(), "sentinel")
	if err != nil {
		t.Fatal(err)
	}
	run := posture.Check(postureSnapshot(time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)), posture.Options{})
	var items []delivery.Item
	for _, r := range run.Records() {
		if !cfg.Select.Takes(r.RecordKind(), r.RecordSeverity()) {
			continue
		}
		it, err := sentinel.Encode(r)
		if err != nil || it.Format != sentinel.Format {
			t.Fatalf("encode %s: %+v %v", r.RecordID(), it, err)
		}
		items = append(items, it)
	}
	if err := st.Update(func(tx *state.Tx) error { return q.EnqueueTx(tx.Tx, items) }); err != nil {
		t.Fatal(err)
	}
	snd := delivery.NewSender("sentinel", q, sink, delivery.SenderConfig{PollInterval: 5 * time.Millisecond}, quietLog(), nil)
	snd.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := snd.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if err := snd.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	rows := d.Rows(asim.FindingsStream)
	if len(rows) != len(items) {
		t.Fatalf("dcefake stored %d finding rows, want %d", len(rows), len(items))
	}
	failed := map[string]bool{}
	for _, f := range run.Failed() {
		failed[f.ID] = true
	}
	got := 0
	for _, raw := range rows {
		var row asim.FindingRow
		if err := json.Unmarshal(raw, &row); err != nil {
			t.Fatal(err)
		}
		if failed[row.EventId] {
			got++
			if row.Status != "failed" || row.Evidence == "" || row.Entity == "" || row.Remediation == "" {
				t.Errorf("finding row %s", raw)
			}
		}
	}
	if got != len(failed) || got != 2 {
		t.Errorf("%d failed findings arrived, want %d", got, len(failed))
	}
}

type staticToken string

func (c staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(c), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// TestPostureEntraAgainstGraphDouble collects the Entra side from the
// local Graph double (graphfake) through the SDK and checks the Entra
// assessments end to end: a permanent Global Administrator without MFA
// whose synchronized AD account is a Domain Admin.
func TestPostureEntraAgainstGraphDouble(t *testing.T) {
	const ga = directory.RoleGlobalAdministrator
	fake := graphfake.New()
	defer fake.Close()
	type m = map[string]any
	user := func(id, upn string) m {
		return m{"@odata.type": "#microsoft.graph.user", "id": id, "displayName": upn, "userPrincipalName": upn}
	}
	for path, objs := range map[string][]any{
		graphfake.RoleDefinitions: {m{"id": ga, "displayName": "Global Administrator", "templateId": ga, "isBuiltIn": true, "isEnabled": true}},
		graphfake.RoleAssignments: {
			m{"id": "ra-adm", "principalId": "u-adm", "roleDefinitionId": ga, "directoryScopeId": "/", "principal": user("u-adm", "adm@corp.test")},
			m{"id": "ra-pim", "principalId": "u-pim", "roleDefinitionId": ga, "directoryScopeId": "/", "principal": user("u-pim", "pim@corp.test")},
		},
		graphfake.RoleAssignmentInstances: {
			m{"id": "rai-adm", "principalId": "u-adm", "roleDefinitionId": ga, "directoryScopeId": "/", "assignmentType": "Assigned",
				"memberType": "Direct", "startDateTime": "2025-01-01T00:00:00Z", "endDateTime": nil},
			m{"id": "rai-pim", "principalId": "u-pim", "roleDefinitionId": ga, "directoryScopeId": "/", "assignmentType": "Activated",
				"memberType": "Direct", "startDateTime": "2026-11-28T02:00:00Z", "endDateTime": "2026-11-28T10:00:00Z"},
		},
		graphfake.Users: {
			m{"id": "u-adm", "userPrincipalName": "adm@corp.test", "displayName": "Adm", "accountEnabled": true, "userType": "Member",
				"onPremisesSecurityIdentifier": postureDomSID + "-1106", "onPremisesSyncEnabled": true, "onPremisesSamAccountName": "adm"},
			m{"id": "u-pim", "userPrincipalName": "pim@corp.test", "displayName": "Pim", "accountEnabled": true, "userType": "Member"},
		},
		graphfake.UserRegistrationDetails: {
			m{"id": "u-adm", "userPrincipalName": "adm@corp.test", "isAdmin": true, "isMfaRegistered": false, "isMfaCapable": false, "methodsRegistered": []string{}},
			m{"id": "u-pim", "userPrincipalName": "pim@corp.test", "isAdmin": true, "isMfaRegistered": true, "isMfaCapable": true, "methodsRegistered": []string{"fido2"}},
		},
	} {
		if err := fake.AddDirectory(path, objs...); err != nil {
			t.Fatal(err)
		}
	}

	dir := t.TempDir()
	out := filepath.Join(dir, "out.jsonl")
	cfg := postureConfig(t, dir, fmt.Sprintf("  file: { path: %q }", out))
	taken := time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)
	p := startPosture(t, cfg, Options{PostureCollect: func(ctx context.Context, _ config.Posture) (*directory.Snapshot, error) {
		s := postureSnapshot(taken)
		s.Users = append(s.Users, directory.User{Account: directory.Account{DN: "CN=adm,CN=Users,DC=corp,DC=test", SAMAccountName: "adm",
			SID: postureDomSID + "-1106", ObjectClass: "user", UAC: directory.UACNormalAccount | directory.UACNotDelegated, PrimaryGroupID: 513, PwdLastSet: taken, LastLogon: taken, WhenCreated: taken}})
		s.Groups = append(s.Groups, directory.Group{DN: "CN=Domain Admins,CN=Users,DC=corp,DC=test", Name: "Domain Admins", SID: postureDomSID + "-512",
			Members: []string{"CN=adm,CN=Users,DC=corp,DC=test"}})
		s.Resolve()
		sn, err := entrasrc.NewSnapshotterWithCredential(staticToken("tok"), fake.URL(), "tenant-1")
		if err != nil {
			return nil, err
		}
		if s.Entra, err = sn.Snapshot(ctx); err != nil {
			return nil, err
		}
		return s, nil
	}})
	res := runPosture(t, p)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, f := range res.Run.Failed() {
		if strings.HasPrefix(f.AssessmentID, "entra-") || f.AssessmentID == "ad-entra-privileged-overlap" {
			got[f.AssessmentID] = f.Entities
		}
	}
	want := map[string][]string{
		"entra-permanent-privileged-role": {"adm@corp.test"},
		"entra-privileged-no-mfa":         {"adm@corp.test"},
		"ad-entra-privileged-overlap":     {"adm@corp.test", "CN=adm,CN=Users,DC=corp,DC=test"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Entra findings %v, want %v", got, want)
	}
	delivered := 0
	for _, r := range readJSONLines(t, out) {
		if id, _ := r["assessment_id"].(string); r["status"] == "failed" && want[id] != nil {
			delivered++
		}
	}
	if delivered != 3 {
		t.Errorf("%d Entra findings delivered, want 3", delivered)
	}
}

func TestPostureEntraConfigKey(t *testing.T) {
	cfg, err := config.Parse([]byte(`
sinks: { stdout: {} }
posture:
  ldap: { url: "ldaps://dc1.corp.test", bind_dn: "svc@corp.test", password: "x" }
  entra: { tenant_id: "00000000-0000-0000-0000-000000000001", client_id: "app", auth: { client_secret: "s" } }
`), "p.yaml", Registry())
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg.Posture.Entra.(*entrasrc.Config); !ok {
		t.Fatalf("posture.entra decoded as %T", cfg.Posture.Entra)
	}
}

// A daemon with a posture schedule and no (or only one-shot) sources stays
// up for the schedule instead of exiting when its input is done.
func TestPostureScheduleKeepsTheDaemonUp(t *testing.T) {
	dir := t.TempDir()
	cfg := postureConfig(t, dir, "  stdout: {}")
	cfg.Posture.Schedule = "0 3 * * *"
	p, err := New(cfg, Options{Logger: quietLog(), Stdout: io.Discard, PostureCollect: func(context.Context, config.Posture) (*directory.Snapshot, error) {
		return postureSnapshot(time.Now()), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, 5*time.Second) }()
	select {
	case err := <-done:
		t.Fatalf("the daemon exited with nothing to read: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the daemon did not stop")
	}
}

func TestPostureWarnsWhenNoSinkTakesFindings(t *testing.T) {
	dir := t.TempDir()
	cfg := postureConfig(t, dir, "  stdout: { kinds: [alert] }")
	p := startPosture(t, cfg, Options{Stdout: io.Discard, PostureCollect: func(context.Context, config.Posture) (*directory.Snapshot, error) {
		return postureSnapshot(time.Now()), nil
	}})
	defer p.Shutdown(context.Background())
	res := runPosture(t, p)
	if res.Queued["stdout"] != 0 || p.Counters().Get("posture_findings_unexported").Load() != 2 {
		t.Errorf("queued %v, unexported %d", res.Queued, p.Counters().Get("posture_findings_unexported").Load())
	}
	if h, _ := p.PostureHistory(0); len(h) != 1 {
		t.Errorf("history %d points: the score is kept even when no sink takes findings", len(h))
	}
}
