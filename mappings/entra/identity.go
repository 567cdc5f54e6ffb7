package entra

import (
	"fmt"
	"strings"
	"sync"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// OriginalCloudObjectID is the Original key under which Join keeps the
// cloud object id of a user it rewrote to the on-prem key; for target users
// the key is "target." + OriginalCloudObjectID.
const OriginalCloudObjectID = "cloudObjectId"

// DirectoryUser is one identity known in both planes: an Entra user and,
// when synchronized, its on-prem AD account. From Graph users
// (UserFromGraph) or configuration.
type DirectoryUser struct {
	ObjectID  string `json:"object_id" yaml:"object_id"` // Entra object id
	UPN       string `json:"upn" yaml:"upn"`             // userPrincipalName
	OnPremSID string `json:"on_prem_sid" yaml:"on_prem_sid"`
	// SAMAccountName is onPremisesSamAccountName.
	SAMAccountName string `json:"sam_account_name" yaml:"sam_account_name"`
	// OnPremUPN is onPremisesUserPrincipalName, when it differs from UPN.
	OnPremUPN string `json:"on_prem_upn,omitempty" yaml:"on_prem_upn"`
	// Domain is the on-prem domain name the other sources use for this
	// account (NetBIOS, as in Windows events, e.g. "CORP"); optional.
	Domain string `json:"domain,omitempty" yaml:"domain"`
}

// linked reports whether the user has an on-prem account to join to.
func (u DirectoryUser) linked() bool { return u.OnPremSID != "" && u.SAMAccountName != "" }

// Directory joins cloud identities to on-prem accounts: one identity across
// planes, joined by onPremisesSecurityIdentifier, UPN and sAMAccountName.
// The zero value is an empty directory. Safe for concurrent use; Add and
// Replace may run while Join does.
type Directory struct {
	mu       sync.RWMutex
	byObject map[string]*DirectoryUser // lower-case object id
	byUPN    map[string]*DirectoryUser // lower-case UPN and on-prem UPN
	bySID    map[string]*DirectoryUser // upper-case SID
	bySAM    map[string][]*DirectoryUser
}

// NewDirectory returns a directory holding users.
func NewDirectory(users []DirectoryUser) *Directory {
	d := &Directory{}
	d.Replace(users)
	return d
}

// Replace swaps the directory's users for users (a fresh snapshot).
func (d *Directory) Replace(users []DirectoryUser) {
	byObject := make(map[string]*DirectoryUser, len(users))
	byUPN := make(map[string]*DirectoryUser, len(users))
	bySID := make(map[string]*DirectoryUser, len(users))
	bySAM := make(map[string][]*DirectoryUser, len(users))
	for i := range users {
		index(&users[i], byObject, byUPN, bySID, bySAM)
	}
	d.mu.Lock()
	d.byObject, d.byUPN, d.bySID, d.bySAM = byObject, byUPN, bySID, bySAM
	d.mu.Unlock()
}

// Add adds or updates one user; a user with the same object id is
// replaced (its old UPN, SID and sAMAccountName no longer find it).
func (d *Directory) Add(u DirectoryUser) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.byObject == nil {
		d.byObject, d.byUPN = map[string]*DirectoryUser{}, map[string]*DirectoryUser{}
		d.bySID, d.bySAM = map[string]*DirectoryUser{}, map[string][]*DirectoryUser{}
	}
	if u.ObjectID != "" {
		d.unindex(d.byObject[strings.ToLower(u.ObjectID)])
	}
	index(&u, d.byObject, d.byUPN, d.bySID, d.bySAM)
}

// Remove forgets the user with objectID, if any.
func (d *Directory) Remove(objectID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.unindex(d.byObject[strings.ToLower(objectID)])
}

// unindex removes p from every index it is in. d.mu is held.
func (d *Directory) unindex(p *DirectoryUser) {
	if p == nil {
		return
	}
	drop := func(m map[string]*DirectoryUser, k string) {
		if m[k] == p {
			delete(m, k)
		}
	}
	drop(d.byObject, strings.ToLower(p.ObjectID))
	drop(d.byUPN, strings.ToLower(p.UPN))
	drop(d.byUPN, strings.ToLower(p.OnPremUPN))
	drop(d.bySID, strings.ToUpper(p.OnPremSID))
	k := strings.ToLower(p.SAMAccountName)
	ps := d.bySAM[k]
	for i, q := range ps {
		if q == p {
			ps = append(ps[:i:i], ps[i+1:]...)
			break
		}
	}
	if len(ps) == 0 {
		delete(d.bySAM, k)
	} else {
		d.bySAM[k] = ps
	}
}

