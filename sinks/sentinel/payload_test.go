package sentinel

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/sinks/delivery"
	"github.com/castellan-itdr/castellan/sinks/sinktest"
)

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func alertRows(t testing.TB, n int) ([][]byte, []int) {
	items := sinktest.Items(sinktest.Alerts(n)...)
	rows := make([][]byte, n)
	idx := make([]int, n)
	for i := range items {
		r, err := encodeRow(&items[i])
		if err != nil {
			t.Fatal(err)
		}
		rows[i], idx[i] = r, i
	}
	return rows, idx
}

// The packer never exceeds either limit, fills every call but the last to
// within one row of the limit, keeps order, and each body is the JSON array
// of its rows.
func TestPackFillsCallsGreedily(t *testing.T) {
	rows, idx := alertRows(t, 60000)
	for _, p := range []packer{
		{limit: 1_000_000, rawLimit: 32 << 20},
		{limit: 100_000, rawLimit: 32 << 20},
		{limit: 1_000_000, rawLimit: 2 << 20}, // the uncompressed cap binds
	} {
		t.Run(fmt.Sprintf("%d/%d", p.limit, p.rawLimit), func(t *testing.T) {
			calls, tooBig := p.pack(rows, idx)
			if len(tooBig) > 0 || len(calls) < 2 {
				t.Fatalf("%d calls, %d too big", len(calls), len(tooBig))
			}
			next := 0
			for ci, c := range calls {
				raw := gunzip(t, c.body)
				if len(c.body) > p.limit || len(raw) > p.rawLimit || len(raw) != c.raw {
					t.Fatalf("call %d: %d bytes (%d raw, counted %d) over %d/%d", ci, len(c.body), len(raw), c.raw, p.limit, p.rawLimit)
				}
				var arr []json.RawMessage
				if err := json.Unmarshal(raw, &arr); err != nil || len(arr) != len(c.idx) {
					t.Fatalf("call %d: %d rows decoded (%v), %d packed", ci, len(arr), err, len(c.idx))
				}
				for k, i := range c.idx {
					if i != next || !bytes.Equal(arr[k], rows[i]) {
						t.Fatalf("call %d row %d: index %d, want %d in order", ci, k, i, next)
					}
					next++
				}
				if ci < len(calls)-1 {
					// Full: the next row would not have fitted by much.
					slack := 2 * len(rows[c.idx[0]])
					if len(c.body) < p.limit-slack && len(raw) < p.rawLimit-slack {
						t.Errorf("call %d: %d bytes (%d raw) leaves more than a row's room below %d/%d", ci, len(c.body), len(raw), p.limit, p.rawLimit)
					}
				}
			}
			if next != len(rows) {
				t.Fatalf("%d rows packed of %d", next, len(rows))
			}
		})
	}
}

// A row that is larger than the limit uncompressed but compresses under it
// goes alone; one that does not is reported too big; neighbours still go.
func TestPackOversizeRows(t *testing.T) {
	rnd := make([]byte, 600_000)
	_, _ = rand.Read(rnd)
	b64 := base64.StdEncoding.EncodeToString(rnd) // 800,000 chars, ~600 KB gzipped
	compressible := bytes.Repeat([]byte("a"), 3_000_000)
	huge := make([]byte, 1_200_000)
	_, _ = rand.Read(huge)
	hugeB64 := base64.StdEncoding.EncodeToString(huge) // ~1.2 MB gzipped
	rows := [][]byte{
		[]byte(`{"EventId":"a"}`),
		[]byte(`{"EventId":"b","X":"` + b64 + `"}`),
		[]byte(`{"EventId":"c","X":"` + string(compressible) + `"}`),
		[]byte(`{"EventId":"d","X":"` + hugeB64 + `"}`),
		[]byte(`{"EventId":"e"}`),
	}
	p := packer{limit: 1_000_000, rawLimit: 32 << 20}
	calls, tooBig := p.pack(rows, []int{0, 1, 2, 3, 4})
	if len(tooBig) != 1 || tooBig[0] != 3 {
		t.Fatalf("too big %v, want [3]", tooBig)
	}
	var got []int
	for _, c := range calls {
		if len(c.body) > p.limit {
			t.Errorf("call of %d bytes", len(c.body))
		}
		got = append(got, c.idx...)
	}
	if fmt.Sprint(got) != "[0 1 2 4]" {
		t.Errorf("packed %v", got)
	}
}

