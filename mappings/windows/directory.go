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
	ev.Directory.Object = schema.DirObject{DN: name, Class: className(r.get("ObjectType")), GUID: braceGUID(name)}
	ev.Event.Outcome = schema.OutcomeSuccess
	dsAccessNames(r, ev)
	if isReplication(props) {
		ev.Event.Kind = schema.KindReplicationRequest
		ev.Event.Action = "replication-requested"
		return
	}
	ev.Event.Kind = schema.KindDirectoryChange
	ev.Event.Action = "object-accessed"
}

// dsAccessNames decodes the Properties, AccessMask and AccessList of a
// directory service access (4661, 4662) into Original.
func dsAccessNames(r *Record, ev *schema.Event) {
	setName(ev.Original, "PropertiesNames", guidNames(ev.Directory.Properties))
	setName(ev.Original, "AccessMaskNames", dsAccessMaskNames(ev.Directory.AccessMask))
	setName(ev.Original, "AccessListNames", messageNames(r.get("AccessList"), messageText))
}

// mapHandleRequest: 4661 a handle to an object was requested, logged by the
// SAM (ObjectServer "Security Account Manager", ObjectType SAM_USER,
// SAM_GROUP, SAM_ALIAS, SAM_DOMAIN...) and by the directory service
// (ObjectServer "DS", ObjectType a class GUID). Logged for success and
// failure; EventData does not tell which.
func mapHandleRequest(r *Record, ev *schema.Event) {
	ev.Event.Kind = schema.KindDirectoryChange
	ev.Event.Action = "object-handle-requested"
	ev.Event.Outcome = schema.OutcomeUnknown
	ev.User = subject(r)
	ev.Directory.Operation = "access"
	ev.Directory.Properties = strings.ToLower(r.get("Properties"))
	mask := hexCode(r.get("AccessMask"))
	ev.Directory.AccessMask = mask
	obj := schema.DirObject{Class: className(r.get("ObjectType"))}
	switch name := r.get("ObjectName"); {
	case braceGUID(name) != "":
		obj.GUID = braceGUID(name)
	case strings.IndexByte(name, '=') > 0:
		obj.DN, obj.Name = name, firstRDNValue(name)
	default:
		obj.Name = name // a SID or an account name
	}
	ev.Directory.Object = obj
	if strings.EqualFold(r.get("ObjectServer"), "DS") {
		dsAccessNames(r, ev)
	} else {
		// SAM access masks are not directory rights: decode only the GUIDs
		// and the generic access list ids.
		setName(ev.Original, "PropertiesNames", guidNames(ev.Directory.Properties))
		setName(ev.Original, "AccessListNames", messageNames(r.get("AccessList"), messageText))
	}
}

// dirObject reads the ObjectDN / ObjectClass / ObjectGUID fields of 5136-5141.
func dirObject(r *Record, dnKey string) schema.DirObject {
	dn := r.get(dnKey)
	guid := r.get("ObjectGUID")
	if g := braceGUID(guid); g != "" {
		guid = g
	}
	return schema.DirObject{DN: dn, Class: className(r.get("ObjectClass")), GUID: guid, Name: firstRDNValue(dn)}
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
	// Security descriptors (SDDL) and gPLink values name rights and
	// attributes by GUID.
	setName(ev.Original, "AttributeValueNames", guidNames(value))
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
