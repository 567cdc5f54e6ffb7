package entra

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/connector/sources/entra/graphfake"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// graphUser is a Graph user resource as GET /users returns it, with a
// property the users poll does not $select (the double must drop it).
type graphUser struct {
	ID                           string  `json:"id"`
	UserPrincipalName            string  `json:"userPrincipalName"`
	DisplayName                  string  `json:"displayName"`
	OnPremisesSecurityIdentifier *string `json:"onPremisesSecurityIdentifier"`
	OnPremisesSamAccountName     *string `json:"onPremisesSamAccountName"`
	OnPremisesDomainName         *string `json:"onPremisesDomainName"`
	OnPremisesSyncEnabled        *bool   `json:"onPremisesSyncEnabled"`
	AccountEnabled               bool    `json:"accountEnabled"`
}

func ptr[T any](v T) *T { return &v }

// addUsers stores n users in the double: even ones synchronized from AD
// (SID …-1100+i, sam u<i>), odd ones cloud-only (on-prem properties null).
func addUsers(t *testing.T, fake *graphfake.Server, n int) []graphUser {
	t.Helper()
	var us []graphUser
	for i := range n {
		u := graphUser{ID: fmt.Sprintf("00000000-0000-0000-0000-%012d", i), UserPrincipalName: fmt.Sprintf("user%d@corp.example", i),
			DisplayName: "User " + fmt.Sprint(i), AccountEnabled: i != 3}
		if i%2 == 0 {
			u.OnPremisesSecurityIdentifier = ptr(fmt.Sprintf("S-1-5-21-1004336348-1177238915-682003330-%d", 1100+i))
			u.OnPremisesSamAccountName = ptr(fmt.Sprintf("u%d", i))
			u.OnPremisesDomainName = ptr("corp.example")
			u.OnPremisesSyncEnabled = ptr(true)
		}
		if err := fake.AddDirectory(graphfake.Users, u); err != nil {
			t.Fatal(err)
		}
		us = append(us, u)
	}
	return us
}

func usersConfig(fake *graphfake.Server) *Config {
	c := fakeConfig(fake)
	c.Users = UsersConfig{} // default: enabled, 6h
	return c
}

// directoryEvents returns the accepted directory_identity events by
// object id, failing on one accepted twice.
func directoryEvents(t *testing.T, st *store) map[string]schema.Event {
	t.Helper()
	st.mu.Lock()
	defer st.mu.Unlock()
	out := map[string]schema.Event{}
	for _, b := range st.batches {
		for _, ev := range b.Events {
			if ev.Event.Kind != schema.KindDirectoryIdentity {
				continue
			}
			if _, dup := out[ev.User.ID]; dup {
				t.Errorf("user %s handed off twice", ev.User.ID)
			}
			out[ev.User.ID] = ev
		}
	}
	return out
}

func usersRequests(fake *graphfake.Server) []graphfake.Request {
	var out []graphfake.Request
	for _, r := range fake.Requests() {
		if r.Path == "/v1.0/users" {
			out = append(out, r)
		}
	}
	return out
}

