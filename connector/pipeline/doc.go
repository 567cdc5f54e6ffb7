// Package pipeline wires Castellan together: sources → normalize → detect →
// correlate → fan-out to sinks.
//
// Sources hand batches of normalized events to the pipeline together with
// their checkpoints. The pipeline enriches and detects, correlates alerts into
// incidents, and then writes — in one state-file transaction — every
// resulting record into each sink's durable queue, the source checkpoints,
// and snapshots of the detection and correlation state. So a crash at any
// point either keeps the whole batch or none of it: on restart the source
// resumes from its checkpoint against the matching detection state, and no
// event is skipped and no alert emitted twice.
//
// Every factory is listed explicitly in components.go.
package pipeline
