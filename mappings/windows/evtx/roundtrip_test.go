package evtx

import (
	"bytes"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/windows"
	"github.com/castellan-itdr/castellan/samples/evtxwrite"
)

func writtenRecords(n int) []windows.Record {
	base := time.Date(2025, 3, 4, 5, 6, 7, 891234500, time.UTC)
	var out []windows.Record
	for i := 0; i < n; i++ {
		out = append(out, windows.Record{
			EventID:  4769,
			Provider: windows.ProviderSecurity,
			Channel:  windows.ChannelSecurity,
			Computer: "dc01.corp.example",
			RecordID: uint64(100 + i),
			Time:     base.Add(time.Duration(i) * time.Second),
			Data: map[string]string{
				"TargetUserName":       "svc_sql" + strconv.Itoa(i) + "@CORP.EXAMPLE",
				"TargetDomainName":     "CORP.EXAMPLE",
				"ServiceName":          "MSSQLSvc",
				"ServiceSid":           "S-1-5-21-1004336348-1177238915-682003330-1105",
				"TicketOptions":        "0x40810000",
				"TicketEncryptionType": "0x17",
				"IpAddress":            "::ffff:10.0.0." + strconv.Itoa(i%250),
				"IpPort":               "5" + strconv.Itoa(1000+i),
				"Status":               "0x0",
				"LogonGuid":            "{F85C455E-C66E-205C-6B39-F6B6AC5F6B2F}",
				"TransmittedServices":  "-",
				"Ünïcødé":              "värde ✓",
			},
		})
	}
	out = append(out, windows.Record{
		EventID: 1102, Provider: windows.ProviderEventlog, Channel: windows.ChannelSecurity,
		Computer: "dc01.corp.example", RecordID: uint64(100 + n), Time: base,
		Data: map[string]string{"SubjectUserSid": "S-1-5-21-1-2-3-500", "SubjectUserName": "admin",
			"SubjectDomainName": "CORP", "SubjectLogonId": "0x1f2e3"},
	})
	return out
}

// writeFile writes recs with the project's EVTX writer.
func writeFile(t testing.TB, recs []windows.Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := evtxwrite.NewWriter(&buf)
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestRoundTripWriter: samples/evtxwrite → Reader gives the same fields.
func TestRoundTripWriter(t *testing.T) {
	want := writtenRecords(3000) // several chunks
	data := writeFile(t, want)
	var damages []Damage
	r, got := readAll(t, data, Options{OnDamage: func(d Damage) { damages = append(damages, d) }})
	if len(damages) > 0 {
		t.Fatalf("damages: %v", damages[:min(len(damages), 5)])
	}
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("record %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	if r.Stats().Chunks < 2 {
		t.Errorf("expected several chunks: %+v", r.Stats())
	}
}
