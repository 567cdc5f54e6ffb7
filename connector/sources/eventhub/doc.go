// Package eventhub is the Event Hubs source: it reads Microsoft Entra ID
// diagnostic logs (sign-ins, audit logs, risk events) that Azure Monitor
// diagnostic settings stream to an event hub, through the hub's Kafka
// endpoint, or the same bodies from any Kafka topic.
//
// The source is one member of a Kafka consumer group (franz-go). Each poll
// is decoded — every message body is {"records":[…]} and each record becomes
// one schema.Event via mappings/entra — into batches of whole messages. A
// batch is handed to the pipeline with no checkpoint: the position lives in
// Kafka, and the offsets of exactly the messages of a batch are committed to
// the group only after ConsumeBatch returned nil. A refused batch is retried
// with backoff and no new polls meanwhile. Rebalances are held back while a
// poll is processed; when the group wants to rebalance while the pipeline
// keeps refusing, the rest of the poll is dropped and its partitions
// rewound, so nothing is committed that was not handed off and nothing
// handed off is left uncommitted on a revoked partition. After a restart the
// group resumes after the last committed message: no loss, and no
// duplicates except for a batch handed off whose commit then failed (replays
// carry the same stable event ids).
//
// Unsupported categories are counted as skipped records; malformed bodies
// and records raise a counter and a rate-limited warning naming topic,
// partition and offset. Neither stops the source.
package eventhub
