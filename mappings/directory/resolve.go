package directory

import (
	"sort"
	"strconv"
	"strings"
)

// Privileged group names, as used in Account.PrivilegedGroups and
// Group.Privileged.
const (
	PrivDomainAdmins       = "Domain Admins"
	PrivEnterpriseAdmins   = "Enterprise Admins"
	PrivSchemaAdmins       = "Schema Admins"
	PrivAdministrators     = "Administrators"
	PrivAccountOperators   = "Account Operators"
	PrivServerOperators    = "Server Operators"
	PrivPrintOperators     = "Print Operators"
	PrivBackupOperators    = "Backup Operators"
	PrivReplicator         = "Replicator"
	PrivDomainControllers  = "Domain Controllers"
	PrivReadOnlyDCs        = "Read-only Domain Controllers"
	PrivEnterpriseRODCs    = "Enterprise Read-only Domain Controllers"
	PrivKeyAdmins          = "Key Admins"
	PrivEnterpriseKeyAdmin = "Enterprise Key Admins"
	PrivGPCreatorOwners    = "Group Policy Creator Owners"
	PrivDnsAdmins          = "DnsAdmins"
)

// PrivilegedGroupName returns the privileged-group name for a group, or ""
// for an ordinary group. Privileged are the groups AdminSDHolder protects
// (MS-ADTS 3.1.1.6.1.2: Administrators, Account/Server/Print/Backup
// Operators, Replicator, Domain Admins, Enterprise Admins, Schema Admins,
// Domain Controllers, Read-only DCs, Enterprise Read-only DCs, Key Admins,
// Enterprise Key Admins) plus Group Policy Creator Owners and DnsAdmins,
// which grant a path to domain control. Domain groups match by RID in any
// domain (Enterprise and Schema Admins live in the forest root); DnsAdmins
// has no fixed RID and matches by name.
func PrivilegedGroupName(sid, name string) string {
	switch sid {
	case SIDBuiltinAdministrators:
		return PrivAdministrators
	case SIDAccountOperators:
		return PrivAccountOperators
	case SIDServerOperators:
		return PrivServerOperators
	case SIDPrintOperators:
		return PrivPrintOperators
	case SIDBackupOperators:
		return PrivBackupOperators
	case "S-1-5-32-552":
		return PrivReplicator
	}
	if strings.HasPrefix(sid, "S-1-5-21-") {
		switch RID(sid) {
		case RidDomainAdmins:
			return PrivDomainAdmins
		case RidEnterpriseAdmins:
			return PrivEnterpriseAdmins
		case RidSchemaAdmins:
			return PrivSchemaAdmins
		case RidDomainControllers:
			return PrivDomainControllers
		case RidReadOnlyDCs:
			return PrivReadOnlyDCs
		case RidEnterpriseReadOnlyDCs:
			return PrivEnterpriseRODCs
		case RidKeyAdmins:
			return PrivKeyAdmins
		case RidEnterpriseKeyAdmins:
			return PrivEnterpriseKeyAdmin
		case RidGroupPolicyCreatorOwners:
			return PrivGPCreatorOwners
		}
	}
	if strings.EqualFold(name, "DnsAdmins") {
		return PrivDnsAdmins
	}
	return ""
}

// index maps DNs and SIDs to objects; built by Resolve.
type index struct {
	users     map[string]int // lower-case DN → Users index
	computers map[string]int
	groups    map[string]int
	bySID     map[string]string // SID → display name
	dnBySID   map[string]string
}

