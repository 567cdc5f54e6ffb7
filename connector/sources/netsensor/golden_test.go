package netsensor

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/castellan-itdr/castellan/mappings/network/dns"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

var update = flag.Bool("update", false, "rewrite golden files and crafted samples")

const samplesDir = "../../../samples/pcap"

// readSample reads a sample capture with every DNS query an event (the
// goldens hold them all) and returns its events sorted by time and id
// (emission order across conversations is not part of the contract).
func readSample(t testing.TB, name string) ([]schema.Event, Stats) {
	t.Helper()
	return readSampleWith(t, name, Options{DNSEvents: dns.EventsAll})
}

// readSampleWith is readSample with options o.
func readSampleWith(t testing.TB, name string, o Options) ([]schema.Event, Stats) {
	t.Helper()
	var evs []schema.Event
	st, err := ReadFile(filepath.Join(samplesDir, name), func(ev schema.Event) { evs = append(evs, ev) }, o)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	sort.SliceStable(evs, func(i, j int) bool {
		if !evs[i].Timestamp.Equal(evs[j].Timestamp) {
			return evs[i].Timestamp.Before(evs[j].Timestamp)
		}
		return evs[i].ID < evs[j].ID
	})
	return evs, st
}

func TestGolden(t *testing.T) {
	if *update {
		writeCrafted(t)
	}
	files, _ := filepath.Glob(filepath.Join(samplesDir, "*.pcap*"))
	if len(files) == 0 {
		t.Fatal("no sample captures")
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			evs, st := readSample(t, name)
			if st.Damage != "" || st.Panics != 0 {
				t.Fatalf("damage %q panics %d", st.Damage, st.Panics)
			}
			if len(evs) == 0 {
				t.Fatal("no events")
			}
			got, err := json.MarshalIndent(evs, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(f, filepath.Ext(f)) + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("events differ from %s (run with -update and review the diff)", golden)
			}
			// Replays give the same ids.
			again, _ := readSample(t, name)
			for i := range evs {
				if evs[i].ID != again[i].ID {
					t.Fatalf("event %d: id %s then %s", i, evs[i].ID, again[i].ID)
				}
			}
		})
	}
}

// find returns the events matching every field=value pair.
func find(evs []schema.Event, kv ...string) []schema.Event {
	var out []schema.Event
next:
	for i := range evs {
		for j := 0; j < len(kv); j += 2 {
			g, ok := schema.Field(kv[j])
			if !ok {
				panic("unknown field " + kv[j])
			}
			if g(&evs[i]) != kv[j+1] {
				continue next
			}
		}
		out = append(out, evs[i])
	}
	return out
}

func expect(t *testing.T, evs []schema.Event, n int, kv ...string) []schema.Event {
	t.Helper()
	got := find(evs, kv...)
	if len(got) != n {
		t.Errorf("want %d events with %v, got %d", n, kv, len(got))
	}
	return got
}

func TestKerberosSamples(t *testing.T) {
	evs, _ := readSample(t, "kerberos-as.pcap")
	expect(t, evs, 2, "event.kind", "kerberos_tgt", "auth.kerberos.status", "0x19", "user.name", "alice",
		"auth.kerberos.preauth_type", "0", "event.outcome", "failure")
	ok := expect(t, evs, 1, "event.kind", "kerberos_tgt", "event.outcome", "success", "user.name", "alice",
		"user.domain", "LAB.TEST", "auth.kerberos.preauth_type", "2", "auth.kerberos.etype", "aes256-cts-hmac-sha1-96",
		"target.service", "krbtgt/LAB.TEST", "destination.port", "88", "event.dataset", "netsensor")
	if len(ok) == 1 && (ok[0].Original["RequestedEtypes"] == "" || ok[0].Auth.Kerberos.TicketOptions == "") {
		t.Errorf("AS exchange lacks request details: %+v", ok[0].Original)
	}
	expect(t, evs, 1, "event.kind", "kerberos_preauth_failure", "auth.failure_code", "0x18", "user.name", "alice")
	expect(t, evs, 1, "event.kind", "kerberos_tgt", "auth.failure_code", "0x6", "user.name", "ghost")

	evs, _ = readSample(t, "kerberos-udp.pcap")
	expect(t, evs, 1, "event.kind", "kerberos_tgt", "auth.failure_code", "0x34")
	expect(t, evs, 1, "event.kind", "kerberos_preauth_failure", "auth.failure_code", "0x18")

	evs, _ = readSample(t, "kerberos-asrep.pcap")
	expect(t, evs, 1, "event.kind", "kerberos_tgt", "event.outcome", "success", "user.name", "nopre",
		"auth.kerberos.preauth_type", "0", "auth.kerberos.etype", "rc4-hmac", "original.RequestedEtypes", "23")

	evs, _ = readSample(t, "kerberos-tgs-rc4.pcap")
	st := expect(t, evs, 2, "event.kind", "kerberos_service_ticket", "event.outcome", "success",
		"target.service", "MSSQLSvc/sql01.lab.test:1433", "user.name", "alice", "auth.kerberos.etype", "rc4-hmac")
	if len(st) == 2 && st[1].Original["RequestedEtypes"] != "23" {
		t.Errorf("kvno -e rc4-hmac: requested etypes %q", st[1].Original["RequestedEtypes"])
	}
}

