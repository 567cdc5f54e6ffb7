package samba

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/telemetry"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// labScript is the lab script, relative to this package.
var labScript = filepath.Join("..", "..", "..", "scripts", "samba-lab.sh")

// labEnv starts (or joins) a Samba AD DC and returns the exports of
// "samba-lab.sh env". Without root or samba-tool the test is skipped, unless
// CASTELLAN_REQUIRE_SAMBA=1. CASTELLAN_SAMBA_LAB_DIR names a lab that is
// already provisioned (CI starts one); otherwise a fresh lab is cycled into
// a temporary directory and stopped at the end.
func labEnv(t *testing.T) map[string]string {
	t.Helper()
	required := os.Getenv("CASTELLAN_REQUIRE_SAMBA") == "1"
	missing := ""
	if os.Geteuid() != 0 {
		missing = "needs root (Samba binds ports below 1024)"
	} else if _, err := exec.LookPath("samba-tool"); err != nil {
		missing = "samba-tool not installed (scripts/samba-lab.sh install)"
	}
	if missing != "" {
		if required {
			t.Fatalf("Samba lab required (CASTELLAN_REQUIRE_SAMBA=1) but %s", missing)
		}
		t.Skipf("Samba lab test skipped: %s; set CASTELLAN_REQUIRE_SAMBA=1 to make this a failure", missing)
	}
	dir := os.Getenv("CASTELLAN_SAMBA_LAB_DIR")
	begin := time.Now()
	if dir != "" {
		// Joins a running lab (start is a no-op then, and waits until ready).
		run(t, labScript, "start", dir)
		t.Logf("joined the lab in %s (ready after %v)", dir, time.Since(begin).Round(time.Millisecond))
	} else {
		var err error
		if dir, err = os.MkdirTemp("", "castellan-samba-"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stopBegin := time.Now()
			out, err := exec.Command(labScript, "clean", dir).CombinedOutput()
			if err != nil {
				t.Errorf("stop lab: %v\n%s", err, out)
			}
			os.RemoveAll(dir)
			t.Logf("lab stopped in %v", time.Since(stopBegin).Round(time.Millisecond))
		})
		out := run(t, labScript, "cycle", dir)
		t.Logf("lab cycle (install, provision, start) took %v:\n%s", time.Since(begin).Round(time.Millisecond), out)
	}
	out := run(t, "bash", "-c", `eval "$("$0" env "$1")" && env`, labScript, dir)
	env := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && (strings.HasPrefix(k, "LAB_") || k == "KRB5_CONFIG") {
			env[k] = v
		}
	}
	for _, k := range []string{"LAB_AUDIT_LOG", "KRB5_CONFIG", "LAB_SMB_CONF", "LAB_ADMIN_PASS", "LAB_REALM", "LAB_DOMAIN", "LAB_DC_IP"} {
		if env[k] == "" {
			t.Fatalf("samba-lab.sh env did not export %s:\n%s", k, out)
		}
	}
	return env
}

// run runs a command that must succeed and returns its combined output.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// labClient runs the Samba and Kerberos client tools against the lab.
type labClient struct {
	t   *testing.T
	env map[string]string
	dir string // private ccache directory
}

// cmd runs a client tool with stdin; ok=false when it failed.
func (c *labClient) cmd(stdin string, name string, args ...string) (string, bool) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "KRB5_CONFIG="+c.env["KRB5_CONFIG"], "KRB5CCNAME=FILE:"+filepath.Join(c.dir, "ccache"))
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

// admin runs samba-tool over LDAP as Administrator: only changes made
// through the running DC reach its audit log.
func (c *labClient) admin(args ...string) {
	c.t.Helper()
	args = append(args, "-s", c.env["LAB_SMB_CONF"], "-H", "ldap://"+c.env["LAB_DC_IP"], "-U", "Administrator%"+c.env["LAB_ADMIN_PASS"])
	if out, ok := c.cmd("", "samba-tool", args...); !ok {
		c.t.Fatalf("samba-tool %s: %s", strings.Join(args[:3], " "), out)
	}
}

func (c *labClient) kinit(user, pass string) bool {
	_, ok := c.cmd(pass+"\n", "kinit", user+"@"+c.env["LAB_REALM"])
	return ok
}

func (c *labClient) smb(user, pass string) bool {
	_, ok := c.cmd("", "smbclient", "//"+c.env["LAB_DC_IP"]+"/netlogon", "-s", "/dev/null",
		"-U", c.env["LAB_DOMAIN"]+`\`+user+"%"+pass, "--option=client use kerberos = off", "-c", "ls")
	return ok
}

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
	waitFor(t, "the source at the end of the audit log", func() bool { return rec.position(t, auditLog).Ino != 0 })

	actions := time.Now()
	c := &labClient{t: t, env: env, dir: t.TempDir()}
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	user, victim := "cas"+hex.EncodeToString(suffix), "casv"+hex.EncodeToString(suffix)
	const pass, newPass = "Castellan!Pass1", "Castellan!Reset2"
	c.admin("user", "create", user, pass)
	c.admin("user", "create", victim, pass)
	t.Cleanup(func() {
		c.admin("user", "delete", user)
		c.admin("user", "delete", victim)
	})
	if !c.kinit(user, pass) {
		t.Fatal("kinit with the right password failed")
	}
	for range 2 {
		if c.kinit(user, "WrongPass!9") {
			t.Fatal("kinit with a wrong password succeeded")
		}
	}
	if !c.smb(user, pass) {
		t.Fatal("smbclient with the right password failed")
	}
	if c.smb(user, "WrongPass!9") {
		t.Fatal("smbclient with a wrong password succeeded")
	}
	c.admin("group", "addmembers", "Domain Admins", user)
	c.admin("user", "setpassword", victim, "--newpassword="+newPass)
	t.Logf("lab actions took %v", time.Since(actions).Round(time.Millisecond))

	// Events appear in the log within ~100 ms; the source polls every 50 ms.
	find := func(what string, match func(e *schema.Event) bool) *schema.Event {
		t.Helper()
		var found *schema.Event
		deadline := time.Now().Add(15 * time.Second)
		for found == nil && time.Now().Before(deadline) {
			evs := rec.events()
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
			t.Errorf("no %s among %d events", what, len(rec.events()))
		}
		return found
	}
	count := func(match func(e *schema.Event) bool) int {
		n := 0
		for _, e := range rec.events() {
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
	checkUniqueIDs(t, rec.events())
	t.Logf("lab ready in %v; %d events, %d skipped lines, %d decode errors; whole test %v",
		labReady.Round(time.Millisecond), len(rec.events()),
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
