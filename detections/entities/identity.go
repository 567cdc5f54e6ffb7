package entities

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/castellan-itdr/castellan/mappings/entra"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// DefaultMaxLearned bounds the on-prem accounts Identities learns from
// events.
const DefaultMaxLearned = 200_000

// IdentityOptions configures the identity join.
type IdentityOptions struct {
	// Users are identities known in both planes (a static mapping file,
	// a Graph users snapshot): Entra object id, UPN, on-prem SID and
	// sAMAccountName.
	Users []entra.DirectoryUser
	// Learn makes Identities learn SID → DOMAIN\sAMAccountName from
	// on-prem events (the acting and target user, a 4769 ServiceSid) and
	// link a cloud sign-in that carries onPremisesSecurityIdentifier to
	// the account learned for that SID.
	Learn bool
	// MaxLearned bounds the learned SIDs; 0 means DefaultMaxLearned.
	MaxLearned int
	// MaxDirectory bounds the identities learned from directory_identity
	// events and links; past it the oldest learned is evicted (counted).
	// 0 means DefaultMaxLearned.
	MaxDirectory int
}

// IdentityStats counts what the join did.
type IdentityStats struct {
	// Joined counts cloud events rewritten to their on-prem identity.
	Joined uint64 `json:"joined"`
	// Learned counts SIDs learned from on-prem events; Linked counts cloud
	// identities linked through a learned SID; Full counts SIDs not learned
	// because MaxLearned was reached.
	Learned uint64 `json:"learned"`
	Linked  uint64 `json:"linked"`
	Full    uint64 `json:"full"`
	Known   int    `json:"known"` // SIDs learned and held now
	// Directory counts identities learned from directory_identity events
	// (new or changed), Evicted those forgotten at MaxDirectory, Held the
	// learned identities held now (directory events and links).
	Directory uint64 `json:"directory"`
	Evicted   uint64 `json:"evicted"`
	Held      int    `json:"held"`
}

// onPrem is an on-prem account learned from events.
type onPrem struct{ name, domain string }

// Identities gives an identity one key across on-prem AD and Entra ID: a
// cloud event whose user is linked to an AD account (by object id, on-prem
// SID, UPN or sAMAccountName, see entra.Directory) is rewritten to the
// on-prem key — user.name = sAMAccountName, user.id = SID, user.domain =
// the on-prem domain — so rules that group by user.name and correlation
// (which joins alerts on user.name) see one person. Not safe for
// concurrent use: the pipeline serializes Enrich.
type Identities struct {
	dir     *entra.Directory
	learn   bool
	max     int
	learned map[string]onPrem // SID (as logged, upper case) → account
	// held are the identities learned at run time (directory_identity
	// events, links), by lower-case object id, in order of first learning
	// (order may hold ids since replaced; they are skipped on eviction).
	held    map[string]entra.DirectoryUser
	order   []string
	maxHeld int
	stats   IdentityStats
}

// NewIdentities builds the join.
func NewIdentities(o IdentityOptions) *Identities {
	x := &Identities{dir: entra.NewDirectory(o.Users), learn: o.Learn, max: o.MaxLearned,
		held: map[string]entra.DirectoryUser{}, maxHeld: o.MaxDirectory}
	if x.max <= 0 {
		x.max = DefaultMaxLearned
	}
	if x.maxHeld <= 0 {
		x.maxHeld = DefaultMaxLearned
	}
	if x.learn {
		x.learned = map[string]onPrem{}
	}
	return x
}

// Directory returns the directory the join consults (to add users from a
// Graph snapshot).
func (x *Identities) Directory() *entra.Directory { return x.dir }

// Stats returns the counters.
func (x *Identities) Stats() IdentityStats {
	s := x.stats
	s.Known = len(x.learned)
	s.Held = len(x.held)
	return s
}