func TestEncodeRowRejectsBadBodies(t *testing.T) {
	for _, it := range []delivery.Item{
		{Kind: "alert", ID: "x", Body: []byte(`{"severity":"apocalyptic"}`)},
		{Kind: "finding", ID: "y", Body: []byte(`{"severity":"dire"}`)},
		{Kind: "action", ID: "z", Body: []byte(`{"@timestamp":"yesterday"}`)},
		{Kind: "posture_snapshot", ID: "w", Body: []byte(`{}`)},
	} {
		if _, err := encodeRow(&it); err == nil {
			t.Errorf("%s: encoded", it.Kind)
		}
	}
}

// A row encoded at enqueue is the row a schema-JSON item gives at push,
// byte for byte; kinds without a table stay schema JSON; a foreign format
// is refused.
func TestEncodeMatchesRowOfQueuedRecord(t *testing.T) {
	ev := schema.Event{ID: "ev1", Timestamp: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Event: schema.EventMeta{Kind: schema.KindLogonFailure, Outcome: schema.OutcomeFailure, Code: "4625"},
		User:  schema.User{Name: "alice", Domain: "CONTOSO", Tags: []string{"sensitive"}}, Original: map[string]string{"Status": "0xc000006d", "Note": "a<b>&c"}}
	fi := schema.Finding{ID: "fi1", Timestamp: ev.Timestamp, AssessmentID: "asrep-roastable", Title: "AS-REP", Severity: schema.SeverityHigh,
		Status: "failed", Evidence: "userAccountControl 0x400000 (DONT_REQ_PREAUTH) on CN=a<b>", Entities: []string{"CN=a<b>"}}
	ac := schema.Action{ID: "ac1", Timestamp: ev.Timestamp, Type: "disable_user", Mode: "enforce", Trigger: "operator:<ops>",
		IncidentID: "in1", Target: schema.User{Name: "alice", Domain: "CONTOSO", ID: "S-1-5-21-1-2-3-1104", UPN: "alice@contoso.com"},
		Result: "succeeded", Before: `{"disabled":false}`, After: `{"disabled":true}`}
	recs := []schema.Record{ev, sinktest.Alerts(3)[2], sinktest.Incidents(1)[0], fi, ac, &ac}
	for _, r := range recs {
		legacy, err := delivery.NewItem(r)
		if err != nil {
			t.Fatal(err)
		}
		want, err := encodeRow(&legacy)
		if err != nil {
			t.Fatal(err)
		}
		it, err := Encode(r)
		if err != nil {
			t.Fatal(err)
		}
		if it.Format != Format || it.ID != r.RecordID() || it.Kind != r.RecordKind() || it.Severity != r.RecordSeverity() {
			t.Fatalf("item %+v", it)
		}
		got, err := encodeRow(&it)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: encoded at enqueue\n%s\nqueued as schema JSON\n%s (%v)", r.RecordKind(), got, want, err)
		}
	}
	f, err := Encode(otherRecord{ID: "o1"})
	if err != nil || f.Format != delivery.FormatRecord || f.Kind != "posture_snapshot" {
		t.Errorf("kind without a table: %+v, %v", f, err)
	}
	if _, err := encodeRow(&delivery.Item{Kind: "alert", ID: "x", Format: "hec/1", Body: []byte(`{}`)}); err == nil {
		t.Error("a foreign format must fail")
	}
}

// otherRecord is a record of a kind Sentinel has no table for (every kind
// Castellan has today has one).
type otherRecord struct {
	ID string `json:"id"`
}

func (o otherRecord) RecordKind() string              { return "posture_snapshot" }
func (o otherRecord) RecordID() string                { return o.ID }
func (o otherRecord) RecordSeverity() schema.Severity { return schema.SeverityInformational }
