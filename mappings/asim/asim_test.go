package asim

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

var update = flag.Bool("update", false, "rewrite golden files and generated deploy artefacts")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file; got:\n%s", name, got)
	}
}

func indent(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestEventRowsGolden(t *testing.T) {
	evs := fixtureEvents()
	rows := make([]EventRow, len(evs))
	for i := range evs {
		rows[i] = FromEvent(&evs[i])
	}
	golden(t, "events.golden.json", indent(t, rows))
}

func TestAlertRowGolden(t *testing.T) {
	a := fixtureAlert()
	golden(t, "alert.golden.json", indent(t, FromAlert(&a)))
}

func TestIncidentRowGolden(t *testing.T) {
	in := fixtureIncident()
	golden(t, "incident.golden.json", indent(t, FromIncident(&in)))
}

func TestEventRowSemantics(t *testing.T) {
	evs := fixtureEvents()
	auth, audit := FromEvent(&evs[0]), FromEvent(&evs[1])
	checks := []struct{ name, got, want string }{
		{"auth schema", auth.EventSchema, SchemaAuthentication},
		{"auth type", auth.EventType, "Logon"},
		{"auth result", auth.EventResult, "Failure"},
		{"auth result details (0x18)", auth.EventResultDetails, "Incorrect password"},
		{"auth original details", auth.EventOriginalResultDetails, "0x18"},
		{"auth subtype (logon type 3)", auth.EventSubType, "Remote"},
		{"auth target user is the authenticating account", auth.TargetUsername, `CONTOSO\alice`},
		{"auth target user id type", auth.TargetUserIdType, "SID"},
		{"auth no actor", auth.ActorUsername, ""},
		{"auth target app is the SPN", auth.TargetAppName, "MSSQLSvc/sql01.contoso.local:1433"},
		{"auth logon method (preauth 2)", auth.LogonMethod, "Username & Password"},
		{"auth time in UTC", auth.TimeGenerated.Location().String(), "UTC"},
		{"product", auth.EventProduct, "Castellan"},
		{"event id", auth.EventId, "ev-kerb"},
		{"audit schema", audit.EventSchema, SchemaAudit},
		{"audit type", audit.EventType, "Set"},
		{"audit actor", audit.ActorUsername, `CONTOSO\admin`},
		{"audit target", audit.TargetUsername, `CONTOSO\bob`},
		{"audit object", audit.Object, "CN=Domain Admins,CN=Users,DC=contoso,DC=local"},
		{"audit group", audit.GroupName, `CONTOSO\Domain Admins`},
		{"audit result", audit.EventResult, "Success"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	// Every event kind maps to a schema and a type.
	for _, k := range schema.EventKinds {
		r := FromEvent(&schema.Event{ID: "x", Event: schema.EventMeta{Kind: k}})
		wantResult := "NA"
		if k == schema.KindLogonFailure || k == schema.KindKerberosPreauthFail {
			wantResult = "Failure"
		}
		if r.EventSchema == "" || r.EventType == "" || r.EventResult != wantResult {
			t.Errorf("kind %s: schema %q type %q result %q", k, r.EventSchema, r.EventType, r.EventResult)
		}
	}
}

func TestSeverityAndTactics(t *testing.T) {
	for s, want := range map[schema.Severity]string{
		schema.SeverityInformational: "Informational", schema.SeverityLow: "Low", schema.SeverityMedium: "Medium",
		schema.SeverityHigh: "High", schema.SeverityCritical: "High",
	} {
		if got := Severity(s); got != want {
			t.Errorf("Severity(%v) = %q, want %q", s, got, want)
		}
	}
	if got := TacticName(schema.Tactic{ID: "TA0008"}); got != "LateralMovement" {
		t.Errorf("TacticName(TA0008) = %q", got)
	}
	if got := TacticName(schema.Tactic{ID: "TA9999", Name: "Made Up-Thing"}); got != "MadeUpThing" {
		t.Errorf("TacticName(unknown) = %q", got)
	}
}

func TestIncidentArraysNeverNull(t *testing.T) {
	r := FromIncident(&schema.Incident{ID: "i", Version: 1})
	b, _ := json.Marshal(r)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for _, c := range []string{"Users", "IPs", "Hosts", "AlertIds", "Tactics", "Techniques", "TacticIds", "RuleIds"} {
		if _, ok := m[c].([]any); !ok {
			t.Errorf("%s = %#v, want an array", c, m[c])
		}
	}
}

func TestStreamFor(t *testing.T) {
	for kind, want := range map[string]string{
		schema.RecordEvent: EventsStream, schema.RecordAlert: AlertsStream, schema.RecordIncident: IncidentsStream,
		schema.RecordFinding: FindingsStream, schema.RecordAction: ActionsStream, "bogus": "",
	} {
		if got := StreamFor(kind); got != want {
			t.Errorf("StreamFor(%s) = %q, want %q", kind, got, want)
		}
	}
}

func TestFromFinding(t *testing.T) {
	f := fixtureFinding()
	r := FromFinding(&f)
	if r.EventId != "fi-1" || r.AssessmentId != "unconstrained-delegation" || r.Status != "failed" || r.Severity != "High" ||
		r.CastellanSeverity != "high" || r.RiskScore != 73 || r.Entity != "CN=FS01,OU=Servers,DC=contoso,DC=local" ||
		r.Evidence != f.Evidence || r.Techniques != "T1558" || r.TacticIds != "TA0006" || !r.TimeGenerated.Equal(f.Timestamp) {
		t.Errorf("row %+v", r)
	}
	passed := schema.Finding{ID: "fi-2", Timestamp: t0, AssessmentID: "guest-enabled", Status: "passed"}
	if r := FromFinding(&passed); r.Entity != "" || r.Entities != nil || r.Severity != "Informational" {
		t.Errorf("passed row %+v", r)
	}
}

func TestActionRowsGolden(t *testing.T) {
	acs := fixtureActions()
	rows := make([]ActionRow, len(acs))
	for i := range acs {
		rows[i] = FromAction(&acs[i])
	}
	golden(t, "actions.golden.json", indent(t, rows))
}

func TestFromAction(t *testing.T) {
	acs := fixtureActions()
	cases := []struct {
		name                               string
		got                                ActionRow
		user, userType, id, idType, upn    string
		result, eventResult, incident, why string
	}{
		{"enforced AD", FromAction(&acs[0]), `CONTOSO\alice`, "Windows", "S-1-5-21-1-2-3-1104", "SID", "alice@contoso.com",
			"succeeded", "Success", "in-1", ""},
		{"dry-run Entra", FromAction(&acs[1]), "bob@contoso.com", "UPN", "6f1c2d3e-0000-4000-8000-000000000001", "AADID", "bob@contoso.com",
			"simulated", "NA", "", "dry run: sessions would be revoked"},
		{"refused", FromAction(&acs[2]), "krbtgt", "Simple", "", "", "", "refused", "Failure", "", "krbtgt is protected"},
	}
	for i, c := range cases {
		r, a := c.got, acs[i]
		if r.EventId != a.ID || r.ActionType != a.Type || r.Mode != a.Mode || r.Trigger != a.Trigger ||
			r.Before != a.Before || r.After != a.After || r.EventProduct != Product || r.EventVendor != Vendor {
			t.Errorf("%s: row %+v", c.name, r)
		}
		if !r.TimeGenerated.Equal(a.Timestamp) || r.TimeGenerated.Location() != time.UTC {
			t.Errorf("%s: TimeGenerated %v, want %v in UTC", c.name, r.TimeGenerated, a.Timestamp)
		}
		if r.TargetUsername != c.user || r.TargetUsernameType != c.userType || r.TargetUserId != c.id ||
			r.TargetUserIdType != c.idType || r.TargetUserUpn != c.upn {
			t.Errorf("%s: target %q %q %q %q %q", c.name, r.TargetUsername, r.TargetUsernameType, r.TargetUserId, r.TargetUserIdType, r.TargetUserUpn)
		}
		if r.Result != c.result || r.EventResult != c.eventResult || r.IncidentId != c.incident || r.Reason != c.why {
			t.Errorf("%s: result %q/%q incident %q reason %q", c.name, r.Result, r.EventResult, r.IncidentId, r.Reason)
		}
	}
	if got := actionResult("failed"); got != "Failure" {
		t.Errorf("failed → %q", got)
	}
}

// An action row carries no column beyond the audit record: nothing of the
// target's session, tags or machine flags, which the row does not need.
func TestActionRowColumns(t *testing.T) {
	want := []string{"TimeGenerated", "EventId", "EventProduct", "EventVendor", "ActionType", "Mode", "Trigger", "IncidentId",
		"TargetUsername", "TargetUsernameType", "TargetUserId", "TargetUserIdType", "TargetUserUpn",
		"Result", "EventResult", "Reason", "Before", "After"}
	var got []string
	for _, tb := range Tables() {
		if tb.Name == ActionsTable {
			if tb.Stream != ActionsStream || tb.Kind != schema.RecordAction {
				t.Errorf("table %+v", tb)
			}
			for _, c := range tb.Columns {
				got = append(got, c.Name)
			}
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("columns %v, want %v", got, want)
	}
}
