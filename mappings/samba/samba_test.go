package samba

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/mappings/windows"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

const testHost = "dc1.lab.test"

// result is one decoded line of a testdata log.
type result struct {
	Line  int           `json:"line"`
	Event *schema.Event `json:"event,omitempty"`
	Error string        `json:"error,omitempty"`
}

// decodeLog decodes every line of a testdata log; skipped lines are counted,
// not returned.
func decodeLog(t testing.TB, path string) (res []result, skipped int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range bytes.Split(b, []byte("\n")) {
		ev, err := Decode(l, testHost)
		switch {
		case errors.Is(err, ErrSkip):
			skipped++
		case err != nil:
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("%s:%d: error does not wrap ErrMalformed: %v", path, i+1, err)
			}
			res = append(res, result{Line: i + 1, Error: err.Error()})
		default:
			res = append(res, result{Line: i + 1, Event: &ev})
		}
	}
	return res, skipped
}

// events returns the decoded events of a log in order.
func events(t testing.TB, path string) []schema.Event {
	t.Helper()
	res, _ := decodeLog(t, path)
	var out []schema.Event
	for _, r := range res {
		if r.Event != nil {
			out = append(out, *r.Event)
		}
	}
	return out
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.log")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			res, _ := decodeLog(t, f)
			got, err := json.MarshalIndent(res, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(f, ".log") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s; run go test -update and review the diff", f, golden)
			}
		})
	}
}

// TestLineCounts: every JSON record of the real lab log decodes except the
// first half of the helper line samba's runcmd relay split at 1024 bytes;
// every other line is skipped.
func TestLineCounts(t *testing.T) {
	for _, tt := range []struct {
		file                       string
		events, malformed, skipped int
	}{
		{"testdata/lab.log", 40, 1, 358},
		// 15 sample lines in the reference, one with a trimmed timestamp.
		{"testdata/reference.log", 14, 1, 7},
	} {
		res, skipped := decodeLog(t, tt.file)
		var evs, bad int
		for _, r := range res {
			if r.Event != nil {
				evs++
			} else {
				bad++
			}
		}
		if evs != tt.events || bad != tt.malformed || skipped != tt.skipped {
			t.Errorf("%s: %d events, %d malformed, %d skipped; want %d, %d, %d",
				tt.file, evs, bad, skipped, tt.events, tt.malformed, tt.skipped)
		}
	}
}

// check asserts dotted fields of an event.
func check(t *testing.T, what string, ev *schema.Event, want map[string]string) {
	t.Helper()
	for path, w := range want {
		g, ok := schema.Field(path)
		if !ok {
			t.Fatalf("unknown field %s", path)
		}
		if got := g(ev); got != w {
			t.Errorf("%s: %s = %q, want %q", what, path, got, w)
		}
	}
}