// Enrich learns from an on-prem event or a directory_identity event (the
// entra source's users poll: the cloud identity and its on-prem SID and
// sAMAccountName), or joins a cloud event to its on-prem identity. On-prem
// and directory_identity events are never changed.
func (x *Identities) Enrich(ev *schema.Event) {
	if ev.Event.Kind == schema.KindDirectoryIdentity {
		x.learnDirectory(ev)
		return
	}
	if ev.Event.Dataset != entra.Dataset {
		if x.learn {
			x.learnUser(&ev.User)
			x.learnUser(&ev.Target.User)
			if ev.Target.Service != "" && ev.Event.Kind == schema.KindKerberosServiceTicket {
				x.learnSID(ev.Original["ServiceSid"], strings.TrimSuffix(ev.Target.Service, "$"), "")
			}
		}
		return
	}
	if x.learn && ev.Cloud.OnPremSID != "" {
		x.link(ev)
	}
	before := ev.User.ID
	x.dir.Join(ev)
	if ev.User.ID != before {
		x.stats.Joined++
	}
}

func (x *Identities) learnUser(u *schema.User) {
	if u.Name != "" && !u.IsMachine && !strings.HasSuffix(u.Name, "$") {
		x.learnSID(u.ID, u.Name, u.Domain)
	}
}

// learnSID records a domain account's SID (S-1-5-21-…; well-known and
// machine-local SIDs are skipped). Allocates only for a new SID.
func (x *Identities) learnSID(sid, name, domain string) {
	if !strings.HasPrefix(sid, "S-1-5-21-") || name == "" || name == "-" {
		return
	}
	if i := strings.LastIndexByte(name, '\\'); i >= 0 {
		name = name[i+1:]
	}
	if have, ok := x.learned[sid]; ok && have.name == name && (domain == "" || have.domain == domain) {
		return
	}
	if _, ok := x.learned[sid]; !ok && len(x.learned) >= x.max {
		x.stats.Full++
		return
	}
	x.learned[strings.Clone(sid)] = onPrem{name: strings.Clone(name), domain: strings.Clone(domain)}
	x.stats.Learned++
	// An identity held from a directory_identity event learns its NetBIOS
	// domain from the first on-prem event of its SID.
	if domain != "" && len(x.held) > 0 {
		if du, ok := x.dir.Lookup(schema.User{}, sid); ok && du.Domain == "" {
			if _, held := x.held[strings.ToLower(du.ObjectID)]; held {
				du.Domain = domain
				x.hold(du)
			}
		}
	}
}

// link adds a cloud identity whose onPremisesSecurityIdentifier names a
// learned on-prem account to the directory, unless it is already known.
func (x *Identities) link(ev *schema.Event) {
	sid := strings.ToUpper(ev.Cloud.OnPremSID)
	op, ok := x.learned[sid]
	if !ok {
		return
	}
	if du, known := x.dir.Lookup(schema.User{}, sid); known && du.SAMAccountName != "" {
		return
	}
	x.hold(entra.DirectoryUser{ObjectID: ev.User.ID, UPN: ev.User.UPN, OnPremSID: sid,
		SAMAccountName: op.name, Domain: op.domain})
	x.stats.Linked++
}

// learnDirectory adds the identity of a directory_identity event to the
// directory when it is synchronized from AD (has an on-prem SID and
// sAMAccountName). The NetBIOS domain comes from the SID's on-prem
// events when they were seen (the event's domain is the DNS name).
// Allocates only for a new or changed identity.
func (x *Identities) learnDirectory(ev *schema.Event) {
	du, ok := entra.DirectoryUserFromEvent(ev)
	if !ok || du.OnPremSID == "" || du.SAMAccountName == "" {
		return
	}
	du.OnPremSID = strings.ToUpper(du.OnPremSID)
	if op, ok := x.learned[du.OnPremSID]; ok {
		du.Domain = op.domain
	}
	if have, ok := x.held[strings.ToLower(du.ObjectID)]; ok && have == du {
		return
	}
	x.hold(du)
	x.stats.Directory++
}

