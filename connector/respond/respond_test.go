package respond

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

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
