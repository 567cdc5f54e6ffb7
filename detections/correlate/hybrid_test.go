package correlate_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/detections/correlate"
	"github.com/castellan-itdr/castellan/detections/engine"
	"github.com/castellan-itdr/castellan/detections/entities"
	"github.com/castellan-itdr/castellan/detections/rules"
	"github.com/castellan-itdr/castellan/mappings/entra"
	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/mappings/windows"
)

const svcSQLSID = "S-1-5-21-1004336348-1177238915-682003330-1105"

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// kerberoast is a burst of RC4 service tickets that LAB\mallory asks for
// svc-sql and four other service accounts, as Security 4769 on DC01.
func kerberoast() [][]byte {
	var out [][]byte
	for i, svc := range []string{"svc-sql", "svc-web", "svc-backup", "svc-crm", "svc-print"} {
		sid := fmt.Sprintf("S-1-5-21-1004336348-1177238915-682003330-%d", 1105+i)
		out = append(out, fmt.Appendf(nil, `{"EventID":4769,"Channel":"Security","Hostname":"DC01.lab.test","RecordNumber":%d,"SourceName":"Microsoft-Windows-Security-Auditing","@timestamp":"%s","TargetUserName":"mallory@LAB.TEST","TargetDomainName":"LAB.TEST","ServiceName":"%s","ServiceSid":"%s","TicketOptions":"0x40810000","TicketEncryptionType":"0x17","IpAddress":"::ffff:10.0.5.66","IpPort":"5%04d","Status":"0x0"}`,
			5000+i, t0.Add(time.Duration(i)*time.Second).Format(time.RFC3339), svc, sid, i))
	}
	return out
}

// cloudSignins are svc-sql's sign-ins: Seattle, then Moscow an hour later,
// under the UPN given, carrying the on-prem SID as Entra does for synced users.
func cloudSignins(upn, objectID string) [][]byte {
	var out [][]byte
	for i, loc := range []struct {
		city, cc, ip string
		lat, lon     float64
	}{{"Seattle", "US", "131.107.1.1", 47.61, -122.33}, {"Moscow", "RU", "95.165.10.20", 55.75, 37.62}} {
		out = append(out, fmt.Appendf(nil, `{"id":"si-%d-%s","createdDateTime":"%s","userPrincipalName":"%s","userId":"%s","onPremisesSecurityIdentifier":"%s","ipAddress":"%s","clientAppUsed":"Browser","status":{"errorCode":0},"location":{"city":"%s","countryOrRegion":"%s","geoCoordinates":{"latitude":%g,"longitude":%g}}}`,
			i, upn, t0.Add(2*time.Hour+time.Duration(i)*time.Hour).Format(time.RFC3339), upn, objectID, svcSQLSID, loc.ip, loc.city, loc.cc, loc.lat, loc.lon))
	}
	return out
}

// run decodes, enriches (DCs and the identity join), detects with the
// built-in rules and correlates; it returns the open incidents.
func run(t *testing.T, ids *entities.Identities, lines ...[][]byte) []schema.Incident {
	t.Helper()
	rs, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(rs, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ents := rules.SampleEntities()
	c := correlate.New(correlate.Options{})
	for _, group := range lines {
		for _, l := range group {
			var ev schema.Event
			if l[0] == '{' && l[2] == 'E' { // a Windows event
				ev, err = windows.DecodeJSONEvent(l, "winjson")
			} else {
				ev, err = entra.FromSignIn(l)
			}
			if err != nil {
				t.Fatal(err)
			}
			ents.Enrich(&ev)
			ids.Enrich(&ev)
			eng.Process(&ev, c.Add)
		}
	}
	c.Flush()
	return c.Open()
}

func techniques(inc schema.Incident) map[string]bool {
	m := map[string]bool{}
	for _, a := range inc.Alerts {
		m[a.Technique] = true
	}
	return m
}

// An on-prem Kerberoasting alert naming LAB\svc-sql and a cloud impossible
// travel alert for that account's Entra identity land in one incident —
// whether the cloud UPN shares the account name or not, because the join
// is by SID: from a static mapping, or learned from the on-prem events
// (4769 ServiceSid) and the sign-in's onPremisesSecurityIdentifier.
func TestHybridIncidentJoinedBySID(t *testing.T) {
	static := []entra.DirectoryUser{{ObjectID: "7d1c0000-0000-4000-8000-000000000105", UPN: "sql.service@lab.test",
		OnPremSID: svcSQLSID, SAMAccountName: "svc-sql", Domain: "LAB"}}
	cases := []struct {
		name string
		ids  *entities.Identities
		upn  string
	}{
		{"static mapping", entities.NewIdentities(entities.IdentityOptions{Users: static}), "sql.service@lab.test"},
		{"learned from events", entities.NewIdentities(entities.IdentityOptions{Learn: true}), "sql.service@lab.test"},
		{"same name, learned", entities.NewIdentities(entities.IdentityOptions{Learn: true}), "svc-sql@lab.test"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			incs := run(t, c.ids, kerberoast(), cloudSignins(c.upn, "7d1c0000-0000-4000-8000-000000000105"))
			if len(incs) != 1 {
				for _, i := range incs {
					t.Logf("%s %v", i.Title, i.Entities)
				}
				t.Fatalf("%d incidents, want one hybrid incident", len(incs))
			}
			tech := techniques(incs[0])
			if !tech["T1558.003"] || !tech["T1078.004"] || len(incs[0].Alerts) != 2 {
				t.Errorf("incident %q: alerts %+v, want Kerberoasting and impossible travel", incs[0].Title, incs[0].Alerts)
			}
			if st := c.ids.Stats(); st.Joined != 2 {
				t.Errorf("stats %+v: want both sign-ins joined", st)
			}
		})
	}
}

// Without the join, a cloud identity named differently stays a separate
// incident: the test above passes because of the SID, not by accident.
func TestHybridNeedsTheJoin(t *testing.T) {
	ids := entities.NewIdentities(entities.IdentityOptions{}) // no mapping, no learning
	incs := run(t, ids, kerberoast(), cloudSignins("sql.service@lab.test", "7d1c0000-0000-4000-8000-000000000105"))
	if len(incs) != 2 {
		t.Fatalf("%d incidents, want 2 (on-prem and cloud apart)", len(incs))
	}
	// A different person with an unrelated SID is not joined either.
	other := entities.NewIdentities(entities.IdentityOptions{Learn: true})
	lines := cloudSignins("sql.service@lab.test", "7d1c0000-0000-4000-8000-000000000105")
	for i := range lines {
		lines[i] = []byte(string(lines[i])[:0] + replaceSID(string(lines[i])))
	}
	if incs := run(t, other, kerberoast(), lines); len(incs) != 2 {
		t.Fatalf("%d incidents for an unrelated SID, want 2", len(incs))
	}
}

func replaceSID(s string) string {
	const other = "S-1-5-21-1004336348-1177238915-682003330-9999"
	out := []byte(s)
	for i := 0; i+len(svcSQLSID) <= len(out); i++ {
		if string(out[i:i+len(svcSQLSID)]) == svcSQLSID {
			copy(out[i:], other)
		}
	}
	return string(out)
}
