package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/connector/state"
	"github.com/castellan-itdr/castellan/detections/correlate"
	"github.com/castellan-itdr/castellan/detections/engine"
	"github.com/castellan-itdr/castellan/detections/entities"
	"github.com/castellan-itdr/castellan/detections/priority"
	"github.com/castellan-itdr/castellan/detections/rules"
	"github.com/castellan-itdr/castellan/detections/sigma"
	"github.com/castellan-itdr/castellan/detections/sigmarules"
	"github.com/castellan-itdr/castellan/mappings/entra"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Processor is the stateful middle of the pipeline: enrichment, detection
// and correlation. The daemon and the offline replay share it, so both
// produce the same alerts for the same input. Not safe for concurrent use.
type Processor struct {
	ents  *entities.Store
	ids   *entities.Identities // cloud ↔ on-prem identity join
	eng   *engine.Engine
	sigma *sigma.Set // nil without Sigma rules
	corr  *correlate.Correlator
	prio  *priority.Tracker // identity investigation priority
	// SigmaProblems lists Sigma rules that were not loaded, and why.
	SigmaProblems []sigma.Problem
}

// LoadRules loads the rule sets named in the config ("builtin" or
// directories), drops disabled ids, and rejects duplicate ids across sets.
func LoadRules(d config.Detections) ([]*engine.Rule, error) {
	var all []*engine.Rule
	var errs []error
	for _, set := range d.Rules {
		var rs []*engine.Rule
		var err error
		if set == config.BuiltinRules {
			rs, err = rules.Load()
		} else {
			if st, serr := os.Stat(set); serr != nil || !st.IsDir() {
				errs = append(errs, fmt.Errorf("detections.rules: %q is not a directory", set))
				continue
			}
			rs, err = engine.LoadDir(os.DirFS(set), ".")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("rules %s: %w", set, err))
			continue
		}
		all = append(all, rs...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	seen := map[string]string{}
	out := all[:0]
	for _, r := range all {
		if prev, dup := seen[r.ID]; dup {
			errs = append(errs, fmt.Errorf("rule id %q defined twice (%s and %s)", r.ID, prev, r.File))
			continue
		}
		seen[r.ID] = r.File
		if !slices.Contains(d.Disabled, r.ID) {
			out = append(out, r)
		}
	}
	return out, errors.Join(errs...)
}

// LoadSigma loads the Sigma rule sets of the config: "builtin" (the curated
// set embedded from detections/sigmarules) or directories. Rules using
// unsupported constructs are returned as problems, not errors; a directory
// that cannot be read is an error.
func LoadSigma(d config.Detections) ([]*sigma.Rule, []sigma.Problem, error) {
	var rules []*sigma.Rule
	var problems []sigma.Problem
	var errs []error
	for _, dir := range d.Sigma {
		if dir == config.BuiltinRules {
			rs, ps, err := sigma.Load(sigmarules.FS, ".")
			if err != nil {
				errs = append(errs, fmt.Errorf("detections.sigma: builtin: %w", err))
				continue
			}
			rules = append(rules, rs...)
			problems = append(problems, ps...)
			continue
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			errs = append(errs, fmt.Errorf("detections.sigma: %q is not a directory", dir))
			continue
		}
		rs, ps, err := sigma.Load(os.DirFS(dir), ".")
		if err != nil {
			errs = append(errs, fmt.Errorf("detections.sigma: %s: %w", dir, err))
			continue
		}
		for i := range ps {
			ps[i].File = filepath.Join(dir, ps[i].File)
		}
		rules = append(rules, rs...)
		problems = append(problems, ps...)
	}
	return rules, problems, errors.Join(errs...)
}

// NewProcessor builds a processor from the detections and correlation config.
func NewProcessor(cfg *config.Config) (*Processor, error) {
	rs, err := LoadRules(cfg.Detections)
	if err != nil {
		return nil, err
	}
	return NewProcessorWithRules(cfg, rs)
}

// NewProcessorWithRules builds a processor around already loaded rules.
func NewProcessorWithRules(cfg *config.Config, rs []*engine.Rule) (*Processor, error) {
	tuning := engine.Tuning{Rules: cfg.Detections.Tuning}
	if err := tuning.Validate(rs); err != nil {
		return nil, fmt.Errorf("detections.tuning: %w", err)
	}
	eng, err := engine.New(rs, engine.Options{MaxKeysPerRule: cfg.Detections.MaxKeysPerRule, Tuning: tuning})
	if err != nil {
		return nil, err
	}
	var users []entra.DirectoryUser
	if cfg.Detections.Identities != "" {
		if users, err = entities.LoadIdentities(cfg.Detections.Identities); err != nil {
			return nil, fmt.Errorf("detections.identities: %w", err)
		}
	}
	p := &Processor{
		ents: entities.New(entities.Options{DomainControllers: cfg.Detections.DomainControllers, Honeytokens: cfg.Detections.Honeytokens, LearnDCs: true}),
		ids:  entities.NewIdentities(entities.IdentityOptions{Users: users, Learn: true}),
		eng:  eng,
		corr: correlate.New(correlate.Options{Window: cfg.Correlation.Window, MaxOpen: cfg.Correlation.MaxOpenIncidents}),
		prio: priority.New(priority.Options{}),
	}
	if len(cfg.Detections.Sigma) > 0 {
		srules, problems, err := LoadSigma(cfg.Detections)
		if err != nil {
			return nil, err
		}
		p.SigmaProblems = problems
		if p.sigma, err = sigma.NewSet(srules, sigma.Options{MaxKeysPerRule: cfg.Detections.MaxKeysPerRule}); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Rules returns the loaded rules.
func (p *Processor) Rules() []*engine.Rule { return p.eng.Rules() }

// Process enriches each event in place, runs detection, correlates the
// alerts, and calls emit for each alert (in event order) and then for each
// incident changed by the batch.
func (p *Processor) Process(evs []schema.Event, emit func(schema.Record)) {
	onAlert := func(a schema.Alert) {
		emit(a)
		p.corr.Add(a)
		p.prio.Add(a)
	}
	for i := range evs {
		p.ents.Enrich(&evs[i])
		p.ids.Enrich(&evs[i])
		p.eng.Process(&evs[i], onAlert)
		if p.sigma != nil {
			p.sigma.Process(&evs[i], onAlert)
		}
	}
	p.emitIncidents(emit)
}

// emitIncidents emits the incidents changed since the last call, each
// with the investigation priority of its identities.
func (p *Processor) emitIncidents(emit func(schema.Record)) {
	incs := p.corr.Flush()
	p.prio.Annotate(incs)
	for _, inc := range incs {
		emit(inc)
	}
}

// Flush ends the input: rules that hold events back (missing_predecessor's
// grace) judge them now, and the resulting alerts and incident changes are
// emitted. Replay calls it at the end; the daemon never needs to (held
// events are part of the snapshot).
func (p *Processor) Flush(emit func(schema.Record)) {
	p.eng.Flush(func(a schema.Alert) {
		emit(a)
		p.corr.Add(a)
		p.prio.Add(a)
	})
	p.emitIncidents(emit)
}

// TopIdentities returns the n identities with the highest investigation
// priority (all when n <= 0), highest first.
func (p *Processor) TopIdentities(n int) []schema.IdentityPriority { return p.prio.Top(n) }

// IdentityStats reports the identity join's counters.
func (p *Processor) IdentityStats() entities.IdentityStats { return p.ids.Stats() }

// DCStats reports the domain controllers learned from DC-only events.
func (p *Processor) DCStats() entities.DCStats { return p.ents.DCStats() }

// TopIdentitiesFromState reads the identity priority the daemon committed
// to its state file (see TopIdentitiesFromSnapshot). A state file without
// a processor snapshot yields no identities.
func TopIdentitiesFromState(store *state.Store, n int) ([]schema.IdentityPriority, error) {
	data, err := store.Snapshot(snapshotKey)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, nil
	}
	return TopIdentitiesFromSnapshot(data, n)
}

// TopIdentitiesFromSnapshot reads the identity priority held in a
// processor Snapshot (as the daemon commits it to the state file) and
// returns the n highest, for `castellan identities top`.
func TopIdentitiesFromSnapshot(data []byte, n int) ([]schema.IdentityPriority, error) {
	var s processorSnapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	t := priority.New(priority.Options{})
	if len(s.Priority) > 0 {
		if err := t.Restore(s.Priority); err != nil {
			return nil, err
		}
	}
	return t.Top(n), nil
}

// OpenIncidents returns the incidents still open, oldest first.
func (p *Processor) OpenIncidents() []schema.Incident { return p.corr.Open() }

// Stats reports detection and correlation counters.
func (p *Processor) Stats() (engine.Stats, correlate.Stats) { return p.eng.Stats(), p.corr.Stats() }

type processorSnapshot struct {
	Engine    []byte `json:"engine"`
	Sigma     []byte `json:"sigma,omitempty"`
	Correlate []byte `json:"correlate"`
	Priority  []byte `json:"priority,omitempty"`
	// Identities is what the identity join learned (entities.Identities).
	Identities []byte `json:"identities,omitempty"`
	// Entities is what the entity store learned (the DCs it learned).
	Entities []byte `json:"entities,omitempty"`
}

// Snapshot serializes detection and correlation state.
func (p *Processor) Snapshot() ([]byte, error) {
	e, err := p.eng.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("snapshot detection state: %w", err)
	}
	c, err := p.corr.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("snapshot correlation state: %w", err)
	}
	pr, err := p.prio.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("snapshot priority state: %w", err)
	}
	ids, err := p.ids.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("snapshot identity join: %w", err)
	}
	ents, err := p.ents.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("snapshot entities: %w", err)
	}
	snap := processorSnapshot{Engine: e, Correlate: c, Priority: pr, Identities: ids, Entities: ents}
	if p.sigma != nil {
		if snap.Sigma, err = p.sigma.Snapshot(); err != nil {
			return nil, fmt.Errorf("snapshot sigma state: %w", err)
		}
	}
	return json.Marshal(snap)
}

// Restore loads a Snapshot.
func (p *Processor) Restore(data []byte) error {
	var s processorSnapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("restore state: %w", err)
	}
	if len(s.Engine) > 0 {
		if err := p.eng.Restore(s.Engine); err != nil {
			return err
		}
	}
	if len(s.Sigma) > 0 && p.sigma != nil {
		if err := p.sigma.Restore(s.Sigma); err != nil {
			return err
		}
	}
	if len(s.Priority) > 0 {
		if err := p.prio.Restore(s.Priority); err != nil {
			return err
		}
	}
	if len(s.Identities) > 0 {
		if err := p.ids.Restore(s.Identities); err != nil {
			return err
		}
	}
	if len(s.Entities) > 0 {
		if err := p.ents.Restore(s.Entities); err != nil {
			return err
		}
	}
	if len(s.Correlate) > 0 {
		return p.corr.Restore(s.Correlate)
	}
	return nil
}
