package respond

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/internal/sambalab"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// lab is the Samba DC with an AD directory pointed at it over LDAPS.
type lab struct {
	t   *testing.T
	env map[string]string
	c   *sambalab.Client
	ad  *AD
}

func newLab(t *testing.T, protectedGroups ...string) *lab {
	t.Helper()
	env := sambalab.Env(t)
	ad, err := NewAD(config.ResponseAD{URL: env["LAB_LDAPS_URL"], Bind: env["LAB_ADMIN"], Password: config.Secret(env["LAB_ADMIN_PASS"]),
		CAFile: env["LAB_CA_PEM"], BaseDN: env["LAB_BASE_DN"]}, protectedGroups)
	if err != nil {
		t.Fatal(err)
	}
	return &lab{t: t, env: env, c: sambalab.NewClient(t, env), ad: ad}
}

// user creates a user and deletes it when the test ends.
func (l *lab) user(prefix string) (name, pass string) {
	l.t.Helper()
	name, pass = sambalab.Unique(prefix), "Xy7!"+sambalab.Unique("pw")
	l.c.Admin("user", "create", name, pass)
	l.t.Cleanup(func() { l.c.TryAdmin("user", "delete", name) })
	return name, pass
}

// group creates a group and deletes it when the test ends.
func (l *lab) group(prefix string) string {
	l.t.Helper()
	name := sambalab.Unique(prefix)
	l.c.Admin("group", "add", name)
	l.t.Cleanup(func() { l.c.TryAdmin("group", "delete", name) })
	return name
}

// attr reads one attribute of an account.
func (l *lab) attr(identity, name string) []string {
	l.t.Helper()
	c, err := l.ad.dial(context.Background())
	if err != nil {
		l.t.Fatal(err)
	}
	defer c.Close()
	e, err := l.ad.find(c, identity)
	if err != nil {
		l.t.Fatal(err)
	}
	got, err := read(c, e.DN, name)
	if err != nil {
		l.t.Fatal(err)
	}
	v := got.GetAttributeValues(name)
	slices.Sort(v)
	return v
}

func (l *lab) dn(name string) string { return "CN=" + name + ",CN=Users," + l.env["LAB_BASE_DN"] }

func (l *lab) responder(opts Options) *Responder {
	opts.Directories = []Directory{l.ad}
	return New(opts)
}

func run(t *testing.T, r *Responder, action, identity, mode string) schema.Action {
	t.Helper()
	rec := r.Run(context.Background(), Request{Action: action, Identity: identity, Mode: mode, Trigger: OperatorTrigger("test")})
	t.Logf("%s %s %s → %s: %s | before %s | after %s", mode, action, identity, rec.Result, rec.Reason, rec.Before, rec.After)
	return rec
}

func want(t *testing.T, rec schema.Action, result, reasonPart string) {
	t.Helper()
	if rec.Result != result || !strings.Contains(rec.Reason, reasonPart) {
		t.Fatalf("%s on %s: result %q reason %q; want %q containing %q", rec.Type, rec.Target.Name, rec.Result, rec.Reason, result, reasonPart)
	}
}

// Disable blocks logon, is idempotent, and undo (and enable_user) restore
// logon; a dry run before changes nothing.
func TestADDisableEnable(t *testing.T) {
	l := newLab(t)
	name, pass := l.user("rdis")
	if !l.c.Kinit(name, pass) {
		t.Fatal("kinit fails before any action")
	}
	r := l.responder(Options{})
	uac := l.attr(name, "userAccountControl")

	rec := run(t, r, DisableUser, name, DryRun)
	want(t, rec, Simulated, "dry run: would change: account disabled (userAccountControl 512 → 514)")
	if rec.Target.Name != name || rec.Target.Domain != "LAB" || !strings.HasPrefix(rec.Target.ID, "S-1-5-21-") {
		t.Errorf("target %+v", rec.Target)
	}
	if !l.c.Kinit(name, pass) || !slices.Equal(l.attr(name, "userAccountControl"), uac) {
		t.Fatal("the dry run changed the account")
	}

	rec = run(t, r, DisableUser, name, Enforce)
	want(t, rec, Succeeded, "account disabled (userAccountControl 512 → 514)")
	if rec.Before != `{"enabled":true,"userAccountControl":512}` || rec.After != `{"enabled":false,"userAccountControl":514}` {
		t.Errorf("before %s after %s", rec.Before, rec.After)
	}
	if l.c.Kinit(name, pass) {
		t.Fatal("kinit still succeeds after disable_user")
	}
	again := run(t, r, DisableUser, l.dn(name), Enforce) // by DN this time
	want(t, again, Succeeded, "no change: account already disabled")

	undo, err := r.Undo(context.Background(), rec.ID, OperatorTrigger("test"), Enforce)
	if err != nil {
		t.Fatal(err)
	}
	want(t, undo, Succeeded, "undo of "+rec.ID+": account enabled")
	if undo.Type != EnableUser || !l.c.Kinit(name, pass) {
		t.Fatalf("after undo (%s) kinit fails", undo.Type)
	}
	// The explicit inverse, by SID.
	want(t, run(t, r, DisableUser, name, Enforce), Succeeded, "account disabled")
	want(t, run(t, r, EnableUser, rec.Target.ID, Enforce), Succeeded, "account enabled")
	if !l.c.Kinit(name, pass) {
		t.Fatal("kinit fails after enable_user")
	}
	if _, err := r.Undo(context.Background(), again.ID, "t", Enforce); err == nil {
		t.Error("undo of a no-op found something to undo")
	}
}

