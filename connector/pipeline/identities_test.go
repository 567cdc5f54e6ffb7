package pipeline

import (
	"fmt"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/mappings/entra"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// The synced service account of the identity tests: on-prem CORP\svc-crm,
// in Entra crm-sync@corp.example. The UPN's local part differs from the
// sAMAccountName on purpose, so correlation's same-name fallback (which
// strips DOMAIN\ and @suffix) cannot be what joins the two planes.
const (
	crmObject = "5c1b7a8e-3f2d-4a6b-9c0d-1e2f3a4b5c6d"
	crmUPN    = "crm-sync@corp.example"
	crmSID    = "S-1-5-21-1004336348-1177238915-682003330-1105"
	crmSAM    = "svc-crm"
)

var idT0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// crmDirectoryEvent is the users poll's record of svc-crm.
func crmDirectoryEvent(t *testing.T) schema.Event {
	t.Helper()
	raw := fmt.Sprintf(`{"id":%q,"userPrincipalName":%q,"onPremisesSecurityIdentifier":%q,"onPremisesSamAccountName":%q,`+
		`"onPremisesDomainName":"corp.example","onPremisesSyncEnabled":true,"accountEnabled":true}`, crmObject, crmUPN, crmSID, crmSAM)
	ev, err := entra.Mapper{TenantID: "4b9ae7e1-2a8f-4c6e-9a1e-5f0d3c2b1a00"}.FromUser([]byte(raw), idT0.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// kerberoast is CORP\svc-crm asking RC4 tickets for five service
// accounts (4769 carries no requester SID).
func kerberoast() []schema.Event {
	var evs []schema.Event
	for i, svc := range []string{"svc-sql", "svc-web", "svc-backup", "svc-print", "svc-sccm"} {
		evs = append(evs, schema.Event{ID: fmt.Sprintf("k%d", i), Timestamp: idT0.Add(time.Duration(i) * time.Second),
			Event: schema.EventMeta{Kind: schema.KindKerberosServiceTicket, Dataset: "winjson", Code: "4769", Outcome: schema.OutcomeSuccess},
			Host:  schema.Host{Name: "DC01.corp.example"},
			User:  schema.User{Name: crmSAM, Domain: "CORP"}, Source: schema.Endpoint{IP: "10.0.5.66"},
			Target: schema.Target{Service: svc}, Auth: schema.Auth{Protocol: "kerberos", Kerberos: schema.Kerberos{Etype: "rc4-hmac"}}})
	}
	return evs
}

// travel is crm-sync@corp.example signing in from Redmond, then from
// Moscow an hour later.
func travel(t *testing.T) []schema.Event {
	t.Helper()
	var evs []schema.Event
	for i, loc := range []struct{ city, cc, ip, lat, lon string }{
		{"Redmond", "US", "131.107.160.1", "47.674", "-122.1215"},
		{"Moscow", "RU", "95.165.10.20", "55.7558", "37.6173"},
	} {
		raw := fmt.Sprintf(`{"id":"si-crm-%d","createdDateTime":%q,"userPrincipalName":%q,"userId":%q,"appDisplayName":"Office 365 Exchange Online",`+
			`"ipAddress":%q,"clientAppUsed":"Browser","isInteractive":true,"status":{"errorCode":0,"failureReason":null},`+
			`"location":{"city":%q,"countryOrRegion":%q,"geoCoordinates":{"latitude":%s,"longitude":%s}}}`,
			i, idT0.Add(time.Duration(10+60*i)*time.Minute).Format(time.RFC3339), crmUPN, crmObject, loc.ip, loc.city, loc.cc, loc.lat, loc.lon)
		ev, err := entra.FromSignIn([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	return evs
}

// incidentsOf runs batches through p and returns the alerts' rule ids and
// the ids of the incidents their alerts ended in.
func incidentsOf(t *testing.T, p *Processor, batches ...[]schema.Event) (rules []string, incidents map[string]bool) {
	t.Helper()
	incidents = map[string]bool{}
	for _, b := range batches {
		p.Process(b, func(r schema.Record) {
			switch r := r.(type) {
			case schema.Alert:
				rules = append(rules, r.Rule.ID)
			}
		})
	}
	for _, inc := range p.OpenIncidents() {
		incidents[inc.ID] = true
	}
	return rules, incidents
}

func newIdentityProcessor(t *testing.T) *Processor {
	t.Helper()
	p, err := NewProcessor(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A directory_identity event from the users poll joins svc-crm's on-prem
// Kerberoasting and cloud impossible travel into one incident — before
// any on-prem event carried its SID, and across a processor restart.
// Without it the same alerts make two incidents.
func TestDirectoryIdentityJoinsPlanesIntoOneIncident(t *testing.T) {
	for _, tc := range []struct {
		name      string
		directory bool
		want      int
	}{{"with directory_identity", true, 1}, {"without", false, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			p := newIdentityProcessor(t)
			if tc.directory {
				rules, _ := incidentsOf(t, p, []schema.Event{crmDirectoryEvent(t)})
				if len(rules) != 0 {
					t.Fatalf("a directory_identity event alerted: %v", rules)
				}
				// The learned link survives a restart through the snapshot.
				snap, err := p.Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				p = newIdentityProcessor(t)
				if err := p.Restore(snap); err != nil {
					t.Fatal(err)
				}
			}
			rules, incs := incidentsOf(t, p, kerberoast(), travel(t))
			if fmt.Sprint(rules) != "[kerberoasting-rc4-burst cloud-impossible-travel]" {
				t.Fatalf("alerts %v", rules)
			}
			if len(incs) != tc.want {
				t.Errorf("%d incidents, want %d: %+v", len(incs), tc.want, p.OpenIncidents())
			}
		})
	}
}

// No rule matches a directory_identity event: a full users round of
// distinct identities raises nothing.
func TestDirectoryIdentityRaisesNoAlert(t *testing.T) {
	p := newIdentityProcessor(t)
	var evs []schema.Event
	for i := range 200 {
		raw := fmt.Sprintf(`{"id":"obj-%d","userPrincipalName":"u%d@corp.example","onPremisesSecurityIdentifier":"S-1-5-21-1-2-3-%d",`+
			`"onPremisesSamAccountName":"u%d","onPremisesDomainName":"corp.example","accountEnabled":%t}`, i, i, 1100+i, i, i%2 == 0)
		ev, err := entra.Mapper{}.FromUser([]byte(raw), idT0.Add(time.Duration(i)*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	if rules, incs := incidentsOf(t, p, evs); len(rules) != 0 || len(incs) != 0 {
		t.Errorf("directory_identity events raised %v (%d incidents)", rules, len(incs))
	}
	if st := p.IdentityStats(); st.Directory != 200 {
		t.Errorf("identity join learned %d, want 200", st.Directory)
	}
}
