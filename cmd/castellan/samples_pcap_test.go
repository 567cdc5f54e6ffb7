package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// samples generate --format pcap writes a capture the replay decodes.
func TestSamplesPcapReplays(t *testing.T) {
	dir := t.TempDir()
	out, _, err := execute(t, "samples", "generate", "--format", "pcap", "--size", "300KB", "--out", dir)
	if err != nil || !strings.Contains(out, "dc-traffic.pcap") {
		t.Fatalf("%v\n%s", err, out)
	}
	fi, err := os.Stat(filepath.Join(dir, "dc-traffic.pcap"))
	if err != nil || fi.Size() < 300e3 {
		t.Fatalf("capture: %v %v", fi, err)
	}
	evFile := filepath.Join(t.TempDir(), "events.jsonl")
	_, stderr, err := execute(t, "replay", "--events", "--out", evFile, dir)
	if err != nil {
		t.Fatalf("%v %s", err, stderr)
	}
	data, _ := os.ReadFile(evFile)
	for _, kind := range []string{`"kind":"kerberos_tgt"`, `"kind":"kerberos_service_ticket"`, `"kind":"ldap_search"`, `"kind":"ntlm_auth"`} {
		if !strings.Contains(string(data), kind) {
			t.Errorf("no %s event in the replay of the generated capture", kind)
		}
	}
	if strings.Contains(stderr, "damaged") && !strings.Contains(stderr, " 0 damaged") {
		t.Errorf("replay reported damage: %s", stderr)
	}
	if _, _, err := execute(t, "samples", "generate", "--format", "pcap", "--size", "lots", "--out", dir); err == nil {
		t.Error("bad --size accepted")
	}
}