// Resolve computes the derived fields: EffectiveGroups and
// PrivilegedGroups of every account and group, EffectiveMembers and
// Privileged of every group, GPO LinkedTo from the domain's GPLinks, and
// TrusteeName/OwnerName of every ACE in the snapshot. It follows nested
// membership through the member attributes (and primary groups), is safe
// against cycles, and may be called again after the snapshot changes.
func (s *Snapshot) Resolve() {
	ix := &index{
		users: map[string]int{}, computers: map[string]int{}, groups: map[string]int{},
		bySID: map[string]string{}, dnBySID: map[string]string{},
	}
	s.index = ix
	primary := map[string]string{} // group SID → group DN (for primaryGroupID)
	for i := range s.Groups {
		g := &s.Groups[i]
		ix.groups[strings.ToLower(g.DN)] = i
		g.Privileged = PrivilegedGroupName(g.SID, g.Name)
		if g.SID != "" {
			ix.bySID[g.SID] = g.Name
			ix.dnBySID[g.SID] = g.DN
			primary[g.SID] = g.DN
		}
	}
	for i := range s.Users {
		u := &s.Users[i]
		ix.users[strings.ToLower(u.DN)] = i
		if u.SID != "" {
			ix.bySID[u.SID] = u.SAMAccountName
			ix.dnBySID[u.SID] = u.DN
		}
	}
	for i := range s.Computers {
		c := &s.Computers[i]
		ix.computers[strings.ToLower(c.DN)] = i
		if c.SID != "" {
			ix.bySID[c.SID] = c.SAMAccountName
			ix.dnBySID[c.SID] = c.DN
		}
	}
	for _, t := range s.Trusts {
		if t.SID != "" {
			ix.bySID[t.SID] = t.FlatName
		}
	}

	// parents[group DN] = groups that list it as member (edges of the
	// nesting graph, from the member attributes, which are authoritative;
	// memberOf is used too for groups outside the snapshot's view).
	parents := map[string][]string{}
	addEdge := func(child, parent string) {
		c, p := strings.ToLower(child), strings.ToLower(parent)
		for _, x := range parents[c] {
			if x == p {
				return
			}
		}
		parents[c] = append(parents[c], p)
	}
	for _, g := range s.Groups {
		for _, m := range g.Members {
			addEdge(m, g.DN)
		}
	}
	domainPrefix := s.Domain.SID
	primaryDN := func(a *Account) string {
		if a.PrimaryGroupID == 0 || domainPrefix == "" {
			return ""
		}
		return primary[domainPrefix+"-"+strconv.FormatUint(uint64(a.PrimaryGroupID), 10)]
	}
	for i := range s.Users {
		for _, p := range s.Users[i].MemberOf {
			addEdge(s.Users[i].DN, p)
		}
	}
	for i := range s.Computers {
		for _, p := range s.Computers[i].MemberOf {
			addEdge(s.Computers[i].DN, p)
		}
	}
	for i := range s.Groups {
		for _, p := range s.Groups[i].MemberOf {
			addEdge(s.Groups[i].DN, p)
		}
	}

	// up returns the lower-case DNs of every group above group g
	// (excluding g itself, even when a cycle leads back to it), computed
	// once per group by a breadth-first walk that visits each group once.
	memo := map[string][]string{}
	up := func(g string) []string {
		if v, ok := memo[g]; ok {
			return v
		}
		seen := map[string]bool{g: true}
		var out []string
		queue := append([]string(nil), parents[g]...)
		for len(queue) > 0 {
			dn := queue[0]
			queue = queue[1:]
			if seen[dn] {
				continue
			}
			seen[dn] = true
			out = append(out, dn)
			queue = append(queue, parents[dn]...)
		}
		memo[g] = out
		return out
	}
	// closure is every group reachable from the start groups, start
	// included.
	closure := func(start []string) []string {
		seen := map[string]bool{}
		var out []string
		add := func(dn string) {
			if !seen[dn] {
				seen[dn] = true
				out = append(out, dn)
			}
		}
		for _, g := range start {
			add(g)
			for _, x := range up(g) {
				add(x)
			}
		}
		return out
	}
	canonical := func(lower []string) []string {
		out := make([]string, 0, len(lower))
		for _, dn := range lower {
			if i, ok := ix.groups[dn]; ok {
				out = append(out, s.Groups[i].DN)
			} else {
				out = append(out, dn) // a group outside the snapshot
			}
		}
		sort.Strings(out)
		return out
	}
	privOf := func(dns []string) []string {
		set := map[string]bool{}
		for _, dn := range dns {
			if i, ok := ix.groups[strings.ToLower(dn)]; ok && s.Groups[i].Privileged != "" {
				set[s.Groups[i].Privileged] = true
			}
		}
		out := make([]string, 0, len(set))
		for n := range set {
			out = append(out, n)
		}
		sort.Strings(out)
		return out
	}
	members := map[string]map[string]bool{} // group lower DN → member DNs
	account := func(a *Account) {
		start := append([]string(nil), parents[strings.ToLower(a.DN)]...)
		if p := primaryDN(a); p != "" {
			start = append(start, strings.ToLower(p))
		}
		groups := closure(start)
		a.EffectiveGroups = canonical(groups)
		a.PrivilegedGroups = privOf(a.EffectiveGroups)
		for _, g := range groups {
			if members[g] == nil {
				members[g] = map[string]bool{}
			}
			members[g][a.DN] = true
		}
	}
	for i := range s.Users {
		account(&s.Users[i].Account)
	}
	for i := range s.Computers {
		account(&s.Computers[i].Account)
	}
	// Non-group members outside the snapshot (foreign security principals)
	// still count as effective members of every group above them.
	for _, g := range s.Groups {
		for _, m := range g.Members {
			lm := strings.ToLower(m)
			if _, isGroup := ix.groups[lm]; isGroup {
				continue
			}
			if _, ok := ix.users[lm]; ok {
				continue
			}
			if _, ok := ix.computers[lm]; ok {
				continue
			}
			for _, p := range closure(parents[lm]) {
				if members[p] == nil {
					members[p] = map[string]bool{}
				}
				members[p][m] = true
			}
		}
	}
	for i := range s.Groups {
		g := &s.Groups[i]
		g.EffectiveGroups = canonical(up(strings.ToLower(g.DN)))
		g.EffectiveMembers = g.EffectiveMembers[:0]
		for m := range members[strings.ToLower(g.DN)] {
			g.EffectiveMembers = append(g.EffectiveMembers, m)
		}
		sort.Strings(g.EffectiveMembers)
		if len(g.EffectiveMembers) == 0 {
			g.EffectiveMembers = nil
		}
	}

	// GPO links.
	gpoByDN := map[string]int{}
	for i := range s.GPOs {
		gpoByDN[strings.ToLower(s.GPOs[i].DN)] = i
	}
	for _, l := range s.Domain.GPLinks {
		if i, ok := gpoByDN[strings.ToLower(l.GPODN)]; ok && !containsFold(s.GPOs[i].LinkedTo, s.Domain.DN) {
			s.GPOs[i].LinkedTo = append(s.GPOs[i].LinkedTo, s.Domain.DN)
		}
	}

	// Trustee names.
	name := s.SIDName
	names := func(sd *SecurityDescriptor) {
		if sd == nil {
			return
		}
		sd.OwnerName = name(sd.Owner)
		for i := range sd.DACL {
			sd.DACL[i].TrusteeName = name(sd.DACL[i].Trustee)
		}
		for i := range sd.SACL {
			sd.SACL[i].TrusteeName = name(sd.SACL[i].Trustee)
		}
	}
	names(s.Domain.ACL)
	names(s.Domain.AdminSDHolder)
	for i := range s.GPOs {
		names(s.GPOs[i].ACL)
	}
	for i := range s.CertTemplates {
		names(s.CertTemplates[i].ACL)
	}
	for i := range s.EnrollmentServices {
		names(s.EnrollmentServices[i].ACL)
	}
	for i := range s.Users {
		names(s.Users[i].AllowedToActOnBehalf)
	}
	for i := range s.Computers {
		names(s.Computers[i].AllowedToActOnBehalf)
	}
}

