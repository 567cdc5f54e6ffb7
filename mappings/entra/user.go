package entra

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// ResourceUser is the channel part of directory_identity event ids, and
// CategoryUsers their cloud.category and event.channel.
const (
	ResourceUser  = "user"
	CategoryUsers = "Users"
)

// UserSelect is the $select of the users poll: the properties FromUser
// reads.
var UserSelect = []string{"id", "userPrincipalName", "onPremisesSecurityIdentifier",
	"onPremisesSamAccountName", "onPremisesDomainName", "onPremisesSyncEnabled", "accountEnabled"}

// FromUser maps a Graph user resource (GET /users?$select=UserSelect) to a
// directory_identity event observed at `at` (the poll time; a user has no
// event time): user.id = object id, user.upn, user.name =
// onPremisesSamAccountName, user.domain = onPremisesDomainName,
// cloud.on_prem_sid = onPremisesSecurityIdentifier; accountEnabled and
// onPremisesSyncEnabled go to original. The event id hashes the values, so
// an unchanged user keeps its id from poll to poll.
func (m Mapper) FromUser(raw []byte, at time.Time) (schema.Event, error) {
	o, err := parseObject(raw)
	if err != nil {
		return schema.Event{}, err
	}
	id := str(o, "id")
	if id == "" {
		return schema.Event{}, fmt.Errorf("%w: user without id", ErrMalformed)
	}
	u := schema.User{ID: id, UPN: str(o, "userPrincipalName"), Name: str(o, "onPremisesSamAccountName"),
		Domain: str(o, "onPremisesDomainName")}
	sid := str(o, "onPremisesSecurityIdentifier")
	if sid != "" && !strings.HasPrefix(strings.ToUpper(sid), "S-1-") {
		return schema.Event{}, fmt.Errorf("%w: user %s: onPremisesSecurityIdentifier %q is not a SID", ErrMalformed, truncate(id, 64), truncate(sid, 64))
	}
	enabled, sync := boolText(o, "accountEnabled"), boolText(o, "onPremisesSyncEnabled")
	ev := schema.Event{
		ID:        schema.EventID(Dataset, m.TenantID, ResourceUser, strings.Join([]string{id, u.UPN, sid, u.Name, u.Domain, enabled, sync}, "|")),
		Timestamp: at.UTC(),
		Event: schema.EventMeta{Kind: schema.KindDirectoryIdentity, Dataset: Dataset, Provider: Provider,
			Action: "directory-user", RecordID: id, Channel: CategoryUsers},
		User:     u,
		Cloud:    schema.Cloud{TenantID: m.TenantID, Category: CategoryUsers, OnPremSID: sid},
		Original: map[string]string{"accountEnabled": enabled, "onPremisesSyncEnabled": sync},
	}
	return ev, nil
}

// boolText renders a Graph boolean that may be null or absent: "true",
// "false" or "".
func boolText(o map[string]any, key string) string {
	switch v := o[key].(type) {
	case bool:
		return strconv.FormatBool(v)
	case string:
		return truncate(v, MaxOriginalValue)
	}
	return ""
}

// DirectoryUserFromEvent reads a directory_identity event back as a
// DirectoryUser (Domain left empty: the event carries the DNS domain, the
// join wants the NetBIOS name Windows events carry). ok is false for any
// other event.
func DirectoryUserFromEvent(ev *schema.Event) (DirectoryUser, bool) {
	if ev.Event.Kind != schema.KindDirectoryIdentity || ev.Event.Dataset != Dataset || ev.User.ID == "" {
		return DirectoryUser{}, false
	}
	return DirectoryUser{ObjectID: ev.User.ID, UPN: ev.User.UPN, OnPremSID: ev.Cloud.OnPremSID,
		SAMAccountName: ev.User.Name}, true
}
