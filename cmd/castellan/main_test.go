package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/samples"
)

func execute(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err = root.Execute()
	return out.String(), errb.String(), err
}

func exitCode(err error) int {
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if err != nil {
		return 1
	}
	return 0
}

// Acceptance: the demo prints one hybrid incident — the on-prem chain
// (T1087.002 … T1070.001) and the Kerberoasted service account's cloud
// sign-in from abroad (T1078.004) — about the compromised user, with every
// alert of the run in it: benign users, on-prem and in Entra ID, raise
// nothing. The incident carries the identities' investigation priority,
// which `identities top -c` reads back from the daemon's state.
func TestDemoFindsTheAttackAndNothingElse(t *testing.T) {
	dir := t.TempDir()
	out, _, err := execute(t, "demo", "--dir", dir)
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	t.Log("\n" + out)
	raw, err := os.ReadFile(filepath.Join(dir, "input", samples.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var man samples.Manifest
	if err := json.Unmarshal(raw, &man); err != nil {
		t.Fatal(err)
	}
	alerts, incidents, err := readOutput(filepath.Join(dir, "output", "castellan.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(incidents) != 1 {
		for _, inc := range incidents {
			t.Logf("incident %s: %s", inc.ID, inc.Title)
		}
		t.Fatalf("%d incidents, want exactly 1 (the attack); benign users must raise none", len(incidents))
	}
	inc := incidents[0]
	// 6 on-prem stages and the cloud sign-in: 7 alerts, all in the incident.
	if alerts != 7 || len(inc.Alerts) != 7 {
		t.Errorf("%d alerts emitted, %d in the incident; want 7 and 7 (nothing outside the attack)", alerts, len(inc.Alerts))
	}
	if man.Cloud == nil || man.Cloud.Events < 100 || man.Attacker.CloudAccount == "" {
		t.Fatalf("scenario without its cloud half: %+v %+v", man.Cloud, man.Attacker)
	}
	techniques := map[string]bool{}
	for _, tq := range inc.Threat.Techniques {
		techniques[tq.ID] = true
	}
	for _, want := range []string{"T1003.006", "T1558.003", "T1110.003", "T1078.004"} {
		if !techniques[want] {
			t.Errorf("incident techniques %v lack %s", inc.Threat.Techniques, want)
		}
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %s", want)
		}
	}
	var cloud, onPrem int
	for _, a := range inc.Alerts {
		if isCloudRule(a.RuleID) {
			cloud++
		} else {
			onPrem++
		}
	}
	if cloud != 1 || onPrem != 6 || !strings.Contains(out, "hybrid: 6 on-prem and 1 cloud alert(s)") {
		t.Errorf("%d cloud and %d on-prem alerts in the incident, want 1 and 6 (and the hybrid line)", cloud, onPrem)
	}
	users := strings.ToLower(strings.Join(inc.Entities.Users, ","))
	for _, u := range []string{man.Attacker.CompromisedUser, man.Attacker.CloudAccount} {
		if !strings.Contains(users, strings.ToLower(u)) {
			t.Errorf("incident users %v lack %s", inc.Entities.Users, u)
		}
	}
	ips := strings.Join(inc.Entities.IPs, ",")
	for _, ip := range []string{man.Attacker.SourceIP, man.Attacker.CloudIP} {
		if !strings.Contains(ips, ip) {
			t.Errorf("incident IPs %v lack %s", inc.Entities.IPs, ip)
		}
	}
	// Priority: the compromised user first, at the top percentile; the
	// cloud account scored for its roasting and its impossible travel.
	if len(inc.Priority) == 0 || !strings.HasSuffix(strings.ToLower(inc.Priority[0].Identity), `\`+man.Attacker.CompromisedUser) || inc.Priority[0].Percentile != 100 {
		t.Fatalf("priority %+v", inc.Priority)
	}
	var hybrid *schema.IdentityPriority
	for i, p := range inc.Priority {
		if strings.HasSuffix(strings.ToLower(p.Identity), man.Attacker.CloudAccount) {
			hybrid = &inc.Priority[i]
		}
	}
	if hybrid == nil || hybrid.Score != 40 || len(hybrid.Factors) != 2 || hybrid.Factors[1].RuleID != "cloud-impossible-travel" {
		t.Errorf("cloud account priority %+v, want kerberoasting 30 + impossible travel 10", hybrid)
	}
	// identities top -c reads the same scores from the demo's state file.
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(cfg, []byte("state: {path: "+filepath.Join(dir, "state.db")+"}\nsinks:\n  file/x: {path: "+filepath.Join(t.TempDir(), "o.jsonl")+"}\n"), 0o600)
	top, _, err := execute(t, "identities", "top", "-c", cfg, "-n", "3")
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + top)
	if lines := strings.Split(strings.TrimSpace(top), "\n"); len(lines) != 4 || !strings.Contains(lines[1], inc.Priority[0].Identity) ||
		!strings.Contains(lines[1], " 100 ") {
		t.Errorf("identities top from state:\n%s", top)
	}
}

// Acceptance: a config with three mistakes prints all three with their
// paths and exits 2.
func TestValidateReportsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	err := os.WriteFile(bad, []byte(`log: { level: loud }
sources:
  winjson/dc01: { paths: [], batch_size: 0 }
correlation: { window: -1h }
sinks:
  file/out: { path: "" }
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = execute(t, "validate", "-c", bad)
	if code := exitCode(err); code != 2 {
		t.Fatalf("exit %d (%v), want 2", code, err)
	}
	msg := err.Error()
	t.Log(msg)
	for _, want := range []string{"log.level", "correlation.window", "sinks.file/out.path", "sources.winjson/dc01."} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}

	good := filepath.Join(dir, "good.yaml")
	_ = os.WriteFile(good, []byte("sources:\n  winjson: { paths: [\"/tmp/x/*.jsonl\"] }\nsinks:\n  stdout: {}\n"), 0o600)
	out, _, err := execute(t, "validate", "-c", good)
	if err != nil || !strings.Contains(out, "OK") {
		t.Fatalf("good config: %v %s", err, out)
	}
}

func TestRulesListJSON(t *testing.T) {
	out, _, err := execute(t, "rules", "list", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rules []map[string]any
	if err := json.Unmarshal([]byte(out), &rules); err != nil {
		t.Fatal(err)
	}
	if len(rules) < 35 {
		t.Fatalf("%d rules, want at least 35", len(rules))
	}
	off := map[string]bool{}
	for _, r := range rules {
		for _, k := range []string{"id", "title", "severity", "tactic", "technique", "mdi", "enabled"} {
			if _, ok := r[k]; !ok {
				t.Errorf("rule %v lacks %s", r["id"], k)
			}
		}
		if r["enabled"] == false {
			off[r["id"].(string)] = true
		}
	}
	// Rules a default config disables are listed, and flagged.
	for _, id := range config.DefaultDisabled() {
		if !off[id] {
			t.Errorf("default-disabled rule %s not listed with enabled:false", id)
		}
	}
	if len(off) != len(config.DefaultDisabled()) {
		t.Errorf("%d rules flagged disabled, want %d", len(off), len(config.DefaultDisabled()))
	}
}

func TestRulesTestPassesFromRepoRoot(t *testing.T) {
	out, _, err := execute(t, "rules", "test", "--root", filepath.Join("..", ".."))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, " 0 failed") {
		t.Fatal(out)
	}
}

func TestReplayWritesAlertsAndIncidents(t *testing.T) {
	dir := t.TempDir()
	if _, err := samples.Generate(samples.Options{Seed: 3, OutDir: dir}); err != nil {
		t.Fatal(err)
	}
	outFile := filepath.Join(t.TempDir(), "out.jsonl")
	_, stderr, err := execute(t, "replay", "--dc", "DC01,DC02", "--out", outFile, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "0 bad line(s)") {
		t.Errorf("stderr: %s", stderr)
	}
	data, _ := os.ReadFile(outFile)
	kinds := map[string]int{}
	sawTechnique := false
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var rec struct {
			Kind   string `json:"kind"`
			Threat struct {
				Technique json.RawMessage `json:"technique"`
			} `json:"threat"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		kinds[rec.Kind]++
		if strings.Contains(string(rec.Threat.Technique), "T1558.003") {
			sawTechnique = true
		}
	}
	if kinds["alert"] == 0 || kinds["incident"] != 1 || !sawTechnique {
		t.Fatalf("kinds %v, T1558.003 seen %v", kinds, sawTechnique)
	}
	// --events writes normalized events instead.
	evFile := filepath.Join(t.TempDir(), "ev.jsonl")
	if _, _, err := execute(t, "replay", "--events", "--out", evFile, filepath.Join(dir, "dc01-security.jsonl")); err != nil {
		t.Fatal(err)
	}
	ev, _ := os.ReadFile(evFile)
	if !strings.HasPrefix(string(ev), `{"kind":"event"`) {
		t.Fatalf("events output starts %.80s", ev)
	}
}

func TestVersion(t *testing.T) {
	out, _, err := execute(t, "version")
	if err != nil || !strings.HasPrefix(out, "castellan ") {
		t.Fatalf("%q %v", out, err)
	}
}

// The generator's EVTX output replays to the same alerts as its JSON output.
func TestSamplesEVTXReplaysLikeJSON(t *testing.T) {
	jdir, edir := t.TempDir(), t.TempDir()
	if _, _, err := execute(t, "samples", "generate", "--seed", "5", "--out", jdir); err != nil {
		t.Fatal(err)
	}
	out, _, err := execute(t, "samples", "generate", "--seed", "5", "--format", "evtx", "--out", edir)
	if err != nil || !strings.Contains(out, ".evtx") {
		t.Fatalf("%v\n%s", err, out)
	}
	alerts := func(dir string) string {
		outFile := filepath.Join(t.TempDir(), "o.jsonl")
		_, stderr, err := execute(t, "replay", "--dc", "DC01,DC02", "--out", outFile, dir)
		if err != nil {
			t.Fatalf("%v %s", err, stderr)
		}
		data, _ := os.ReadFile(outFile)
		var ids []string
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var rec struct{ Kind, ID string }
			_ = json.Unmarshal([]byte(line), &rec)
			if rec.Kind == "alert" {
				ids = append(ids, rec.ID)
			}
		}
		return strings.Join(ids, ",")
	}
	j, e := alerts(jdir), alerts(edir)
	if j == "" || j != e {
		t.Fatalf("alerts differ:\njson %s\nevtx %s", j, e)
	}
}

// rules tune shows what an exclusion would suppress on a replay.
func TestRulesTuneShowsSuppressedAlerts(t *testing.T) {
	dir := t.TempDir()
	man, err := samples.Generate(samples.Options{Seed: 1, OutDir: filepath.Join(dir, "in")})
	if err != nil {
		t.Fatal(err)
	}
	tuning := filepath.Join(dir, "t.yaml")
	_ = os.WriteFile(tuning, []byte("password-spray: { exclude_ips: [\""+man.Attacker.SourceIP+"/32\"] }\n"), 0o600)
	out, _, err := execute(t, "rules", "tune", "--tuning", tuning, "--dc", "DC01,DC02", filepath.Join(dir, "in"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "1 suppressed, 0 added") || !strings.Contains(out, "SUPPRESSED") || !strings.Contains(out, "password-spray") {
		t.Fatalf("output:\n%s", out)
	}
	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(bad, []byte("no-such-rule: { threshold: 3 }\n"), 0o600)
	if _, _, err := execute(t, "rules", "tune", "--tuning", bad, filepath.Join(dir, "in")); exitCode(err) != 2 {
		t.Fatalf("unknown rule: exit %d (%v)", exitCode(err), err)
	}
}

// Every example config in samples/configs validates (with its secrets set).
func TestExampleConfigsValidate(t *testing.T) {
	for _, env := range []string{"CASTELLAN_SENTINEL_SECRET", "CASTELLAN_ES_API_KEY", "CASTELLAN_HEC_TOKEN"} {
		t.Setenv(env, "test-secret-value")
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "samples", "configs", "*.yaml"))
	if len(files) < 3 {
		t.Fatalf("found %d example configs", len(files))
	}
	for _, f := range files {
		out, _, err := execute(t, "validate", "-c", f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if strings.Contains(out, "test-secret-value") {
			t.Errorf("%s: secret printed", f)
		}
	}
}

// replay reads the project's recorded captures by content (pcap and
// pcapng), skips the golden files beside them, and the AS-REP roasting
// capture raises the AS-REP roasting alert from network evidence alone.
func TestReplayCaptures(t *testing.T) {
	out := filepath.Join(t.TempDir(), "o.jsonl")
	_, stderr, err := execute(t, "replay", "--out", out, filepath.Join("..", "..", "samples", "pcap"))
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "unrecognized file(s) skipped") {
		t.Errorf("stderr: %s", stderr)
	}
	data, _ := os.ReadFile(out)
	if !strings.Contains(string(data), `"id":"net-asrep-roasting"`) {
		t.Fatalf("no AS-REP roasting alert from the capture:\n%.500s", data)
	}
	evOut := filepath.Join(t.TempDir(), "e.jsonl")
	if _, _, err := execute(t, "replay", "--events", "--out", evOut, filepath.Join("..", "..", "samples", "pcap", "ntlmv1-vlan-ipv6.pcapng")); err != nil {
		t.Fatal(err)
	}
	ev, _ := os.ReadFile(evOut)
	if !strings.Contains(string(ev), `"kind":"ntlm_auth"`) || !strings.Contains(string(ev), `"version":"v1"`) {
		t.Fatalf("pcapng NTLMv1 events: %.500s", ev)
	}
	// Replay emits DNS like a default sensor: zone transfers only (the
	// capture also holds SRV and A queries).
	dnsOut := filepath.Join(t.TempDir(), "d.jsonl")
	if _, _, err := execute(t, "replay", "--events", "--out", dnsOut, filepath.Join("..", "..", "samples", "pcap", "dns-queries-axfr.pcap")); err != nil {
		t.Fatal(err)
	}
	dnsEv, _ := os.ReadFile(dnsOut)
	if n, transfers := strings.Count(string(dnsEv), `"kind":"dns_query"`), strings.Count(string(dnsEv), `"zone_transfer":true`); n != 2 || transfers != 2 {
		t.Fatalf("replayed %d DNS events (%d zone transfers), want the 2 AXFR only:\n%.800s", n, transfers, dnsEv)
	}
}

// TestREADMEConfigValidates keeps the README's configuration example honest:
// it must pass `castellan validate` once its secrets are set and the files
// it names exist.
func TestREADMEConfigValidates(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "```yaml\n")
	if !ok {
		t.Fatal("README has no yaml block")
	}
	block, _, _ = strings.Cut(block, "```")
	rules := t.TempDir()
	block = strings.ReplaceAll(block, "/etc/castellan/rules", rules)
	block = strings.ReplaceAll(block, "/etc/castellan/sigma", t.TempDir())
	identities := filepath.Join(t.TempDir(), "identities.yaml")
	if err := os.WriteFile(identities, []byte("users:\n  - { upn: wclark@corp.example, on_prem_sid: S-1-5-21-1-2-3-1105, sam_account_name: wclark, domain: CORP }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	block = strings.ReplaceAll(block, "/etc/castellan/identities.yaml", identities)
	cfg := filepath.Join(t.TempDir(), "castellan.yaml")
	if err := os.WriteFile(cfg, []byte(block), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{"GRAPH_SECRET", "POSTURE_LDAP_PASSWORD", "CASTELLAN_AD_PASSWORD", "ES_API_KEY"} {
		t.Setenv(env, "test-secret-value")
	}
	t.Setenv("EVENTHUB_CONNECTION", "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=test-secret-value;EntityPath=hub")
	t.Setenv("HEC_TOKEN", "00000000-0000-0000-0000-000000000000")
	out, _, err := execute(t, "validate", "-c", cfg)
	if err != nil {
		t.Fatalf("the README's config does not validate: %v\n%s", err, out)
	}
	if strings.Contains(out, "test-secret-value") {
		t.Error("validate printed a secret")
	}
}