// remove_from_privileged_groups removes direct and nested-path
// memberships that grant privilege, keeps ordinary ones, and undo adds
// them back.
func TestADRemoveFromPrivilegedGroups(t *testing.T) {
	l := newLab(t)
	name, _ := l.user("rpriv")
	nested, plain := l.group("rnest"), l.group("rplain")
	l.c.Admin("group", "addmembers", nested, name)
	l.c.Admin("group", "addmembers", plain, name)
	l.c.Admin("group", "addmembers", "Print Operators", nested) // nested → privileged
	t.Cleanup(func() { l.c.TryAdmin("group", "removemembers", "Print Operators", nested) })
	l.c.Admin("group", "addmembers", "Domain Admins", name) // direct
	t.Cleanup(func() { l.c.TryAdmin("group", "removemembers", "Domain Admins", name) })
	da := "CN=Domain Admins,CN=Users," + l.env["LAB_BASE_DN"]
	nestedDN, plainDN := l.dn(nested), l.dn(plain)

	r := l.responder(Options{})
	rec := run(t, r, RemoveFromPrivilegedGroups, name, DryRun)
	want(t, rec, Simulated, "would change: remove from 2 group(s)")
	if got := l.attr(name, "memberOf"); len(got) != 3 {
		t.Fatalf("dry run changed memberOf: %v", got)
	}

	rec = run(t, r, RemoveFromPrivilegedGroups, name, Enforce)
	want(t, rec, Succeeded, "removed from 2 group(s)")
	var before groupState
	if err := json.Unmarshal([]byte(rec.Before), &before); err != nil {
		t.Fatal(err)
	}
	if wantGroups := []string{da, nestedDN}; !sameFold(before.PrivilegedGroups, wantGroups) {
		t.Errorf("before %v, want %v", before.PrivilegedGroups, wantGroups)
	}
	if rec.After != `{"privileged_groups":[],"primary_group_id":513}` {
		t.Errorf("after %s", rec.After)
	}
	if got := l.attr(name, "memberOf"); !sameFold(got, []string{plainDN}) {
		t.Fatalf("memberOf after removal %v, want only %s", got, plainDN)
	}
	want(t, run(t, r, RemoveFromPrivilegedGroups, name, Enforce), Succeeded, "no change: no privileged group memberships")

	undo, err := r.Undo(context.Background(), rec.ID, OperatorTrigger("test"), Enforce)
	if err != nil {
		t.Fatal(err)
	}
	want(t, undo, Succeeded, "added to 2 group(s)")
	if got := l.attr(name, "memberOf"); !sameFold(got, []string{da, nestedDN, plainDN}) {
		t.Fatalf("memberOf after undo %v", got)
	}
}

