package scenario

import (
	"slices"
	"time"
)

// The attacker's machine: not domain joined, not anybody's workstation.
const (
	AttackerIP   = "10.1.66.6"
	AttackerHost = "WS-EVIL"
)

// stage runs fn and records the events it emitted as one attack stage.
func (b *builder) stage(name, technique string, fn func()) {
	first := len(b.res.Events)
	fn()
	s := Stage{Name: name, Technique: technique, Events: len(b.res.Events) - first}
	for i, e := range b.res.Events[first:] {
		if i == 0 || e.Time.Before(s.Start) {
			s.Start = e.Time
		}
		if i == 0 || e.Time.After(s.End) {
			s.End = e.Time
		}
	}
	b.res.Stages = append(b.res.Stages, s)
}

// sortedTimes returns n random times in [from, from+span), ascending.
func (b *builder) sortedTimes(n int, from time.Time, span time.Duration) []time.Time {
	ts := make([]time.Time, n)
	for i := range ts {
		ts[i] = b.between(from, from.Add(span))
	}
	slices.SortFunc(ts, func(x, y time.Time) int { return x.Compare(y) })
	return ts
}

// attackChain plays the default intrusion from WS-EVIL starting shortly after 14:00:
// user enumeration, password spray, AS-REP roasting, Kerberoasting, DCSync and clearing the
// Security log. Each stage fits well inside a 10-minute detection window.
func (b *builder) attackChain() {
	d := b.d
	ip := AttackerIP
	perm := b.rng.Perm(len(d.Users))
	victim := d.Users[perm[0]]
	var roastable []*Account
	var asrep *Account
	for _, s := range d.Services {
		switch {
		case s.NoPreauth:
			asrep = s
		case !s.RC4Only:
			roastable = append(roastable, s)
		}
	}
	t0 := b.at(14, b.rng.IntN(8), b.rng.IntN(60))

	b.stage("reconnaissance", "T1087.002", func() {
		names := slices.Clone(unknownNames)
		b.rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
		for i, t := range b.sortedTimes(15, t0, 170*time.Second) {
			b.tgtUnknown(t, 1, names[i], ip)
		}
	})

	var victimTGT time.Time
	b.stage("password-spray", "T1110.003", func() {
		targets := perm[1:31]
		hit := 18 + b.rng.IntN(12) // the victim's turn in the spray order
		ts := b.sortedTimes(len(targets)+1, t0.Add(8*time.Minute), 280*time.Second)
		for i, t := range ts {
			switch {
			case i == hit:
				victimTGT = t
				b.tgt(t, 0, victim, ip, EtypeAES256, "2")
			case i > hit:
				b.preauthFailed(t, 0, d.Users[targets[i-1]], ip)
			default:
				b.preauthFailed(t, 0, d.Users[targets[i]], ip)
			}
		}
		t := ts[len(ts)-1].Add(25 * time.Second)
		b.tgs(t, 0, victim, d.DCs[0], ip, EtypeAES256)
		b.logon(t.Add(60*time.Millisecond), 0, victim, 3, ip, "-", viaKerberos)
	})

	b.stage("asrep-roasting", "T1558.004", func() {
		b.tgt(b.after(victimTGT, 9*time.Minute, 11*time.Minute), 1, asrep, ip, EtypeRC4, "0")
	})

	var roasted []string
	b.stage("kerberoasting", "T1558.003", func() {
		idx := b.rng.Perm(len(roastable))[:8]
		for i, t := range b.sortedTimes(8, t0.Add(25*time.Minute), 110*time.Second) {
			svc := roastable[idx[i]]
			roasted = append(roasted, svc.Sam)
			b.tgs(t, 0, victim, svc, ip, EtypeRC4)
		}
		b.firstRoasted = roasted[0] // the hybrid step uses the first account roasted
		slices.Sort(roasted)
	})

	b.stage("dcsync", "T1003.006", func() {
		t := b.after(t0, 33*time.Minute, 34*time.Minute)
		b.tgs(t, 0, victim, d.DCs[0], ip, EtypeAES256)
		id := b.logon(t.Add(30*time.Millisecond), 0, victim, 3, ip, "-", viaKerberos)
		t = t.Add(250 * time.Millisecond)
		for i, g := range []string{GUIDGetChanges, GUIDGetChangesAll, GUIDGetChangesFiltered} {
			b.directoryAccess(t.Add(time.Duration(i*4)*time.Millisecond), 0, victim, id, g)
		}
	})

	b.stage("log-cleared", "T1070.001", func() {
		t := b.after(t0, 41*time.Minute, 44*time.Minute)
		b.tgs(t, 1, victim, d.DCs[1], ip, EtypeAES256)
		id := b.logon(t.Add(30*time.Millisecond), 1, victim, 3, ip, "-", viaKerberos)
		b.logCleared(b.after(t, 20*time.Second, 50*time.Second), 1, victim, id)
	})

	b.res.Attacker = Attacker{SourceIP: ip, SourceHost: AttackerHost, CompromisedUser: victim.Sam,
		Domain: d.DNS, ASREPRoasted: asrep.Sam, Kerberoasted: roasted}
}