// hold adds a run-time identity to the directory, evicting the oldest
// held one at maxHeld.
func (x *Identities) hold(du entra.DirectoryUser) {
	k := strings.ToLower(du.ObjectID)
	if k == "" {
		x.dir.Add(du) // no key to hold it by (a link from an event without object id)
		return
	}
	if _, ok := x.held[k]; !ok {
		for len(x.held) >= x.maxHeld && len(x.order) > 0 {
			old := x.order[0]
			x.order = x.order[1:]
			if _, ok := x.held[old]; ok {
				delete(x.held, old)
				x.dir.Remove(old)
				x.stats.Evicted++
			}
		}
		x.order = append(x.order, k)
	}
	du.ObjectID, du.UPN, du.OnPremSID = strings.Clone(du.ObjectID), strings.Clone(du.UPN), strings.Clone(du.OnPremSID)
	du.SAMAccountName, du.Domain = strings.Clone(du.SAMAccountName), strings.Clone(du.Domain)
	x.held[strings.Clone(k)] = du
	x.dir.Add(du)
}

// identitySnapshot is the serialized run-time knowledge of Identities.
type identitySnapshot struct {
	// Learned are SID, sAMAccountName, domain triples.
	Learned [][3]string `json:"learned,omitempty"`
	// Held are the identities learned at run time, oldest first.
	Held []entra.DirectoryUser `json:"held,omitempty"`
}

// Snapshot serializes what Identities learned at run time (SIDs from
// on-prem events, identities from directory_identity events and links),
// so the join survives a restart. Configured users are not included.
func (x *Identities) Snapshot() ([]byte, error) {
	var s identitySnapshot
	s.Learned = make([][3]string, 0, len(x.learned))
	for sid, op := range x.learned {
		s.Learned = append(s.Learned, [3]string{sid, op.name, op.domain})
	}
	sort.Slice(s.Learned, func(i, j int) bool { return s.Learned[i][0] < s.Learned[j][0] })
	s.Held = make([]entra.DirectoryUser, 0, len(x.held))
	seen := make(map[string]bool, len(x.held))
	for _, k := range x.order {
		if du, ok := x.held[k]; ok && !seen[k] {
			seen[k] = true
			s.Held = append(s.Held, du)
		}
	}
	return json.Marshal(s)
}

// Restore loads a Snapshot into a fresh Identities, within its bounds
// (what exceeds MaxLearned is counted in Full, MaxDirectory in Evicted).
func (x *Identities) Restore(data []byte) error {
	var s identitySnapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("restore identities: %w", err)
	}
	for _, l := range s.Learned {
		if x.learned == nil {
			break
		}
		x.learnSID(l[0], l[1], l[2])
	}
	for _, du := range s.Held {
		if du.ObjectID == "" || du.OnPremSID == "" || du.SAMAccountName == "" {
			return fmt.Errorf("restore identities: held identity %q without object id, SID or sAMAccountName", du.UPN)
		}
		x.hold(du)
	}
	// Restoring is not learning.
	x.stats.Learned = 0
	return nil
}

// identityFile is the shape of a static identity mapping file.
type identityFile struct {
	Users []entra.DirectoryUser `json:"users" yaml:"users"`
}

// LoadIdentities reads a static identity mapping file (YAML or JSON):
//
//	users:
//	  - { upn: svc-sql@lab.test, object_id: 7d1c…, on_prem_sid: S-1-5-21-…-1105,
//	      sam_account_name: svc-sql, domain: LAB }
//
// Unknown keys are errors; every user needs an on-prem SID and a
// sAMAccountName, plus a UPN or an object id to be found by.
func LoadIdentities(path string) ([]entra.DirectoryUser, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("identities: %w", err)
	}
	var f identityFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		// JSON is YAML, but a JSON syntax error reads better from encoding/json.
		if jerr := json.Unmarshal(data, &f); jerr != nil {
			return nil, fmt.Errorf("identities: %s: %w", path, err)
		}
	}
	for i, u := range f.Users {
		switch {
		case u.OnPremSID == "" || u.SAMAccountName == "":
			return nil, fmt.Errorf("identities: %s: users[%d]: on_prem_sid and sam_account_name are required", path, i)
		case u.UPN == "" && u.ObjectID == "":
			return nil, fmt.Errorf("identities: %s: users[%d]: upn or object_id is required", path, i)
		case !strings.HasPrefix(strings.ToUpper(u.OnPremSID), "S-1-"):
			return nil, fmt.Errorf("identities: %s: users[%d]: on_prem_sid %q is not a SID", path, i, u.OnPremSID)
		}
	}
	return f.Users, nil
}