func TestNormalizeLab(t *testing.T) {
	evs := events(t, "testdata/lab.log")
	const admin = "S-1-5-21-3835466543-3085738742-1147787400-500"
	const alice = "S-1-5-21-3835466543-3085738742-1147787400-1103"
	tests := []struct {
		i    int // index among the events of lab.log
		want map[string]string
	}{
		{0, map[string]string{"event.kind": "logon", "event.code": "4624", "event.outcome": "success", "event.dataset": "samba",
			"event.provider": "Samba", "event.channel": "Authentication", "host.name": testHost, "host.domain": "lab.test",
			"user.name": "Administrator", "user.domain": "LAB", "user.id": admin, "user.logon_id": "",
			"auth.protocol": "ntlm", "auth.ntlm.version": "v2", "auth.logon_type": "3", "auth.process": "LDAP", "auth.package": "NTLMSSP",
			"source.ip": "127.0.0.1", "source.port": "57856", "source.hostname": "DC1", "destination.port": "389",
			"original.serviceDescription": "LDAP", "original.version.major": "1", "original.type": "Authentication",
			"original.netlogonComputer": ""}},
		{1, map[string]string{"event.kind": "group_membership_change", "event.action": "primary-group-set", "event.code": "",
			"target.group.name": "Domain Users", "target.user.name": "alice", "directory.attribute": "primaryGroupID", "user.id": admin}},
		{2, map[string]string{"event.kind": "other", "event.action": "new-account-group-record", "target.group.name": "", "target.user.name": "alice"}},
		{3, map[string]string{"event.kind": "directory_change", "event.action": "object-created", "directory.operation": "add",
			"directory.object.dn": "CN=alice,CN=Users,DC=lab,DC=test", "directory.object.class": "user", "directory.object.name": "alice",
			"original.attributes.sAMAccountName.actions.0.values.0.value": "alice"}},
		{4, map[string]string{"event.action": "attribute-value-replaced", "directory.attribute": "unicodePwd", "directory.new_value": "",
			"original.attributes.unicodePwd.actions.0.redacted": "true"}},
		{5, map[string]string{"event.kind": "account_change", "event.code": "4724", "event.action": "password-reset-attempted",
			"event.outcome": "success", "target.user.name": "alice", "user.id": admin, "source.port": "57856"}},
		{6, map[string]string{"directory.attribute": "userAccountControl", "directory.old_value": "546", "directory.new_value": "512"}},
		{14, map[string]string{"event.action": "object-modified", "directory.attribute": "lastLogon,lastLogonTimestamp,logonCount",
			"user.id": "S-1-5-18", "source.ip": ""}},
		{15, map[string]string{"event.kind": "kerberos_tgt", "event.code": "4624", "event.action": "tgt-requested", "event.outcome": "success",
			"user.name": "alice", "user.domain": "LAB", "user.id": alice, "user.logon_id": "0x8cef87cf873a3f23",
			"auth.protocol": "kerberos", "auth.kerberos.etype": "aes256-cts-hmac-sha1-96", "auth.kerberos.preauth_type": "2",
			"auth.kerberos.status": "0x0", "auth.failure_code": "", "source.port": "43940", "destination.ip": ""}},
		{16, map[string]string{"event.kind": "kerberos_preauth_failure", "event.code": "4625", "event.outcome": "failure",
			"auth.failure_code": "0x18", "event.reason": "bad password", "user.name": "alice"}},
		{17, map[string]string{"event.kind": "kerberos_tgt", "event.outcome": "failure", "auth.failure_code": "0x6",
			"event.reason": "unknown principal", "user.name": "ghost", "user.domain": "LAB.TEST", "user.id": "", "auth.kerberos.etype": ""}},
		{18, map[string]string{"event.kind": "logon", "auth.protocol": "ntlm", "auth.process": "SMB2", "source.hostname": "VM",
			"auth.ntlm.workstation": "VM", "destination.port": "445", "user.name": "alice"}},
		{19, map[string]string{"event.kind": "logon_failure", "event.code": "4625", "event.action": "logon-failed",
			"auth.failure_code": "0xc000006a", "event.reason": "bad password", "user.name": "alice", "user.domain": "LAB"}},
		{20, map[string]string{"event.kind": "ldap_bind", "event.outcome": "failure", "auth.protocol": "ldap", "auth.logon_type": "8",
			"auth.failure_code": "0xc000006a", "auth.ntlm.version": "", "user.name": "alice", "original.passwordType": "Plaintext"}},
		{21, map[string]string{"event.kind": "ldap_bind", "event.outcome": "success", "user.id": alice}},
		{25, map[string]string{"event.kind": "group_membership_change", "event.code": "4728", "event.action": "member-added-to-global-group",
			"target.group.name": "Domain Admins", "target.user.name": "alice", "directory.operation": "add",
			"directory.new_value": "CN=alice,CN=Users,DC=lab,DC=test", "directory.object.dn": "CN=Domain Admins,CN=Users,DC=lab,DC=test",
			"user.id": admin, "original.transactionId": "6cae8271-99b4-4a40-a8a2-3a0680c0294c"}},
		{26, map[string]string{"event.action": "attribute-value-added", "directory.attribute": "member",
			"directory.new_value": "CN=alice,CN=Users,DC=lab,DC=test", "directory.object.name": "Domain Admins"}},
		{28, map[string]string{"event.code": "4729", "event.action": "member-removed-from-global-group", "directory.operation": "delete",
			"directory.old_value": "CN=alice,CN=Users,DC=lab,DC=test", "directory.new_value": ""}},
		{29, map[string]string{"event.action": "attribute-value-deleted", "directory.old_value": "CN=alice,CN=Users,DC=lab,DC=test"}},
		{32, map[string]string{"event.action": "password-reset-attempted", "target.user.name": "bob"}},
		{34, map[string]string{"event.kind": "kerberos_tgt", "auth.kerberos.preauth_type": "138", "auth.kerberos.etype": ""}},
		{36, map[string]string{"event.code": "4723", "event.action": "password-change-attempted", "event.outcome": "failure",
			"event.reason": "Constraint violation", "source.ip": ""}},
		{37, map[string]string{"event.kind": "other", "event.action": "transaction-rollback", "event.channel": "dsdbTransaction"}},
		{39, map[string]string{"event.action": "object-deleted", "directory.operation": "delete", "directory.object.name": "bob"}},
	}
	for _, tt := range tests {
		if tt.i >= len(evs) {
			t.Fatalf("only %d events", len(evs))
		}
		check(t, fmt.Sprintf("event %d (%s %s)", tt.i, evs[tt.i].Event.Channel, evs[tt.i].Event.Code), &evs[tt.i], tt.want)
	}
}

