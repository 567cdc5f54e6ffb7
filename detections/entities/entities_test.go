package entities

import (
	"testing"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

func TestEnrich(t *testing.T) {
	s := New(Options{DomainControllers: []string{"DC01", "dc02.corp.example"}, Honeytokens: []string{"CORP\\svc-honey"}})
	cases := []struct {
		user     schema.User
		wantDC   bool
		wantTags int
	}{
		{schema.User{Name: "DC01$", IsMachine: true}, true, 0},
		{schema.User{Name: "dc02$", IsMachine: true}, true, 0},
		{schema.User{Name: "DC03$", IsMachine: true}, false, 0},
		{schema.User{Name: "DC01"}, false, 1}, // a user named like a DC is not the DC: it is tagged dc-lookalike
		{schema.User{Name: "svc-honey"}, false, 1},
	}
	for _, c := range cases {
		ev := schema.Event{User: c.user}
		s.Enrich(&ev)
		if ev.User.IsDC != c.wantDC || len(ev.User.Tags) != c.wantTags {
			t.Errorf("%s: is_dc=%v tags=%v", c.user.Name, ev.User.IsDC, ev.User.Tags)
		}
	}
	ev := schema.Event{Host: schema.Host{Name: "DC02.corp.example"}, User: schema.User{Name: "DC01"}, Target: schema.Target{User: schema.User{Name: "DC01$"}}}
	s.Enrich(&ev)
	if !ev.Host.IsDC || ev.User.IsDC || len(ev.User.Tags) != 1 || ev.User.Tags[0] != TagDCLookalike || !ev.Target.User.IsDC {
		t.Fatalf("enriched %+v", ev)
	}
	if !s.IsDC(`CORP\DC01$`) || s.IsDC("WS01") {
		t.Fatal("IsDC")
	}
}
