package scenario

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNewDomain(t *testing.T) {
	d := newDomain(rand.New(rand.NewPCG(9, 9)))
	if !regexp.MustCompile(`^S-1-5-21-\d{10}-\d{10}-\d{10}$`).MatchString(d.SID) {
		t.Errorf("domain SID %q", d.SID)
	}
	if len(d.Users) < 220 || len(d.Admins) != 3 || len(d.Services) < 20 || len(d.DCs) != 2 {
		t.Fatalf("users %d admins %d services %d DCs %d", len(d.Users), len(d.Admins), len(d.Services), len(d.DCs))
	}
	sams, ips, hosts, sids := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	ws := regexp.MustCompile(`^WS-\d{4}$`)
	for _, u := range d.Users {
		if sams[u.Sam] || ips[u.IP] || hosts[u.Host] || sids[u.SID] {
			t.Errorf("duplicate account, IP, workstation or SID: %+v", u)
		}
		sams[u.Sam], ips[u.IP], hosts[u.Host], sids[u.SID] = true, true, true, true
		if !strings.HasPrefix(u.IP, "10.1.") || strings.HasPrefix(u.IP, "10.1.66.") || !ws.MatchString(u.Host) {
			t.Errorf("user %s at %s / %s", u.Sam, u.Host, u.IP)
		}
	}
	for _, a := range d.Admins {
		if !strings.HasPrefix(a.Sam, "adm-") || sids[a.SID] {
			t.Errorf("admin %+v", a)
		}
	}
	var noPreauth, rc4 int
	for _, s := range d.Services {
		if s.SPN == "" || !strings.Contains(s.SPN, d.DNS) || sids[s.SID] {
			t.Errorf("service %+v", s)
		}
		if s.NoPreauth {
			noPreauth++
		}
		if s.RC4Only {
			rc4++
		}
	}
	if noPreauth != 1 || rc4 < 1 || rc4 > 2 {
		t.Errorf("%d accounts without pre-authentication, %d RC4-only services", noPreauth, rc4)
	}
}

func TestBuild(t *testing.T) {
	if _, err := Build("nope", 1, time.Time{}); err == nil {
		t.Error("unknown scenario: no error")
	}
	r, err := Build("default", 1, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Stages) != 7 || r.Attacker.CompromisedUser == "" || len(r.Attacker.Kerberoasted) != 8 {
		t.Fatalf("stages %d attacker %+v", len(r.Stages), r.Attacker)
	}
	// The hybrid step: a Kerberoasted account signs in to Entra ID from
	// abroad after the roasting, once; everything else is from the offices.
	if !slices.Contains(r.Attacker.Kerberoasted, r.Attacker.CloudAccount) || r.Stages[6].Technique != "T1078.004" {
		t.Fatalf("cloud stage %+v attacker %+v", r.Stages[6], r.Attacker)
	}
	abroad := 0
	for i, s := range r.Cloud {
		if i > 0 && s.Time.Before(r.Cloud[i-1].Time) {
			t.Fatal("cloud sign-ins not sorted")
		}
		if s.Country == CloudAttackerCountry {
			abroad++
			if !strings.HasPrefix(s.UPN, r.Attacker.CloudAccount+"@") || s.ErrorCode != 0 || !s.Time.After(r.Stages[3].End) || s.OnPremSID == "" {
				t.Errorf("attack sign-in %+v", s)
			}
		}
	}
	if abroad != 1 || len(r.Cloud) < 100 {
		t.Errorf("%d sign-ins from abroad, %d in all", abroad, len(r.Cloud))
	}
	for _, e := range r.Events {
		if e.Time.Location() != time.UTC || e.Time.Nanosecond()%int(time.Millisecond) != 0 {
			t.Fatalf("event time %v is not UTC milliseconds", e.Time)
		}
		if e.File != FileDC01 && e.File != FileDC02 && e.File != FileFS01 {
			t.Fatalf("event for unknown file %q", e.File)
		}
	}
}
