package samples

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const window = 10 * time.Minute

func generate(t *testing.T, opts Options) (Manifest, []record) {
	t.Helper()
	if opts.OutDir == "" {
		opts.OutDir = t.TempDir()
	}
	m, err := Generate(opts)
	if err != nil {
		t.Fatal(err)
	}
	return m, readOutput(t, opts.OutDir, m)
}

func TestScenarios(t *testing.T) {
	names := Scenarios()
	if !slices.IsSorted(names) || !slices.Contains(names, "default") || !slices.Contains(names, "benign") {
		t.Fatalf("Scenarios() = %v", names)
	}
}

func TestGenerateErrors(t *testing.T) {
	if _, err := Generate(Options{Scenario: "nope", OutDir: t.TempDir()}); !errors.Is(err, ErrUnknownScenario) {
		t.Errorf("unknown scenario: err = %v, want ErrUnknownScenario", err)
	}
	if _, err := Generate(Options{Scenario: "default"}); err == nil {
		t.Error("missing OutDir: no error")
	}
}

func TestGenerateDeterministic(t *testing.T) {
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	for _, o := range []Options{{Seed: 1, OutDir: a}, {Scenario: "default", Seed: 1, OutDir: b}, {Seed: 2, OutDir: c}} {
		if _, err := Generate(o); err != nil {
			t.Fatal(err)
		}
	}
	files, err := os.ReadDir(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 5 {
		t.Fatalf("%d files written, want 3 event files, the entra folder and the manifest", len(files))
	}
	for _, f := range files {
		if f.IsDir() {
			continue // entra/: compared below as CloudFile
		}
		x, _ := os.ReadFile(filepath.Join(a, f.Name()))
		y, err := os.ReadFile(filepath.Join(b, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs with the same seed", f.Name())
		}
		z, _ := os.ReadFile(filepath.Join(c, f.Name()))
		if bytes.Equal(x, z) {
			t.Errorf("%s is identical for seeds 1 and 2", f.Name())
		}
	}
	x, _ := os.ReadFile(filepath.Join(a, CloudFile))
	y, _ := os.ReadFile(filepath.Join(b, CloudFile))
	z, _ := os.ReadFile(filepath.Join(c, CloudFile))
	if len(x) == 0 || !bytes.Equal(x, y) || bytes.Equal(x, z) {
		t.Errorf("%s: not deterministic per seed (%d, %d, %d bytes)", CloudFile, len(x), len(y), len(z))
	}
}

func TestGenerateShape(t *testing.T) {
	for _, name := range Scenarios() {
		t.Run(name, func(t *testing.T) {
			m, recs := generate(t, Options{Scenario: name, Seed: 7})
			if m.Users < 220 {
				t.Errorf("Users = %d, want ≥ 220", m.Users)
			}
			wantFiles := []string{"dc01-security.jsonl", "dc02-security.jsonl", "fs01-system.jsonl"}
			var got []string
			formats := map[string]bool{}
			for _, f := range m.Files {
				got = append(got, f.Path)
				formats[f.Format] = true
			}
			if !slices.Equal(got, wantFiles) || !formats[FormatWinlogbeat] || !formats[FormatNXLog] {
				t.Fatalf("files %v formats %v", got, formats)
			}
			day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
			last := map[string]record{}
			for _, r := range recs {
				if r.Time.Before(day) || !r.Time.Before(day.Add(24*time.Hour)) {
					t.Fatalf("%s: event at %v outside the simulated day", r.File, r.Time)
				}
				if p, ok := last[r.File]; ok {
					if r.Time.Before(p.Time) {
						t.Fatalf("%s: record %d at %v before previous %v", r.File, r.Record, r.Time, p.Time)
					}
					if r.Record != p.Record+1 {
						t.Fatalf("%s: record %d follows %d", r.File, r.Record, p.Record)
					}
				}
				last[r.File] = r
			}
		})
	}
}

func TestGenerateStart(t *testing.T) {
	start := time.Date(2026, 4, 1, 2, 0, 0, 0, time.FixedZone("CEST", 2*3600)) // midnight UTC
	_, recs := generate(t, Options{Seed: 3, Start: start})
	from := start.UTC()
	for _, r := range recs {
		if r.Time.Before(from) || !r.Time.Before(from.Add(24*time.Hour)) {
			t.Fatalf("event at %v outside the day starting %v", r.Time, from)
		}
	}
}

// findings are what the benchmark detections of the brief would report.
type findings struct {
	sprayIPs      []string // ≥10 distinct failing user names from one IP in 10 min
	bruteForce    []string // ≥20 failures for one account in 10 min
	kerberoasters []string // ≥5 distinct RC4 non-machine services by one user in 10 min
	asrep         []record // 4768 success without pre-authentication
	dcsync        []record // 4662 replication rights by a non-DC account
	cleared       []record // 1102
	enumIPs       []string // ≥10 distinct unknown principals (0x6) from one IP in 10 min
}

func detect(recs []record) findings {
	var f findings
	var fails, failsByUser, rc4, unknown []point
	for _, r := range recs {
		failed := false
		switch r.ID {
		case 4771, 4625:
			failed = true
		case 4768:
			if r.get("Status") == "0x6" {
				unknown = append(unknown, point{r.Time, r.ip(), strings.ToLower(r.get("TargetUserName"))})
			}
			failed = r.get("Status") != "0x0"
			if !failed && r.get("PreAuthType") == "0" {
				f.asrep = append(f.asrep, r)
			}
		case 4769:
			svc := r.get("ServiceName")
			if r.get("TicketEncryptionType") == "0x17" && !strings.HasSuffix(svc, "$") && r.get("Status") == "0x0" {
				user, _, _ := strings.Cut(strings.ToLower(r.get("TargetUserName")), "@")
				rc4 = append(rc4, point{r.Time, user, strings.ToLower(svc)})
			}
		case 4662:
			p := r.get("Properties")
			if (strings.Contains(p, "1131f6aa-") || strings.Contains(p, "1131f6ad-") || strings.Contains(p, "89e95b76-")) &&
				r.get("SubjectUserName") != "DC01$" && r.get("SubjectUserName") != "DC02$" {
				f.dcsync = append(f.dcsync, r)
			}
		case 1102:
			f.cleared = append(f.cleared, r)
		}
		if failed {
			user := strings.ToLower(r.get("TargetUserName"))
			fails = append(fails, point{r.Time, r.ip(), user})
			failsByUser = append(failsByUser, point{r.Time, user, ""})
		}
	}
	over := func(m map[string]int, n int) []string {
		var keys []string
		for k, v := range m {
			if v >= n {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		return keys
	}
	f.sprayIPs = over(maxDistinct(fails, window), 10)
	f.bruteForce = over(maxCount(failsByUser, window), 20)
	f.kerberoasters = over(maxDistinct(rc4, window), 5)
	f.enumIPs = over(maxDistinct(unknown, window), 10)
	return f
}

func TestDefaultGroundTruth(t *testing.T) {
	for _, seed := range []int64{1, 42} {
		m, recs := generate(t, Options{Seed: seed})
		a := m.Attacker
		if a.SourceIP != "10.1.66.6" || a.SourceHost != "WS-EVIL" || a.CompromisedUser == "" || a.Domain != "corp.castellan.test" {
			t.Fatalf("seed %d: attacker %+v", seed, a)
		}
		f := detect(recs)
		one := []string{a.SourceIP}
		if !slices.Equal(f.sprayIPs, one) {
			t.Errorf("seed %d: spray sources %v, want only %v", seed, f.sprayIPs, one)
		}
		if !slices.Equal(f.enumIPs, one) {
			t.Errorf("seed %d: enumeration sources %v, want only %v", seed, f.enumIPs, one)
		}
		if len(f.bruteForce) != 0 {
			t.Errorf("seed %d: brute force on %v", seed, f.bruteForce)
		}
		if !slices.Equal(f.kerberoasters, []string{a.CompromisedUser}) {
			t.Errorf("seed %d: kerberoasters %v, want only %s", seed, f.kerberoasters, a.CompromisedUser)
		}
		if len(f.asrep) != 1 || f.asrep[0].ip() != a.SourceIP || f.asrep[0].get("TargetUserName") != a.ASREPRoasted ||
			f.asrep[0].get("TicketEncryptionType") != "0x17" {
			t.Errorf("seed %d: AS-REP roasting events %v", seed, f.asrep)
		}
		if len(f.dcsync) < 2 {
			t.Errorf("seed %d: %d DCSync events, want a few", seed, len(f.dcsync))
		}
		for _, r := range f.dcsync {
			if r.get("SubjectUserName") != a.CompromisedUser || r.File != "dc01-security.jsonl" {
				t.Errorf("seed %d: replication by non-DC %s in %s", seed, r.get("SubjectUserName"), r.File)
			}
		}
		if len(f.cleared) != 1 || f.cleared[0].File != "dc02-security.jsonl" || f.cleared[0].get("SubjectUserName") != a.CompromisedUser {
			t.Errorf("seed %d: log cleared events %v", seed, f.cleared)
		}

		// The compromised user signs in from the attacker's machine after the spray.
		var tgt, logon bool
		for _, r := range recs {
			if r.ip() != a.SourceIP {
				continue
			}
			tgt = tgt || r.ID == 4768 && r.get("Status") == "0x0" && r.get("TargetUserName") == a.CompromisedUser &&
				r.get("PreAuthType") == "2" && r.get("TicketEncryptionType") == "0x12"
			logon = logon || r.ID == 4624 && r.get("LogonType") == "3" && r.get("TargetUserName") == a.CompromisedUser
		}
		if !tgt || !logon {
			t.Errorf("seed %d: compromised user TGT %v, network logon %v from the attacker", seed, tgt, logon)
		}

		wantStages := []string{"T1087.002", "T1110.003", "T1558.004", "T1558.003", "T1003.006", "T1070.001", "T1078.004"}
		var got []string
		for i, s := range m.Stages {
			got = append(got, s.Technique)
			if s.Events == 0 || s.End.Before(s.Start) || s.End.Sub(s.Start) >= window {
				t.Errorf("seed %d: stage %s spans %v–%v with %d events", seed, s.Name, s.Start, s.End, s.Events)
			}
			if i > 0 && s.Start.Before(m.Stages[i-1].End) {
				t.Errorf("seed %d: stage %s starts before %s ends", seed, s.Name, m.Stages[i-1].Name)
			}
		}
		if !slices.Equal(got, wantStages) {
			t.Errorf("seed %d: stage techniques %v, want %v", seed, got, wantStages)
		}
		first := m.Stages[0].Start
		if first.Hour() != 14 {
			t.Errorf("seed %d: attack starts at %v, want around 14:00", seed, first)
		}
		// Everything from the attacker's address belongs to a stage.
		for _, r := range recs {
			if r.ip() == a.SourceIP && (r.Time.Before(first) || r.Time.After(m.Stages[len(m.Stages)-1].End)) {
				t.Errorf("seed %d: attacker event %d at %v outside the stages", seed, r.ID, r.Time)
			}
		}
	}
}

func TestBenignHasNoDetections(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		m, recs := generate(t, Options{Scenario: "benign", Seed: seed})
		if m.Attacker.SourceIP != "" || len(m.Stages) != 0 {
			t.Errorf("seed %d: benign manifest has attacker %+v, stages %v", seed, m.Attacker, m.Stages)
		}
		f := detect(recs)
		if len(f.sprayIPs)+len(f.bruteForce)+len(f.kerberoasters)+len(f.asrep)+len(f.dcsync)+len(f.cleared)+len(f.enumIPs) != 0 {
			t.Errorf("seed %d: benign day triggers detections: %+v", seed, f)
		}
		for _, r := range recs {
			if r.ip() == "10.1.66.6" {
				t.Fatalf("seed %d: benign event from the attacker address: %+v", seed, r)
			}
		}
	}
}

// TestBenignActivity checks the benign day contains what the scenario promises, so the
// absence of detections above is not trivially true.
func TestBenignActivity(t *testing.T) {
	m, recs := generate(t, Options{Scenario: "benign", Seed: 5})
	tgtUsers := map[string]bool{}
	failedUsers := map[string]bool{}
	rc4Users := map[string]map[string]bool{}
	replication := map[string]int{}
	count := map[int]int{}
	ipUsers := map[string]map[string]bool{}
	for _, r := range recs {
		count[r.ID]++
		user := strings.ToLower(r.get("TargetUserName"))
		switch r.ID {
		case 4768:
			if r.get("Status") == "0x0" {
				if r.get("PreAuthType") != "2" || r.get("TicketEncryptionType") != "0x12" {
					t.Errorf("benign TGT without AES pre-authentication: %v", r.Data)
				}
				if !strings.HasSuffix(user, "$") && !strings.HasPrefix(user, "svc-") && !strings.HasPrefix(user, "adm-") {
					tgtUsers[user] = true
				}
			}
		case 4771, 4625:
			failedUsers[user] = true
			if ipUsers[r.ip()] == nil {
				ipUsers[r.ip()] = map[string]bool{}
			}
			ipUsers[r.ip()][user] = true
		case 4769:
			if r.get("TicketEncryptionType") == "0x17" {
				u, _, _ := strings.Cut(user, "@")
				if rc4Users[u] == nil {
					rc4Users[u] = map[string]bool{}
				}
				rc4Users[u][r.get("ServiceName")] = true
			}
		case 4662:
			replication[r.get("SubjectUserName")]++
		}
	}
	if len(tgtUsers) < m.Users {
		t.Errorf("%d users got a TGT, want all %d", len(tgtUsers), m.Users)
	}
	if n := len(failedUsers); n < m.Users/10 || n > m.Users/4 {
		t.Errorf("%d of %d users mistyped their password, want about 15%%", n, m.Users)
	}
	for ip, users := range ipUsers {
		if len(users) > 1 {
			t.Errorf("failures for %d users from %s", len(users), ip)
		}
	}
	if len(rc4Users) < 2 {
		t.Errorf("%d users with RC4 tickets, want a few legacy users", len(rc4Users))
	}
	for u, svcs := range rc4Users {
		if len(svcs) != 1 {
			t.Errorf("%s has RC4 tickets for %d services, want one", u, len(svcs))
		}
	}
	if len(replication) != 2 || replication["DC01$"] < 180 || replication["DC02$"] < 180 {
		t.Errorf("replication by %v, want DC01$ and DC02$ every ~15 minutes", replication)
	}
	for id, want := range map[int]int{4720: 1, 4724: 1, 4728: 1, 7045: 1, 1102: 0} {
		if count[id] != want {
			t.Errorf("%d events with id %d, want %d", count[id], id, want)
		}
	}
	for _, id := range []int{4624, 4768, 4769, 4776, 4771, 4625, 4738, 4732, 4756, 7036} {
		if count[id] == 0 {
			t.Errorf("no events with id %d", id)
		}
	}
}
