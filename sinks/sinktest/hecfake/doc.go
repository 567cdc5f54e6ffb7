// Package hecfake is a local double of the Splunk HTTP Event Collector
// (HEC), faithful to the behaviour documented in
// shared/reference/siem-and-graph-apis.md §3:
//
//   - POST /services/collector, /services/collector/event and
//     /services/collector/event/1.0 take a batch of concatenated JSON event
//     objects (not an array), optionally gzip-encoded, with event, time,
//     host, source, sourcetype, index and fields;
//   - auth is "Authorization: Splunk <token>" (or Basic with the token as
//     password): missing → 401 code 2, another scheme → 401 code 3, unknown
//     token → 403 code 4, disabled token → 403 code 1, ?token= → 400 code 16;
//   - every body is {"text","code"}: 0 Success, 5 No data, 6 Invalid data
//     format, 7 Incorrect index, 9 Server is busy (503), 10 Data channel is
//     missing, 11 Invalid data channel, 12 Event field is required, 13 Event
//     field cannot be blank, 14 ACK is disabled, 15 Error in handling indexed
//     fields, 26 HEC queue is at capacity (429); per-event errors carry
//     "invalid-event-number" (0-based);
//   - partial ingestion: events before the first invalid one ARE indexed,
//     the invalid one and every event after it are not;
//   - a request larger than MaxContentLength (Content-Length, or the body
//     read so far) gets HTTP 413;
//   - with UseACK the event endpoint needs a channel GUID (header
//     X-Splunk-Request-Channel or ?channel=), answers with an increasing
//     per-channel "ackId", and POST /services/collector/ack answers
//     {"acks":{"0":true,"1":false}} once AckDelay has passed (an ack id
//     reported true is then forgotten, as Splunk does); LoseAcks makes acked
//     requests whose data is never indexed;
//   - GET /services/collector/health → 200 {"text":"HEC is healthy","code":17}
//     or, after SetHealth, 503 with code 18–20 or 23.
//
// Faults (FailNext, FailFor, DropResponses) come from sinktest.Faults: 503
// answers code 9, 429 code 26, 400 code 6 (without invalid-event-number),
// 401 code 2, 403 code 4, 413, other statuses code 8, with Retry-After when
// asked.
//
// The double does not deduplicate: Accepted lists the castellan id of every
// stored copy (fields.castellan_id, else event.id).
package hecfake
