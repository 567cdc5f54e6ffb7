package evtx

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/windows"
	"github.com/castellan-itdr/castellan/samples/evtxwrite"
)

// windowsRecords returns n identity events of several families (templates
// differ per family, as in a real Security log), with record ids from first.
func windowsRecords(first uint64, n int) []windows.Record {
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	out := make([]windows.Record, n)
	for i := range out {
		id := first + uint64(i)
		r := windows.Record{
			Provider: windows.ProviderSecurity,
			Channel:  windows.ChannelSecurity,
			Computer: "DC01.corp.local",
			RecordID: id,
			Time:     t0.Add(time.Duration(i) * time.Second),
		}
		user := fmt.Sprintf("user%d", id)
		switch i % 4 {
		case 0:
			r.EventID = 4624
			r.Data = map[string]string{"TargetUserName": user, "TargetDomainName": "CORP", "LogonType": "3",
				"AuthenticationPackageName": "Kerberos", "IpAddress": "10.0.0.7", "IpPort": "50000",
				"TargetUserSid": "S-1-5-21-1111111111-2222222222-3333333333-1104", "TargetLogonId": "0x3e7a1"}
		case 1:
			r.EventID = 4625
			r.Data = map[string]string{"TargetUserName": user, "TargetDomainName": "CORP", "LogonType": "3",
				"Status": "0xc000006d", "SubStatus": "0xc000006a", "IpAddress": "10.0.0.9"}
		case 2:
			r.EventID = 4769
			r.Data = map[string]string{"TargetUserName": user + "@CORP.LOCAL", "ServiceName": "svc_sql",
				"TicketEncryptionType": "0x17", "Status": "0x0", "IpAddress": "::ffff:10.0.0.5"}
		default:
			r.EventID = 4768
			r.Data = map[string]string{"TargetUserName": user, "TargetDomainName": "CORP.LOCAL",
				"PreAuthType": "2", "TicketEncryptionType": "0x12", "Status": "0x0", "IpAddress": "10.0.0.8"}
		}
		out[i] = r
	}
	return out
}

func writeRecords(t *testing.T, w *evtxwrite.Writer, recs []windows.Record) {
	t.Helper()
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEvtxwriteFile reads a file written by samples/evtxwrite (real
// templates and typed values) and checks each event is the normalized
// record written.
func TestEvtxwriteFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "Security.evtx")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	recs := windowsRecords(1, 600)
	w := evtxwrite.NewWriter(f)
	writeRecords(t, w, recs)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Chunks() < 3 {
		t.Fatalf("%d chunks, want a multi-chunk file", w.Chunks())
	}
	f.Close()

	cfg := testConfig(p)
	cfg.Follow = false
	cfg.BatchSize = 64
	h := start(t, cfg, newFake())
	<-h.src.Done()
	evs := h.fake.Events()
	wantIDs(t, evs, 1, 600)
	for i, e := range evs {
		want := windows.Normalize(&recs[i], "evtx")
		if !reflect.DeepEqual(e, want) {
			t.Fatalf("event %d:\n got %+v\nwant %+v", i, e, want)
		}
	}
	if got := h.Counter("source_damaged_chunks") + h.Counter("source_damaged_records"); got != 0 {
		t.Errorf("damage on a sound file: %d\n%s", got, h.Logs.String())
	}
}

// TestEvtxwriteLive follows a file the writer keeps open and dirty: chunks
// arrive as the writer completes them, the rest when it closes.
func TestEvtxwriteLive(t *testing.T) {
	p := filepath.Join(t.TempDir(), "Security.evtx")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := evtxwrite.NewWriterOptions(f, evtxwrite.Options{Dirty: true})
	recs := windowsRecords(1, 1000)
	i := 0
	for w.Chunks() < 3 { // two complete chunks on disk
		writeRecords(t, w, recs[i:i+1])
		i++
	}
	onDisk := i - 1 // the last record started the third chunk, still buffered
	h := start(t, testConfig(p), newFake())
	waitEvents(t, h.fake, onDisk)
	for w.Chunks() < 5 {
		writeRecords(t, w, recs[i:i+1])
		i++
	}
	waitEvents(t, h.fake, i-1)
	writeRecords(t, w, recs[i:])
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, waitEvents(t, h.fake, 1000), 1, 1000)
	settle(t, h.fake, 1000)
	if got := h.Counter("source_damaged_chunks") + h.Counter("source_damaged_records"); got != 0 {
		t.Errorf("damage while following: %d\n%s", got, h.Logs.String())
	}
}
