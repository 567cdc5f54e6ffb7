package windows

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"github.com/castellan-itdr/castellan/internal/corpus"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// readLines returns the non-blank lines of a testdata file.
func readLines(t testing.TB, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for l := range bytes.SplitSeq(b, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			out = append(out, l)
		}
	}
	return out
}

func decodeFile(t *testing.T, path string) []schema.Event {
	t.Helper()
	var evs []schema.Event
	for i, l := range readLines(t, path) {
		ev, err := DecodeJSONEvent(l, "winjson")
		if err != nil {
			t.Fatalf("%s:%d: %v", path, i+1, err)
		}
		evs = append(evs, ev)
	}
	return evs
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.jsonl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			got, err := json.MarshalIndent(decodeFile(t, f), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(f, ".jsonl") + ".golden.json"
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

// TestShapesAgree: the same Windows event forwarded as Winlogbeat or as flat
// NXLog JSON normalizes the same (except transport-specific record id and
// time).
func TestShapesAgree(t *testing.T) {
	wlb := decodeFile(t, "testdata/winlogbeat.jsonl")
	nx := decodeFile(t, "testdata/nxlog.jsonl")
	const shared = 40 // the first lines of both files are the same events
	for i := range shared {
		a, b := wlb[i], nx[i]
		for _, e := range []*schema.Event{&a, &b} {
			e.ID, e.Timestamp, e.Event.RecordID = "", time.Time{}, ""
		}
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if !bytes.Equal(ja, jb) {
			t.Errorf("line %d (%s):\nwinlogbeat %s\nnxlog      %s", i+1, a.Event.Code, ja, jb)
		}
	}
}

func TestNormalizeFields(t *testing.T) {
	wlb := decodeFile(t, "testdata/winlogbeat.jsonl")
	nx := decodeFile(t, "testdata/nxlog.jsonl")
	tests := []struct {
		line int // 1-based line in both files
		want map[string]string
	}{
		{1, map[string]string{"event.kind": "logon", "event.code": "4624", "event.outcome": "success", "user.name": "alice",
			"user.domain": "CORP", "user.id": "S-1-5-21-3623811015-3361044348-30300820-1105", "user.logon_id": "0x8c3d1f",
			"source.ip": "10.0.0.42", "source.port": "51544", "source.hostname": "WS-042", "auth.logon_type": "3",
			"auth.protocol": "ntlm", "auth.ntlm.version": "v1", "auth.process": "NtLmSsp", "host.name": "DC01.corp.local",
			"host.domain": "corp.local", "event.channel": "Security", "event.provider": ProviderSecurity, "event.dataset": "winjson"}},
		{2, map[string]string{"user.name": "WS-042$", "user.is_machine": "true", "auth.protocol": "kerberos", "source.hostname": "", "auth.ntlm.version": ""}},
		{3, map[string]string{"event.kind": "logon_failure", "event.outcome": "failure", "auth.failure_code": "0xc000006a", "event.reason": "bad password", "source.ip": "192.168.56.66", "source.port": ""}},
		{4, map[string]string{"auth.failure_code": "0xc0000064", "event.reason": "unknown user"}},
		{5, map[string]string{"auth.failure_code": "0xc0000234", "event.reason": "account locked out", "auth.protocol": "negotiate", "auth.logon_type": "2"}},
		{6, map[string]string{"event.kind": "logon", "event.action": "explicit-credentials", "user.name": "eve.admin", "target.user.name": "administrator", "destination.hostname": "FS01.corp.local"}},
		{7, map[string]string{"event.kind": "kerberos_tgt", "event.outcome": "success", "auth.kerberos.etype": "rc4-hmac", "auth.kerberos.preauth_type": "0",
			"auth.kerberos.status": "0x0", "auth.kerberos.ticket_options": "0x40810010", "source.ip": "10.0.0.5", "user.name": "svc_backup", "auth.failure_code": ""}},
		{8, map[string]string{"event.outcome": "failure", "auth.failure_code": "0x6", "event.reason": "unknown principal", "auth.kerberos.etype": "", "auth.kerberos.preauth_type": ""}},
		{9, map[string]string{"event.kind": "kerberos_service_ticket", "user.name": "alice", "user.domain": "CORP.LOCAL", "target.service": "svc_sql",
			"target.is_machine": "false", "auth.kerberos.etype": "rc4-hmac", "auth.protocol": "kerberos"}},
		{10, map[string]string{"target.service": "FS01$", "target.is_machine": "true", "auth.kerberos.etype": "aes256-cts-hmac-sha1-96"}},
		{11, map[string]string{"event.kind": "kerberos_service_ticket", "event.action": "renewed"}},
		{12, map[string]string{"event.kind": "kerberos_preauth_failure", "event.outcome": "failure", "auth.failure_code": "0x18", "event.reason": "bad password",
			"auth.kerberos.preauth_type": "2", "user.id": "S-1-5-21-3623811015-3361044348-30300820-1106"}},
		{13, map[string]string{"event.kind": "ntlm_auth", "event.outcome": "success", "auth.ntlm.workstation": "WS-042", "source.hostname": "WS-042", "auth.protocol": "ntlm"}},
		{14, map[string]string{"event.outcome": "failure", "auth.failure_code": "0xc000006a"}},
		{15, map[string]string{"event.kind": "replication_request", "user.name": "mallory", "directory.access_mask": "0x100",
			"directory.object.guid": "7c9ca4f5-28c4-4e4b-b5f1-6a1c6a1e5a11", "directory.object.class": "domainDNS", "original.PropertiesNames": "DS-Replication-Get-Changes-All, domainDNS", "original.AccessListNames": "Control Access", "original.AccessMaskNames": "ControlAccess"}},
		{16, map[string]string{"event.kind": "directory_change", "directory.operation": "access"}},
		{17, map[string]string{"event.kind": "directory_change", "directory.attribute": "servicePrincipalName", "directory.new_value": "MSSQLSvc/db01.corp.local:1433",
			"directory.object.dn": "CN=svc_sql,OU=Service Accounts,DC=corp,DC=local", "directory.object.class": "user", "directory.object.name": "svc_sql"}},
		{18, map[string]string{"directory.old_value": "old text", "directory.new_value": "", "directory.object.name": "Doe, John"}},
		{19, map[string]string{"directory.operation": "add", "directory.object.class": "computer"}},
		{20, map[string]string{"directory.operation": "move", "directory.object.dn": "CN=bob,OU=Admins,DC=corp,DC=local", "directory.old_value": "CN=bob,OU=Staff,DC=corp,DC=local"}},
		{21, map[string]string{"directory.operation": "delete"}},
		{22, map[string]string{"event.kind": "account_change", "event.action": "user-account-created", "user.name": "eve.admin", "target.user.name": "backdoor",
			"target.user.id": "S-1-5-21-3623811015-3361044348-30300820-1999", "directory.attribute": "userAccountControl"}},
		{28, map[string]string{"event.action": "user-account-locked-out", "target.user.name": "carol", "target.user.domain": "", "source.hostname": "WS-007"}},
		{29, map[string]string{"event.action": "computer-account-changed", "original.AllowedToDelegateTo": "cifs/DC01.corp.local", "target.is_machine": "true"}},
		{32, map[string]string{"event.action": "account-name-changed", "target.user.name": "DC01", "directory.old_value": "EVIL-PC$"}},
		{34, map[string]string{"event.kind": "group_membership_change", "target.group.name": "Domain Admins", "target.group.id": "S-1-5-21-3623811015-3361044348-30300820-512",
			"target.user.name": "Doe, John", "target.user.id": "S-1-5-21-3623811015-3361044348-30300820-1108", "directory.operation": "add", "user.name": "eve.admin"}},
		{36, map[string]string{"directory.operation": "delete", "target.group.name": "Enterprise Admins", "target.user.name": "mallory"}},
		{37, map[string]string{"event.kind": "service_install", "service.name": "PSEXESVC", "service.file": `%SystemRoot%\PSEXESVC.exe`, "service.account": "LocalSystem", "user.name": "eve.admin"}},
		{38, map[string]string{"event.kind": "audit_policy_change", "user.name": "DC01$", "original.SubcategoryGuid": "{0cce922b-69ae-11d9-bed3-505054503030}"}},
		{39, map[string]string{"event.kind": "other", "event.action": "special-privileges-assigned", "user.name": "eve.admin"}},
		{40, map[string]string{"event.kind": "other", "event.action": "logged-off", "user.name": "alice"}},
		{41, map[string]string{"event.kind": "service_install", "service.name": "PSEXESVC", "service.account": "LocalSystem", "host.name": "WS-042.corp.local", "event.channel": "System"}},
		{42, map[string]string{"event.kind": "log_cleared", "user.name": "mallory", "user.id": "S-1-5-21-3623811015-3361044348-30300820-1150"}},
	}
	for _, shape := range []struct {
		name string
		evs  []schema.Event
	}{{"winlogbeat", wlb}, {"nxlog", nx}} {
		for _, tt := range tests {
			ev := &shape.evs[tt.line-1]
			for path, want := range tt.want {
				g, ok := schema.Field(path)
				if !ok {
					t.Fatalf("unknown field %s", path)
				}
				if got := g(ev); got != want {
					t.Errorf("%s line %d (%s) %s = %q, want %q", shape.name, tt.line, ev.Event.Code, path, got, want)
				}
			}
		}
	}
}

func TestEventIDs(t *testing.T) {
	wlb := decodeFile(t, "testdata/winlogbeat.jsonl")
	if got, want := wlb[0].ID, schema.EventID("windows", "DC01.corp.local", "Security", "700000"); got != want {
		t.Errorf("id = %s, want %s", got, want)
	}
	seen := map[string]int{}
	for i, ev := range wlb {
		if j, dup := seen[ev.ID]; dup {
			t.Errorf("lines %d and %d share id %s", j+1, i+1, ev.ID)
		}
		seen[ev.ID] = i
	}
	// Without a record id the id hashes the content and is stable.
	last := readLines(t, "testdata/winlogbeat.jsonl")[43]
	a, _ := DecodeJSONEvent(last, "winjson")
	b, _ := DecodeJSONEvent(last, "evtx")
	if a.ID == "" || a.ID != b.ID || a.Event.RecordID != "" {
		t.Errorf("hashed ids %q %q (record id %q)", a.ID, b.ID, a.Event.RecordID)
	}
}

func TestDecodeJSONDetails(t *testing.T) {
	r, err := DecodeJSON([]byte(`{"EventID":"4624","Hostname":"h","EventTime":"2020-10-13 00:24:53","Keywords":-9214364837600034816,"Message":"m","Task":12544,"TargetUserName":"a","LogonType":3,"Flag":true,"Nested":{"x":1},"Null":null,"Esc":"a\"b\u00e9"}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2020, 10, 13, 0, 24, 53, 0, time.UTC); !r.Time.Equal(want) {
		t.Errorf("time = %v, want %v", r.Time, want)
	}
	want := map[string]string{"TargetUserName": "a", "LogonType": "3", "Flag": "true", "Esc": "a\"bé"}
	if len(r.Data) != len(want) {
		t.Errorf("data = %v, want %v", r.Data, want)
	}
	for k, v := range want {
		if r.Data[k] != v {
			t.Errorf("data[%s] = %q, want %q", k, r.Data[k], v)
		}
	}
	// Normalize copies: the record's map is not modified.
	ev := Normalize(&r, "evtx")
	if _, ok := r.Data["EventID"]; ok || ev.Original["EventID"] != "4624" {
		t.Errorf("Normalize modified the record or lost EventID: %v", r.Data)
	}
	if Normalize(nil, "x").Event.Kind != schema.KindOther {
		t.Error("nil record")
	}
}

func TestMalformed(t *testing.T) {
	huge := append([]byte(`{"EventID":4624,"x":"`), bytes.Repeat([]byte("a"), 2<<20)...)
	huge = append(huge, `"}`...)
	for name, line := range map[string][]byte{
		"truncated":      []byte(`{"EventID":4624,"Channel":"Sec`),
		"array":          []byte(`[{"EventID":4624}]`),
		"string":         []byte(`"hello"`),
		"empty":          nil,
		"not json":       []byte(`EventID=4624`),
		"no event id":    []byte(`{"Channel":"Security","TargetUserName":"a"}`),
		"null event id":  []byte(`{"EventID":null}`),
		"bad event id":   []byte(`{"EventID":"abc"}`),
		"huge event id":  []byte(`{"EventID":99999999}`),
		"negative id":    []byte(`{"EventID":-1}`),
		"winlog no id":   []byte(`{"winlog":{"channel":"Security","event_data":{}}}`),
		"winlog bad rec": []byte(`{"winlog":{"event_id":1,"record_id":"x"}}`),
		"bad record":     []byte(`{"EventID":1,"RecordNumber":-5}`),
		"2 MiB line":     huge,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeJSON(line)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if _, err := DecodeJSONEvent(line, "winjson"); !errors.Is(err, ErrMalformed) {
				t.Fatalf("DecodeJSONEvent err = %v", err)
			}
		})
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, p := range []string{"testdata/winlogbeat.jsonl", "testdata/nxlog.jsonl"} {
		for _, l := range readLines(f, p) {
			f.Add(l)
		}
	}
	f.Add([]byte(`{"EventID":4662,"Properties":"{1131f6ad-9c07-11d1-f79f-00c04fc2dcd2}"}`))
	f.Add([]byte(`{"winlog":{"event_id":"4769"}}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		ev, err := DecodeJSONEvent(line, "fuzz")
		if err == nil && !json.Valid(line) {
			t.Fatalf("accepted invalid JSON %q", line)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if ev.ID == "" || ev.Event.Kind == "" {
			t.Fatalf("event without id or kind: %+v", ev)
		}
		if _, err := json.Marshal(ev); err != nil {
			t.Fatalf("marshal: %v", err)
		}
	})
}

func TestCorpusHostLogs(t *testing.T) {
	dir := corpus.Dir(t, "otrf-lateral-movement", "host")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) == 0 {
		t.Skip("corpus not present: " + dir)
	}
	kinds := map[schema.EventKind]int{}
	lines, errs := 0, 0
	for _, p := range files {
		fh, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
		n := 0
		for sc.Scan() {
			n++
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			lines++
			ev, err := DecodeJSONEvent(sc.Bytes(), "winjson")
			if err != nil {
				errs++
				t.Errorf("%s:%d: %v", filepath.Base(p), n, err)
				continue
			}
			if ev.Host.Name == "" || ev.Timestamp.IsZero() {
				t.Errorf("%s:%d: no host or time", filepath.Base(p), n)
			}
			kinds[ev.Event.Kind]++
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		fh.Close()
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, string(k))
	}
	sort.Strings(names)
	for _, k := range names {
		t.Logf("%-28s %d", k, kinds[schema.EventKind(k)])
	}
	t.Logf("%d lines in %d files, %d errors", lines, len(files), errs)
	if errs != 0 {
		t.Errorf("%d lines failed to decode", errs)
	}
}
