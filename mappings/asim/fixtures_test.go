package asim

import (
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

// fullUser sets every User field.
func fullUser(name string) schema.User {
	return schema.User{Name: name, Domain: "CONTOSO", ID: "S-1-5-21-1-2-3-1104", UPN: name + "@contoso.com",
		LogonID: "0x3e7", IsMachine: false, IsDC: false, Tags: []string{"sensitive"}}
}

// fixtureEvents are events that together fill every EventRow column.
func fixtureEvents() []schema.Event {
	return []schema.Event{
		{ // Kerberos service ticket: Authentication row with every auth field.
			ID: "ev-kerb", Timestamp: t0.In(time.FixedZone("CET", 3600)),
			Event: schema.EventMeta{Kind: schema.KindKerberosServiceTicket, Code: "4769", Action: "service-ticket-requested",
				Outcome: schema.OutcomeFailure, Provider: "Microsoft-Windows-Security-Auditing", Channel: "Security",
				Dataset: "winjson", RecordID: "123456", Reason: "bad password"},
			Host:        schema.Host{Name: "dc01.contoso.local", Domain: "contoso.local", IP: "10.0.0.10"},
			User:        fullUser("alice"),
			Source:      schema.Endpoint{IP: "10.0.1.20", Port: 49152, Hostname: "WS01"},
			Destination: schema.Endpoint{IP: "10.0.0.10", Port: 88, Hostname: "dc01"},
			Target:      schema.Target{Service: "MSSQLSvc/sql01.contoso.local:1433"},
			Auth: schema.Auth{Protocol: "kerberos", LogonType: 3, Package: "Kerberos", Process: "Kerberos", FailureCode: "0x18",
				Kerberos: schema.Kerberos{Etype: "rc4-hmac", PreauthType: "2", TicketOptions: "0x40810000", Status: "0x18"},
				NTLM:     schema.NTLM{Version: "v2", Workstation: "WS01"}},
			Cloud: schema.Cloud{App: "Azure Portal", AppID: "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", ClientApp: "Browser",
				RiskLevel: "medium", RiskState: "atRisk", RiskEventType: "unfamiliarFeatures", CAStatus: "failure",
				Country: "DE", City: "Berlin", Category: "SignInLogs", CorrelationID: "corr-1", IsInteractive: true,
				TenantID: "tenant-1", ErrorCode: 50126, UserAgent: "Mozilla/5.0", DeviceID: "dev-1", DeviceCompliant: true},
			Original: map[string]string{"TicketEncryptionType": "0x17", "ServiceName": "sqlsvc"},
		},
		{ // Group membership change: AuditEvent row with actor, target, directory and service fields.
			ID: "ev-group", Timestamp: t0.Add(time.Minute),
			Event: schema.EventMeta{Kind: schema.KindGroupMembershipChange, Code: "4728", Action: "group-member-added",
				Outcome: schema.OutcomeSuccess, Provider: "Microsoft-Windows-Security-Auditing", Channel: "Security", Dataset: "evtx", RecordID: "99"},
			Host:   schema.Host{Name: "dc01.contoso.local"},
			User:   fullUser("admin"),
			Target: schema.Target{User: fullUser("bob"), Group: schema.Group{Name: "Domain Admins", Domain: "CONTOSO", ID: "S-1-5-21-1-2-3-512"}},
			Directory: schema.Directory{Object: schema.DirObject{DN: "CN=Domain Admins,CN=Users,DC=contoso,DC=local", Class: "group", GUID: "guid-1", Name: "Domain Admins"},
				Attribute: "member", Operation: "add", OldValue: "CN=carol,CN=Users,DC=contoso,DC=local", NewValue: "CN=bob,CN=Users,DC=contoso,DC=local",
				Properties: "{bf9679c0-0de6-11d0-a285-00aa003049e2}", AccessMask: "0x20"},
			Service: schema.Service{Name: "evilsvc", File: `C:\evil.exe`, Type: "user mode service", StartType: "auto start", Account: "LocalSystem"},
			Cloud:   schema.Cloud{App: "Microsoft Graph", AppID: "00000003-0000-0000-c000-000000000000", Operation: "Add member to group"},
		},
	}
}

func fixtureAlert() schema.Alert {
	return schema.Alert{
		ID: "al-1", Timestamp: t0.Add(2 * time.Minute),
		Rule:     schema.RuleRef{ID: "kerberoasting-rc4-burst", Title: "Kerberoasting — burst of RC4 service tickets", Description: "One account requests RC4 tickets.", Kind: "distinct", MDI: []int{2410}},
		Severity: schema.SeverityCritical, RiskScore: 99, Message: `CONTOSO\alice requested 7 RC4 service tickets`,
		Threat: schema.Threat{Framework: schema.FrameworkATTACK, Tactic: schema.Tactic{ID: "TA0006", Name: "Credential Access"},
			Technique: schema.Technique{ID: "T1558.003", Name: "Kerberoasting"}},
		User:      fullUser("alice"),
		Source:    schema.Endpoint{IP: "10.0.1.20", Hostname: "WS01"},
		Host:      schema.Host{Name: "dc01.contoso.local", IP: "10.0.0.10"},
		Target:    schema.Target{User: fullUser("svc_sql"), Service: "MSSQLSvc/sql01"},
		GroupKey:  map[string]string{"actor.user.id": "S-1-5-21-1-2-3-1104"},
		FirstSeen: t0, LastSeen: t0.Add(2 * time.Minute),
		Count: 7, EventIDs: []string{"ev-1", "ev-2"}, Values: []string{"MSSQLSvc/sql01", "HTTP/web01"},
	}
}

func fixtureIncident() schema.Incident {
	return schema.Incident{
		ID: "in-1", Version: 3, Timestamp: t0.Add(5 * time.Minute), Status: schema.IncidentMerged, MergedInto: "in-0",
		Title: "Credential theft chain on CONTOSO\\alice", Severity: schema.SeverityHigh, RiskScore: 73,
		FirstSeen: t0, LastSeen: t0.Add(5 * time.Minute),
		Threat: schema.IncidentThreat{Framework: schema.FrameworkATTACK,
			Tactics:    []schema.Tactic{{ID: "TA0006", Name: "Credential Access"}, {ID: "TA0008", Name: "Lateral Movement"}},
			Techniques: []schema.Technique{{ID: "T1558.003", Name: "Kerberoasting"}, {ID: "T1550.002"}}},
		Entities: schema.Entities{Users: []string{`CONTOSO\alice`}, Hosts: []string{"WS01"}, IPs: []string{"10.0.1.20"}},
		Alerts: []schema.AlertRef{
			{ID: "al-1", RuleID: "kerberoasting-rc4-burst", Title: "Kerberoasting", Severity: schema.SeverityHigh, Technique: "T1558.003", Tactic: "TA0006", Timestamp: t0},
			{ID: "al-2", RuleID: "pass-the-hash", Title: "Pass the hash", Severity: schema.SeverityMedium, Technique: "T1550.002", Tactic: "TA0008", Timestamp: t0.Add(time.Minute)},
		},
		Priority: []schema.IdentityPriority{{Identity: `CONTOSO\alice`, Score: 40, Percentile: 100, Factors: []schema.PriorityFactor{
			{Kind: "alert", RuleID: "kerberoasting-rc4-burst", Title: "Kerberoasting", Severity: schema.SeverityHigh, Technique: "T1558.003", Count: 1, Points: 30, LastSeen: t0},
			{Kind: "alert", RuleID: "pass-the-hash", Title: "Pass the hash", Severity: schema.SeverityMedium, Technique: "T1550.002", Count: 1, Points: 10, LastSeen: t0.Add(time.Minute)},
		}}},
	}
}

func fixtureFinding() schema.Finding {
	return schema.Finding{
		ID: "fi-1", Timestamp: t0.Add(10 * time.Minute), AssessmentID: "unconstrained-delegation",
		Title: "Unconstrained Kerberos delegation on non-DC accounts", Severity: schema.SeverityHigh, Status: "failed",
		Evidence: "userAccountControl 0x80000 (TRUSTED_FOR_DELEGATION) on CN=FS01,OU=Servers,DC=contoso,DC=local",
		Entities: []string{"CN=FS01,OU=Servers,DC=contoso,DC=local"}, Remediation: "1. Clear TRUSTED_FOR_DELEGATION.",
		Threat: schema.Threat{Framework: schema.FrameworkATTACK, Tactic: schema.Tactic{ID: "TA0006", Name: "Credential Access"},
			Technique: schema.Technique{ID: "T1558", Name: "Steal or Forge Kerberos Tickets"}},
	}
}

// fixtureActions are response actions that together fill every ActionRow
// column: an enforced AD disable on a SID-named account, a dry-run Entra
// session revocation on a UPN-only account, and a refused action.
func fixtureActions() []schema.Action {
	return []schema.Action{
		{
			ID: "ac-1", Timestamp: t0.Add(20 * time.Minute).In(time.FixedZone("CET", 3600)), Type: "disable_user", Mode: "enforce",
			Trigger: "operator:jdoe", IncidentID: "in-1", Target: fullUser("alice"), Result: "succeeded",
			Before: `{"disabled":false,"userAccountControl":512}`, After: `{"disabled":true,"userAccountControl":514}`,
		},
		{
			ID: "ac-2", Timestamp: t0.Add(21 * time.Minute), Type: "revoke_sessions", Mode: "dry_run", Trigger: "kerberoasting",
			Target: schema.User{UPN: "bob@contoso.com", ID: "6f1c2d3e-0000-4000-8000-000000000001"}, Result: "simulated",
			Reason: "dry run: sessions would be revoked",
		},
		{
			ID: "ac-3", Timestamp: t0.Add(22 * time.Minute), Type: "disable_user", Mode: "enforce", Trigger: "operator:jdoe",
			Target: schema.User{Name: "krbtgt"}, Result: "refused", Reason: "krbtgt is protected",
		},
	}
}
