package evtx

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/castellan-itdr/castellan/mappings/windows"
)

// sampleFile is one chunk: two template records (the template defined in
// the first, referenced by the second), a record without a template (1102
// with UserData) and two records whose EventData is a nested BinXml value.
func sampleFile() []byte {
	c := newChunk()
	c.record(10, testTime, func() { c.instance("logon", c.logonTemplate, logonValues(10, "alice")) })
	c.record(11, testTime, func() { c.instance("logon", c.logonTemplate, logonValues(11, "bob")) })
	c.record(12, testTime, c.clearedBody)
	c.record(13, testTime, func() { c.nestedInstance("PSEXESVC", "%SystemRoot%\\PSEXESVC.exe") })
	c.record(14, testTime, func() { c.nestedInstance("x") })
	return fileBytes(false, 15, c.finish())
}

func logonRecord(id uint64, user string) windows.Record {
	return windows.Record{
		EventID:  4625,
		Provider: "Microsoft-Windows-Security-Auditing",
		Channel:  "Security",
		Computer: "dc01.corp.example",
		RecordID: id,
		Time:     testTime,
		Data: map[string]string{
			"TargetUserName": user,
			"TargetUserSid":  "S-1-5-21-1004336348-1177238915-682003330-512",
			"LogonGuid":      "{A1B2C3D4-E5F6-0718-293A-4B5C6D7E8F90}",
			"Status":         "0xc000006a",
			"IpPort":         "51234",
		},
	}
}

var sampleWant = []windows.Record{
	logonRecord(10, "alice"),
	logonRecord(11, "bob"),
	{
		EventID: 1102, Provider: "Microsoft-Windows-Eventlog", Channel: "Security", Computer: "dc01.corp.example",
		RecordID: 12, Time: testTime,
		Data: map[string]string{
			"SubjectUserSid": "S-1-5-21-1-2-3-500", "SubjectUserName": "admin",
			"SubjectDomainName": "CORP", "SubjectLogonId": "0x1f2e3",
		},
	},
	{
		EventID: 7045, Provider: "Service Control Manager", Channel: "System", Computer: "srv01.corp.example",
		RecordID: 13, Time: testTime,
		Data: map[string]string{"Data1": "PSEXESVC", "Data2": "%SystemRoot%\\PSEXESVC.exe"},
	},
	{
		EventID: 7045, Provider: "Service Control Manager", Channel: "System", Computer: "srv01.corp.example",
		RecordID: 14, Time: testTime,
		Data: map[string]string{"Data1": "x"},
	},
}

func readAll(t testing.TB, data []byte, o Options) (*Reader, []windows.Record) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), int64(len(data)), o)
	if err != nil {
		t.Fatal(err)
	}
	return r, drain(t, r)
}

func drain(t testing.TB, r *Reader) []windows.Record {
	t.Helper()
	var out []windows.Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
	}
}

func TestReadSample(t *testing.T) {
	var damages []Damage
	r, got := readAll(t, sampleFile(), Options{OnDamage: func(d Damage) { damages = append(damages, d) }})
	if len(damages) > 0 {
		t.Fatalf("damages: %v", damages)
	}
	if len(got) != len(sampleWant) {
		t.Fatalf("got %d records, want %d: %+v", len(got), len(sampleWant), got)
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], sampleWant[i]) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got[i], sampleWant[i])
		}
	}
	st := r.Stats()
	if st != (Stats{Chunks: 1, Records: 5, Bytes: ChunkSize}) {
		t.Errorf("stats %+v", st)
	}
	h := r.Header()
	if h.MajorVersion != 3 || h.MinorVersion != 1 || h.ChunkCount != 1 || h.NextRecordID != 15 || h.Dirty {
		t.Errorf("header %+v", h)
	}
}

func TestNotEVTX(t *testing.T) {
	for _, data := range [][]byte{nil, []byte("hello"), bytes.Repeat([]byte{'x'}, 5000)} {
		if _, err := NewReader(bytes.NewReader(data), int64(len(data)), Options{}); !errors.Is(err, ErrNotEVTX) {
			t.Errorf("%q...: err %v, want ErrNotEVTX", data[:min(len(data), 8)], err)
		}
	}
}
