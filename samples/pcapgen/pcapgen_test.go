package pcapgen

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/connector/sources/netsensor"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

var (
	dc     = netip.MustParseAddr("10.0.0.10")
	client = netip.MustParseAddr("10.0.5.66")
	t0     = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
)

func ap(a netip.Addr, p uint16) netip.AddrPort { return netip.AddrPortFrom(a, p) }

// replay decodes a capture with the network sensor.
func replay(t *testing.T, b []byte) []schema.Event {
	t.Helper()
	var evs []schema.Event
	st, err := netsensor.Read(bytes.NewReader(b), func(ev schema.Event) { evs = append(evs, ev) }, netsensor.Options{})
	if err != nil || st.Damage != "" {
		t.Fatalf("read: %v %q", err, st.Damage)
	}
	if st.Dissect.Malformed != 0 {
		t.Errorf("%d malformed messages", st.Dissect.Malformed)
	}
	return evs
}

// TestBuildersDissect writes one conversation of each protocol and checks
// the sensor decodes every field the rules use.
func TestBuildersDissect(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, t0)
	kdc := ap(dc, 88)
	req := KDCReq{Realm: "LAB.TEST", Client: "alice", Service: "krbtgt/LAB.TEST", Etypes: []int32{EtypeRC4}, Nonce: 7, Options: 0x40810010}
	w.Exchange(ap(client, 50001), kdc, req.ASReq(), KRBError(KDCErrPreauthRequired, "LAB.TEST", "", "krbtgt/LAB.TEST"))
	req.Preauth, req.PreauthEtype = true, EtypeRC4
	c := w.Dial(ap(client, 50002), kdc)
	c.Request(TCPFrame(req.ASReq()), TCPFrame(KDCRep{Realm: "LAB.TEST", Client: "alice", Service: "krbtgt/LAB.TEST", TicketEtype: EtypeAES256, EncPartEtype: EtypeRC4}.ASRep()))
	c.Close()
	tgs := KDCReq{Realm: "LAB.TEST", Service: "MSSQLSvc/sql01.lab.test:1433", Etypes: []int32{EtypeRC4}, Nonce: 8}
	w.Exchange(ap(client, 50003), kdc, tgs.TGSReq(), KDCRep{Realm: "LAB.TEST", Client: "alice", Service: tgs.Service, TicketEtype: EtypeRC4, EncPartEtype: EtypeRC4}.TGSRep())
	l := w.Dial(ap(client, 50004), ap(dc, 389))
	l.Request(LDAPSimpleBind(1, "alice@lab.test", "Secret1!"), LDAPBindResponse(1, LDAPSuccess, ""))
	l.Request(LDAPSearch(2, "DC=lab,DC=test", ScopeSub, "(&(objectCategory=person)(servicePrincipalName=*)(!(cn=krbtgt))(userAccountControl:1.2.840.113556.1.4.803:=512)(name=svc*))", "servicePrincipalName"),
		append(LDAPEntry(2, "CN=svc,DC=lab,DC=test", "servicePrincipalName", "MSSQLSvc/sql01"), LDAPSearchDone(2, LDAPSuccess)...))
	l.Send(true, LDAPUnbind(3))
	l.Close()
	s := w.SMB(ap(client, 50005), ap(dc, 445))
	s.Login("LAB", "bob", "WS01", "DC01", true, StatusLogonFailure)
	s.End()
	w.Exchange(ap(client, 50006), ap(dc, 53), DNSQuery(9, "_ldap._tcp.dc._msdcs.lab.test", DNSTypeSRV), DNSResponse(9, "_ldap._tcp.dc._msdcs.lab.test", DNSTypeSRV, RcodeNoError, 1))
	d := w.Dial(ap(client, 50007), ap(dc, 53))
	d.Request(DNSTCP(DNSQuery(10, "lab.test", DNSTypeAXFR)), DNSTCP(DNSResponse(10, "lab.test", DNSTypeAXFR, RcodeNoError, 20)))
	d.Close()
	w.RPCOverTCP(ap(client, 50008), ap(dc, 49667), IfDRSUAPI, RPCCall{Opnum: 0, ReqSize: 60, RespSize: 80}, RPCCall{Opnum: 3, ReqSize: 200, RespSize: 20000})
	p := w.SMB(ap(client, 50009), ap(dc, 445))
	p.Login("LAB", "carol", "WS02", "DC01", false, StatusSuccess)
	p.TreeConnect(`\\DC01\IPC$`)
	p.RPCOverPipe("srvsvc", IfSRVSVC, RPCCall{Opnum: 12, ReqSize: 40, RespSize: 300})
	p.RPCOverPipe("samr", IfSAMR, RPCCall{Opnum: 64, ReqSize: 40, RespSize: 30}, RPCCall{Opnum: 13, ReqSize: 40, RespSize: 900, Status: 0x105},
		RPCCall{Opnum: 25, ReqSize: 20, Fault: 5})
	p.End()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	evs := replay(t, buf.Bytes())
	got := map[string]schema.Event{}
	for _, ev := range evs {
		code := ev.Event.Code
		switch ev.Event.Kind {
		case schema.KindNTLMAuth:
			code = ev.User.Name
		case schema.KindRPCCall:
			code = ev.RPC.Operation
		case schema.KindDNSQuery:
			code = ev.DNS.Question.Type
		}
		got[string(ev.Event.Kind)+"/"+code] = ev
		t.Logf("%s %s %s user=%s svc=%s etype=%s pre=%s fail=%s rpc=%+v dns=%+v", ev.Event.Kind, ev.Event.Code, ev.Event.Outcome, ev.User.Name, ev.Target.Service, ev.Auth.Kerberos.Etype, ev.Auth.Kerberos.PreauthType, ev.Auth.FailureCode, ev.RPC, ev.DNS)
	}
	check := func(key string, f func(schema.Event) bool) {
		t.Helper()
		ev, ok := got[key]
		if !ok {
			t.Errorf("no %s event", key)
		} else if !f(ev) {
			t.Errorf("%s: unexpected %+v", key, ev)
		}
	}
	check("kerberos_tgt/KRB-ERROR", func(e schema.Event) bool {
		return e.User.Name == "alice" && e.Auth.FailureCode == "0x19" && e.Auth.Kerberos.PreauthType == "0" && e.Original["RequestedEtypes"] == "23"
	})
	check("kerberos_tgt/AS-REP", func(e schema.Event) bool {
		return e.Event.Outcome == "success" && e.Auth.Kerberos.PreauthType == "2" && e.Auth.Kerberos.Etype == "rc4-hmac"
	})
	check("kerberos_service_ticket/TGS-REP", func(e schema.Event) bool {
		return e.User.Name == "alice" && e.Target.Service == "MSSQLSvc/sql01.lab.test:1433" && e.Auth.Kerberos.Etype == "rc4-hmac"
	})
	check("ldap_bind/ldap", func(e schema.Event) bool { return e.Original["cleartext"] == "true" && e.User.Name == "alice" })
	check("ldap_search/ldap", func(e schema.Event) bool {
		return e.Original["Filter"] == "(&(objectCategory=person)(servicePrincipalName=*)(!(cn=krbtgt))(userAccountControl:1.2.840.113556.1.4.803:=512)(name=svc*))" &&
			e.Original["Entries"] == "1"
	})
	check("ntlm_auth/bob", func(e schema.Event) bool {
		return e.User.Name == "bob" && e.Auth.NTLM.Version == "v1" && e.Auth.FailureCode == "0xc000006d"
	})
	check("rpc_call/DRSGetNCChanges", func(e schema.Event) bool {
		return e.RPC.Interface == "drsuapi" && e.RPC.Transport == "tcp" && e.Event.Outcome == "success" && e.Destination.Port == 49667
	})
	check("rpc_call/NetrSessionEnum", func(e schema.Event) bool {
		return e.RPC.Pipe == "srvsvc" && e.RPC.Transport == "smb" && e.User.Name == "carol"
	})
	check("rpc_call/SamrEnumerateUsersInDomain", func(e schema.Event) bool { return e.RPC.ReturnValue == "0x00000105" })
	check("rpc_call/SamrGetMembersInGroup", func(e schema.Event) bool { return e.Event.Outcome == "failure" && e.RPC.Status == "0x00000005" })
	check("dns_query/AXFR", func(e schema.Event) bool {
		return e.DNS.ZoneTransfer && e.DNS.AnswersCount == 20 && e.DNS.Question.Name == "lab.test"
	})
	check("dns_query/SRV", func(e schema.Event) bool { return e.DNS.ResponseCode == "NOERROR" && e.Source.Port == 50006 })
}