// SIDName names a SID: a principal in the snapshot by sAMAccountName, else
// a well-known SID, else "".
func (s *Snapshot) SIDName(sid string) string {
	if sid == "" {
		return ""
	}
	if s.index != nil {
		if n, ok := s.index.bySID[sid]; ok {
			return n
		}
	}
	return WellKnownSIDName(sid)
}

// User returns the user with this DN, SID or sAMAccountName (case
// insensitive), or nil. Call Resolve first for DN lookups to be fast.
func (s *Snapshot) User(key string) *User {
	if s.index != nil {
		if i, ok := s.index.users[strings.ToLower(key)]; ok {
			return &s.Users[i]
		}
	}
	for i := range s.Users {
		u := &s.Users[i]
		if strings.EqualFold(u.DN, key) || u.SID == key || strings.EqualFold(u.SAMAccountName, key) {
			return u
		}
	}
	return nil
}

// Computer returns the computer with this DN, SID or sAMAccountName, or nil.
func (s *Snapshot) Computer(key string) *Computer {
	if s.index != nil {
		if i, ok := s.index.computers[strings.ToLower(key)]; ok {
			return &s.Computers[i]
		}
	}
	for i := range s.Computers {
		c := &s.Computers[i]
		if strings.EqualFold(c.DN, key) || c.SID == key || strings.EqualFold(c.SAMAccountName, key) {
			return c
		}
	}
	return nil
}

