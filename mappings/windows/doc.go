// Package windows maps Windows Security (and a few System) events onto
// schema.Event.
//
// A Record is one Windows event in source-neutral form: event id, provider,
// channel, computer, record id, time and the EventData / UserData fields by
// name. Every transport (forwarded JSON, EVTX, XML) produces Records; Normalize
// turns a Record into an Event, one file per event family (logon.go,
// kerberos.go, ntlm.go, directory.go, account.go, certsvc.go, other.go,
// system.go); mappers.go is the table of event ids, codes.go the decode
// tables.
//
// DecodeJSON reads the two common forwarded JSON shapes, detected by content:
// Winlogbeat / ECS ({"winlog":{"event_id":..,"event_data":{..}}}) and flat
// NXLog style (EventData fields at top level next to envelope keys such as
// EventID, Hostname, RecordNumber, Message, Keywords). Envelope keys never
// become EventData.
//
// DecodeXML reads one <Event> element as written by `wevtutil qe /f:xml` and
// Windows Event Forwarding (RenderingInfo is ignored), with encoding/xml in
// strict mode: no DTDs, no entities beyond the predefined five. The same
// event from XML and from forwarded JSON normalizes identically.
// SplitXMLEvents cuts a stream into <Event> elements for a bufio.Scanner, and
// DecodeAny picks JSON or XML by the first byte.
//
// Decoding: mappers fill schema fields and add decoded values to Original
// next to the raw field: LogonTypeName, StatusName / SubStatusName (NTSTATUS
// or KDC error names), FailureReasonName, PreAuthTypeName,
// TicketOptionsFlags, UserAccountControlFlags (the %%2048-%%2101 messages as
// Windows renders them), OldUacValueFlags / NewUacValueFlags,
// PropertiesNames and AttributeValueNames (well-known schema, property-set,
// class and extended-right GUIDs), AccessMaskNames, AccessListNames,
// SChannelTypeName, and for AD CS requests CertificateTemplate and
// SubjectAlternativeName. A known class GUID in ObjectType becomes
// directory.object.class by name.
//
// Time: Winlogbeat's @timestamp is the event time. For flat records the
// order of preference is TimeCreated, @timestamp, then EventTime; an EventTime
// without a zone ("2020-10-13 00:24:53", the agent's local time) is read as
// UTC because the zone is not recorded.
//
// Event ids: a record with a record id gets
// schema.EventID("windows", computer, channel, recordID), so the same Windows
// record has the same id whichever transport delivered it; otherwise the id
// hashes the event id, time, computer, channel and sorted fields.
//
// Normalization never panics and keeps unknown event ids as KindOther with
// the raw fields in Event.Original.
package windows
