package entities

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
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
	stats   IdentityStats
}

// NewIdentities builds the join.
func NewIdentities(o IdentityOptions) *Identities {
	x := &Identities{dir: entra.NewDirectory(o.Users), learn: o.Learn, max: o.MaxLearned}
	if x.max <= 0 {
		x.max = DefaultMaxLearned
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
	return s
}

// Enrich learns from an on-prem event, or joins a cloud event to its
// on-prem identity. On-prem events are never changed.
func (x *Identities) Enrich(ev *schema.Event) {
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
	x.dir.Add(entra.DirectoryUser{ObjectID: ev.User.ID, UPN: ev.User.UPN, OnPremSID: sid,
		SAMAccountName: op.name, Domain: op.domain})
	x.stats.Linked++
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