func index(u *DirectoryUser, byObject, byUPN, bySID map[string]*DirectoryUser, bySAM map[string][]*DirectoryUser) {
	if u.ObjectID != "" {
		byObject[strings.ToLower(u.ObjectID)] = u
	}
	if u.UPN != "" {
		byUPN[strings.ToLower(u.UPN)] = u
	}
	if u.OnPremUPN != "" {
		byUPN[strings.ToLower(u.OnPremUPN)] = u
	}
	if u.OnPremSID != "" {
		bySID[strings.ToUpper(u.OnPremSID)] = u
	}
	if u.SAMAccountName != "" {
		k := strings.ToLower(u.SAMAccountName)
		bySAM[k] = append(bySAM[k], u)
	}
}

// Lookup finds the directory user of a cloud identity: by object id, then
// on-prem SID, then UPN, then — only when it names exactly one user and no
// UPN contradicts it — sAMAccountName.
func (d *Directory) Lookup(u schema.User, onPremSID string) (DirectoryUser, bool) {
	if d == nil {
		return DirectoryUser{}, false
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if p := d.byObject[strings.ToLower(u.ID)]; u.ID != "" && p != nil {
		return *p, true
	}
	if p := d.bySID[strings.ToUpper(onPremSID)]; onPremSID != "" && p != nil {
		return *p, true
	}
	if p := d.bySID[strings.ToUpper(u.ID)]; strings.HasPrefix(strings.ToUpper(u.ID), "S-1-") && p != nil {
		return *p, true
	}
	if p := d.byUPN[strings.ToLower(u.UPN)]; u.UPN != "" && p != nil {
		return *p, true
	}
	if u.UPN == "" && u.Name != "" {
		if ps := d.bySAM[strings.ToLower(u.Name)]; len(ps) == 1 {
			return *ps[0], true
		}
	}
	return DirectoryUser{}, false
}

// Join rewrites the acting user (and target.user) of a cloud event to the
// on-prem key when the identity is linked to an AD account: user.name =
// sAMAccountName, user.id = on-prem SID, user.domain = the configured
// on-prem domain when known. The UPN stays; the cloud object id moves to
// Original[OriginalCloudObjectID] (target: "target.cloudObjectId") and the
// SID also fills cloud.on_prem_sid. Unlinked or unknown identities and
// events that are not from Entra are left alone. Join is idempotent.
func (d *Directory) Join(ev *schema.Event) {
	if d == nil || ev == nil || ev.Event.Dataset != Dataset {
		return
	}
	if du, ok := d.Lookup(ev.User, ev.Cloud.OnPremSID); ok && du.linked() {
		if obj := rewrite(&ev.User, du); obj != "" {
			setOriginal(ev, OriginalCloudObjectID, obj)
		}
		ev.Cloud.OnPremSID = du.OnPremSID
	}
	if ev.Target.User.ID != "" || ev.Target.User.UPN != "" || ev.Target.User.Name != "" {
		if du, ok := d.Lookup(ev.Target.User, ""); ok && du.linked() {
			if obj := rewrite(&ev.Target.User, du); obj != "" {
				setOriginal(ev, "target."+OriginalCloudObjectID, obj)
			}
		}
	}
}

// rewrite sets u to the on-prem key and returns the cloud object id it
// replaced ("" when u already held the SID).
func rewrite(u *schema.User, du DirectoryUser) string {
	old := u.ID
	u.Name = du.SAMAccountName
	u.ID = du.OnPremSID
	if du.Domain != "" {
		u.Domain = du.Domain
	}
	if u.UPN == "" {
		u.UPN = du.UPN
	}
	if strings.EqualFold(old, du.OnPremSID) {
		return ""
	}
	return firstNonEmpty(old, du.ObjectID)
}

func setOriginal(ev *schema.Event, k, v string) {
	if ev.Original == nil {
		ev.Original = map[string]string{}
	}
	ev.Original[k] = v
}

// UserFromGraph reads a Graph user resource (GET /users?$select=id,
// userPrincipalName,onPremisesSecurityIdentifier,onPremisesSamAccountName,
// onPremisesUserPrincipalName,onPremisesDomainName) as a DirectoryUser.
// Domain is left empty: Graph knows the on-prem DNS domain
// (onPremisesDomainName), not the NetBIOS name Windows events carry.
func UserFromGraph(raw []byte) (DirectoryUser, error) {
	o, err := parseObject(raw)
	if err != nil {
		return DirectoryUser{}, err
	}
	u := DirectoryUser{
		ObjectID:       str(o, "id"),
		UPN:            str(o, "userPrincipalName"),
		OnPremSID:      str(o, "onPremisesSecurityIdentifier"),
		SAMAccountName: str(o, "onPremisesSamAccountName"),
		OnPremUPN:      str(o, "onPremisesUserPrincipalName"),
	}
	if u.ObjectID == "" {
		return DirectoryUser{}, fmt.Errorf("%w: user without id", ErrMalformed)
	}
	return u, nil
}