// Group returns the group with this DN, SID or name, or nil.
func (s *Snapshot) Group(key string) *Group {
	if s.index != nil {
		if i, ok := s.index.groups[strings.ToLower(key)]; ok {
			return &s.Groups[i]
		}
	}
	for i := range s.Groups {
		g := &s.Groups[i]
		if strings.EqualFold(g.DN, key) || g.SID == key || strings.EqualFold(g.Name, key) {
			return g
		}
	}
	return nil
}

// GroupByRID returns the domain group domainSID-rid, or nil.
func (s *Snapshot) GroupByRID(rid uint32) *Group {
	if s.Domain.SID == "" {
		return nil
	}
	return s.Group(s.Domain.SID + "-" + strconv.FormatUint(uint64(rid), 10))
}

// Krbtgt returns the krbtgt account (RID 502 of the domain), or nil.
func (s *Snapshot) Krbtgt() *User {
	if s.Domain.SID == "" {
		return nil
	}
	return s.User(s.Domain.SID + "-" + strconv.FormatUint(uint64(RidKrbtgt), 10))
}

// PrivilegedSID reports whether sid is a privileged group, a member of
// one, a DC, or one of the well-known principals that hold domain control
// by design (SYSTEM, Enterprise Domain Controllers, Administrators, Domain
// Admins, Enterprise Admins …). Posture checks use it to tell an expected
// ACE trustee from a dangerous one. Call Resolve first.
func (s *Snapshot) PrivilegedSID(sid string) bool {
	switch sid {
	case SIDSystem, SIDEnterpriseDCs, SIDBuiltinAdministrators:
		return true
	}
	if PrivilegedGroupName(sid, "") != "" {
		return true
	}
	if s.index == nil {
		return false
	}
	dn, ok := s.index.dnBySID[sid]
	if !ok {
		return false
	}
	if g := s.Group(dn); g != nil {
		return g.Privileged != "" || len(privilegedParents(s, g)) > 0
	}
	if u := s.User(dn); u != nil {
		return u.Privileged()
	}
	if c := s.Computer(dn); c != nil {
		return c.IsDC || c.Privileged()
	}
	return false
}

func privilegedParents(s *Snapshot, g *Group) []string {
	var out []string
	for _, dn := range g.EffectiveGroups {
		if p := s.Group(dn); p != nil && p.Privileged != "" {
			out = append(out, p.Privileged)
		}
	}
	return out
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}
