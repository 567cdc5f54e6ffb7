package sentinel

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/sinks/delivery"
	"github.com/castellan-itdr/castellan/sinks/sinktest"
	"github.com/castellan-itdr/castellan/sinks/sinktest/dcefake"
)

// benchBatch is the records per Push at saturation: a sender configured
// for this sink (MaxItems 100,000, MaxBytes 128 MiB) hands it batches of
// this size when its queue is full. Every call but a batch's last is full,
// so the mean per call grows with the batch: about 8 MB of alert rows fill
// one 1 MB call, and a batch of ten calls or more averages over 90 %.
const benchBatch = 100_000

func benchPush[R schema.Record](b *testing.B, recs []R) {
	d := dcefake.New(dcefake.Options{DiscardRows: true})
	defer d.Close()
	s := newSink(b, d, nil, nil, nil)
	ctx := context.Background()
	items := make([]delivery.Item, len(recs))
	encode := func() {
		for i, r := range recs {
			it, err := Encode(r)
			if err != nil {
				b.Fatal(err)
			}
			items[i] = it
		}
	}
	encode()
	if err := s.Push(ctx, items); err != nil { // warm up: TLS, token, pools
		b.Fatal(err)
	}
	d.ResetCalls()
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		encode()
		if err := s.Push(ctx, items); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.StopTimer()
	calls := d.Calls()
	b.ReportMetric(float64(n*len(items))/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(d.MeanBodyBytes(), "bytes/call")
	b.ReportMetric(100*d.MeanBodyBytes()/float64(DefaultMaxCallBytes), "%limit")
	b.ReportMetric(float64(len(calls))/float64(n), "calls/push")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkPush measures alerts per second into the DCE double over TLS,
// as the pipeline drives the sink: Encode each typed alert (map to its
// row, encode JSON, at enqueue), then Push (gzip, upload, and the double's
// gunzip and column checks, on the same cores); and the mean wire bytes
// per upload at saturation.
func BenchmarkPush(b *testing.B) {
	benchPush(b, sinktest.Alerts(benchBatch))
}

// BenchmarkPushEvents is the same for raw identity events.
func BenchmarkPushEvents(b *testing.B) {
	evs := make([]schema.Event, benchBatch)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range evs {
		evs[i] = schema.Event{
			ID: schema.StableID("bench", strconv.Itoa(i)), Timestamp: t0.Add(time.Duration(i) * time.Millisecond),
			Event: schema.EventMeta{Kind: schema.KindKerberosServiceTicket, Code: "4769", Action: "service-ticket-requested",
				Outcome: schema.OutcomeSuccess, Provider: "Microsoft-Windows-Security-Auditing", Channel: "Security", Dataset: "winjson"},
			Host:   schema.Host{Name: "dc01.contoso.local"},
			User:   schema.User{Name: "user" + string(rune('a'+i%26)), Domain: "CONTOSO"},
			Source: schema.Endpoint{IP: "10.0.1.20", Port: 49152 + i%1000},
			Target: schema.Target{Service: "MSSQLSvc/sql01"},
			Auth:   schema.Auth{Protocol: "kerberos", Kerberos: schema.Kerberos{Etype: "aes256-cts-hmac-sha1-96", TicketOptions: "0x40810000", Status: "0x0"}},
		}
	}
	benchPush(b, evs)
}

// BenchmarkEncode measures Encode alone per alert (map to the row, JSON).
func BenchmarkEncode(b *testing.B) {
	recs := sinktest.Alerts(500)
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range recs {
			if _, err := Encode(r); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "records/s")
}
