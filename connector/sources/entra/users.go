package entra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/castellan-itdr/castellan/connector/component"
	mapping "github.com/castellan-itdr/castellan/mappings/entra"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// ResourceUsers is the checkpoint name of the users poll ("graph:users").
// It is not one of Resources: users are listed whole on their own
// interval (Users), not windowed by date every PollInterval.
const ResourceUsers = "users"

// DefaultUsersInterval is the default time between users polls.
const DefaultUsersInterval = 6 * time.Hour

// minUsersInterval keeps the users poll from hammering Graph.
const minUsersInterval = time.Minute

// UsersConfig configures the users poll: GET /users with the on-prem
// identity properties, emitted as directory_identity events that teach
// the identity join (detections/entities.Identities) which cloud user is
// which AD account. Needs User.Read.All.
//
//	users: { enabled: true, interval: 6h }
type UsersConfig struct {
	// Enabled turns the poll on; default (unset) true.
	Enabled *bool `yaml:"enabled"`
	// Interval is the time between polls: one at start, then every
	// Interval. Default 6h, at least 1m.
	Interval time.Duration `yaml:"interval"`
}

// enabled reports whether the users poll runs.
func (u UsersConfig) enabled() bool { return u.Enabled == nil || *u.Enabled }

// interval is the configured interval or the default.
func (u UsersConfig) interval() time.Duration {
	if u.Interval == 0 {
		return DefaultUsersInterval
	}
	return u.Interval
}

// validate reports problems as "users.<field>: problem".
func (u UsersConfig) validate() []error {
	if u.Interval != 0 && u.Interval < minUsersInterval {
		return []error{fmt.Errorf("users.interval: must be at least %s, not %s", minUsersInterval, u.Interval)}
	}
	return nil
}

// maxUsersTop is the largest $top GET /users accepts.
const maxUsersTop = 999

// UserLister lists Graph users. The Graph SDK pager (NewGraphPager)
// implements it; a Pager that does not (replay tools, tests) runs the
// source without the users poll.
type UserLister interface {
	// ListUsers calls fn with the raw JSON of every user (GET /users with
	// $select=mapping.UserSelect and $top=top), following every
	// @odata.nextLink; errors as Pager.List.
	ListUsers(ctx context.Context, top int, fn func(raw []byte) error) error
}

// ListUsers implements UserLister with the SDK's typed users request
// builder; throttling (429 with Retry-After) is retried as for List.
func (p *graphPager) ListUsers(ctx context.Context, top int, fn func(raw []byte) error) error {
	t := int32(top)
	ri, err := p.client.Users().ToGetRequestInformation(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Select: mapping.UserSelect, Top: &t},
		Options:         []abstractions.RequestOption{p.retry}})
	if err != nil {
		return err
	}
	return p.each(ctx, ri, fn)
}

// usersState is the users poll's state, committed as the checkpoint
// "graph:users": when the next round is due, and — while a round is in
// progress — its start and the users already handed off in it, so a
// restart resumes the round without repeating them.
type usersState struct {
	Next  time.Time `json:"next"`
	Round time.Time `json:"round,omitzero"`
	// Done are short event ids (which hash the user's values) handed off
	// in the round in progress.
	Done []string `json:"done,omitempty"`

	done map[string]bool
}

func decodeUsersState(b []byte) (*usersState, error) {
	st := &usersState{}
	if len(b) > 0 {
		if err := json.Unmarshal(b, st); err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w", CheckpointKey(ResourceUsers), err)
		}
	}
	st.done = make(map[string]bool, len(st.Done))
	for _, id := range st.Done {
		st.done[id] = true
	}
	st.Done = nil
	return st, nil
}

// encode is the checkpoint after handing off pending (round in progress)
// or, with end, after the round completed.
func (st *usersState) encode(round time.Time, pending []string, end bool, interval time.Duration) []byte {
	cp := usersState{Next: st.Next}
	if end {
		cp.Next = round.Add(interval).UTC()
	} else {
		cp.Round = round.UTC()
		cp.Done = make([]string, 0, len(st.done)+len(pending))
		for id := range st.done {
			cp.Done = append(cp.Done, id)
		}
		cp.Done = append(cp.Done, pending...)
		sort.Strings(cp.Done)
	}
	b, _ := json.Marshal(cp)
	return b
}

// pollUsers runs a users round when one is due or in progress: every user
// becomes a directory_identity event, handed off in batches that carry
// the checkpoint. Returns nil when no round is due.
func (s *Source) pollUsers(st *usersState) error {
	round := st.Round
	if round.IsZero() {
		now := s.now()
		if now.Before(st.Next) {
			return nil
		}
		round = now.UTC().Truncate(time.Second)
	}
	top := min(s.cfg.PageSize, maxUsersTop)
	var (
		evs        []schema.Event
		pending    []string
		inPending  = map[string]bool{}
		decodeErrs int
		firstErr   error
	)
	flush := func(end bool) error {
		if len(evs) == 0 && !end {
			return nil
		}
		b := component.Batch{Events: evs, Checkpoints: []component.Checkpoint{{Key: CheckpointKey(ResourceUsers),
			Value: st.encode(round, pending, end, s.cfg.Users.interval())}}}
		if err := s.send(b); err != nil {
			return err
		}
		if end {
			st.Next, st.Round, st.done = round.Add(s.cfg.Users.interval()), time.Time{}, map[string]bool{}
		} else {
			st.Round = round
			for _, id := range pending {
				st.done[id] = true
			}
		}
		evs, pending = make([]schema.Event, 0, top), pending[:0]
		return nil
	}
	err := s.userLister.ListUsers(s.fetchCtx, top, func(raw []byte) error {
		ev, err := s.mapper.FromUser(raw, round)
		if err != nil {
			decodeErrs++
			if firstErr == nil {
				firstErr = err
			}
			return nil
		}
		id := shortID(ev.ID)
		if st.done[id] {
			return nil // handed off before a restart in this round
		}
		if inPending[id] {
			s.set.Counters.Add(s.cDuplicates, 1)
			return nil
		}
		inPending[id] = true
		pending = append(pending, id)
		evs = append(evs, ev)
		if len(evs) >= top {
			return flush(false)
		}
		return nil
	})
	if decodeErrs > 0 {
		s.set.Counters.Add(s.cDecodeErrors, int64(decodeErrs))
		s.log.Warn("undecodable Graph users skipped", "count", decodeErrs, "first_error", firstErr)
	}
	if err != nil {
		if s.stopping() {
			return err
		}
		if ferr := flush(false); ferr != nil {
			return errors.Join(err, ferr)
		}
		return fmt.Errorf("list users: %w", err)
	}
	return flush(true)
}
