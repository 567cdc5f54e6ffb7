package scenario

import (
	"strings"
	"time"
)

// benignDay simulates one ordinary working day in CORP. None of it may look like an attack:
// every person fails only from their own workstation, only legacy applications get RC4
// tickets (one per user), only domain controllers replicate and pre-authentication is always
// used.
func (b *builder) benignDay() {
	b.replication()
	b.serviceLogons()
	b.people()
	b.adminWork()
	b.fileServer()
}

// replication: every ~15 minutes each DC pulls changes from the other, which logs the
// puller's DS-Replication-Get-Changes(-All) control access as 4662.
func (b *builder) replication() {
	for dc := range 2 {
		puller := b.d.DCs[1-dc]
		var logonID string
		for k := range 24 * 4 {
			t := b.day.Add(time.Duration(k)*15*time.Minute + time.Duration(b.rng.IntN(90_000))*time.Millisecond)
			if k%4 == 0 { // a fresh DRSUAPI session every hour
				logonID = b.logon(t, dc, puller, 3, puller.IP, "-", viaKerberos)
				t = t.Add(40 * time.Millisecond)
			}
			b.directoryAccess(t, dc, puller, logonID, GUIDGetChanges)
			b.directoryAccess(t.Add(3*time.Millisecond), dc, puller, logonID, GUIDGetChangesAll)
		}
	}
}

// serviceLogons: servers and service accounts renew their TGTs about every ten hours.
func (b *builder) serviceLogons() {
	accts := append([]*Account{b.d.FS01}, b.d.Services...)
	for _, a := range accts {
		if a.NoPreauth {
			continue // dormant legacy account: nobody uses it legitimately
		}
		t := b.at(b.rng.IntN(6), b.rng.IntN(60), b.rng.IntN(60))
		for ; t.Before(b.day.Add(24 * time.Hour)); t = b.after(t, 10*time.Hour, 10*time.Hour+5*time.Minute) {
			b.tgt(t, b.homeDC(a), a, a.IP, EtypeAES256, "2")
		}
	}
}

// people simulates the benign users' day: workstation boot, logon, service tickets,
// occasional NTLM, and a few password typos.
func (b *builder) people() {
	var everyday []*Account
	var legacy []*Account
	for _, s := range b.d.Services {
		switch {
		case s.NoPreauth:
		case s.RC4Only:
			legacy = append(legacy, s)
		default:
			everyday = append(everyday, s)
		}
	}
	// A handful of users use exactly one legacy (RC4-only) application.
	legacyOf := make(map[*Account]*Account)
	perm := b.rng.Perm(len(b.d.Users))
	next := 0
	for _, svc := range legacy {
		for range 2 + b.rng.IntN(3) {
			legacyOf[b.d.Users[perm[next]]] = svc
			next++
		}
	}
	// Three people mistype their user name once (unknown principal from their own IP).
	misname := make(map[*Account]bool)
	for range 3 {
		misname[b.d.Users[perm[next]]] = true
		next++
	}

	for _, u := range b.d.Users {
		var arrive time.Time
		if b.rng.IntN(100) < 90 {
			minute := 8*60 + 30 + int(b.rng.NormFloat64()*40)
			minute = max(6*60, min(11*60+30, minute))
			arrive = b.at(0, minute, b.rng.IntN(60))
		} else { // shift workers and remote staff in other time zones
			arrive = b.at(b.rng.IntN(20), b.rng.IntN(60), b.rng.IntN(60))
		}
		leave := b.after(arrive, 8*time.Hour, 9*time.Hour+30*time.Minute)
		dc := b.homeDC(u)

		ws := &Account{Sam: u.Host + "$", SID: b.d.newSID(), Host: u.Host, IP: u.IP, DC: u.DC}
		boot := b.after(arrive, -20*time.Minute, -2*time.Minute)
		b.tgt(boot, dc, ws, u.IP, EtypeAES256, "2")
		b.tgs(boot.Add(150*time.Millisecond), dc, ws, b.d.DCs[dc], u.IP, EtypeAES256)

		if misname[u] {
			b.tgtUnknown(arrive.Add(-9*time.Second), dc, u.Sam+"x", u.IP)
		}
		b.signIn(arrive, dc, u, ws)
		if b.rng.IntN(100) < 30 { // unlocks after lunch with a fresh TGT
			b.signIn(b.between(b.day.Add(12*time.Hour+30*time.Minute), b.day.Add(14*time.Hour)), b.homeDC(u), u, ws)
		}

		for _, i := range b.rng.Perm(len(everyday))[:2+b.rng.IntN(5)] {
			for range 1 + b.rng.IntN(4) {
				b.tgs(b.between(arrive, leave), b.homeDC(u), u, everyday[i], u.IP, EtypeAES256)
			}
		}
		if svc := legacyOf[u]; svc != nil {
			for range 1 + b.rng.IntN(3) {
				b.tgs(b.between(arrive, leave), b.homeDC(u), u, svc, u.IP, EtypeRC4)
			}
		}
		for range 1 + b.rng.IntN(3) { // file server and group policy refreshes
			t := b.between(arrive, leave)
			b.tgs(t, b.homeDC(u), u, b.d.FS01, u.IP, EtypeAES256)
			b.logon(t.Add(80*time.Millisecond), b.homeDC(u), u, 3, u.IP, "-", viaKerberos)
		}
		if b.rng.IntN(100) < 20 { // an old intranet app still authenticates with NTLM
			for range 1 + b.rng.IntN(2) {
				t := b.between(arrive, leave)
				dc := b.homeDC(u)
				b.ntlmValidation(t, dc, u, u.Host, "0x0")
				b.logon(t.Add(2*time.Millisecond), dc, u, 3, u.IP, u.Host, viaNTLM)
			}
		}
		if b.rng.IntN(100) < 15 { // password typos, spread over the day
			for range 1 + b.rng.IntN(3) {
				b.typo(b.between(arrive, leave), b.homeDC(u), u, ws)
			}
		}
	}
}

