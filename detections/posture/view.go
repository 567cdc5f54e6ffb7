package posture

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/mappings/directory"
)

// view is a snapshot with the lookups the checks share: principals by SID
// and by DN, and which SIDs are privileged.
type view struct {
	s         *directory.Snapshot
	now       time.Time
	domainSID string
	bySID     map[string]*principal
	byDN      map[string]*principal // lower-case DN
	byDNExact map[string]*principal // DN as written
	dcHosts   map[string]bool       // lower-case host names (short and DNS) of DCs

	// Memoized per SID: checks ask about the same principals many times.
	tier0Memo, privMemo map[string]bool
	groupsMemo          map[string][]string
}

// principal is a user, computer or group of the snapshot.
type principal struct {
	sid, dn, name string
	account       *directory.Account  // users and computers
	computer      *directory.Computer // computers
	group         *directory.Group    // groups
}

func newView(s *directory.Snapshot, now time.Time) *view {
	v := &view{s: s, now: now, domainSID: s.Domain.SID, bySID: map[string]*principal{}, byDN: map[string]*principal{}, byDNExact: map[string]*principal{}, dcHosts: map[string]bool{},
		tier0Memo: map[string]bool{}, privMemo: map[string]bool{}, groupsMemo: map[string][]string{}}
	add := func(p *principal) {
		if p.sid != "" {
			v.bySID[p.sid] = p
		}
		if p.dn != "" {
			v.byDN[strings.ToLower(p.dn)] = p
			v.byDNExact[p.dn] = p
		}
	}
	for i := range s.Users {
		a := &s.Users[i].Account
		add(&principal{sid: a.SID, dn: a.DN, name: a.SAMAccountName, account: a})
	}
	for i := range s.Computers {
		c := &s.Computers[i]
		add(&principal{sid: c.SID, dn: c.DN, name: c.SAMAccountName, account: &c.Account, computer: c})
		if c.IsDC {
			name := strings.ToLower(strings.TrimSuffix(c.SAMAccountName, "$"))
			v.dcHosts[name] = true
			if c.DNSHostName != "" {
				v.dcHosts[strings.ToLower(c.DNSHostName)] = true
			}
		}
	}
	for i := range s.Groups {
		g := &s.Groups[i]
		add(&principal{sid: g.SID, dn: g.DN, name: g.Name, group: g})
	}
	return v
}

// has reports the snapshot holds the part an assessment needs.
func (v *view) has(n Needs) bool {
	switch n {
	case NeedsADCS:
		return v.s.Domain.DN != "" && (len(v.s.CertTemplates) > 0 || len(v.s.EnrollmentServices) > 0)
	case NeedsEntra:
		return v.s.Entra != nil
	default:
		return v.s.Domain.DN != ""
	}
}

func (v *view) domainName() string {
	if v.s.Domain.DNSName != "" {
		return v.s.Domain.DNSName
	}
	return v.s.Domain.DN
}

func domainDN(s *directory.Snapshot) string { return s.Domain.DN }

// tier0RIDs are the domain groups (and accounts) that control the domain.
var tier0RIDs = []uint32{
	directory.RidAdministrator, directory.RidDomainAdmins, directory.RidDomainControllers,
	directory.RidSchemaAdmins, directory.RidEnterpriseAdmins, directory.RidEnterpriseReadOnlyDCs,
	directory.RidReadOnlyDCs, directory.RidKeyAdmins, directory.RidEnterpriseKeyAdmins,
}

// tier0SIDs are well-known SIDs that control the domain.
var tier0SIDs = []string{directory.SIDSystem, directory.SIDBuiltinAdministrators, directory.SIDEnterpriseDCs}

// operatorSIDs are the built-in operator groups: privileged, not admins.
var operatorSIDs = []string{directory.SIDAccountOperators, directory.SIDServerOperators, directory.SIDPrintOperators, directory.SIDBackupOperators}

// isTier0Group reports a SID that is itself a tier-0 principal.
func (v *view) isTier0Direct(sid string) bool {
	if slices.Contains(tier0SIDs, sid) {
		return true
	}
	d := directory.DomainOf(sid)
	if d == "" || (v.domainSID != "" && d != v.domainSID) {
		// Another domain of the forest: Enterprise Admins and Schema Admins
		// live in the root domain.
		if d != "" {
			r := directory.RID(sid)
			return r == directory.RidEnterpriseAdmins || r == directory.RidSchemaAdmins || r == directory.RidEnterpriseKeyAdmins
		}
		return false
	}
	return slices.Contains(tier0RIDs, directory.RID(sid))
}

// groupsOf returns the effective groups (SIDs) of a principal.
func (v *view) groupsOf(p *principal) []string {
	key := p.sid
	if key == "" {
		key = "dn:" + p.dn
	}
	if g, ok := v.groupsMemo[key]; ok {
		return g
	}
	g := v.resolveGroups(p)
	v.groupsMemo[key] = g
	return g
}

func (v *view) resolveGroups(p *principal) []string {
	var dns []string
	switch {
	case p.account != nil:
		dns = p.account.EffectiveGroups
	case p.group != nil:
		dns = p.group.EffectiveGroups
	}
	out := make([]string, 0, len(dns))
	for _, dn := range dns {
		g := v.byDNExact[dn]
		if g == nil {
			g = v.byDN[strings.ToLower(dn)]
		}
		if g != nil && g.sid != "" {
			out = append(out, g.sid)
		}
	}
	return out
}

