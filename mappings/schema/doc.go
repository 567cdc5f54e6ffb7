// Package schema holds Castellan's one data model: Event (normalized
// telemetry), Alert (a rule fired), Incident (correlated alerts), Finding (a
// posture assessment result) and Action (a response taken). Every record has a
// stable id derived from its source identity, so replaying the same input
// yields the same ids.
//
// JSON is ECS-shaped: snake_case keys nested in dotted groups (user.name,
// source.ip, threat.technique.id). Field paths used by rules are the dotted
// JSON paths; Field resolves them. This package imports nothing of ours.
package schema