// signIn is an interactive sign-in at the user's workstation as the DC sees it.
func (b *builder) signIn(t time.Time, dc int, u, ws *Account) {
	b.tgt(t, dc, u, u.IP, EtypeAES256, "2")
	b.tgs(t.Add(40*time.Millisecond), dc, u, ws, u.IP, EtypeAES256)
	b.tgs(t.Add(900*time.Millisecond), dc, u, b.d.DCs[dc], u.IP, EtypeAES256)
	b.logon(t.Add(1200*time.Millisecond), dc, u, 3, u.IP, "-", viaKerberos)
}

// typo is a mistyped password followed by the right one a few seconds later.
func (b *builder) typo(t time.Time, dc int, u, ws *Account) {
	if b.rng.IntN(100) < 70 {
		b.preauthFailed(t, dc, u, u.IP)
		b.signIn(b.after(t, 4*time.Second, 30*time.Second), dc, u, ws)
		return
	}
	b.ntlmValidation(t, dc, u, u.Host, "0xc000006a")
	b.logonFailed(t.Add(time.Millisecond), dc, u, u.IP, u.Host)
	ok := b.after(t, 4*time.Second, 30*time.Second)
	b.ntlmValidation(ok, dc, u, u.Host, "0x0")
	b.logon(ok.Add(time.Millisecond), dc, u, 3, u.IP, u.Host, viaNTLM)
}

// adminWork: the three administrators sign in over RDP and do routine directory changes on
// non-sensitive groups and accounts.
func (b *builder) adminWork() {
	adminLogon := func(a *Account, dc int, t time.Time, logonType int) string {
		b.tgt(t, dc, a, a.IP, EtypeAES256, "2")
		b.tgs(t.Add(300*time.Millisecond), dc, a, b.d.DCs[dc], a.IP, EtypeAES256)
		ip := a.IP
		if logonType == 2 {
			ip = "127.0.0.1"
		}
		return b.logon(t.Add(2*time.Second), dc, a, logonType, ip, a.Host, viaInteractive)
	}
	pick := func() *Account { return b.d.Users[b.rng.IntN(len(b.d.Users))] }

	// Admin 1 onboards a new hire and adds them to Marketing.
	a := b.d.Admins[0]
	t := b.at(9, 10+b.rng.IntN(40), b.rng.IntN(60))
	id := adminLogon(a, 0, t, 10)
	hire := &Account{Given: givenNames[b.rng.IntN(len(givenNames))], Surname: surnames[b.rng.IntN(len(surnames))], SID: b.d.newSID()}
	hire.Sam = b.d.freeSam(strings.ToLower(hire.Given[:1] + hire.Surname))
	t = b.after(t, 3*time.Minute, 8*time.Minute)
	b.userAccount(t, 0, 4720, a, id, hire, "%%1794")
	b.secEvent(t.Add(20*time.Millisecond), 0, 4722, false, append([]Field{
		{"TargetUserName", hire.Sam}, {"TargetDomainName", b.d.NetBIOS}, {"TargetSid", hire.SID},
	}, subject(b, a, id)...)...)
	b.userAccount(t.Add(45*time.Millisecond), 0, 4738, a, id, hire, t.Format("1/2/2006 3:04:05 PM"))
	b.memberAdded(b.after(t, time.Minute, 3*time.Minute), 0, 4728, a, id, hire, b.d.Groups[0])

	// Admin 2 resets a forgotten password.
	a = b.d.Admins[1]
	t = b.at(10, b.rng.IntN(60), b.rng.IntN(60))
	id = adminLogon(a, 1, t, 10)
	target := pick()
	t = b.after(t, 2*time.Minute, 6*time.Minute)
	b.passwordReset(t, 1, a, id, target)
	b.userAccount(t.Add(30*time.Millisecond), 1, 4738, a, id, target, t.Format("1/2/2006 3:04:05 PM"))

	// Admin 3 works at the DC02 console and grants two people project and share access.
	a = b.d.Admins[2]
	t = b.at(15, 20+b.rng.IntN(30), b.rng.IntN(60))
	id = adminLogon(a, 1, t, 2)
	b.memberAdded(b.after(t, 2*time.Minute, 5*time.Minute), 1, 4732, a, id, pick(), b.d.Groups[2])
	b.memberAdded(b.after(t, 6*time.Minute, 9*time.Minute), 1, 4756, a, id, pick(), b.d.Groups[1])
}

// fileServer: FS01's System log sees routine service state changes and one benign install.
func (b *builder) fileServer() {
	for h := 0; h < 24; h += 1 + b.rng.IntN(2) {
		t := b.at(h, b.rng.IntN(50), b.rng.IntN(60))
		name := "Windows Modules Installer"
		if b.rng.IntN(2) == 0 {
			name = "WinHTTP Web Proxy Auto-Discovery Service"
		}
		b.serviceState(t, name, "running")
		b.serviceState(b.after(t, 2*time.Minute, 9*time.Minute), name, "stopped")
	}
	t := b.at(11, b.rng.IntN(60), b.rng.IntN(60))
	b.serviceInstalled(t, "Microsoft Edge Update Service (edgeupdatem)",
		`"C:\Program Files (x86)\Microsoft\EdgeUpdate\MicrosoftEdgeUpdate.exe" /medsvc`, "demand start")
	b.serviceState(t.Add(1500*time.Millisecond), "Microsoft Edge Update Service (edgeupdatem)", "running")
}