func TestUsersPollEmitsEveryUserAcrossPages(t *testing.T) {
	fake := graphfake.New()
	defer fake.Close()
	us := addUsers(t, fake, 7)
	st := newStore()
	began := time.Now()
	fake.Throttle(1, "1") // the first users request is throttled; Retry-After honoured
	h := start(t, usersConfig(fake), newFakePager(t, fake, "tok"), st)
	if d := time.Since(began); d < time.Second {
		t.Errorf("Retry-After not honoured: %s", d)
	}
	got := directoryEvents(t, st)
	if len(got) != len(us) {
		t.Fatalf("%d directory_identity events, want %d", len(got), len(us))
	}
	for i, u := range us {
		ev := got[u.ID]
		if ev.Event.Dataset != "entra" || ev.User.UPN != u.UserPrincipalName || !ev.Timestamp.Equal(t0) {
			t.Errorf("user %d: %+v", i, ev)
		}
		wantSID, wantSAM, wantDomain := "", "", ""
		if i%2 == 0 {
			wantSID, wantSAM, wantDomain = *u.OnPremisesSecurityIdentifier, *u.OnPremisesSamAccountName, "corp.example"
		}
		if ev.Cloud.OnPremSID != wantSID || ev.User.Name != wantSAM || ev.User.Domain != wantDomain {
			t.Errorf("user %d on-prem link: sid %q name %q domain %q", i, ev.Cloud.OnPremSID, ev.User.Name, ev.User.Domain)
		}
		if ev.Original["accountEnabled"] != fmt.Sprint(i != 3) {
			t.Errorf("user %d accountEnabled %q", i, ev.Original["accountEnabled"])
		}
		if _, leaked := ev.Original["displayName"]; leaked {
			t.Errorf("user %d: a property outside $select reached the event", i)
		}
	}
	// Three pages of $top=3 (page_size), each request with the $select.
	reqs := usersRequests(fake)
	ok := 0
	for _, r := range reqs {
		if r.Status == http.StatusOK {
			ok++
		}
	}
	if ok != 3 || reqs[0].Query.Get("$top") != "3" || reqs[0].Query.Get("$select") != strings.Join(userSelectForTest(), ",") {
		t.Errorf("users requests: %d ok of %d, first %v", ok, len(reqs), reqs[0].Query)
	}
	// Not due again until the interval has passed.
	cp := st.cps[CheckpointKey(ResourceUsers)]
	if !strings.Contains(string(cp), t0.Add(DefaultUsersInterval).Format(time.RFC3339)) {
		t.Errorf("checkpoint %s: next round not at start+6h", cp)
	}
	h.poll()
	if n := len(usersRequests(fake)); n != len(reqs) {
		t.Errorf("users listed again before the interval: %d requests", n)
	}
	// Past the interval a new round lists every user again.
	h.src.now = func() time.Time { return t0.Add(DefaultUsersInterval) }
	h.poll()
	if n := len(usersRequests(fake)); n != len(reqs)+3 {
		t.Errorf("no new round after the interval: %d requests", n)
	}
}

func userSelectForTest() []string {
	return []string{"id", "userPrincipalName", "onPremisesSecurityIdentifier", "onPremisesSamAccountName",
		"onPremisesDomainName", "onPremisesSyncEnabled", "accountEnabled"}
}

func TestUsersPollExactlyOnceAcrossRestart(t *testing.T) {
	fake := graphfake.New()
	defer fake.Close()
	us := addUsers(t, fake, 8)
	st := newStore()
	cfg := usersConfig(fake)
	// Page 1 passes, then page 2 fails for longer than the retries: the
	// round is interrupted after three users were handed off.
	fake.Pass(1)
	fake.Fail(maxRetries+1, http.StatusServiceUnavailable, "ServiceUnavailable", "0")
	h := start(t, cfg, newFakePager(t, fake, "tok"), st)
	if n := len(directoryEvents(t, st)); n != 3 {
		t.Fatalf("%d users handed off before the failure, want 3", n)
	}
	if n := h.counter("source_poll_errors"); n != 1 {
		t.Errorf("%d poll errors, want 1", n)
	}
	h.stop()

	// The restarted source resumes the round: the other five, none twice.
	h2 := start(t, cfg, newFakePager(t, fake, "tok"), st)
	got := directoryEvents(t, st)
	if len(got) != len(us) {
		t.Errorf("%d users after the restart, want %d", len(got), len(us))
	}
	// A second restart after the round completed lists nothing (not due).
	h2.stop()
	before := len(usersRequests(fake))
	start(t, cfg, newFakePager(t, fake, "tok"), st)
	if n := len(usersRequests(fake)); n != before {
		t.Errorf("round repeated after a restart: %d new requests", n-before)
	}
	if len(directoryEvents(t, st)) != len(us) {
		t.Error("users handed off again")
	}
	ids := make([]string, 0, len(got))
	for id := range got {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if ids[0] != us[0].ID || ids[len(ids)-1] != us[len(us)-1].ID {
		t.Errorf("users %v", ids)
	}
}

func TestUsersPollDisabledOrUnsupported(t *testing.T) {
	fake := graphfake.New()
	defer fake.Close()
	addUsers(t, fake, 2)
	cfg := usersConfig(fake)
	off := false
	cfg.Users.Enabled = &off
	st := newStore()
	start(t, cfg, newFakePager(t, fake, "tok"), st)
	if n := len(usersRequests(fake)); n != 0 {
		t.Errorf("users disabled, yet %d users requests", n)
	}
	// A pager without ListUsers runs the other resources.
	start(t, usersConfig(fake), newMemPager(), newStore())

	bad := usersConfig(fake)
	bad.Users.Interval = 10 * time.Second
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "users.interval") {
		t.Errorf("short users.interval accepted: %v", err)
	}
}
