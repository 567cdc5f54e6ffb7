package scenario

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// CloudSignIn is one Entra ID sign-in of the scenario, as Microsoft Graph
// returns it (auditLogs/signIns): the domain's accounts are synchronized to
// Entra ID, so each carries its onPremisesSecurityIdentifier.
type CloudSignIn struct {
	ID        string // Graph sign-in id (a GUID)
	Time      time.Time
	UPN       string // sam@dns-domain
	ObjectID  string // Entra object id (a GUID)
	OnPremSID string
	IP        string
	City      string
	Country   string // ISO 3166 alpha-2
	Lat, Lon  float64
	ErrorCode int    // 0 success, 50126 wrong password
	App       string // appDisplayName
	Client    string // clientAppUsed
}

// office is where a user signs in from: the company's sites and the
// address of each site's internet egress.
type office struct {
	city, country, ipPrefix string
	lat, lon                float64
}

var offices = []office{
	{"Seattle", "US", "131.107.10.", 47.61, -122.33},
	{"Chicago", "US", "131.107.20.", 41.88, -87.63},
	{"Amsterdam", "NL", "145.7.30.", 52.37, 4.89},
}

// The hybrid attack's cloud sign-in comes from here.
const (
	CloudAttackerIP      = "95.165.10.20"
	CloudAttackerCity    = "Moscow"
	CloudAttackerCountry = "RU"
)

// cloudApps are the apps benign users sign in to, with modern clients.
var cloudApps = []string{"Office 365 Exchange Online", "Microsoft Teams", "Office 365 SharePoint Online", "My Apps"}

func (b *builder) guid() string {
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", b.rng.Uint32(), b.rng.IntN(1<<16), b.rng.IntN(1<<12), b.rng.IntN(1<<12), b.rng.Int64N(1<<48))
}

// cloudIdentity returns an account's stable Entra object id.
func (b *builder) cloudIdentity(a *Account) string {
	if b.objectIDs == nil {
		b.objectIDs = map[string]string{}
	}
	if id, ok := b.objectIDs[a.Sam]; ok {
		return id
	}
	id := b.guid()
	b.objectIDs[a.Sam] = id
	return id
}

func (b *builder) cloudSignIn(t time.Time, a *Account, o office, host int, code int, app string) {
	b.res.Cloud = append(b.res.Cloud, CloudSignIn{
		ID: b.guid(), Time: t, UPN: strings.ToLower(a.Sam) + "@" + b.d.DNS, ObjectID: b.cloudIdentity(a),
		OnPremSID: a.SID, IP: fmt.Sprintf("%s%d", o.ipPrefix, host), City: o.city, Country: o.country,
		Lat: o.lat, Lon: o.lon, ErrorCode: code, App: app, Client: "Browser",
	})
}

// cloudDay is the benign Entra ID side of the day: about a third of the
// users and the services that run in the cloud sign in a few times from
// their office (the odd mistyped password included), and one user flies
// from Seattle to Amsterdam — a long way, but at airliner speed.
func (b *builder) cloudDay() {
	d := b.d
	perm := b.rng.Perm(len(d.Users))
	for n, i := range perm[:len(perm)/3] {
		u := d.Users[i]
		o := offices[i%len(offices)]
		if n == 0 { // the traveller: Seattle in the morning, Amsterdam after a 10-hour flight
			b.cloudSignIn(b.at(6, 30, 0), u, offices[0], 7, 0, cloudApps[1])
			b.cloudSignIn(b.at(18, 45, 0), u, offices[2], 7, 0, cloudApps[1])
			continue
		}
		for _, t := range b.sortedTimes(1+b.rng.IntN(4), b.at(7, 0, 0), 10*time.Hour) {
			if b.rng.IntN(40) == 0 {
				b.cloudSignIn(t.Add(-20*time.Second), u, o, 1+i%200, 50126, cloudApps[0])
			}
			b.cloudSignIn(t, u, o, 1+i%200, 0, cloudApps[b.rng.IntN(len(cloudApps))])
		}
	}
	for i, s := range d.Services { // morning and afternoon jobs, from the Seattle datacenter
		b.cloudSignIn(b.at(8+i%3, b.rng.IntN(60), b.rng.IntN(60)), s, offices[0], 250, 0, "Azure Portal")
		b.cloudSignIn(b.at(13+i%3, b.rng.IntN(60), b.rng.IntN(60)), s, offices[0], 250, 0, "Azure Portal")
	}
	slices.SortStableFunc(b.res.Cloud, func(x, y CloudSignIn) int { return x.Time.Compare(y.Time) })
}

// hybridChain continues the attack in the cloud: the first service account
// the attacker Kerberoasted, its password cracked offline, signs in to Entra ID
// from abroad about three hours after the ticket requests — a new country
// for it, too far from its Seattle sign-in for the time between them.
func (b *builder) hybridChain() {
	var svc *Account
	for _, s := range b.d.Services {
		if s.Sam == b.firstRoasted {
			svc = s
		}
	}
	if svc == nil {
		return
	}
	var roastedAt time.Time
	for _, st := range b.res.Stages {
		if st.Name == "kerberoasting" {
			roastedAt = st.End
		}
	}
	t := b.after(roastedAt, 170*time.Minute, 190*time.Minute)
	first := len(b.res.Cloud)
	attacker := office{CloudAttackerCity, CloudAttackerCountry, "", 55.75, 37.62}
	b.res.Cloud = append(b.res.Cloud, CloudSignIn{
		ID: b.guid(), Time: t, UPN: strings.ToLower(svc.Sam) + "@" + b.d.DNS, ObjectID: b.cloudIdentity(svc),
		OnPremSID: svc.SID, IP: CloudAttackerIP, City: attacker.city, Country: attacker.country,
		Lat: attacker.lat, Lon: attacker.lon, App: "Azure Portal", Client: "Browser",
	})
	b.res.Stages = append(b.res.Stages, Stage{Name: "cloud-sign-in", Technique: "T1078.004",
		Start: t, End: t, Events: len(b.res.Cloud) - first})
	b.res.Attacker.CloudAccount = svc.Sam
	b.res.Attacker.CloudIP = CloudAttackerIP
	slices.SortStableFunc(b.res.Cloud, func(x, y CloudSignIn) int { return x.Time.Compare(y.Time) })
}