func TestNormalizeReference(t *testing.T) {
	evs := events(t, "testdata/reference.log")
	byAction := map[string]*schema.Event{}
	for i := range evs {
		byAction[string(evs[i].Event.Kind)+"/"+evs[i].Event.Outcome+"/"+evs[i].Original["authDescription"]] = &evs[i]
	}
	// The AS-REP roasting sample: a TGT without pre-authentication.
	asrep := byAction["kerberos_tgt/success/Unknown Pre-authentication"]
	if asrep == nil {
		t.Fatalf("no AS-REP roasting event among %d", len(evs))
	}
	check(t, "as-rep", asrep, map[string]string{"auth.kerberos.preauth_type": "0", "user.name": "nopre", "auth.kerberos.etype": ""})
	disabled := byAction["kerberos_tgt/failure/ENC-TS Pre-authentication"]
	if disabled == nil {
		t.Fatal("no disabled-account event")
	}
	check(t, "disabled", disabled, map[string]string{"auth.failure_code": "0x12", "event.reason": "revoked/disabled", "user.name": "bob"})
}

// TestConsistentWithWindows: a Samba record and the Windows event a Windows
// DC logs for the same exchange agree on what rules look at.
func TestConsistentWithWindows(t *testing.T) {
	evs := events(t, "testdata/lab.log")
	win := func(line string) schema.Event {
		ev, err := windows.DecodeJSONEvent([]byte(line), "winjson")
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	pairs := []struct {
		name         string
		samba        schema.Event
		windows      schema.Event
		fields       []string
		sameCategory bool
	}{
		{"kerberos bad password (4771)", evs[16],
			win(`{"EventID":4771,"Channel":"Security","Hostname":"DC1","TargetUserName":"alice","TargetSid":"S-1","Status":"0x18","PreAuthType":"2","IpAddress":"::ffff:127.0.0.1","IpPort":"43958"}`),
			[]string{"event.kind", "event.outcome", "auth.protocol", "auth.failure_code", "event.reason", "user.name", "source.ip", "auth.kerberos.status"}, true},
		{"kerberos unknown principal (4768)", evs[17],
			win(`{"EventID":4768,"Channel":"Security","Hostname":"DC1","TargetUserName":"ghost","TargetDomainName":"LAB.TEST","Status":"0x6","IpAddress":"::ffff:127.0.0.1"}`),
			[]string{"event.kind", "event.outcome", "auth.protocol", "auth.failure_code", "event.reason", "user.name", "user.domain"}, true},
		{"kerberos TGT (4768)", evs[15],
			win(`{"EventID":4768,"Channel":"Security","Hostname":"DC1","TargetUserName":"alice","Status":"0x0","PreAuthType":"2","TicketEncryptionType":"0x12","IpAddress":"::ffff:127.0.0.1"}`),
			[]string{"event.kind", "event.outcome", "auth.protocol", "auth.kerberos.etype", "auth.kerberos.preauth_type", "auth.kerberos.status", "user.name"}, true},
		{"NTLM bad password (4625)", evs[19],
			win(`{"EventID":4625,"Channel":"Security","Hostname":"DC1","TargetUserName":"alice","TargetDomainName":"LAB","Status":"0xc000006d","SubStatus":"0xc000006a","LogonType":"3","AuthenticationPackageName":"NTLM","LmPackageName":"NTLM V2","WorkstationName":"VM","IpAddress":"127.0.0.1"}`),
			[]string{"event.kind", "event.code", "event.action", "event.outcome", "auth.protocol", "auth.failure_code", "event.reason",
				"user.name", "user.domain", "auth.logon_type", "auth.ntlm.version", "auth.ntlm.workstation", "source.hostname", "source.ip"}, true},
		{"member added (4728)", evs[25],
			win(`{"EventID":4728,"Channel":"Security","Hostname":"DC1","TargetUserName":"Domain Admins","MemberName":"CN=alice,CN=Users,DC=lab,DC=test","SubjectUserSid":"S-1-5-21-3835466543-3085738742-1147787400-500"}`),
			[]string{"event.kind", "event.code", "event.action", "event.outcome", "target.group.name", "target.user.name",
				"directory.operation", "directory.attribute", "directory.new_value", "user.id"}, true},
		{"password reset (4724)", evs[5],
			win(`{"EventID":4724,"Channel":"Security","Hostname":"DC1","TargetUserName":"alice","SubjectUserSid":"S-1-5-21-3835466543-3085738742-1147787400-500"}`),
			[]string{"event.kind", "event.code", "event.action", "target.user.name", "user.id"}, true},
	}
	for _, p := range pairs {
		for _, f := range p.fields {
			g, _ := schema.Field(f)
			if a, b := g(&p.samba), g(&p.windows); a != b {
				t.Errorf("%s: %s samba %q, windows %q", p.name, f, a, b)
			}
		}
	}
}

func TestLineForms(t *testing.T) {
	obj := `{"timestamp": "2026-11-28T06:55:57.099280+0000", "type": "Authentication", "Authentication": {"version": {"major": 1, "minor": 2}, "eventId": 4624, "logonId": "0", "logonType": 3, "status": "NT_STATUS_OK", "remoteAddress": "ipv6:::1:46548", "serviceDescription": "SMB2", "authDescription": "NTLMSSP", "clientAccount": "alice", "becameAccount": "alice", "passwordType": "NTLMv2"}}`
	want, err := Decode([]byte("  "+obj), testHost)
	if err != nil {
		t.Fatal(err)
	}
	if want.Source.IP != "::1" || want.Source.Port != 46548 {
		t.Errorf("ipv6 address: %q %d", want.Source.IP, want.Source.Port)
	}
	for _, form := range []string{
		obj,
		"JSON Authentication: " + obj,
		"  /usr/sbin/smbd: " + obj,
		"Nov 28 06:55:57 dc1 samba[412]:   " + obj,
		obj + "\r\n",
	} {
		ev, err := Decode([]byte(form), testHost)
		if err != nil {
			t.Fatalf("%.40q: %v", form, err)
		}
		if ev.ID != want.ID || ev.Event.Kind != schema.KindLogon {
			t.Errorf("%.40q: id %s kind %s, want id %s", form, ev.ID, ev.Event.Kind, want.ID)
		}
	}
	// Older releases: RFC 1123-like time, no eventId.
	old := `JSON Authentication: {"timestamp": "Tue, 14 Mar 2017 08:58:24.134853 UTC", "type": "Authentication", "Authentication": {"version": {"major": 1, "minor": 0}, "status": "NT_STATUS_WRONG_PASSWORD", "serviceDescription": "SMB", "authDescription": "NTLMSSP", "clientAccount": "bob", "clientDomain": "LAB", "passwordType": "NTLMv1"}}`
	ev, err := Decode([]byte(old), testHost)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "old release", &ev, map[string]string{"event.code": "4625", "event.kind": "logon_failure", "auth.ntlm.version": "v1",
		"user.name": "bob", "user.domain": "LAB"})
	if ev.Timestamp.Format("2006-01-02T15:04:05.000000") != "2017-03-14T08:58:24.134853" {
		t.Errorf("old timestamp %v", ev.Timestamp)
	}
}