func TestLDAPSamples(t *testing.T) {
	evs, st := readSample(t, "ldap-recon.pcap")
	expect(t, evs, 1, "event.kind", "ldap_bind", "event.outcome", "failure", "auth.failure_code", "0x31",
		"user.name", "alice", "original.cleartext", "true", "original.PasswordLength", "9")
	expect(t, evs, 4, "event.kind", "ldap_bind", "event.outcome", "success", "user.upn", "alice@lab.test")
	expect(t, evs, 1, "event.kind", "ldap_search", "original.Filter", "(&(objectClass=user)(servicePrincipalName=*))",
		"original.Attributes", "sAMAccountName,servicePrincipalName", "original.Scope", "sub", "original.Entries", "3",
		"user.name", "alice", "directory.object.dn", "DC=lab,DC=test")
	expect(t, evs, 1, "event.kind", "ldap_search", "original.Filter", "(adminCount=1)", "original.Entries", "13")
	expect(t, evs, 1, "event.kind", "ldap_search", "original.Filter", "(objectClass=user)", "original.SizeLimit", "1000")
	expect(t, evs, 1, "event.kind", "ldap_search",
		"original.Filter", `(|(userAccountControl:1.2.840.113556.1.4.803:=4194304)(!(cn=krbtgt)))`, "original.Scope", "one")
	if st.Dissect.Malformed != 0 {
		t.Errorf("malformed %d", st.Dissect.Malformed)
	}

	evs, _ = readSample(t, "ldap-modify.pcap")
	expect(t, evs, 1, "event.kind", "directory_change", "directory.operation", "add",
		"directory.object.dn", "CN=pcap-contact,CN=Users,DC=lab,DC=test", "directory.object.class", "contact")
	expect(t, evs, 1, "event.kind", "directory_change", "directory.attribute", "servicePrincipalName",
		"directory.new_value", "HTTP/web01.lab.test", "original.ModifyOperation", "add", "event.outcome", "success")
	expect(t, evs, 1, "event.kind", "directory_change", "directory.attribute", "unicodePwd",
		"directory.new_value", "[REDACTED]", "original.Redacted", "true")

	evs, st = readSample(t, "ldap-sasl-ntlm.pcap")
	expect(t, evs, 1, "event.kind", "ldap_bind", "event.outcome", "success", "original.SaslMechanism", "GSS-SPNEGO",
		"user.name", "alice", "user.domain", "LAB", "auth.ntlm.version", "v2")
	expect(t, evs, 1, "event.kind", "ntlm_auth", "original.Carrier", "ldap", "event.outcome", "success", "user.name", "alice")
	if st.Dissect.Encrypted == 0 {
		t.Error("sealed LDAP after the SASL bind not counted as encrypted")
	}
}

func TestNTLMSamples(t *testing.T) {
	evs, _ := readSample(t, "smb-ntlm.pcap")
	expect(t, evs, 1, "event.kind", "ntlm_auth", "event.outcome", "success", "user.name", "alice", "user.domain", "LAB",
		"auth.ntlm.version", "v2", "original.MIC", "true", "original.Carrier", "smb2", "destination.port", "445")
	expect(t, evs, 1, "event.kind", "ntlm_auth", "event.outcome", "failure", "auth.failure_code", "0xc000006d", "user.name", "alice")
	if len(evs) > 0 && evs[0].Host.Name == "" {
		t.Error("server name not learned from the NTLM CHALLENGE")
	}

	evs, _ = readSample(t, "ntlmv1-vlan-ipv6.pcapng")
	expect(t, evs, 1, "event.kind", "ntlm_auth", "auth.ntlm.version", "v1", "user.name", "legacy", "user.domain", "CORP",
		"auth.ntlm.workstation", "OLDXP", "event.outcome", "failure", "auth.failure_code", "0xc000006d",
		"source.ip", "fd00::10", "original.MIC", "false")
	expect(t, evs, 1, "event.kind", "ntlm_auth", "original.Carrier", "http", "auth.ntlm.version", "v1", "event.outcome", "success")
}

// The password of a simple bind, and secret attribute values, never leave
// the sensor.
func TestSecretsNeverEmitted(t *testing.T) {
	for _, name := range []string{"ldap-recon.pcap", "ldap-modify.pcap"} {
		evs, _ := readSample(t, name)
		b, _ := json.Marshal(evs)
		for _, secret := range []string{"Alic3!Pass", "Passw0rd!Lab", "New!Pass", "IgBOAGUA", "N\\u0000e\\u0000w"} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s: output contains %q", name, secret)
			}
		}
	}
}
