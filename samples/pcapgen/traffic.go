package pcapgen

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"time"
)

// Options configures Generate.
type Options struct {
	// Size is the capture size to reach in bytes (the file ends with the
	// client round that crosses it). Required.
	Size int64
	// Seed drives every choice: same seed and size, same bytes.
	Seed int64
	// Start is the capture's first timestamp; zero means
	// 2026-03-02T08:00:00Z.
	Start time.Time
}

// Stats describes a generated capture.
type Stats struct {
	Bytes, Packets int64
	// Rounds is the number of client sessions written; Conversations
	// counts TCP connections and UDP exchanges by protocol.
	Rounds        int64
	Conversations map[string]int64
}

// The estate of the generated traffic.
const (
	realm      = "LAB.TEST"
	domain     = "LAB"
	dnsDomain  = "lab.test"
	baseDN     = "DC=lab,DC=test"
	numClients = 2000
	numUsers   = 5000
)

var (
	dcAddrs = []netip.Addr{netip.MustParseAddr("10.0.0.10"), netip.MustParseAddr("10.0.0.11")}
	dcNames = []string{"DC01", "DC02"}
)

// Generate writes a capture of a busy domain controller's traffic to w:
// rounds of one workstation's logon and Group Policy refresh (DNS lookups,
// a Kerberos AS exchange with the pre-authentication round trip, service
// tickets, LDAP binds and searches, an SMB2 session with NTLMv2 reading
// SYSVOL and LSARPC calls on a pipe, Netlogon over TCP) mixed with
// application simple binds, failed logons and DRSUAPI replication between
// the two DCs, until the file reaches o.Size.
func Generate(out io.Writer, o Options) (Stats, error) {
	if o.Size <= 0 {
		return Stats{}, errors.New("pcapgen: size must be > 0")
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	}
	g := &generator{
		w:     NewWriter(out, o.Start),
		rnd:   rand.New(rand.NewPCG(uint64(o.Seed), 0x5eed)),
		ports: map[netip.Addr]uint16{},
		st:    Stats{Conversations: map[string]int64{}},
	}
	for g.w.Bytes() < o.Size {
		g.round()
		g.st.Rounds++
		if err := g.w.err; err != nil {
			return g.st, fmt.Errorf("pcapgen: write: %w", err)
		}
	}
	if err := g.w.Flush(); err != nil {
		return g.st, fmt.Errorf("pcapgen: write: %w", err)
	}
	g.st.Bytes, g.st.Packets = g.w.Bytes(), g.w.Packets()
	return g.st, nil
}

type generator struct {
	w     *Writer
	rnd   *rand.Rand
	ports map[netip.Addr]uint16
	nonce uint32
	st    Stats
}

// ep returns the next ephemeral endpoint of a client.
func (g *generator) ep(a netip.Addr) netip.AddrPort {
	p := g.ports[a]
	if p < 49152 {
		p = 49152 + uint16(g.rnd.IntN(1000))
	}
	p++
	g.ports[a] = p
	return netip.AddrPortFrom(a, p)
}

func (g *generator) nextNonce() uint32 { g.nonce += 0x9e3779b9; return g.nonce }

func clientAddr(i int) netip.Addr   { return netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}) }
func clientName(i int) string       { return fmt.Sprintf("WS%04d", i) }
func userName(i int) string         { return fmt.Sprintf("user%04d", i) }
func serviceAccount(i int) string   { return fmt.Sprintf("svc-app%02d", i) }
func (g *generator) pick(n int) int { return g.rnd.IntN(n) }