func TestIDs(t *testing.T) {
	res, _ := decodeLog(t, "testdata/lab.log")
	seen := map[string]int{}
	for _, r := range res {
		if r.Event == nil {
			continue
		}
		if r.Event.ID == "" {
			t.Fatalf("line %d: no id", r.Line)
		}
		if l, dup := seen[r.Event.ID]; dup {
			t.Errorf("lines %d and %d share id %s", l, r.Line, r.Event.ID)
		}
		seen[r.Event.ID] = r.Line
	}
	line := []byte(`  {"timestamp": "2026-11-28T06:55:55.584133+0000", "type": "passwordChange", "passwordChange": {"eventId": 4724, "statusCode": 0, "dn": "CN=bob,CN=Users,DC=lab,DC=test", "action": "Reset"}}`)
	a, _ := Decode(line, "dc1")
	b, _ := Decode(line, "DC1")
	c, _ := Decode(line, "dc2")
	if a.ID != b.ID || a.ID == c.ID {
		t.Errorf("ids: host case should not matter, host should: %s %s %s", a.ID, b.ID, c.ID)
	}
	// Key order and spacing do not change the id; a field does.
	d, _ := Decode([]byte(`{"type":"passwordChange","timestamp":"2026-11-28T06:55:55.584133+0000","passwordChange":{"action":"Reset","dn":"CN=bob,CN=Users,DC=lab,DC=test","statusCode":0,"eventId":4724}}`), "dc1")
	e, _ := Decode(bytes.Replace(line, []byte("bob"), []byte("bob2"), 1), "dc1")
	if d.ID != a.ID || e.ID == a.ID {
		t.Errorf("content ids: %s %s %s", a.ID, d.ID, e.ID)
	}
}

