package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/samples"
)

// identities top --replay scores the scenario's identities: the attacked
// ones first, explained by their alerts; benign users score nothing.
func TestIdentitiesTopFromReplay(t *testing.T) {
	dir := t.TempDir()
	man, err := samples.Generate(samples.Options{Seed: 3, OutDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := execute(t, "identities", "top", "--replay", dir, "--dc", "DC01,DC02", "--json", "-n", "0")
	if err != nil {
		t.Fatal(err)
	}
	var top []schema.IdentityPriority
	if err := json.Unmarshal([]byte(out), &top); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(top) == 0 {
		t.Fatal("no scored identities")
	}
	first := top[0]
	if first.Percentile != 100 || first.Score <= 0 || len(first.Factors) == 0 {
		t.Errorf("top identity %+v", first)
	}
	sum := 0
	for _, f := range first.Factors {
		sum += f.Points
		if f.RuleID == "" || f.Count == 0 || f.Points == 0 {
			t.Errorf("factor %+v", f)
		}
	}
	if sum != first.Score {
		t.Errorf("factors add up to %d, score %d", sum, first.Score)
	}
	// Only the attack's identities score: the compromised user and the
	// accounts it roasted.
	attacked := strings.ToLower(man.Attacker.CompromisedUser)
	involved := map[string]bool{attacked: true}
	for _, u := range append(man.Attacker.Kerberoasted, man.Attacker.ASREPRoasted) {
		involved[strings.ToLower(u)] = true
	}
	found := false
	for _, p := range top {
		short := strings.ToLower(p.Identity[strings.LastIndexByte(p.Identity, '\\')+1:])
		if short == attacked {
			found = true
		}
		if !involved[short] {
			t.Errorf("identity %s outside the attack scored: %+v", p.Identity, p)
		}
	}
	if !found {
		t.Errorf("compromised user %s not scored: %+v", man.Attacker.CompromisedUser, top)
	}
	text, _, err := execute(t, "identities", "top", "--replay", dir, "--dc", "DC01,DC02", "-n", "1")
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(text), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "RANK") || !strings.Contains(lines[1], first.Identity) {
		t.Errorf("table:\n%s", text)
	}
	// A static identity mapping is loaded (and a broken one reported).
	ids := filepath.Join(t.TempDir(), "ids.yaml")
	os.WriteFile(ids, []byte("users:\n  - { upn: "+man.Attacker.CompromisedUser+"@corp.example, on_prem_sid: S-1-5-21-1-2-3-1105, sam_account_name: "+man.Attacker.CompromisedUser+", domain: CORP }\n"), 0o600)
	if _, _, err := execute(t, "identities", "top", "--replay", dir, "--identities", ids); err != nil {
		t.Errorf("with a mapping file: %v", err)
	}
	os.WriteFile(ids, []byte("users:\n  - { upn: x@corp.example }\n"), 0o600)
	if _, _, err := execute(t, "identities", "top", "--replay", dir, "--identities", ids); err == nil || !strings.Contains(err.Error(), "detections.identities") {
		t.Errorf("broken mapping file: %v", err)
	}
	if _, _, err := execute(t, "identities", "top"); exitCode(err) != 2 {
		t.Errorf("no source: exit %d", exitCode(err))
	}
	// A config whose state file holds no snapshot yet lists nothing.
	cfgPath := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(cfgPath, []byte("state: {path: "+filepath.Join(t.TempDir(), "s.db")+"}\nsinks:\n  file/x: {path: "+filepath.Join(t.TempDir(), "o.jsonl")+"}\n"), 0o600)
	if out, _, err := execute(t, "identities", "top", "-c", cfgPath); err != nil || !strings.Contains(out, "No scored identities") {
		t.Errorf("empty state: %v %q", err, out)
	}
}