// tier0 reports a SID that controls the domain: a tier-0 well-known
// principal or group, or a member (through nesting) of one.
func (v *view) tier0(sid string) bool {
	if r, ok := v.tier0Memo[sid]; ok {
		return r
	}
	r := v.isTier0Direct(sid)
	if p := v.bySID[sid]; !r && p != nil {
		r = slices.ContainsFunc(v.groupsOf(p), v.isTier0Direct)
	}
	v.tier0Memo[sid] = r
	return r
}

// privileged reports a tier-0 SID or a member of a built-in operator group
// (or of any group the snapshot marks privileged).
func (v *view) privileged(sid string) bool {
	if r, ok := v.privMemo[sid]; ok {
		return r
	}
	r := v.privilegedUncached(sid)
	v.privMemo[sid] = r
	return r
}

func (v *view) privilegedUncached(sid string) bool {
	if v.tier0(sid) || slices.Contains(operatorSIDs, sid) || v.s.PrivilegedSID(sid) {
		return true
	}
	p := v.bySID[sid]
	if p == nil {
		return false
	}
	if p.account != nil && p.account.Privileged() {
		return true
	}
	if p.group != nil && p.group.Privileged != "" {
		return true
	}
	return slices.ContainsFunc(v.groupsOf(p), func(g string) bool {
		if slices.Contains(operatorSIDs, g) {
			return true
		}
		gp := v.bySID[g]
		return gp != nil && gp.group != nil && gp.group.Privileged != ""
	})
}

// accountPrivileged reports an account is privileged (see privileged).
func (v *view) accountPrivileged(a *directory.Account) bool {
	return a.Privileged() || v.privileged(a.SID)
}

// sensitive reports an account an attacker must not reach through
// delegation: a DC, krbtgt, or a privileged account.
func (v *view) sensitive(a *directory.Account) bool {
	if a.UAC.ServerTrust() || a.PrimaryGroupID == directory.RidDomainControllers || a.PrimaryGroupID == directory.RidReadOnlyDCs {
		return true
	}
	if a.RID() == directory.RidKrbtgt {
		return true
	}
	return v.accountPrivileged(a)
}

// inGroup reports an account belongs (through nesting) to the domain
// group with a RID or to a builtin SID.
func (v *view) inGroup(a *directory.Account, sid string) bool {
	p := v.bySID[a.SID]
	if p == nil {
		p = &principal{sid: a.SID, dn: a.DN, account: a}
	}
	return slices.Contains(v.groupsOf(p), sid)
}

// domainSIDOf returns the SID of a domain RID.
func (v *view) ridSID(rid uint32) string { return fmt.Sprintf("%s-%d", v.domainSID, rid) }

// name labels a SID for evidence: "LAB\\name (S-1-…)" or the well-known name.
func (v *view) name(sid string) string {
	if n := directory.WellKnownSIDName(sid); n != "" {
		return n + " (" + sid + ")"
	}
	if p := v.bySID[sid]; p != nil && p.name != "" {
		return p.name + " (" + sid + ")"
	}
	return sid
}

// entity is the entity string of a SID: the principal's DN when known,
// else the well-known name or the SID.
func (v *view) entity(sid string) string {
	if p := v.bySID[sid]; p != nil && p.dn != "" {
		return p.dn
	}
	if n := directory.WellKnownSIDName(sid); n != "" {
		return n + " (" + sid + ")"
	}
	return sid
}

// accounts calls fn for every user and computer account.
func (v *view) accounts(fn func(a *directory.Account, c *directory.Computer)) {
	for i := range v.s.Users {
		fn(&v.s.Users[i].Account, nil)
	}
	for i := range v.s.Computers {
		fn(&v.s.Computers[i].Account, &v.s.Computers[i])
	}
}

// isDC reports a domain controller account.
func isDC(a *directory.Account, c *directory.Computer) bool {
	return (c != nil && c.IsDC) || a.UAC.ServerTrust() || a.UAC.Has(directory.UACPartialSecretsAccount)
}

// age is how long ago t was, from the reference time.
func (v *view) age(t time.Time) time.Duration { return v.now.Sub(t) }

// days formats a duration in whole days.
func days(d time.Duration) string { return fmt.Sprintf("%d days", int(d.Hours()/24)) }

// date formats a time for evidence.
func date(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02")
}

// uacEvidence is "userAccountControl 0x80000 (TRUSTED_FOR_DELEGATION) on DN".
func uacEvidence(a *directory.Account, bit directory.UAC) string {
	return fmt.Sprintf("userAccountControl 0x%X (%s) on %s; full value 0x%X (%s)", uint32(bit), bit, a.DN, uint32(a.UAC), a.UAC)
}

// spnHost returns the lower-case host of an SPN "service/host[:port][/name]".
func spnHost(spn string) string {
	_, rest, ok := strings.Cut(spn, "/")
	if !ok {
		return ""
	}
	host, _, _ := strings.Cut(rest, "/")
	host, _, _ = strings.Cut(host, ":")
	return strings.ToLower(host)
}

// spnTargetsDC reports an SPN whose host is a DC.
func (v *view) spnTargetsDC(spn string) bool {
	h := spnHost(spn)
	if h == "" {
		return false
	}
	if v.dcHosts[h] {
		return true
	}
	short, _, _ := strings.Cut(h, ".")
	return v.dcHosts[short]
}

// aclTrusted reports a principal that may hold control of a tier-0 object
// (AdminSDHolder, a GPO, a certificate template): a tier-0 principal, or
// the placeholders CREATOR OWNER and SELF. Members of operator groups,
// DnsAdmins or Group Policy Creator Owners are privileged but not trusted
// with that control.
func (v *view) aclTrusted(sid string) bool {
	return v.tier0(sid) || sid == directory.SIDCreatorOwner || sid == directory.SIDPrincipalSelf
}
