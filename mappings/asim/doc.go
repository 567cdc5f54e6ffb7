// Package asim turns Castellan records into rows for Microsoft Sentinel
// custom tables, and holds the Azure artefacts a user deploys to receive
// them (deploy/): an ARM template creating the five tables, a Data
// Collection Endpoint and a Data Collection Rule, and a Sentinel scheduled
// analytics rule that turns incident rows into Sentinel incidents.
//
// The tables, their Logs Ingestion streams and their rows:
//
//	CastellanEvents_CL     Custom-CastellanEvents     EventRow (ASIM Authentication / AuditEvent shaped)
//	CastellanAlerts_CL     Custom-CastellanAlerts     AlertRow
//	CastellanIncidents_CL  Custom-CastellanIncidents  IncidentRow
//	CastellanFindings_CL   Custom-CastellanFindings   FindingRow (identity posture findings)
//	CastellanActions_CL    Custom-CastellanActions    ActionRow (response action audit records)
//
// Every row carries EventId, the record's stable id. Log Analytics does not
// deduplicate, so a retried upload may store a row twice; queries take one
// row per EventId (summarize arg_max(TimeGenerated, *) by EventId; for
// incidents arg_max(Version, *)).
//
// The columns of a table are the JSON fields of its row type (Tables), so
// the ARM template, the stream declarations and the mappers are checked
// against one list by the tests. Everything here is a pure function of its
// input and is golden-tested.
package asim
