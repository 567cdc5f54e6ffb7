package mitre

import (
	_ "embed"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

//go:embed attack.yaml
var catalogYAML []byte

// Tactic is an ATT&CK tactic.
type Tactic struct {
	ID        string `yaml:"id" json:"id"`
	Name      string `yaml:"name" json:"name"`
	Shortname string `yaml:"shortname" json:"shortname"` // e.g. credential-access
	Order     int    `yaml:"-" json:"order"`             // kill-chain position, from 1
}

// Technique is an ATT&CK technique or sub-technique.
type Technique struct {
	ID      string   `yaml:"id" json:"id"`
	Name    string   `yaml:"name" json:"name"`
	Tactics []string `yaml:"tactics" json:"tactics"` // tactic ids, kill-chain order
}

// Parent returns the parent technique id of a sub-technique ("T1003" for
// "T1003.006"), or "" for a technique.
func (t Technique) Parent() string {
	if i := strings.IndexByte(t.ID, '.'); i > 0 {
		return t.ID[:i]
	}
	return ""
}

// HasTactic reports whether the technique belongs to the tactic id.
func (t Technique) HasTactic(tacticID string) bool {
	for _, id := range t.Tactics {
		if id == tacticID {
			return true
		}
	}
	return false
}

// FullName is the ATT&CK display name: "OS Credential Dumping: DCSync" for
// a sub-technique, the name for a technique.
func (t Technique) FullName() string {
	if p := t.Parent(); p != "" {
		if pt, ok := LookupTechnique(p); ok {
			return pt.Name + ": " + t.Name
		}
	}
	return t.Name
}

type catalog struct {
	tactics    []Tactic
	tacticByID map[string]Tactic
	techniques map[string]Technique
	ids        []string
}

var (
	loadOnce sync.Once
	cat      *catalog
)

func get() *catalog {
	loadOnce.Do(func() {
		c, err := parse(catalogYAML)
		if err != nil {
			panic("mitre: embedded attack.yaml: " + err.Error())
		}
		cat = c
	})
	return cat
}

func parse(data []byte) (*catalog, error) {
	var raw struct {
		Tactics    []Tactic    `yaml:"tactics"`
		Techniques []Technique `yaml:"techniques"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	c := &catalog{
		tacticByID: make(map[string]Tactic, len(raw.Tactics)),
		techniques: make(map[string]Technique, len(raw.Techniques)),
	}
	for i, t := range raw.Tactics {
		t.Order = i + 1
		if _, dup := c.tacticByID[t.ID]; dup {
			return nil, fmt.Errorf("duplicate tactic %s", t.ID)
		}
		c.tacticByID[t.ID] = t
		c.tactics = append(c.tactics, t)
	}
	for _, t := range raw.Techniques {
		if _, dup := c.techniques[t.ID]; dup {
			return nil, fmt.Errorf("duplicate technique %s", t.ID)
		}
		if p := t.Parent(); p != "" && len(t.Tactics) == 0 {
			pt, ok := c.techniques[p]
			if !ok {
				return nil, fmt.Errorf("technique %s: parent %s must be listed first", t.ID, p)
			}
			t.Tactics = pt.Tactics
		}
		if len(t.Tactics) == 0 {
			return nil, fmt.Errorf("technique %s: no tactics", t.ID)
		}
		ts := append([]string(nil), t.Tactics...)
		sort.SliceStable(ts, func(i, j int) bool {
			return c.tacticByID[ts[i]].Order < c.tacticByID[ts[j]].Order
		})
		t.Tactics = ts
		c.techniques[t.ID] = t
		c.ids = append(c.ids, t.ID)
	}
	sort.Strings(c.ids)
	return c, nil
}

// LookupTechnique returns the technique or sub-technique with the id
// (e.g. "T1558.003").
func LookupTechnique(id string) (Technique, bool) {
	t, ok := get().techniques[strings.ToUpper(strings.TrimSpace(id))]
	if ok {
		t.Tactics = append([]string(nil), t.Tactics...)
	}
	return t, ok
}

// LookupTactic returns the tactic with the id (e.g. "TA0006").
func LookupTactic(id string) (Tactic, bool) {
	t, ok := get().tacticByID[strings.ToUpper(strings.TrimSpace(id))]
	return t, ok
}

// LookupTacticByShortname returns the tactic with the shortname
// (e.g. "credential-access").
func LookupTacticByShortname(shortname string) (Tactic, bool) {
	for _, t := range get().tactics {
		if t.Shortname == shortname {
			return t, true
		}
	}
	return Tactic{}, false
}

// Tactics returns every Enterprise tactic in kill-chain order.
func Tactics() []Tactic {
	return append([]Tactic(nil), get().tactics...)
}

// TechniqueIDs returns the id of every technique in the catalog, sorted.
func TechniqueIDs() []string {
	return append([]string(nil), get().ids...)
}

// TacticOrder returns the kill-chain position of the tactic (1 for
// Reconnaissance, 14 for Impact), or math.MaxInt for an unknown id, so
// unknown tactics sort last.
func TacticOrder(id string) int {
	if t, ok := LookupTactic(id); ok {
		return t.Order
	}
	return math.MaxInt
}
