package mitre

import (
	"regexp"
	"testing"
)

func TestTacticsKillChain(t *testing.T) {
	want := []string{"TA0043", "TA0042", "TA0001", "TA0002", "TA0003", "TA0004", "TA0005",
		"TA0006", "TA0007", "TA0008", "TA0009", "TA0011", "TA0010", "TA0040"}
	got := Tactics()
	if len(got) != len(want) {
		t.Fatalf("got %d tactics, want %d", len(got), len(want))
	}
	for i, id := range want {
		if got[i].ID != id || got[i].Order != i+1 || got[i].Name == "" || got[i].Shortname == "" {
			t.Errorf("tactic %d = %+v, want id %s order %d", i, got[i], id, i+1)
		}
		if TacticOrder(id) != i+1 {
			t.Errorf("TacticOrder(%s) = %d", id, TacticOrder(id))
		}
	}
	if TacticOrder("TA9999") <= len(want) {
		t.Error("unknown tactic must sort last")
	}
	if tc, ok := LookupTacticByShortname("credential-access"); !ok || tc.ID != "TA0006" {
		t.Errorf("shortname lookup = %+v %v", tc, ok)
	}
}

func TestTechniquesConsistent(t *testing.T) {
	idRe := regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)
	ids := TechniqueIDs()
	if len(ids) < 80 {
		t.Errorf("only %d techniques", len(ids))
	}
	for _, id := range ids {
		tech, ok := LookupTechnique(id)
		if !ok || tech.Name == "" || !idRe.MatchString(id) {
			t.Errorf("bad technique %q: %+v", id, tech)
			continue
		}
		for _, ta := range tech.Tactics {
			if _, ok := LookupTactic(ta); !ok {
				t.Errorf("%s: unknown tactic %s", id, ta)
			}
		}
		if p := tech.Parent(); p != "" {
			parent, ok := LookupTechnique(p)
			if !ok {
				t.Errorf("%s: parent %s missing", id, p)
				continue
			}
			for _, ta := range tech.Tactics {
				if !parent.HasTactic(ta) {
					t.Errorf("%s: tactic %s not a tactic of parent %s", id, ta, p)
				}
			}
		}
	}
}

func TestRequiredTechniques(t *testing.T) {
	for id, name := range map[string]string{
		"T1003.006": "DCSync", "T1558.003": "Kerberoasting", "T1558.004": "AS-REP Roasting",
		"T1110.003": "Password Spraying", "T1110.001": "Password Guessing",
		"T1070.001": "Clear Windows Event Logs", "T1087.002": "Domain Account",
		"T1207": "Rogue Domain Controller", "T1649": "Steal or Forge Authentication Certificates",
		"T1557.001": "LLMNR/NBT-NS Poisoning and SMB Relay", "T1550.002": "Pass the Hash",
	} {
		tech, ok := LookupTechnique(id)
		if !ok || tech.Name != name {
			t.Errorf("LookupTechnique(%s) = %+v, %v; want name %q", id, tech, ok, name)
		}
	}
	if tech, _ := LookupTechnique("t1003.006"); tech.FullName() != "OS Credential Dumping: DCSync" || !tech.HasTactic("TA0006") {
		t.Errorf("T1003.006 = %+v (%s)", tech, tech.FullName())
	}
	if tech, _ := LookupTechnique("T1078"); len(tech.Tactics) != 4 || tech.Tactics[0] != "TA0001" {
		t.Errorf("T1078 tactics = %v", tech.Tactics)
	}
}

func TestUnknown(t *testing.T) {
	if _, ok := LookupTechnique("T9999"); ok {
		t.Error("T9999 found")
	}
	if _, ok := LookupTechnique("T1558.999"); ok {
		t.Error("T1558.999 found")
	}
	if _, ok := LookupTactic("TA0099"); ok {
		t.Error("TA0099 found")
	}
	if _, err := parse([]byte("tactics: []\nbogus: 1\n")); err == nil {
		t.Error("unknown key accepted")
	}
}