func TestSkip(t *testing.T) {
	for _, l := range []string{
		"",
		"   ",
		"[2026/11/28 08:23:48.358315,  3] ../../source4/auth/kerberos/krb5_init_context.c:90(smb_krb5_debug_wrapper)",
		"  Kerberos: AS-REQ SUCCESS ipv4:127.0.0.1:43940 alice@LAB.TEST krbtgt/LAB.TEST@LAB.TEST pa=ENC-TS etype=18/18",
		`  /usr/sbin/samba_spnupdate: test/DomainDnsZones.lab.test"}, {"value": "ldap/x"}]}]}}}}`,
		"  JSON is a format: {braces} without an audit record",
		`  {"other": 1}`,
	} {
		if _, err := Decode([]byte(l), testHost); !errors.Is(err, ErrSkip) {
			t.Errorf("%q: err = %v, want ErrSkip", l, err)
		}
	}
}

func TestMalformed(t *testing.T) {
	huge := `  {"timestamp": "2026-11-28T06:55:55.584133+0000", "x": "` + strings.Repeat("a", MaxLineBytes) + `"}`
	for name, l := range map[string]string{
		"truncated":         `  {"timestamp": "2026-11-28T06:55:55.584133+0000", "type": "groupChange", "groupChange": {"eventId": 47`,
		"trailing data":     `  {"timestamp": "2026-11-28T06:55:55.584133+0000", "type": "x", "x": {}} {}`,
		"no type":           `  {"timestamp": "2026-11-28T06:55:55.584133+0000"}`,
		"type not a string": `  {"timestamp": "2026-11-28T06:55:55.584133+0000", "type": 5, "5": {}}`,
		"no body":           `  {"timestamp": "2026-11-28T06:55:55.584133+0000", "type": "Authentication"}`,
		"body not object":   `  {"timestamp": "2026-11-28T06:55:55.584133+0000", "type": "Authentication", "Authentication": [1]}`,
		"bad timestamp":     `  {"timestamp": "yesterday", "type": "x", "x": {}}`,
		"numeric timestamp": `  {"timestamp": 5, "type": "x", "x": {}}`,
		"older form broken": `JSON Authentication: {"timestamp": "Tue, 14 Mar 2017 08:58:24.134853 UTC", "ty`,
		"over 1 MiB":        huge,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Decode([]byte(l), testHost); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestUnknownTypeKept(t *testing.T) {
	ev, err := Decode([]byte(`  {"timestamp": "2026-11-28T06:55:55.584133+0000", "type": "newThing", "newThing": {"a": {"b": [1, null, true]}}}`), testHost)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "unknown", &ev, map[string]string{"event.kind": "other", "event.channel": "newThing", "original.a.b.0": "1",
		"original.a.b.2": "true", "original.a.b.1": "", "original.type": "newThing"})
}

func TestOriginalCapped(t *testing.T) {
	var attrs []string
	for i := range 300 {
		attrs = append(attrs, fmt.Sprintf(`"a%03d": {"actions": [{"action": "add", "values": [{"value": "v"}]}]}`, i))
	}
	long := strings.Repeat("é", MaxOriginalValue)
	line := `  {"timestamp": "2026-11-28T06:55:55.584133+0000", "type": "dsdbChange", "dsdbChange": {"operation": "Add", "dn": "` + long + `", "status": "Success", "attributes": {` + strings.Join(attrs, ",") + `}}}`
	ev, err := Decode([]byte(line), testHost)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(ev.Original); n != MaxOriginalFields+1 {
		t.Errorf("original has %d fields, want %d", n, MaxOriginalFields+1)
	}
	if got := ev.Original["original_truncated"]; got != "477" { // 600 attribute keys + 5 others - 128
		t.Errorf("original_truncated = %q", got)
	}
	// The record's own fields are kept before deep attribute values.
	for _, k := range []string{"type", "timestamp", "operation", "status", "dn"} {
		if _, ok := ev.Original[k]; !ok {
			t.Errorf("original lacks %s", k)
		}
	}
	if dn := ev.Original["dn"]; len(dn) > MaxOriginalValue || !strings.HasPrefix(long, dn) || len(dn) < MaxOriginalValue-1 {
		t.Errorf("dn cut to %d bytes", len(dn))
	}
}

func FuzzDecode(f *testing.F) {
	for _, p := range []string{"testdata/lab.log", "testdata/reference.log"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for l := range bytes.SplitSeq(b, []byte("\n")) {
			if bytes.Contains(l, []byte(`"timestamp"`)) {
				f.Add(l)
			}
		}
	}
	f.Add([]byte(`JSON Authentication: {"timestamp": "Tue, 14 Mar 2017 08:58:24.134853 UTC", "type": "Authentication", "Authentication": {}}`))
	f.Add([]byte(`{"timestamp": "2026-11-28T06:55:55Z", "type": "dsdbChange", "dsdbChange": {"operation": "Modify", "attributes": {"x": {"actions": [{"action": "replace", "values": [{"value": "<GUID=1>;<SID=2>;CN=a"}]}]}}}}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		ev, err := Decode(line, testHost)
		if err != nil {
			if !errors.Is(err, ErrSkip) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error is neither ErrSkip nor ErrMalformed: %v", err)
			}
			return
		}
		if ev.ID == "" || ev.Event.Kind == "" || ev.Timestamp.IsZero() || ev.Event.Dataset != Dataset {
			t.Fatalf("incomplete event: %+v", ev)
		}
		if len(ev.Original) > MaxOriginalFields+1 {
			t.Fatalf("original has %d fields", len(ev.Original))
		}
		for k, v := range ev.Original {
			if len(v) > MaxOriginalValue {
				t.Fatalf("original %s has %d bytes", k, len(v))
			}
		}
		if _, err := json.Marshal(ev); err != nil {
			t.Fatalf("marshal: %v", err)
		}
	})
}
