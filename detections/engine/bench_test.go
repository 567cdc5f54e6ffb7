package engine_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/detections/engine"
	"github.com/castellan-itdr/castellan/detections/rules"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// benchStream is a realistic mixed stream from a mid-size domain: mostly
// successful logons and AES service tickets, some TGTs and NTLM, a trickle
// of failures, RC4 tickets and replication between DCs.
func benchStream(n int) []schema.Event {
	rng := rand.New(rand.NewPCG(1, 2))
	users := make([]string, 2000)
	for i := range users {
		users[i] = fmt.Sprintf("user%04d", i)
	}
	services := make([]string, 200)
	for i := range services {
		services[i] = fmt.Sprintf("svc-%03d", i)
		if i%2 == 0 {
			services[i] = fmt.Sprintf("SRV%03d$", i)
		}
	}
	ips := make([]string, 500)
	for i := range ips {
		ips[i] = fmt.Sprintf("10.%d.%d.%d", i/250, (i/25)%10, i%250)
	}
	base := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	evs := make([]schema.Event, n)
	for i := range evs {
		u := users[rng.IntN(len(users))]
		ev := schema.Event{
			ID:        fmt.Sprintf("ev%08d", i),
			Timestamp: base.Add(time.Duration(i) * 2 * time.Millisecond),
			Host:      schema.Host{Name: "DC01.corp.local"},
			User:      schema.User{Name: u, Domain: "CORP"},
			Source:    schema.Endpoint{IP: ips[rng.IntN(len(ips))]},
		}
		switch p := rng.IntN(1000); {
		case p < 400:
			ev.Event = schema.EventMeta{Kind: schema.KindLogon, Code: "4624", Outcome: "success"}
			ev.Auth.LogonType = 3
		case p < 750:
			svc := services[rng.IntN(len(services))]
			ev.Event = schema.EventMeta{Kind: schema.KindKerberosServiceTicket, Code: "4769", Outcome: "success"}
			ev.Target = schema.Target{Service: svc, IsMachine: svc[len(svc)-1] == '$'}
			ev.Auth.Kerberos.Etype = "aes256-cts-hmac-sha1-96"
			if p < 460 {
				ev.Auth.Kerberos.Etype = "rc4-hmac"
			}
		case p < 880:
			ev.Event = schema.EventMeta{Kind: schema.KindKerberosTGT, Code: "4768", Outcome: "success"}
			ev.Auth.Kerberos.PreauthType = "2"
		case p < 960:
			ev.Event = schema.EventMeta{Kind: schema.KindNTLMAuth, Code: "4776", Outcome: "success"}
			ev.Source = schema.Endpoint{Hostname: "WS" + u[4:]}
		case p < 985:
			ev.Event = schema.EventMeta{Kind: schema.KindLogonFailure, Code: "4625", Outcome: "failure"}
			ev.Auth.FailureCode = "0xc000006a"
		case p < 995:
			ev.Event = schema.EventMeta{Kind: schema.KindKerberosPreauthFail, Code: "4771", Outcome: "failure"}
			ev.Auth.FailureCode = "0x18"
		default:
			ev.Event = schema.EventMeta{Kind: schema.KindReplicationRequest, Code: "4662", Outcome: "success"}
			ev.User = schema.User{Name: "DC02$", Domain: "CORP", IsMachine: true, IsDC: true}
		}
		evs[i] = ev
	}
	return evs
}

// BenchmarkEngineProcess measures the built-in rules alone and together with
// the benchmark's own rules of the sequence, new_value and
// missing_predecessor kinds (testdata/bench).
func BenchmarkEngineProcess(b *testing.B) {
	builtin, err := rules.Load()
	if err != nil {
		b.Fatal(err)
	}
	extra, err := engine.LoadDir(os.DirFS("testdata/bench"), ".")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("builtin", func(b *testing.B) { benchProcess(b, builtin) })
	b.Run("builtin+new-kinds", func(b *testing.B) { benchProcess(b, append(slices.Clone(builtin), extra...)) })
}

func benchProcess(b *testing.B, rs []*engine.Rule) {
	e, err := engine.New(rs, engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	evs := benchStream(1 << 16)
	alerts := 0
	emit := func(schema.Alert) { alerts++ }
	b.ReportAllocs()
	b.ResetTimer()
	span := evs[len(evs)-1].Timestamp.Sub(evs[0].Timestamp) + time.Second
	for i := 0; b.Loop(); i++ {
		j := i % len(evs)
		if j == 0 && i > 0 {
			// Keep event time moving forward across passes.
			for k := range evs {
				evs[k].Timestamp = evs[k].Timestamp.Add(span)
			}
		}
		e.Process(&evs[j], emit)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(alerts)/float64(b.N)*1e6, "alerts/Mevents")
}
