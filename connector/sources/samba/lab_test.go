package samba

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/telemetry"
	"github.com/castellan-itdr/castellan/internal/sambalab"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// labEnv starts or joins the shared lab (internal/sambalab).
func labEnv(t *testing.T) map[string]string { return sambalab.Env(t) }

// TestLabDC runs the real source against a real Samba AD DC's audit log
// while logons, a group change and a password reset happen.
func TestLabDC(t *testing.T) {
	begin := time.Now()
	env := labEnv(t)
	labReady := time.Since(begin)
	auditLog := env["LAB_AUDIT_LOG"]

	rec := newRecorder()
	counters := telemetry.New()
	cfg := NewDefaultConfig()
	cfg.Paths = []string{auditLog}
	cfg.Host = "dc1.lab.test"
	cfg.StartAt = StartEnd // a shared lab's earlier records are not this test's
	cfg.PollInterval = 50 * time.Millisecond
	src, err := New(cfg, component.SourceSettings{ID: "samba/lab", Next: rec, Checkpoints: rec, Counters: counters})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := src.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	}()
	waitFor(t, "the source at the end of the audit log", func() bool { return position(t, rec, auditLog).Ino != 0 })

	actions := time.Now()
	c := sambalab.NewClient(t, env)
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	user, victim := "cas"+hex.EncodeToString(suffix), "casv"+hex.EncodeToString(suffix)
	const pass, newPass = "Castellan!Pass1", "Castellan!Reset2"
	c.Admin("user", "create", user, pass)
	c.Admin("user", "create", victim, pass)
	t.Cleanup(func() {
		c.Admin("user", "delete", user)
		c.Admin("user", "delete", victim)
	})
	if !c.Kinit(user, pass) {
		t.Fatal("kinit with the right password failed")
	}
	for range 2 {
		if c.Kinit(user, "WrongPass!9") {
			t.Fatal("kinit with a wrong password succeeded")
		}
	}
	if !c.SMB(user, pass) {
		t.Fatal("smbclient with the right password failed")
	}
	if c.SMB(user, "WrongPass!9") {
		t.Fatal("smbclient with a wrong password succeeded")
	}
	c.Admin("group", "addmembers", "Domain Admins", user)
	c.Admin("user", "setpassword", victim, "--newpassword="+newPass)
	t.Logf("lab actions took %v", time.Since(actions).Round(time.Millisecond))

	// Events appear in the log within ~100 ms; the source polls every 50 ms.
	find := func(what string, match func(e *schema.Event) bool) *schema.Event {
		t.Helper()
		var found *schema.Event
		deadline := time.Now().Add(15 * time.Second)
		for found == nil && time.Now().Before(deadline) {
			evs := rec.Events()
			for i := range evs {
				if match(&evs[i]) {
					found = &evs[i]
					break
				}
			}
			if found == nil {
				time.Sleep(50 * time.Millisecond)
			}
		}
		if found == nil {
			t.Errorf("no %s among %d events", what, len(rec.Events()))
		}
		return found
	}
	count := func(match func(e *schema.Event) bool) int {
		n := 0
		for _, e := range rec.Events() {
			if match(&e) {
				n++
			}
		}
		return n
	}
	isUser := func(e *schema.Event) bool { return e.User.Name == user }

	kerberosOK := func(e *schema.Event) bool {
		return isUser(e) && e.Event.Code == "4624" && e.Auth.Protocol == "kerberos"
	}
	if e := find("Kerberos 4624 for "+user, kerberosOK); e != nil {
		check(t, e, map[string]string{"event.kind": "kerberos_tgt", "event.outcome": "success", "auth.kerberos.preauth_type": "2",
			"source.ip": "127.0.0.1", "event.dataset": "samba", "host.name": "dc1.lab.test", "user.domain": env["LAB_DOMAIN"]})
		if !strings.HasPrefix(e.User.ID, "S-1-5-21-") {
			t.Errorf("user.id = %q, want the account's SID", e.User.ID)
		}
	}
	ntlmOK := func(e *schema.Event) bool { return isUser(e) && e.Event.Code == "4624" && e.Auth.Protocol == "ntlm" }
	if e := find("NTLM 4624 for "+user, ntlmOK); e != nil {
		check(t, e, map[string]string{"event.kind": "logon", "auth.process": "SMB2", "auth.ntlm.version": "v2", "destination.port": "445"})
	}
	kerberosBad := func(e *schema.Event) bool {
		return isUser(e) && e.Event.Code == "4625" && e.Auth.Protocol == "kerberos"
	}
	if e := find("Kerberos 4625 for "+user, kerberosBad); e != nil {
		check(t, e, map[string]string{"event.kind": "kerberos_preauth_failure", "event.outcome": "failure",
			"auth.failure_code": "0x18", "event.reason": "bad password"})
	}
	ntlmBad := func(e *schema.Event) bool { return isUser(e) && e.Event.Code == "4625" && e.Auth.Protocol == "ntlm" }
	if e := find("NTLM 4625 for "+user, ntlmBad); e != nil {
		check(t, e, map[string]string{"event.kind": "logon_failure", "auth.failure_code": "0xc000006a", "event.reason": "bad password"})
	}
	groupAdd := func(e *schema.Event) bool {
		return e.Event.Kind == schema.KindGroupMembershipChange && e.Target.User.Name == user && e.Target.Group.Name == "Domain Admins"
	}
	if e := find("group_membership_change Domain Admins + "+user, groupAdd); e != nil {
		check(t, e, map[string]string{"event.code": "4728", "event.action": "member-added-to-global-group", "event.outcome": "success",
			"directory.operation": "add"})
		if !strings.HasSuffix(e.User.ID, "-500") {
			t.Errorf("actor = %q, want Administrator's SID", e.User.ID)
		}
	}
	reset := func(e *schema.Event) bool {
		return e.Event.Kind == schema.KindAccountChange && e.Target.User.Name == victim
	}
	if e := find("account_change for "+victim, reset); e != nil {
		check(t, e, map[string]string{"event.code": "4724", "event.action": "password-reset-attempted", "event.outcome": "success"})
	}
	// Exactly the attempts made (MIT kinit over TCP only: one record each).
	for _, n := range []struct {
		what string
		got  int
		want int
	}{
		{"Kerberos successes", count(kerberosOK), 1},
		{"Kerberos bad passwords", count(kerberosBad), 2},
		{"NTLM successes", count(ntlmOK), 1},
		{"NTLM bad passwords", count(ntlmBad), 1},
	} {
		if n.got != n.want {
			t.Errorf("%s: %d events, want %d", n.what, n.got, n.want)
		}
	}
	checkUniqueIDs(t, rec.Events())
	t.Logf("lab ready in %v; %d events, %d skipped lines, %d decode errors; whole test %v",
		labReady.Round(time.Millisecond), len(rec.Events()),
		counters.Value(telemetry.Key("source_skipped_records", "source", "samba/lab")),
		counters.Value(telemetry.Key("source_decode_errors", "source", "samba/lab")),
		time.Since(begin).Round(time.Millisecond))
}

func check(t *testing.T, ev *schema.Event, want map[string]string) {
	t.Helper()
	for path, w := range want {
		g, ok := schema.Field(path)
		if !ok {
			t.Fatalf("unknown field %s", path)
		}
		if got := g(ev); got != w {
			t.Errorf("%s %s (%s): %s = %q, want %q", ev.Event.Channel, ev.Event.Code, ev.User.Identity(), path, got, w)
		}
	}
}

func checkUniqueIDs(t *testing.T, evs []schema.Event) {
	t.Helper()
	seen := map[string]string{}
	for _, e := range evs {
		if prev, dup := seen[e.ID]; dup {
			t.Errorf("id %s shared by %s and %s %s", e.ID, prev, e.Event.Channel, e.Event.Code)
		}
		seen[e.ID] = fmt.Sprintf("%s %s", e.Event.Channel, e.Event.Code)
	}
}