func sameFold(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	a, b = slices.Clone(a), slices.Clone(b)
	for i := range a {
		a[i], b[i] = strings.ToLower(a[i]), strings.ToLower(b[i])
	}
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// reset_password makes the old password fail and never records the new
// one (which does work: the test observes it).
func TestADResetPassword(t *testing.T) {
	l := newLab(t)
	name, pass := l.user("rrst")
	var generated string
	orig := newPassword
	newPassword = func(n int) (string, error) {
		p, err := orig(n)
		generated = p
		return p, err
	}
	t.Cleanup(func() { newPassword = orig })
	journal := filepath.Join(t.TempDir(), "journal.db")
	j, err := OpenJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	r := l.responder(Options{Journal: j})

	want(t, run(t, r, ResetPassword, name, DryRun), Simulated, "would change: password reset")
	if generated != "" || !l.c.Kinit(name, pass) {
		t.Fatal("the dry run generated or set a password")
	}
	rec := run(t, r, ResetPassword, name, Enforce)
	want(t, rec, Succeeded, "password reset to a random value that is not recorded; not reversible")
	if l.c.Kinit(name, pass) {
		t.Fatal("the old password still works after reset_password")
	}
	if len(generated) != 24 || !l.c.Kinit(name, generated) {
		t.Fatalf("the generated password (%d chars) does not work", len(generated))
	}
	raw, _ := json.Marshal(rec)
	file, _ := os.ReadFile(journal)
	if strings.Contains(string(raw), generated) || strings.Contains(string(file), generated) {
		t.Fatal("the new password appears in the record or the journal")
	}
	if _, err := r.Undo(context.Background(), rec.ID, "t", Enforce); err == nil || !strings.Contains(err.Error(), "old password is not kept") {
		t.Errorf("undo of a reset: %v", err)
	}
}

// force_password_change sets pwdLastSet 0, is idempotent, and undo
// cancels it.
func TestADForcePasswordChange(t *testing.T) {
	l := newLab(t)
	name, _ := l.user("rfpc")
	r := l.responder(Options{})
	before := l.attr(name, "pwdLastSet")
	want(t, run(t, r, ForcePasswordChange, name, DryRun), Simulated, "would change: password change required")
	if !slices.Equal(l.attr(name, "pwdLastSet"), before) {
		t.Fatal("the dry run changed pwdLastSet")
	}
	rec := run(t, r, ForcePasswordChange, name+"@lab.test", Enforce) // by UPN
	want(t, rec, Succeeded, "password change required at next logon (pwdLastSet 0)")
	if got := l.attr(name, "pwdLastSet"); !slices.Equal(got, []string{"0"}) {
		t.Fatalf("pwdLastSet %v, want 0", got)
	}
	want(t, run(t, r, ForcePasswordChange, name, Enforce), Succeeded, "no change: password change at next logon already required")
	undo, err := r.Undo(context.Background(), rec.ID, "t", Enforce)
	if err != nil {
		t.Fatal(err)
	}
	want(t, undo, Succeeded, "pending password change cancelled")
	if got := l.attr(name, "pwdLastSet"); slices.Equal(got, []string{"0"}) {
		t.Fatal("pwdLastSet still 0 after undo")
	}
}

// Built-in and configured protected accounts are refused, in dry runs
// too, and stay untouched.
func TestADProtectedAccountsRefused(t *testing.T) {
	pg := sambalab.Unique("rprot")
	l := newLab(t, pg)
	l.c.Admin("group", "add", pg)
	t.Cleanup(func() { l.c.TryAdmin("group", "delete", pg) })
	inner := l.group("rpin")
	l.c.Admin("group", "addmembers", pg, inner)
	member, memberPass := l.user("rpm")
	l.c.Admin("group", "addmembers", inner, member)
	glass, glassPass := l.user("rbg")

	r := l.responder(Options{ProtectedAccounts: []string{`LAB\` + strings.ToUpper(glass)}})
	for _, tc := range []struct{ identity, reason string }{
		{"Administrator", "built-in Administrator (RID 500)"},
		{"krbtgt", "krbtgt (RID 502)"},
		{"dc1$", "domain controller account"},
		{"CN=DC1,OU=Domain Controllers," + l.env["LAB_BASE_DN"], "domain controller account"},
		{glass, `LAB\` + strings.ToUpper(glass) + " is listed in response.protected_accounts"},
		{member, "member of protected group CN=" + pg},
	} {
		for _, mode := range []string{DryRun, Enforce} {
			want(t, run(t, r, DisableUser, tc.identity, mode), Refused, "protected account: "+tc.reason)
		}
	}
	if !l.c.Kinit("Administrator", l.env["LAB_ADMIN_PASS"]) || !l.c.Kinit(glass, glassPass) || !l.c.Kinit(member, memberPass) {
		t.Fatal("a protected account cannot log on any more")
	}
	// Fail closed: a protected group that does not exist stops every action.
	missing := newLab(t, "no-such-group-"+sambalab.Unique("x"))
	rec := run(t, missing.responder(Options{}), DisableUser, glass, Enforce)
	want(t, rec, Failed, "matches 0 groups")
}

// The rate limit refuses the action over the cap, per rule too, and the
// account stays as it was.
func TestADRateLimit(t *testing.T) {
	l := newLab(t)
	a, _ := l.user("rrl")
	b, _ := l.user("rrl")
	c, cPass := l.user("rrl")
	j, err := OpenJournal(filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	r := l.responder(Options{PerHour: 2, Journal: j})
	ruled := func(r *Responder, id, rule string) schema.Action {
		return r.Run(context.Background(), Request{Action: DisableUser, Identity: id, Mode: Enforce, Trigger: rule, Rule: rule})
	}
	want(t, ruled(r, a, "rule-a"), Succeeded, "account disabled")
	want(t, ruled(r, b, "rule-b"), Succeeded, "account disabled")
	want(t, ruled(r, c, "rule-c"), Refused, "rate limit: 2 enforced actions in the last hour (response.rate_limit.per_hour: 2)")
	if !l.c.Kinit(c, cPass) {
		t.Fatal("the refused action changed the account")
	}
	// Restoring is never rate limited.
	want(t, run(t, r, EnableUser, a, Enforce), Succeeded, "account enabled")
	// The window is in the journal: a new responder (a new process) sees it.
	r2 := l.responder(Options{PerHour: 10, PerRulePerHour: 1, Journal: j})
	want(t, ruled(r2, c, "rule-a"), Refused, "rate limit: rule rule-a ran 1 enforced actions in the last hour (response.rate_limit.per_rule_per_hour: 1)")
	want(t, ruled(r2, c, "rule-c"), Succeeded, "account disabled")
}
