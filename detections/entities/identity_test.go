package entities

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/castellan-itdr/castellan/mappings/entra"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

func TestLoadIdentities(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "ids.yaml")
	os.WriteFile(good, []byte("users:\n  - { upn: sql.service@lab.test, on_prem_sid: S-1-5-21-1-2-3-1105, sam_account_name: svc-sql, domain: LAB }\n"), 0o600)
	us, err := LoadIdentities(good)
	if err != nil || len(us) != 1 || us[0].SAMAccountName != "svc-sql" || us[0].Domain != "LAB" {
		t.Fatalf("%+v %v", us, err)
	}
	for body, want := range map[string]string{
		"users:\n  - { upn: a@b.c, sam_account_name: a }\n":                        "on_prem_sid and sam_account_name are required",
		"users:\n  - { on_prem_sid: S-1-5-21-1, sam_account_name: a }\n":           "upn or object_id is required",
		"users:\n  - { upn: a@b.c, on_prem_sid: x, sam_account_name: a }\n":        "is not a SID",
		"users:\n  - { upn: a@b.c, on_prem_sid: S-1-5-21-1, sam: a }\n":            "sam",
		`{"users":[{"upn":"a@b.c","on_prem_sid":"S-1-5-21-1","sam_account_name":1`: "identities",
	} {
		p := filepath.Join(dir, "bad.yaml")
		os.WriteFile(p, []byte(body), 0o600)
		if _, err := LoadIdentities(p); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", body, err, want)
		}
	}
	if _, err := LoadIdentities(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing file accepted")
	}
}

// Learning is bounded, skips machine and well-known SIDs, and never
// changes on-prem events.
func TestIdentitiesLearnBounded(t *testing.T) {
	x := NewIdentities(IdentityOptions{Learn: true, MaxLearned: 2})
	for _, u := range []schema.User{
		{Name: "a", Domain: "LAB", ID: "S-1-5-21-9-9-9-1001"},
		{Name: "a", Domain: "LAB", ID: "S-1-5-21-9-9-9-1001"}, // again: nothing new
		{Name: "DC01$", ID: "S-1-5-21-9-9-9-1000"},            // machine
		{Name: "SYSTEM", ID: "S-1-5-18"},                      // well-known
		{Name: "b", ID: "S-1-5-21-9-9-9-1002"},
		{Name: "c", ID: "S-1-5-21-9-9-9-1003"}, // over the bound
	} {
		ev := schema.Event{Event: schema.EventMeta{Kind: schema.KindLogon, Dataset: "winjson"}, User: u}
		before := ev.User
		x.Enrich(&ev)
		if ev.User.Name != before.Name || ev.User.ID != before.ID {
			t.Fatal("on-prem event changed")
		}
	}
	if st := x.Stats(); st.Learned != 2 || st.Full != 1 || st.Known != 2 {
		t.Errorf("stats %+v", st)
	}
	// A cloud sign-in for the learned SID is joined; an unknown SID is not.
	ev := schema.Event{Event: schema.EventMeta{Kind: schema.KindCloudSignin, Dataset: entra.Dataset},
		User: schema.User{Name: "alice.b", Domain: "lab.test", UPN: "alice.b@lab.test", ID: "obj-1"}, Cloud: schema.Cloud{OnPremSID: "S-1-5-21-9-9-9-1002"}}
	x.Enrich(&ev)
	if ev.User.Name != "b" || ev.User.ID != "S-1-5-21-9-9-9-1002" || ev.Original[entra.OriginalCloudObjectID] != "obj-1" {
		t.Errorf("joined user %+v", ev.User)
	}
	un := schema.Event{Event: schema.EventMeta{Kind: schema.KindCloudSignin, Dataset: entra.Dataset},
		User: schema.User{Name: "z", UPN: "z@lab.test", ID: "obj-2"}, Cloud: schema.Cloud{OnPremSID: "S-1-5-21-9-9-9-4242"}}
	x.Enrich(&un)
	if un.User.Name != "z" {
		t.Errorf("unknown SID joined: %+v", un.User)
	}
}

// BenchmarkIdentitiesEnrich measures the join on the per-event path: an
// on-prem logon whose SID is already learned, and a linked cloud sign-in.
func BenchmarkIdentitiesEnrich(b *testing.B) {
	x := NewIdentities(IdentityOptions{Learn: true, Users: []entra.DirectoryUser{
		{UPN: "sql.service@lab.test", OnPremSID: "S-1-5-21-9-9-9-1105", SAMAccountName: "svc-sql", Domain: "LAB"}}})
	onPrem := schema.Event{Event: schema.EventMeta{Kind: schema.KindLogon, Dataset: "winjson"},
		User: schema.User{Name: "jdoe", Domain: "LAB", ID: "S-1-5-21-9-9-9-1001"}}
	cloud := schema.Event{Event: schema.EventMeta{Kind: schema.KindCloudSignin, Dataset: entra.Dataset},
		User:  schema.User{Name: "sql.service", Domain: "lab.test", UPN: "sql.service@lab.test", ID: "obj-1"},
		Cloud: schema.Cloud{OnPremSID: "S-1-5-21-9-9-9-1105"}, Original: map[string]string{}}
	b.Run("on-prem", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			ev := onPrem
			x.Enrich(&ev)
		}
	})
	b.Run("cloud", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			ev := cloud
			x.Enrich(&ev)
		}
	})
}
