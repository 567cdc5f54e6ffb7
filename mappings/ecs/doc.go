// Package ecs turns Castellan records into Elastic Common Schema documents
// and holds the Elasticsearch artefacts that go with them: the component
// template with explicit ECS mappings for every field the documents carry,
// and the index templates for the data streams and the incident index.
//
// Alerts and incidents are written so that Elastic Security's prebuilt
// "External Alerts" rule turns them into Security alerts: event.kind
// "alert", message (the alert name), event.severity 21/47/73/99,
// event.risk_score, event.ingested and threat.* in ATT&CK form. Events use
// event.kind "event" with ECS event.category and event.type values. What ECS
// has no field for sits under castellan.*.
//
// Everything here is a pure function of its input (the ingest time is a
// parameter), so documents are golden-tested.
package ecs
