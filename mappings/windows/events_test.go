package windows

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// adEvents is issue #3 item 6: every AD event id with the kind and action it
// must map to.
var adEvents = []struct {
	id     int
	kind   schema.EventKind
	action string
}{
	{1102, schema.KindLogCleared, "security-log-cleared"},
	{4624, schema.KindLogon, "logged-in"},
	{4625, schema.KindLogonFailure, "logon-failed"},
	{4634, schema.KindOther, "logged-off"},
	{4647, schema.KindOther, "logoff-initiated"},
	{4648, schema.KindLogon, "explicit-credentials"},
	{4661, schema.KindDirectoryChange, "object-handle-requested"},
	{4662, schema.KindDirectoryChange, "object-accessed"},
	{4672, schema.KindOther, "special-privileges-assigned"},
	{4673, schema.KindOther, "privileged-service-called"},
	{4697, schema.KindServiceInstall, "service-installed"},
	{4698, schema.KindOther, "scheduled-task-created"},
	{4719, schema.KindAuditPolicyChange, "audit-policy-changed"},
	{4720, schema.KindAccountChange, "user-account-created"},
	{4722, schema.KindAccountChange, "user-account-enabled"},
	{4723, schema.KindAccountChange, "password-change-attempted"},
	{4724, schema.KindAccountChange, "password-reset-attempted"},
	{4725, schema.KindAccountChange, "user-account-disabled"},
	{4726, schema.KindAccountChange, "user-account-deleted"},
	{4727, schema.KindAccountChange, "security-global-group-created"},
	{4728, schema.KindGroupMembershipChange, "member-added-to-global-group"},
	{4729, schema.KindGroupMembershipChange, "member-removed-from-global-group"},
	{4730, schema.KindAccountChange, "security-global-group-deleted"},
	{4731, schema.KindAccountChange, "security-local-group-created"},
	{4732, schema.KindGroupMembershipChange, "member-added-to-local-group"},
	{4733, schema.KindGroupMembershipChange, "member-removed-from-local-group"},
	{4738, schema.KindAccountChange, "user-account-changed"},
	{4740, schema.KindAccountChange, "user-account-locked-out"},
	{4741, schema.KindAccountChange, "computer-account-created"},
	{4742, schema.KindAccountChange, "computer-account-changed"},
	{4743, schema.KindAccountChange, "computer-account-deleted"},
	{4753, schema.KindAccountChange, "distribution-global-group-deleted"},
	{4756, schema.KindGroupMembershipChange, "member-added-to-universal-group"},
	{4757, schema.KindGroupMembershipChange, "member-removed-from-universal-group"},
	{4758, schema.KindAccountChange, "security-universal-group-deleted"},
	{4763, schema.KindAccountChange, "distribution-universal-group-deleted"},
	{4764, schema.KindAccountChange, "group-type-changed"},
	{4765, schema.KindAccountChange, "sid-history-added"},
	{4766, schema.KindAccountChange, "sid-history-add-failed"},
	{4767, schema.KindAccountChange, "user-account-unlocked"},
	{4768, schema.KindKerberosTGT, "tgt-requested"},
	{4769, schema.KindKerberosServiceTicket, "service-ticket-requested"},
	{4770, schema.KindKerberosServiceTicket, "renewed"},
	{4771, schema.KindKerberosPreauthFail, "preauth-failed"},
	{4776, schema.KindNTLMAuth, "credentials-validated"},
	{4780, schema.KindAccountChange, "admin-account-acl-set"},
	{4781, schema.KindAccountChange, "account-name-changed"},
	{4794, schema.KindAccountChange, "dsrm-password-set-attempted"},
	{4798, schema.KindOther, "group-membership-enumerated"},
	{4799, schema.KindOther, "group-membership-enumerated"},
	{4882, schema.KindDirectoryChange, "certificate-services-permissions-changed"},
	{4885, schema.KindDirectoryChange, "audit-filter-changed"},
	{4886, schema.KindDirectoryChange, "certificate-requested"},
	{4887, schema.KindDirectoryChange, "certificate-issued"},
	{4890, schema.KindDirectoryChange, "manager-settings-changed"},
	{4896, schema.KindDirectoryChange, "rows-deleted"},
	{4898, schema.KindDirectoryChange, "template-loaded"},
	{4899, schema.KindDirectoryChange, "template-updated"},
	{5136, schema.KindDirectoryChange, "attribute-value-added"},
	{5137, schema.KindDirectoryChange, "object-created"},
	{5140, schema.KindOther, "network-share-accessed"},
	{5141, schema.KindDirectoryChange, "object-deleted"},
	{5145, schema.KindOther, "network-share-object-checked"},
	{7045, schema.KindServiceInstall, "service-installed"},
	{8004, schema.KindNTLMAuth, "ntlm-authentication-audited"},
}

// channelOf is the log an id is written to.
func channelOf(id int) (channel, provider string) {
	switch id {
	case 7045:
		return ChannelSystem, ProviderSCM
	case 8004:
		return ChannelNTLM, ProviderNTLM
	case 1102:
		return ChannelSecurity, ProviderEventlog
	}
	return ChannelSecurity, ProviderSecurity
}