// round writes one client's session against one DC.
func (g *generator) round() {
	ci := g.pick(numClients)
	ca, host := clientAddr(ci), clientName(ci)
	d := g.pick(len(dcAddrs))
	dcA, dcN := dcAddrs[d], dcNames[d]
	user := userName(g.pick(numUsers))
	g.w.Advance(time.Duration(g.pick(2000)) * time.Microsecond)

	// DNS: locate the DC, resolve its name.
	for _, q := range []struct {
		name string
		typ  uint16
	}{{"_ldap._tcp.dc._msdcs." + dnsDomain, DNSTypeSRV}, {"_kerberos._tcp." + dnsDomain, DNSTypeSRV}, {dcN + "." + dnsDomain, DNSTypeA}, {"wpad." + dnsDomain, DNSTypeA}} {
		id := uint16(g.rnd.Uint32())
		rcode, n := RcodeNoError, 1+g.pick(2)
		if q.name[:4] == "wpad" {
			rcode, n = RcodeNXDomain, 0
		}
		g.w.Exchange(g.ep(ca), netip.AddrPortFrom(dcA, 53), DNSQuery(id, q.name, q.typ), DNSResponse(id, q.name, q.typ, rcode, n))
		g.st.Conversations["dns"]++
	}

	// Kerberos AS: the first request without pre-authentication, then the
	// real one over TCP (the reply is too big for UDP).
	kdc := netip.AddrPortFrom(dcA, 88)
	as := KDCReq{Realm: realm, Client: user, Service: "krbtgt/" + realm, Etypes: WindowsEtypes, PAC: true, Options: 0x40810010, Nonce: g.nextNonce()}
	g.w.Exchange(g.ep(ca), kdc, as.ASReq(), KRBError(KDCErrPreauthRequired, realm, "", as.Service))
	as.Preauth, as.PreauthEtype, as.Nonce = true, EtypeAES256, g.nextNonce()
	c := g.w.Dial(g.ep(ca), kdc)
	c.Request(TCPFrame(as.ASReq()), TCPFrame(KDCRep{Realm: realm, Client: user, Service: as.Service, TicketEtype: EtypeAES256, EncPartEtype: EtypeAES256}.ASRep()))
	c.Close()
	g.st.Conversations["kerberos"] += 2
	// Service tickets for the DC's services (and sometimes an application).
	spns := []string{"ldap/" + dcN + "." + dnsDomain, "cifs/" + dcN + "." + dnsDomain, "host/" + dcN + "." + dnsDomain}
	if g.pick(4) == 0 {
		spns = append(spns, "HTTP/app"+fmt.Sprint(g.pick(20))+"."+dnsDomain)
	}
	for _, spn := range spns {
		tgs := KDCReq{Realm: realm, Service: spn, Etypes: WindowsEtypes, Options: 0x40810000, Nonce: g.nextNonce()}
		c := g.w.Dial(g.ep(ca), kdc)
		c.Request(TCPFrame(tgs.TGSReq()), TCPFrame(KDCRep{Realm: realm, Client: user, Service: spn, TicketEtype: EtypeAES256, EncPartEtype: EtypeAES256}.TGSRep()))
		c.Close()
		g.st.Conversations["kerberos"]++
	}

	// LDAP: rootDSE, an NTLM SASL bind and the searches of a Group Policy
	// refresh.
	l := g.w.Dial(g.ep(ca), netip.AddrPortFrom(dcA, 389))
	l.Request(LDAPSearch(1, "", ScopeBase, "(objectClass=*)", "defaultNamingContext", "supportedSASLMechanisms", "dnsHostName"),
		append(LDAPEntry(1, "", "defaultNamingContext", baseDN, "dnsHostName", dcN+"."+dnsDomain), LDAPSearchDone(1, LDAPSuccess)...))
	l.Request(LDAPSASLBind(2, "GSS-SPNEGO", SPNEGOInit(NTLMNegotiate())), LDAPBindResponse(2, 14, ""))
	l.Request(LDAPSASLBind(3, "GSS-SPNEGO", SPNEGOResp(-1, NTLMAuthenticate(domain, host+"$", host, false))), LDAPBindResponse(3, LDAPSuccess, ""))
	l.Request(LDAPSearch(4, "CN="+host+",OU=Workstations,"+baseDN, ScopeBase, "(objectCategory=*)", "distinguishedName", "gPLink", "gPOptions"),
		append(LDAPEntry(4, "CN="+host+",OU=Workstations,"+baseDN, "gPLink", "[LDAP://cn={31B2F340-016D-11D2-945F-00C04FB984F9},cn=policies,cn=system,"+baseDN+";0]"), LDAPSearchDone(4, LDAPSuccess)...))
	l.Request(LDAPSearch(5, "CN=Policies,CN=System,"+baseDN, ScopeOne, "(&(objectClass=groupPolicyContainer)(!(flags:1.2.840.113556.1.4.803:=1)))", "displayName", "gPCFileSysPath", "versionNumber"),
		append(LDAPEntry(5, "CN={31B2F340-016D-11D2-945F-00C04FB984F9},CN=Policies,CN=System,"+baseDN, "gPCFileSysPath", `\\lab.test\SysVol\lab.test\Policies\{31B2F340-016D-11D2-945F-00C04FB984F9}`), LDAPSearchDone(5, LDAPSuccess)...))
	l.Send(true, LDAPUnbind(6))
	l.Close()
	g.st.Conversations["ldap"]++

	// SMB2: NTLMv2 session, SYSVOL policy files.
	s := g.w.SMB(g.ep(ca), netip.AddrPortFrom(dcA, 445))
	s.Login(domain, user, host, dcN, false, StatusSuccess)
	s.TreeConnect(`\\` + dcN + `\SYSVOL`)
	s.ReadFile(`lab.test\Policies\{31B2F340-016D-11D2-945F-00C04FB984F9}\GPT.INI`, 23+g.pick(40))
	s.ReadFile(`lab.test\Policies\{31B2F340-016D-11D2-945F-00C04FB984F9}\Machine\Registry.pol`, 2048+g.pick(30<<10))
	// Name lookups over \PIPE\lsarpc (Group Policy security filtering).
	s.TreeConnect(`\\` + dcN + `\IPC$`)
	s.RPCOverPipe("lsarpc", IfLSARPC, RPCCall{Opnum: 44, ReqSize: 60, RespSize: 24}, RPCCall{Opnum: 76, ReqSize: 180, RespSize: 320},
		RPCCall{Opnum: 0, ReqSize: 24, RespSize: 24})
	s.End()
	g.st.Conversations["smb2"]++

	// Netlogon: the workstation's secure channel (NetrLogonSamLogonEx of
	// a network logon) over TCP.
	if g.pick(3) == 0 {
		g.w.RPCOverTCP(g.ep(ca), netip.AddrPortFrom(dcA, 49668), IfNetlogon, RPCCall{Opnum: 39, ReqSize: 420, RespSize: 680})
		g.st.Conversations["dcerpc"]++
	}
	// Replication between the DCs: DRSGetNCChanges pulling changes.
	if g.st.Rounds%20 == 0 {
		src, dst := dcAddrs[1-d], dcA
		g.w.RPCOverTCP(g.ep(src), netip.AddrPortFrom(dst, 49667), IfDRSUAPI, RPCCall{Opnum: 0, ReqSize: 60, RespSize: 80},
			RPCCall{Opnum: 3, ReqSize: 180, RespSize: 16<<10 + g.pick(48<<10)}, RPCCall{Opnum: 1, ReqSize: 24, RespSize: 28})
		g.st.Conversations["dcerpc"]++
	}

	// Applications: a simple bind and search, or a failed NTLM logon.
	switch g.pick(8) {
	case 0:
		app := netip.AddrFrom4([4]byte{10, 2, 0, byte(1 + g.pick(20))})
		svc := serviceAccount(g.pick(20))
		l := g.w.Dial(g.ep(app), netip.AddrPortFrom(dcA, 389))
		l.Request(LDAPSimpleBind(1, "CN="+svc+",OU=Service Accounts,"+baseDN, "AppPassw0rd!"), LDAPBindResponse(1, LDAPSuccess, ""))
		l.Request(LDAPSearch(2, "OU=People,"+baseDN, ScopeSub, "(&(objectClass=user)(sAMAccountName="+user+"))", "mail", "displayName", "memberOf"),
			append(LDAPEntry(2, "CN="+user+",OU=People,"+baseDN, "mail", user+"@lab.test", "displayName", user), LDAPSearchDone(2, LDAPSuccess)...))
		l.Close()
		g.st.Conversations["ldap"]++
	case 1:
		s := g.w.SMB(g.ep(ca), netip.AddrPortFrom(dcA, 445))
		s.Login(domain, user, host, dcN, false, StatusLogonFailure)
		s.End()
		g.st.Conversations["smb2"]++
	}
}
