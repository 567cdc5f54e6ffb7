package entra

import (
	"errors"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

func TestFromUser(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := Mapper{TenantID: "t-1"}
	raw := []byte(`{"id":"obj-1","userPrincipalName":"crm-sync@corp.example","onPremisesSecurityIdentifier":"S-1-5-21-1-2-3-1105",` +
		`"onPremisesSamAccountName":"svc-crm","onPremisesDomainName":"corp.example","onPremisesSyncEnabled":true,"accountEnabled":false}`)
	ev, err := m.FromUser(raw, at)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Event.Kind != schema.KindDirectoryIdentity || ev.Event.Dataset != Dataset || ev.User.ID != "obj-1" ||
		ev.User.UPN != "crm-sync@corp.example" || ev.User.Name != "svc-crm" || ev.User.Domain != "corp.example" ||
		ev.Cloud.OnPremSID != "S-1-5-21-1-2-3-1105" || ev.Cloud.TenantID != "t-1" || !ev.Timestamp.Equal(at) ||
		ev.Original["accountEnabled"] != "false" || ev.Original["onPremisesSyncEnabled"] != "true" {
		t.Errorf("event %+v", ev)
	}
	// The id follows the values, not the poll time.
	again, _ := m.FromUser(raw, at.Add(time.Hour))
	changed, _ := m.FromUser([]byte(`{"id":"obj-1","userPrincipalName":"crm-sync@corp.example"}`), at)
	if again.ID != ev.ID || changed.ID == ev.ID {
		t.Errorf("ids: %s %s %s", ev.ID, again.ID, changed.ID)
	}
	du, ok := DirectoryUserFromEvent(&ev)
	if !ok || du.ObjectID != "obj-1" || du.SAMAccountName != "svc-crm" || du.OnPremSID != "S-1-5-21-1-2-3-1105" || du.Domain != "" {
		t.Errorf("directory user %+v %v", du, ok)
	}
	if _, ok := DirectoryUserFromEvent(&schema.Event{Event: schema.EventMeta{Kind: schema.KindCloudSignin, Dataset: Dataset}}); ok {
		t.Error("a sign-in read as a directory user")
	}
	for _, bad := range []string{`{"userPrincipalName":"x@y"}`, `{"id":"o","onPremisesSecurityIdentifier":"not-a-sid"}`, `[1]`, `{`} {
		if _, err := m.FromUser([]byte(bad), at); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestDirectoryAddReplacesAndRemove(t *testing.T) {
	d := NewDirectory(nil)
	d.Add(DirectoryUser{ObjectID: "o1", UPN: "a@x", OnPremSID: "S-1-5-21-1-1-1-1", SAMAccountName: "a"})
	d.Add(DirectoryUser{ObjectID: "o1", UPN: "b@x", OnPremSID: "S-1-5-21-1-1-1-1", SAMAccountName: "a"})
	if _, ok := d.Lookup(schema.User{UPN: "a@x"}, ""); ok {
		t.Error("old UPN still finds the replaced user")
	}
	// Re-adding must not make the sAMAccountName ambiguous.
	if du, ok := d.Lookup(schema.User{Name: "a"}, ""); !ok || du.UPN != "b@x" {
		t.Errorf("by sam: %+v %v", du, ok)
	}
	d.Remove("O1")
	if _, ok := d.Lookup(schema.User{ID: "o1", Name: "a"}, "S-1-5-21-1-1-1-1"); ok {
		t.Error("removed user still found")
	}
}

func FuzzFromUser(f *testing.F) {
	f.Add([]byte(`{"id":"obj-1","userPrincipalName":"a@b.c","onPremisesSecurityIdentifier":"S-1-5-21-1-2-3-1105","onPremisesSamAccountName":"a","onPremisesDomainName":"b.c","onPremisesSyncEnabled":true,"accountEnabled":false}`))
	f.Add([]byte(`{"id":"obj-2","userPrincipalName":"x@y","onPremisesSecurityIdentifier":null,"accountEnabled":"yes"}`))
	f.Add([]byte(`{"id":7}`))
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := Mapper{TenantID: "t"}.FromUser(b, at)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if ev.ID == "" || ev.User.ID == "" || ev.Event.Kind != schema.KindDirectoryIdentity || len(ev.Original) != 2 {
			t.Fatalf("bad event %+v", ev)
		}
		for _, v := range ev.Original {
			if len(v) > MaxOriginalValue {
				t.Fatalf("original value of %d bytes", len(v))
			}
		}
		if _, ok := DirectoryUserFromEvent(&ev); !ok {
			t.Fatal("mapped event not read back")
		}
	})
}

// BenchmarkFromUser is the mapping cost of one user of a users poll.
func BenchmarkFromUser(b *testing.B) {
	raw := []byte(`{"id":"5c1b7a8e-3f2d-4a6b-9c0d-1e2f3a4b5c6d","userPrincipalName":"crm-sync@corp.example","onPremisesSecurityIdentifier":"S-1-5-21-1004336348-1177238915-682003330-1105","onPremisesSamAccountName":"svc-crm","onPremisesDomainName":"corp.example","onPremisesSyncEnabled":true,"accountEnabled":true}`)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := Mapper{TenantID: "4b9ae7e1-2a8f-4c6e-9a1e-5f0d3c2b1a00"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := m.FromUser(raw, at); err != nil {
			b.Fatal(err)
		}
	}
}