// TestEventTable: every id maps to its kind and a non-empty action from its
// own log, with or without fields, and no other log borrows the mapping.
func TestEventTable(t *testing.T) {
	for _, tt := range adEvents {
		ch, prov := channelOf(tt.id)
		r := Record{EventID: tt.id, Channel: ch, Provider: prov, Computer: "DC01.corp.local", RecordID: 1}
		ev := Normalize(&r, "test")
		if ev.Event.Kind != tt.kind || ev.Event.Action != tt.action || ev.Event.Action == "" {
			t.Errorf("%d: kind %s action %q, want %s %q", tt.id, ev.Event.Kind, ev.Event.Action, tt.kind, tt.action)
		}
		if ev.Event.Outcome == "" {
			t.Errorf("%d: no outcome", tt.id)
		}
		if tt.kind == schema.KindOther {
			continue
		}
		r.Channel, r.Provider = "Application", "Some-Application"
		if ev := Normalize(&r, "test"); ev.Event.Kind != schema.KindOther {
			t.Errorf("%d from the Application log: kind %s", tt.id, ev.Event.Kind)
		}
	}
}

// TestEventGolden: testdata/events/<id>.json (NXLog or Winlogbeat shape) →
// <id>.golden.json, one per id of adEvents.
func TestEventGolden(t *testing.T) {
	for _, tt := range adEvents {
		name := strconv.Itoa(tt.id)
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", "events", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			ev, err := DecodeAny(in, "winjson")
			if err != nil {
				t.Fatal(err)
			}
			if ev.Event.Code != name || ev.Event.Kind != tt.kind || ev.Event.Action != tt.action {
				t.Errorf("code %s kind %s action %q, want %s %q", ev.Event.Code, ev.Event.Kind, ev.Event.Action, tt.kind, tt.action)
			}
			checkGolden(t, filepath.Join("testdata", "events", name+".golden.json"), marshalEvent(t, ev))
		})
	}
	// Every sample has a table entry.
	files, _ := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	known := map[string]bool{}
	for _, tt := range adEvents {
		known[strconv.Itoa(tt.id)] = true
	}
	for _, f := range files {
		base := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(f), ".json"), ".golden")
		if !known[base] {
			t.Errorf("%s: no entry in adEvents", f)
		}
	}
}

// TestEventFields spot-checks what the new mappers extract.
func TestEventFields(t *testing.T) {
	tests := map[int]map[string]string{
		4661: {"user.name": "eve.admin", "directory.object.class": "SAM_GROUP", "directory.object.name": "S-1-5-21-3623811015-3361044348-30300820-512",
			"directory.operation": "access", "event.outcome": "unknown"},
		4647: {"user.name": "alice", "user.logon_id": "0x8c3d1f"},
		4673: {"user.name": "eve.admin", "event.outcome": "unknown", "original.PrivilegeList": "SeTcbPrivilege"},
		4698: {"user.name": "eve.admin", "original.TaskName": `\Microsoft\Windows\UpdateCheck`},
		4727: {"target.group.name": "Tier0 Ops", "target.group.id": "S-1-5-21-3623811015-3361044348-30300820-2001", "user.name": "eve.admin"},
		4729: {"target.group.name": "Domain Admins", "target.user.name": "bob", "directory.old_value": "CN=bob,OU=Staff,DC=corp,DC=local"},
		4780: {"target.user.name": "svc_backup", "user.name": "DC01$"},
		4798: {"target.user.name": "Administrator", "user.name": "mallory", "original.CallerProcessName": `C:\Windows\System32\net1.exe`},
		4799: {"target.group.name": "Administrators", "target.group.id": "S-1-5-32-544", "target.user.name": ""},
		4886: {"user.name": "alice", "user.domain": "CORP", "directory.object.name": "VulnUser", "directory.object.class": "pKICertificateTemplate",
			"original.CertificateTemplate": "VulnUser", "original.SubjectAlternativeName": "upn=administrator@corp.local"},
		4887: {"original.Disposition": "3", "original.RequestId": "2025", "directory.operation": "add"},
		4899: {"directory.object.dn": "CN=VulnUser,CN=Certificate Templates,CN=Public Key Services,CN=Services,CN=Configuration,DC=corp,DC=local",
			"directory.operation": "modify", "host.name": "CA01.corp.local"},
		5140: {"source.ip": "10.0.0.66", "source.port": "52301", "original.ShareName": `\\*\C$`, "original.AccessListNames": "ReadData (or ListDirectory)"},
		5145: {"source.ip": "10.0.0.66", "original.RelativeTargetName": "PSEXESVC.exe", "event.outcome": "unknown"},
		8004: {"user.name": "alice", "user.domain": "CORP", "auth.ntlm.workstation": "WS-042", "source.hostname": "WS-042", "auth.protocol": "ntlm",
			"destination.hostname": "FS01", "original.SChannelTypeName": "WorkstationSecureChannel", "event.channel": ChannelNTLM},
		4738: {"original.UserAccountControlFlags": "'Don't Require Preauth' - Enabled", "original.NewUacValueFlags": "NORMAL_ACCOUNT, DONT_EXPIRE_PASSWORD, DONT_REQ_PREAUTH"},
		4625: {"original.LogonTypeName": "Network", "original.StatusName": "STATUS_LOGON_FAILURE", "original.SubStatusName": "STATUS_WRONG_PASSWORD"},
		4771: {"original.StatusName": "KDC_ERR_PREAUTH_FAILED", "event.reason": "bad password"},
	}
	for id, want := range tests {
		in, err := os.ReadFile(filepath.Join("testdata", "events", strconv.Itoa(id)+".json"))
		if err != nil {
			t.Fatal(err)
		}
		ev, err := DecodeAny(in, "winjson")
		if err != nil {
			t.Fatal(err)
		}
		for path, w := range want {
			g, ok := schema.Field(path)
			if !ok {
				t.Fatalf("unknown field %s", path)
			}
			if got := g(&ev); got != w {
				t.Errorf("%d %s = %q, want %q", id, path, got, w)
			}
		}
	}
}
