package windows

import (
	"strings"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Replication extended rights (lower case, no braces): DS-Replication-Get-
// Changes, -Get-Changes-All and -Get-Changes-In-Filtered-Set.
var replicationRights = [...]string{
	"1131f6aa-9c07-11d1-f79f-00c04fc2dcd2",
	"1131f6ad-9c07-11d1-f79f-00c04fc2dcd2",
	"89e95b76-444d-4c62-991a-0facbeda640c",
}

// Directory service change operation types (5136 OperationType).
const (
	opValueAdded   = "%%14674"
	opValueDeleted = "%%14675"
)

// isReplication reports whether a lower-cased 4662 Properties value holds a
// replication right.
func isReplication(props string) bool {
	for _, g := range replicationRights {
		if strings.Contains(props, g) {
			return true
		}
	}
	return false
}

// braceGUID returns the GUID inside "%{...}" or "{...}", else "".
func braceGUID(s string) string {
	s = strings.TrimPrefix(s, "%")
	if len(s) == 38 && s[0] == '{' && s[37] == '}' {
		return strings.ToLower(s[1:37])
	}
	return ""
}

// mapDirectoryAccess: 4662 an operation was performed on an object. A
// replication right in Properties makes it a replication request (DCSync).
func mapDirectoryAccess(r *Record, ev *schema.Event) {
	ev.User = subject(r)
	props := strings.ToLower(r.get("Properties"))
	ev.Directory.Properties = props
	ev.Directory.AccessMask = hexCode(r.get("AccessMask"))
	ev.Directory.Operation = "access"
	name := r.get("ObjectName")
	ev.Directory.Object = schema.DirObject{DN: name, Class: r.get("ObjectType"), GUID: braceGUID(name)}
	ev.Event.Outcome = schema.OutcomeSuccess
	if isReplication(props) {
		ev.Event.Kind = schema.KindReplicationRequest
		ev.Event.Action = "replication-requested"
		return
	}
	ev.Event.Kind = schema.KindDirectoryChange
	ev.Event.Action = "object-accessed"
}

// dirObject reads the ObjectDN / ObjectClass / ObjectGUID fields of 5136-5141.
func dirObject(r *Record, dnKey string) schema.DirObject {
	dn := r.get(dnKey)
	guid := r.get("ObjectGUID")
	if g := braceGUID(guid); g != "" {
		guid = g
	}
	return schema.DirObject{DN: dn, Class: r.get("ObjectClass"), GUID: guid, Name: firstRDNValue(dn)}
}

// mapDirectoryModify: 5136 a directory service object was modified (one
// attribute value added or deleted).
func mapDirectoryModify(r *Record, ev *schema.Event) {
	ev.Event.Kind = schema.KindDirectoryChange
	ev.Event.Outcome = schema.OutcomeSuccess
	ev.User = subject(r)
	ev.Directory.Object = dirObject(r, "ObjectDN")
	ev.Directory.Operation = "modify"
	ev.Directory.Attribute = r.get("AttributeLDAPDisplayName")
	value := r.get("AttributeValue")
	switch r.get("OperationType") {
	case opValueDeleted:
		ev.Event.Action = "attribute-value-deleted"
		ev.Directory.OldValue = value
	default:
		ev.Event.Action = "attribute-value-added"
		ev.Directory.NewValue = value
	}
}

// mapDirectoryObject: 5137 created, 5138 undeleted, 5141 deleted.
func mapDirectoryObject(op, action string) mapper {
	return func(r *Record, ev *schema.Event) {
		ev.Event.Kind = schema.KindDirectoryChange
		ev.Event.Action = action
		ev.Event.Outcome = schema.OutcomeSuccess
		ev.User = subject(r)
		ev.Directory.Operation = op
		ev.Directory.Object = dirObject(r, "ObjectDN")
	}
}

// mapDirectoryMove: 5139 a directory service object was moved.
func mapDirectoryMove(r *Record, ev *schema.Event) {
	ev.Event.Kind = schema.KindDirectoryChange
	ev.Event.Action = "object-moved"
	ev.Event.Outcome = schema.OutcomeSuccess
	ev.User = subject(r)
	ev.Directory.Operation = "move"
	ev.Directory.Object = dirObject(r, "NewObjectDN")
	ev.Directory.OldValue = r.get("OldObjectDN")
	ev.Directory.NewValue = r.get("NewObjectDN")
}
