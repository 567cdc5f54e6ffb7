package entra

import (
	"fmt"
	"time"
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
