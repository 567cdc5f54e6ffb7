package scenario

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Account is one security principal of the synthetic domain.
type Account struct {
	Sam       string // sAMAccountName: jdoe, svc-sql, DC01$
	Given     string // given name (people only)
	Surname   string // surname (people only)
	SID       string
	Host      string // the user's workstation (WS-1234) or the service's server (sql01)
	IP        string // IPv4 the account's activity comes from
	DC        int    // index of the domain controller it usually talks to
	SPN       string // service principal name (service accounts only)
	RC4Only   bool   // service only supports RC4 tickets
	NoPreauth bool   // "do not require Kerberos pre-authentication"
}

// Machine reports whether the account is a computer account (name ends in $).
func (a *Account) Machine() bool { return strings.HasSuffix(a.Sam, "$") }

// DisplayName is the account's common name in the directory.
func (a *Account) DisplayName() string {
	if a.Given == "" {
		return a.Sam
	}
	return a.Given + " " + a.Surname
}

// Group is a directory group.
type Group struct {
	Name string
	SID  string
}

// Domain is the synthetic Active Directory domain a scenario runs in.
type Domain struct {
	NetBIOS    string // CORP
	DNS        string // corp.castellan.test
	Realm      string // CORP.CASTELLAN.TEST
	SID        string // S-1-5-21-x-y-z
	ObjectGUID string // objectGUID of the domain head (domainDNS object)

	DCs      []*Account // DC01$, DC02$
	FS01     *Account
	Users    []*Account // benign people
	Admins   []*Account // adm-… accounts of three IT staff
	Services []*Account // SPN-bearing service accounts
	Groups   []Group    // non-sensitive groups admins manage

	nextRID int
}

// DCHost returns the short host name of domain controller i (DC01, DC02).
func (d *Domain) DCHost(i int) string { return fmt.Sprintf("DC%02d", i+1) }

// FQDN returns host.dns-domain with the host upper-cased as Windows reports it.
func (d *Domain) FQDN(host string) string { return strings.ToUpper(host) + "." + d.DNS }

// DN returns the distinguished name of an account.
func (d *Domain) DN(a *Account) string {
	ou := "OU=Staff,OU=Corp"
	switch {
	case strings.HasPrefix(a.Sam, "adm-"):
		ou = "OU=Admins,OU=Tier0"
	case strings.HasPrefix(a.Sam, "svc-"):
		ou = "OU=Service Accounts,OU=Corp"
	}
	parts := strings.Split(d.DNS, ".")
	return "CN=" + a.DisplayName() + "," + ou + ",DC=" + strings.Join(parts, ",DC=")
}

func (d *Domain) newSID() string {
	d.nextRID++
	return fmt.Sprintf("%s-%d", d.SID, d.nextRID)
}

// KrbtgtSID is the SID of the krbtgt account.
func (d *Domain) KrbtgtSID() string { return d.SID + "-502" }

// ServiceByName returns the service account with the given sAMAccountName, or nil.
func (d *Domain) ServiceByName(name string) *Account {
	for _, s := range d.Services {
		if s.Sam == name {
			return s
		}
	}
	return nil
}

// benignUsers is the size of the benign population.
const benignUsers = 240

// newDomain builds CORP from the random source.
func newDomain(rng *rand.Rand) *Domain {
	d := &Domain{NetBIOS: "CORP", DNS: "corp.castellan.test", Realm: "CORP.CASTELLAN.TEST"}
	d.SID = fmt.Sprintf("S-1-5-21-%d-%d-%d",
		1_000_000_000+rng.Uint32N(3_000_000_000),
		1_000_000_000+rng.Uint32N(3_000_000_000),
		1_000_000_000+rng.Uint32N(3_000_000_000))
	d.ObjectGUID = guid(rng)
	d.nextRID = 1000
	for i := range 2 {
		d.DCs = append(d.DCs, &Account{Sam: d.DCHost(i) + "$", SID: d.newSID(), Host: d.DCHost(i),
			IP: fmt.Sprintf("10.1.0.%d", 10+i), DC: i})
	}
	d.nextRID = 1103
	d.FS01 = &Account{Sam: "FS01$", SID: d.newSID(), Host: "FS01", IP: "10.1.5.20", DC: 0}
	for _, name := range []string{"Marketing", "Project-Phoenix", "FS01-Share-Readers", "VPN-Users"} {
		d.Groups = append(d.Groups, Group{Name: name, SID: d.newSID()})
	}

	for i, s := range services {
		a := &Account{Sam: s.name, SID: d.newSID(), Host: s.host, SPN: fmt.Sprintf(s.spn, d.DNS),
			IP: fmt.Sprintf("10.1.5.%d", 30+i), DC: rng.IntN(2)}
		a.RC4Only = s.name == "svc-timesheet" || s.name == "svc-labelprint"
		a.NoPreauth = s.name == "svc-legacyapp"
		d.Services = append(d.Services, a)
	}

	// Every user gets a distinct workstation and IP, so no two people's typos ever share a
	// source address. 10.1.66.0/24 is left free for the attacker.
	ips := make([]string, 0, 31*240)
	for x := 10; x <= 40; x++ {
		for y := 10; y < 250; y++ {
			ips = append(ips, fmt.Sprintf("10.1.%d.%d", x, y))
		}
	}
	rng.Shuffle(len(ips), func(i, j int) { ips[i], ips[j] = ips[j], ips[i] })
	wsNums := rng.Perm(9000)

	seen := make(map[string]int)
	for i := range benignUsers {
		given := givenNames[rng.IntN(len(givenNames))]
		sur := surnames[rng.IntN(len(surnames))]
		sam := strings.ToLower(given[:1] + sur)
		seen[sam]++
		if n := seen[sam]; n > 1 {
			sam = fmt.Sprintf("%s%d", sam, n)
		}
		d.Users = append(d.Users, &Account{Sam: sam, Given: given, Surname: sur, SID: d.newSID(),
			Host: fmt.Sprintf("WS-%04d", 1000+wsNums[i]), IP: ips[i], DC: rng.IntN(2)})
	}
	for _, i := range rng.Perm(len(d.Users))[:3] {
		u := d.Users[i]
		d.Admins = append(d.Admins, &Account{Sam: "adm-" + u.Sam, Given: u.Given, Surname: u.Surname,
			SID: d.newSID(), Host: u.Host, IP: u.IP, DC: u.DC})
	}
	return d
}

// guid returns a random GUID in lower-case 8-4-4-4-12 form without braces.
func guid(rng *rand.Rand) string {
	a, b := rng.Uint64(), rng.Uint64()
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

// freeSam returns sam, or sam with the lowest numeric suffix that no user has yet.
func (d *Domain) freeSam(sam string) string {
	taken := func(s string) bool {
		for _, u := range d.Users {
			if u.Sam == s {
				return true
			}
		}
		return false
	}
	cand := sam
	for n := 2; taken(cand); n++ {
		cand = fmt.Sprintf("%s%d", sam, n)
	}
	return cand
}
