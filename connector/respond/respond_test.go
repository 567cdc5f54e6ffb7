package respond

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// memDir is a directory double for the guard-rail logic: accounts with an
// enabled flag.
type memDir struct {
	name    string
	enabled map[string]bool
	runs    int
}

func (d *memDir) Name() string { return d.name }

func (d *memDir) Resolve(_ context.Context, id string) (Subject, error) {
	if _, ok := d.enabled[id]; !ok {
		return Subject{}, errors.New("no such account")
	}
	s := Subject{Directory: d.name, Key: id, User: schema.User{Name: id}, Aliases: []string{id}}
	if id == "admin" {
		s.Protected = "built-in Administrator (RID 500)"
	}
	return s, nil
}

func (d *memDir) Actions() []Action { return []Action{memDisable{d}} }

type memDisable struct{ d *memDir }

func (memDisable) Name() string { return DisableUser }

func (a memDisable) Run(_ context.Context, s Subject, _ map[string][]string, apply bool) (Change, error) {
	a.d.runs++
	before := State(map[string]bool{"enabled": a.d.enabled[s.Key]})
	if !a.d.enabled[s.Key] {
		return Change{Before: before, After: before, Note: "account already disabled"}, nil
	}
	if apply {
		a.d.enabled[s.Key] = false
	}
	return Change{Before: before, After: State(map[string]bool{"enabled": false}), Changed: true, Note: "account disabled", Undo: &Undo{Action: EnableUser}}, nil
}

func TestResponderGuardRails(t *testing.T) {
	d := &memDir{name: "ad", enabled: map[string]bool{"a": true, "b": true, "c": true, "admin": true}}
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	r := New(Options{Directories: []Directory{d}, PerHour: 1, Now: func() time.Time { return now }})
	ctx := context.Background()

	for _, tc := range []struct {
		req            Request
		result, reason string
	}{
		{Request{Action: DisableUser, Identity: "a"}, Simulated, "dry run: would change: account disabled"}, // default dry run
		{Request{Action: DisableUser, Identity: "a", Mode: "yes"}, Failed, `mode "yes"`},
		{Request{Action: DisableUser, Identity: " "}, Failed, "no identity given"},
		{Request{Action: "explode", Identity: "a"}, Failed, "no configured directory offers explode"},
		{Request{Action: DisableUser, Identity: "a", Directory: "entra"}, Failed, `directory "entra" is not configured`},
		{Request{Action: DisableUser, Identity: "zz", Mode: Enforce}, Failed, "no such account"},
		{Request{Action: DisableUser, Identity: "admin", Mode: Enforce}, Refused, "protected account: built-in Administrator"},
		{Request{Action: DisableUser, Identity: "a", Mode: Enforce}, Succeeded, "account disabled"},
		{Request{Action: DisableUser, Identity: "b", Mode: Enforce}, Refused, "rate limit: 1 enforced actions in the last hour"},
		{Request{Action: DisableUser, Identity: "b"}, Simulated, "would change"}, // dry runs are not limited
	} {
		rec := r.Run(ctx, tc.req)
		if rec.Result != tc.result || !strings.Contains(rec.Reason, tc.reason) || rec.ID == "" || rec.Mode == "" {
			t.Errorf("%+v → %s %q (id %q mode %q); want %s %q", tc.req, rec.Result, rec.Reason, rec.ID, rec.Mode, tc.result, tc.reason)
		}
	}
	if !d.enabled["b"] || d.enabled["a"] {
		t.Fatalf("state %v: only a may be disabled", d.enabled)
	}
	now = now.Add(61 * time.Minute) // the window slides
	if rec := r.Run(ctx, Request{Action: DisableUser, Identity: "b", Mode: Enforce}); rec.Result != Succeeded {
		t.Errorf("an hour later: %s %s", rec.Result, rec.Reason)
	}
}

// An unreachable DC fails the action with the connection error, and for
// a while later actions fail at once instead of waiting for a timeout each.
func TestADUnreachableFailsFast(t *testing.T) {
	ad, err := NewAD(config.ResponseAD{URL: "ldaps://127.0.0.1:1", Bind: "x", Password: "y", BaseDN: "DC=x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := New(Options{Directories: []Directory{ad}})
	first := r.Run(context.Background(), Request{Action: DisableUser, Identity: "bob", Mode: Enforce})
	if first.Result != Failed || !strings.Contains(first.Reason, "connect ldaps://127.0.0.1:1") {
		t.Fatalf("first: %s %s", first.Result, first.Reason)
	}
	start := time.Now()
	second := r.Run(context.Background(), Request{Action: DisableUser, Identity: "bob", Mode: Enforce})
	if second.Result != Failed || !strings.Contains(second.Reason, "not retried for 30s") || time.Since(start) > time.Second {
		t.Fatalf("second: %s %s after %v", second.Result, second.Reason, time.Since(start))
	}
	if _, err := NewAD(config.ResponseAD{URL: "ldap://127.0.0.1:389"}, nil); err == nil {
		t.Error("plain ldap:// accepted")
	}
}

func TestEncodePasswordAndRandom(t *testing.T) {
	if got := encodePassword("Ab1!"); got != "\"\x00A\x00b\x001\x00!\x00\"\x00" {
		t.Errorf("encodePassword = %q", got)
	}
	seen := map[string]bool{}
	for range 50 {
		p, err := randomPassword(24)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != 24 || !strings.ContainsAny(p, pwLower) || !strings.ContainsAny(p, pwUpper) || !strings.ContainsAny(p, pwDigits) || !strings.ContainsAny(p, pwSymbol) || seen[p] {
			t.Fatalf("password %q: want 24 chars of every class, never repeated", p)
		}
		seen[p] = true
	}
}

func FuzzDecodeSID(f *testing.F) {
	f.Add([]byte{1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0xf4, 1, 0, 0})
	f.Add([]byte{1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		s := decodeSID(b)
		if s != "" && (!strings.HasPrefix(s, "S-") || ridOf(s) < 0 && len(b) > 8) {
			t.Fatalf("decodeSID(%x) = %q", b, s)
		}
	})
}

func TestDecodeSID(t *testing.T) {
	b := []byte{1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0xf4, 1, 0, 0}
	if got := decodeSID(b); got != "S-1-5-21-1-2-3-500" || ridOf(got) != 500 {
		t.Errorf("decodeSID = %q", got)
	}
	if decodeSID(b[:27]) != "" || decodeSID(nil) != "" {
		t.Error("a truncated SID decoded")
	}
}
