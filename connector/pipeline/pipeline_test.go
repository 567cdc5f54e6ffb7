package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/samples"
)

// childEnv makes the test binary act as the daemon (see TestMain), so the
// crash test can SIGKILL a real process.
const childEnv = "CASTELLAN_PIPELINE_CHILD_CONFIG"

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		os.Exit(runChild(path))
	}
	os.Exit(m.Run())
}

func runChild(path string) int {
	cfg, err := config.Load(path, Registry())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	p, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := p.Run(context.Background(), time.Minute); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// scenario generates the default scenario once per test into dir/input.
func scenario(t *testing.T, dir string) samples.Manifest {
	t.Helper()
	man, err := samples.Generate(samples.Options{Scenario: "default", Seed: 7, OutDir: filepath.Join(dir, "input")})
	if err != nil {
		t.Fatal(err)
	}
	return man
}

func writeConfig(t *testing.T, dir string, batch int) string {
	t.Helper()
	cfg := fmt.Sprintf(`state: { path: %[1]s/state.db }
log: { level: error }
sources:
  winjson/test: { paths: ["%[1]s/input/*.jsonl"], follow: false, batch_size: %[2]d }
detections: { rules: [builtin], domain_controllers: [DC01, DC02] }
sinks:
  file/out: { path: %[1]s/out.jsonl, kinds: [alert, incident] }
`, dir, batch)
	path := filepath.Join(dir, "castellan.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// output reads a JSON-lines output into alerts (by id, counting repeats) and
// the latest incidents.
type output struct {
	alerts     map[string]int
	alertBody  map[string]string
	incidents  map[string]schema.Incident
	lineHashes map[string]int
}

func readOut(t *testing.T, r io.Reader) output {
	t.Helper()
	o := output{alerts: map[string]int{}, alertBody: map[string]string{}, incidents: map[string]schema.Incident{}, lineHashes: map[string]int{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		o.lineHashes[line]++
		var head struct {
			Kind string `json:"kind"`
			ID   string `json:"id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &head); err != nil {
			t.Fatalf("bad output line %q: %v", line, err)
		}
		switch head.Kind {
		case schema.RecordAlert:
			o.alerts[head.ID]++
			o.alertBody[head.ID] = line
		case schema.RecordIncident:
			var inc schema.Incident
			if err := json.Unmarshal(sc.Bytes(), &inc); err != nil {
				t.Fatal(err)
			}
			if prev, ok := o.incidents[inc.ID]; !ok || inc.Version > prev.Version {
				o.incidents[inc.ID] = inc
			}
		}
	}
	return o
}

func replayOutput(t *testing.T, dir string) output {
	t.Helper()
	cfg := config.Default()
	cfg.Detections.DomainControllers = []string{"DC01", "DC02"}
	proc, err := NewProcessor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	// The files the daemon's winjson source reads (*.jsonl; not the
	// scenario's entra/ sign-ins, which it has no source for).
	inputs, err := filepath.Glob(filepath.Join(dir, "input", "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := Replay(context.Background(), proc, inputs, ReplayOptions{Out: &buf})
	if err != nil {
		t.Fatal(err)
	}
	if st.DecodeErrors != 0 || st.Alerts == 0 {
		t.Fatalf("replay stats %+v", st)
	}
	return readOut(t, &buf)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func assertSameAlerts(t *testing.T, label string, got, want output) {
	t.Helper()
	if g, w := strings.Join(sortedKeys(got.alerts), ","), strings.Join(sortedKeys(want.alerts), ","); g != w {
		t.Fatalf("%s: alert ids differ:\n got  %s\n want %s", label, g, w)
	}
	for id, n := range got.alerts {
		if n != 1 {
			t.Errorf("%s: alert %s emitted %d times", label, id, n)
		}
		if got.alertBody[id] != want.alertBody[id] {
			t.Errorf("%s: alert %s differs:\n got  %s\n want %s", label, id, got.alertBody[id], want.alertBody[id])
		}
	}
}

// run and replay produce the same alerts (ids and bodies) and the same
// final incidents for the same input.
func TestRunAndReplayProduceSameAlerts(t *testing.T) {
	dir := t.TempDir()
	scenario(t, dir)
	cfgPath := writeConfig(t, dir, 500)
	cfg, err := config.Load(cfgPath, Registry())
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "out.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	run := readOut(t, f)
	rep := replayOutput(t, dir)
	if len(run.alerts) < 5 {
		t.Fatalf("only %d alerts", len(run.alerts))
	}
	assertSameAlerts(t, "run vs replay", run, rep)
	runInc, repInc := FinalIncidents(run.incidents), FinalIncidents(rep.incidents)
	if len(runInc) != len(repInc) {
		t.Fatalf("run has %d incidents, replay %d", len(runInc), len(repInc))
	}
	for i := range runInc {
		if runInc[i].ID != repInc[i].ID || len(runInc[i].Alerts) != len(repInc[i].Alerts) {
			t.Fatalf("incident %d differs: %s/%d vs %s/%d", i, runInc[i].ID, len(runInc[i].Alerts), repInc[i].ID, len(repInc[i].Alerts))
		}
	}
}

// The daemon is SIGKILLed several times mid-stream and restarted; the final
// output equals an uninterrupted replay: no event skipped (same alerts and
// incidents), no alert written twice.
func TestCrashAndRestartLosesNothingDuplicatesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test re-executes the daemon several times; skipped with -short")
	}
	dir := t.TempDir()
	scenario(t, dir)
	cfgPath := writeConfig(t, dir, 10) // small batches: hundreds of commits for the kills to land between
	// Time one uninterrupted run of the same input, so the kills land
	// mid-stream on any machine: each after 5–17 % of a full run.
	baseDir := t.TempDir()
	scenario(t, baseDir)
	start := time.Now()
	base := exec.Command(os.Args[0], "-test.run=^$")
	base.Env = append(os.Environ(), childEnv+"="+writeConfig(t, baseDir, 10))
	if out, err := base.CombinedOutput(); err != nil {
		t.Fatalf("baseline run: %v\n%s", err, out)
	}
	full := time.Since(start)
	rng := rand.New(rand.NewPCG(1, 2))
	const wantKills = 6
	kills, startups := 0, 0
	for {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+cfgPath)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		startups++
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		// Kill wantKills times at random points, then let it finish.
		var kill <-chan time.Time
		if kills < wantKills {
			kill = time.After(full/20 + time.Duration(rng.Int64N(int64(full/8))))
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("daemon failed: %v\n%s", err, stderr.String())
			}
			if kills < 3 {
				t.Fatalf("daemon finished after only %d kills; the test proves too little", kills)
			}
			t.Logf("finished after %d kills (%d starts); an uninterrupted run takes %s", kills, startups, full.Round(time.Millisecond))
			f, err := os.Open(filepath.Join(dir, "out.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got := readOut(t, f)
			for line, n := range got.lineHashes {
				if n > 1 {
					t.Errorf("line written %d times: %.120s", n, line)
				}
			}
			want := replayOutput(t, dir)
			assertSameAlerts(t, "crash-restarted run vs replay", got, want)
			gi, wi := FinalIncidents(got.incidents), FinalIncidents(want.incidents)
			if len(gi) != len(wi) {
				t.Fatalf("%d incidents, want %d", len(gi), len(wi))
			}
			for i := range gi {
				if gi[i].ID != wi[i].ID || len(gi[i].Alerts) != len(wi[i].Alerts) {
					t.Fatalf("incident %s (%d alerts) vs %s (%d alerts)", gi[i].ID, len(gi[i].Alerts), wi[i].ID, len(wi[i].Alerts))
				}
			}
			return
		case <-kill:
			_ = cmd.Process.Kill()
			<-done
			kills++
		case <-time.After(3 * time.Minute):
			_ = cmd.Process.Kill()
			t.Fatalf("daemon did not finish within 3 minutes after %d kills", kills)
		}
	}
}

func TestPipelineLifecycle(t *testing.T) {
	dir := t.TempDir()
	scenario(t, dir)
	cfg, err := config.Load(writeConfig(t, dir, 500), Registry())
	if err != nil {
		t.Fatal(err)
	}
	quiet := Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	p, _ := New(cfg, quiet)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal("shutdown without start:", err)
	}
	p2, _ := New(cfg, quiet)
	if err := p2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := p2.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// The state file is released: a new pipeline can open it.
	p3, _ := New(cfg, quiet)
	if err := p3.Run(context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	cfg := config.Default() // no sinks
	if _, err := New(cfg, Options{}); err == nil || !strings.Contains(err.Error(), "sink") {
		t.Fatalf("got %v", err)
	}
}

// Replay detects XML input by content and decodes it like the daemon's
// winjson source with format xml.
func TestReplayXMLInput(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Events>\n")
	for i := 0; i < 6; i++ {
		fmt.Fprintf(&b, `<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Security-Auditing"/><EventID>4769</EventID><TimeCreated SystemTime="2026-03-02T10:00:0%dZ"/><EventRecordID>%d</EventRecordID><Channel>Security</Channel><Computer>DC01.corp.local</Computer></System><EventData><Data Name="TargetUserName">jdoe@CORP.LOCAL</Data><Data Name="TargetDomainName">CORP.LOCAL</Data><Data Name="ServiceName">svc-%d</Data><Data Name="TicketEncryptionType">0x17</Data><Data Name="Status">0x0</Data><Data Name="IpAddress">::ffff:10.0.0.9</Data></EventData></Event>`+"\n", i, 100+i, i)
	}
	b.WriteString("<Event><broken\n</Events>\n")
	path := filepath.Join(dir, "events.xml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	proc, err := NewProcessor(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	var out, warn bytes.Buffer
	st, err := Replay(context.Background(), proc, []string{path}, ReplayOptions{Out: &out, Warn: &warn})
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 6 || st.DecodeErrors != 1 || st.Alerts != 1 {
		t.Fatalf("stats %+v (want 6 events, 1 bad record, 1 Kerberoasting alert)\n%s", st, warn.String())
	}
	if !strings.Contains(out.String(), "T1558.003") || !strings.Contains(warn.String(), "events.xml") {
		t.Fatalf("out %s\nwarn %s", out.String(), warn.String())
	}
}

// Sigma rules configured under detections.sigma run beside the native
// rules; their alerts correlate and their state is snapshotted.
func TestSigmaRulesRunInReplay(t *testing.T) {
	dir := t.TempDir()
	scenario(t, dir)
	rulesDir := filepath.Join(dir, "sigma")
	_ = os.MkdirAll(rulesDir, 0o755)
	rule := `title: Security log cleared (test rule)
id: 0e3c5e2a-4e3b-4a8e-9a34-7b0c2c4d1f10
status: test
logsource: { product: windows, service: security }
detection:
  selection: { EventID: 1102 }
  condition: selection
level: high
tags: [attack.defense-evasion, attack.t1070.001]
`
	if err := os.WriteFile(filepath.Join(rulesDir, "cleared.yml"), []byte(rule), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Detections.DomainControllers = []string{"DC01", "DC02"}
	cfg.Detections.Sigma = []string{rulesDir}
	proc, err := NewProcessor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var sigmaAlerts int
	var buf bytes.Buffer
	_, err = Replay(context.Background(), proc, []string{filepath.Join(dir, "input")}, ReplayOptions{Out: &buf, OnRecord: func(r schema.Record) {
		if a, ok := r.(schema.Alert); ok && a.Rule.ID == "0e3c5e2a-4e3b-4a8e-9a34-7b0c2c4d1f10" {
			sigmaAlerts++
			if a.Threat.Technique.ID != "T1070.001" {
				t.Errorf("technique %s", a.Threat.Technique.ID)
			}
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if sigmaAlerts != 1 {
		t.Fatalf("%d sigma alerts, want 1 (the scenario clears the log once)", sigmaAlerts)
	}
	snap, err := proc.Snapshot()
	if err != nil || !bytes.Contains(snap, []byte(`"sigma"`)) {
		t.Fatalf("snapshot lacks sigma state: %v", err)
	}
}
