// Package entra maps Microsoft Entra ID records onto schema.Event: the
// Microsoft Graph v1.0 resources signIn, directoryAudit, riskDetection and
// riskyUser as Graph returns them (one element of a collection's "value"
// array), and the same records as Azure Monitor diagnostic settings stream
// them to Event Hubs ({"records":[{"time","category","tenantId",
// "properties":{…}}]}).
//
// The package maps raw JSON and plain structs only; it never imports the
// Graph SDK, so its tests and its users (the entra Graph source, the Event
// Hubs source) stay cheap to build.
//
// # One record, one event, whatever the transport
//
// Diagnostic records carry the Graph resource in "properties", sometimes
// with differently cased property names ("Id", "CreatedDateTime",
// "Status":{"ErrorCode"}). Every property name this package knows is
// rewritten to its Graph spelling before mapping (Canonical), so the same
// sign-in read from Graph and from Event Hubs normalizes to the same Event:
// the same id, the same fields, the same Original. Envelope fields of a
// diagnostic record (time, category, tenantId, resultType, …) do not enter
// Original; they only fill what the resource lacks (the timestamp when the
// resource has none, the tenant).
//
// # Ids
//
// event.id = schema.EventID("entra", tenant, resource type, identity) with
// the resource types "signIn", "directoryAudit", "riskDetection" and
// "riskyUser". The identity is the resource id; for risk detections and
// risky users, whose state changes under the same id, it is the id plus
// lastUpdatedDateTime / riskLastUpdatedDateTime, so each state change is its
// own event and a replay of one state is the same event. The tenant is the
// record's own tenantId (diagnostic envelope, then the resource) or else the
// Mapper's TenantID; configure the Graph source's tenant as the tenant GUID
// so Graph and Event Hubs agree (Graph v1.0 resources carry no tenant).
//
// # Fields
//
// Sign-ins (kind cloud_signin): user.{name, domain} from the UPN's local part
// and suffix, user.upn, user.id (object id); cloud.app / app_id /
// client_app, risk_level (riskLevelDuringSignIn, or riskLevelAggregated when
// the former is empty or "none"), risk_state, risk_event_type (the
// riskEventTypes_v2 list joined with ","), ca_status, country, city,
// latitude / longitude (location.geoCoordinates; out-of-range values are
// dropped), is_interactive, tenant_id, error_code, user_agent, device_id,
// device_compliant, correlation_id; source.ip; event.outcome success when
// status.errorCode is 0; event.reason = status.failureReason (success
// sign-ins carry none); event.code = the error code; auth.protocol "legacy"
// for legacy clients (Exchange ActiveSync, IMAP4, POP3, SMTP, MAPI, …) and
// "oauth" otherwise. Service-principal and managed-identity sign-ins (from
// diagnostic records) name the service principal as user. cloud.category is
// the diagnostic category: SignInLogs, NonInteractiveUserSignInLogs, …; for
// Graph sign-ins it is derived from isInteractive the same way.
//
// Directory audits (kind cloud_audit): the initiator (initiatedBy.user, or
// initiatedBy.app as a service principal with cloud.app / app_id) is user;
// the first targetResources entry of type User is target.user, of type Group
// target.group; the first target is directory.object (name, guid = id,
// class = type); the first modifiedProperties entry is directory.attribute /
// old_value / new_value (JSON-string values unquoted); a directory role acted
// on (the Role.DisplayName / Role.TemplateId modified properties of "Add
// member to role", else a target of type Role) fills target.group with
// name = role name and id = role template id; operationType gives
// directory.operation; event.action is the activity as a slug
// ("add-member-to-group"); cloud.category / operation are the audit category
// and activityDisplayName.
//
// Risk detections and risky users (kind cloud_risk): cloud.risk_level,
// risk_state, risk_event_type; event.action "risk-detection" or
// "risky-user-state"; user agent from additionalInfo.
//
// # Original
//
// The resource's properties stay flattened in Original by their Graph names,
// nested objects and arrays with dotted keys ("status.errorCode",
// "appliedConditionalAccessPolicies.0.result"); nulls and "@odata.*"
// annotations are dropped; a JSON-encoded string (riskDetection
// additionalInfo) is flattened as the value it encodes. Beta or diagnostic
// only properties — authenticationRequirement, authenticationDetails,
// mfaDetail, userAgent — are kept here too. At most MaxOriginalFields keys
// (the shallowest, then sorted; the number dropped in "original_truncated")
// and MaxOriginalValue bytes per value.
//
// # Identity join
//
// Directory links cloud identities to their on-prem accounts by object id,
// onPremisesSecurityIdentifier, UPN and sAMAccountName. Join rewrites a
// linked event's user (and target.user) to the on-prem key — user.name =
// sAMAccountName, user.id = SID, cloud.on_prem_sid = SID — and keeps the
// cloud object id in Original["cloudObjectId"] (the raw "userId" stays too),
// so on-prem and cloud alerts correlate on the same user key.
//
// Directory audits also keep each modified property's new value by name,
// under "modified.<displayName>" (OriginalModifiedPrefix), so rules need no
// positional keys.
//
// # Reading files
//
// FromAny recognizes a record's shape by content (diagnostic record, or the
// time property of each Graph resource), for JSON-lines files of exported or
// forwarded Entra logs and rule samples.
//
// Mapping never panics; broken input gets an error wrapping ErrMalformed.
package entra