func TestGenerate(t *testing.T) {
	const size = 2 << 20
	var a, b bytes.Buffer
	st, err := Generate(&a, Options{Size: size, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(&b, Options{Size: size, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same options gave different captures")
	}
	if st.Bytes != int64(a.Len()) || st.Bytes < size || st.Bytes > size+256<<10 {
		t.Fatalf("wrote %d bytes (stats %d) for a %d target", a.Len(), st.Bytes, size)
	}
	var c bytes.Buffer
	if _, err := Generate(&c, Options{Size: size, Seed: 8}); err != nil || bytes.Equal(a.Bytes()[:1<<20], c.Bytes()[:1<<20]) {
		t.Fatalf("another seed gave the same capture (%v)", err)
	}
	kinds := map[schema.EventKind]int{}
	for _, ev := range replay(t, a.Bytes()) {
		kinds[ev.Event.Kind]++
	}
	rounds := int(st.Rounds)
	for k, min := range map[schema.EventKind]int{schema.KindKerberosTGT: 2 * rounds, schema.KindKerberosServiceTicket: 3 * rounds,
		schema.KindLDAPSearch: 3 * rounds, schema.KindNTLMAuth: 2 * rounds, schema.KindDNSQuery: 4 * rounds, schema.KindRPCCall: 3 * rounds} {
		if kinds[k] < min {
			t.Errorf("%s: %d events for %d rounds, want >= %d", k, kinds[k], rounds, min)
		}
	}
	if _, err := Generate(&c, Options{}); err == nil {
		t.Error("zero size accepted")
	}
}

// TestFilterEncoding checks the RFC 4515 encoder on the filter shapes the
// rule samples use, and its errors.
func TestFilterEncoding(t *testing.T) {
	for _, f := range []string{"(objectClass=*)", "(&(a=b)(|(c>=1)(d<=2))(!(e~=f)))", "(cn=ab*cd*ef)", "(cn=*x)",
		"(userAccountControl:1.2.840.113556.1.4.803:=4194304)", "(memberOf:1.2.840.113556.1.4.1941:=CN=Domain Admins,CN=Users,DC=lab,DC=test)"} {
		if _, err := EncodeFilter(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, f := range []string{"", "objectClass=*", "(cn=a", "(&(cn=a)", "(cn=a))", "(=a)"} {
		if _, err := EncodeFilter(f); err == nil {
			t.Errorf("%q encoded without error", f)
		}
	}
}
