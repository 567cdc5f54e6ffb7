package entra

import (
	"errors"
	"testing"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

const (
	aliceObject = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
	aliceSID    = "S-1-5-21-3835466543-3085738742-1147787400-1103"
)

func testDirectory() *Directory {
	return NewDirectory([]DirectoryUser{
		{ObjectID: aliceObject, UPN: "Alice.Smith@contoso.com", OnPremSID: aliceSID, SAMAccountName: "alice", Domain: "CORP"},
		// Cloud-only: no on-prem account.
		{ObjectID: "26be570a-ae82-4189-b4e2-a37c6808512d", UPN: "testaccount1@contoso.com"},
		// Linked, known by UPN only in the events (different object id).
		{ObjectID: "ffffffff-0000-4000-8000-000000000001", UPN: "bob@contoso.com", OnPremSID: "S-1-5-21-1-2-3-1104", SAMAccountName: "bjones"},
	})
}

func TestJoinSignIn(t *testing.T) {
	d := testDirectory()
	vals := graphValues(t, "testdata/signIns.graph.json")

	ev, _ := testMapper.FromSignIn(vals[1]) // Alice, by object id
	d.Join(&ev)
	if ev.User.Name != "alice" || ev.User.ID != aliceSID || ev.User.Domain != "CORP" ||
		ev.User.UPN != "Alice.Smith@Contoso.com" || ev.Cloud.OnPremSID != aliceSID ||
		ev.Original[OriginalCloudObjectID] != aliceObject || ev.Original["userId"] != aliceObject {
		t.Errorf("alice: %s", js(ev))
	}
	if got := ev.User.Identity(); got != `CORP\alice` {
		t.Errorf("identity %q, want the on-prem key CORP\\alice", got)
	}
	before := js(ev)
	d.Join(&ev)
	if js(ev) != before {
		t.Errorf("Join not idempotent:\n%s\n%s", before, js(ev))
	}

	cloudOnly, _ := testMapper.FromSignIn(vals[0])
	want := js(cloudOnly)
	d.Join(&cloudOnly)
	if js(cloudOnly) != want {
		t.Errorf("cloud-only user changed: %s", js(cloudOnly))
	}

	bob, _ := testMapper.FromSignIn(vals[2]) // Bob, by UPN (case-insensitive)
	d.Join(&bob)
	if bob.User.Name != "bjones" || bob.User.ID != "S-1-5-21-1-2-3-1104" || bob.User.Domain != "contoso.com" ||
		bob.Original[OriginalCloudObjectID] != "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d" {
		t.Errorf("bob: %s", js(bob))
	}
}

func TestJoinAuditTarget(t *testing.T) {
	d := testDirectory()
	vals := graphValues(t, "testdata/directoryAudits.graph.json")
	ev, _ := FromDirectoryAudit(vals[2]) // Alice adds herself to a role
	d.Join(&ev)
	if ev.User.ID != aliceSID || ev.Target.User.ID != aliceSID || ev.Target.User.Name != "alice" ||
		ev.Original["target."+OriginalCloudObjectID] != aliceObject {
		t.Errorf("audit: %s", js(ev))
	}
	app, _ := FromDirectoryAudit(vals[1]) // app acts on Alice
	d.Join(&app)
	if app.User.Name != "Provisioning Agent" || app.Target.User.ID != aliceSID {
		t.Errorf("app audit: %s", js(app))
	}
}

func TestJoinLookupOrder(t *testing.T) {
	d := testDirectory()
	// By on-prem SID carried in the event (beta sign-ins / diagnostic).
	if u, ok := d.Lookup(schema.User{UPN: "someone@else"}, aliceSID); !ok || u.SAMAccountName != "alice" {
		t.Errorf("by SID: %v %v", u, ok)
	}
	// By sAMAccountName only without a UPN, and only when unique.
	if u, ok := d.Lookup(schema.User{Name: "ALICE"}, ""); !ok || u.ObjectID != aliceObject {
		t.Errorf("by sAMAccountName: %v %v", u, ok)
	}
	if _, ok := d.Lookup(schema.User{Name: "alice", UPN: "alice@fabrikam.com"}, ""); ok {
		t.Error("a contradicting UPN must not fall back to sAMAccountName")
	}
	d.Add(DirectoryUser{ObjectID: "o2", UPN: "alice@fabrikam.com", OnPremSID: "S-1-5-21-9-9-9-1000", SAMAccountName: "alice"})
	if _, ok := d.Lookup(schema.User{Name: "alice"}, ""); ok {
		t.Error("an ambiguous sAMAccountName must not join")
	}
	// Non-Entra events are left alone.
	win := schema.Event{Event: schema.EventMeta{Dataset: "winjson"}, User: schema.User{Name: "alice"}}
	d.Join(&win)
	if win.User.ID != "" {
		t.Errorf("joined a Windows event: %s", js(win))
	}
	var nilDir *Directory
	nilDir.Join(&win)
	var zero Directory
	zero.Join(&win)
	zero.Add(DirectoryUser{ObjectID: "x", OnPremSID: "S-1-5-21-1", SAMAccountName: "x"})
	ev := schema.Event{Event: schema.EventMeta{Dataset: Dataset}, User: schema.User{ID: "X"}}
	zero.Join(&ev)
	if ev.User.ID != "S-1-5-21-1" {
		t.Errorf("zero Directory after Add: %s", js(ev))
	}
}

func TestUserFromGraph(t *testing.T) {
	u, err := UserFromGraph([]byte(`{"id":"` + aliceObject + `","userPrincipalName":"alice@contoso.com",
		"onPremisesSecurityIdentifier":"` + aliceSID + `","onPremisesSamAccountName":"alice","onPremisesUserPrincipalName":"alice@corp.contoso.com","onPremisesDomainName":"corp.contoso.com"}`))
	if err != nil || u.ObjectID != aliceObject || u.OnPremSID != aliceSID || u.SAMAccountName != "alice" || u.OnPremUPN != "alice@corp.contoso.com" {
		t.Errorf("%+v %v", u, err)
	}
	if _, err := UserFromGraph([]byte(`{"userPrincipalName":"x"}`)); err == nil {
		t.Error("user without id accepted")
	}
}

// FromAny recognizes each shape by content and maps it as the dedicated
// function does; unknown objects are malformed.
func TestFromAnyDispatchesByShape(t *testing.T) {
	cases := map[string]struct {
		raw  string
		kind schema.EventKind
	}{
		"signIn":         {`{"id":"s1","createdDateTime":"2026-03-02T10:00:00Z","userPrincipalName":"a@b.c","status":{"errorCode":50126},"location":{"geoCoordinates":{"latitude":47.6,"longitude":-122.1}}}`, schema.KindCloudSignin},
		"directoryAudit": {`{"id":"a1","activityDateTime":"2026-03-02T10:00:00Z","activityDisplayName":"Add member to role","category":"RoleManagement","targetResources":[{"id":"u1","type":"User","userPrincipalName":"x@b.c","modifiedProperties":[{"displayName":"Role.ObjectID","newValue":"\"r1\""},{"displayName":"Role.DisplayName","newValue":"\"Global Administrator\""},{"displayName":"Role.TemplateId","newValue":"\"62e90394-69f5-4237-9190-012177145e10\""}]}]}`, schema.KindCloudAudit},
		"riskDetection":  {`{"id":"r1","activityDateTime":"2026-03-02T09:59:00Z","detectedDateTime":"2026-03-02T10:00:00Z","riskEventType":"anonymizedIPAddress"}`, schema.KindCloudRisk},
		"riskyUser":      {`{"id":"u1","riskLastUpdatedDateTime":"2026-03-02T10:00:00Z","riskLevel":"high"}`, schema.KindCloudRisk},
		"diagnostic":     {`{"time":"2026-03-02T10:00:00Z","category":"SignInLogs","properties":{"id":"s2","createdDateTime":"2026-03-02T10:00:00Z","userPrincipalName":"a@b.c","status":{"errorCode":0}}}`, schema.KindCloudSignin},
	}
	for name, c := range cases {
		ev, err := FromAny([]byte(c.raw))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ev.Event.Kind != c.kind {
			t.Errorf("%s: kind %s, want %s", name, ev.Event.Kind, c.kind)
		}
		switch name {
		case "signIn":
			if ev.Cloud.Latitude != 47.6 || ev.Cloud.Longitude != -122.1 || !ev.Cloud.HasGeo() {
				t.Errorf("signIn geo: %v, %v", ev.Cloud.Latitude, ev.Cloud.Longitude)
			}
			want, _ := FromSignIn([]byte(c.raw))
			if want.ID != ev.ID {
				t.Error("FromAny and FromSignIn disagree on the id")
			}
		case "directoryAudit":
			if ev.Target.Group.Name != "Global Administrator" || ev.Target.Group.ID != "62e90394-69f5-4237-9190-012177145e10" {
				t.Errorf("role target: %+v", ev.Target.Group)
			}
		}
	}
	for _, bad := range []string{`{"id":"x"}`, `[1]`, `{"category":"SignInLogs"}`} {
		if _, err := FromAny([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err %v, want ErrMalformed", bad, err)
		}
	}
	// Out-of-range coordinates are unknown, not garbage.
	ev, err := FromSignIn([]byte(`{"id":"s3","createdDateTime":"2026-03-02T10:00:00Z","location":{"geoCoordinates":{"latitude":123,"longitude":5}}}`))
	if err != nil || ev.Cloud.HasGeo() {
		t.Errorf("out-of-range geo kept: %v %v", ev.Cloud, err)
	}
}

func TestLooksLikeRecord(t *testing.T) {
	for line, want := range map[string]bool{
		`{"id":"s1","createdDateTime":"2026-03-02T10:00:00Z"}`:                                 true,
		`{"time":"2026-03-02T10:00:00Z","category":"SignInLogs","properties":{"id":"x"}}`:      true,
		`{"EventID":4769,"Channel":"Security","ServiceName":"svc-sql"}`:                        false,
		`{"winlog":{"event_id":4662,"event_data":{"Properties":"{1131f6aa-9c07-11d1-f79f}"}}}`: false,
	} {
		if got := LooksLikeRecord([]byte(line)); got != want {
			t.Errorf("%s: %v, want %v", line, got, want)
		}
	}
}
