// Package dcefake is a faithful local double of the Azure Monitor Logs
// Ingestion API as served by a Data Collection Endpoint (DCE), for testing
// the Sentinel sink with the real azlogs client over the wire.
//
// What it enforces, after the reference (siem-and-graph-apis.md §1.1, §1.5):
//
//   - HTTPS only (httptest.NewTLSServer): azlogs refuses to send a bearer
//     token over plain http. Use Server.Client as azcore's Transport.
//   - POST /dataCollectionRules/{dcrImmutableId}/streams/{streamName}?api-version=2023-01-01;
//     any other method, path shape or api-version answers 404.
//   - Authorization: Bearer <token>. A missing or wrong token answers 401;
//     DenyAccess makes a valid token answer 403 OperationFailed with the
//     documented "PipelineAccessResult: AccessGranted: False" message (a
//     principal without Monitoring Metrics Publisher on the DCR).
//   - An unknown DCR immutable id or stream answers 404.
//   - The 1,048,576-byte limit applies to the raw request body (the
//     compressed size when Content-Encoding: gzip): 413
//     ContentLengthLimitExceeded with the documented message. A gzip body
//     that inflates past MaxDecompressedBytes (about 50 MiB, third-party
//     report) answers 413 PayloadSizeLimitExceeded.
//   - Content-Encoding gzip or none; Content-Type application/json.
//   - The body must be a JSON array of objects whose fields are declared
//     columns of the stream, each value of the column's type (or null);
//     anything else answers 400 InvalidPayload and stores nothing.
//   - Success is 204 No Content with an empty body.
//   - No deduplication: every stored row counts, so Accepted lists each
//     row's EventId, duplicates included.
//   - Error bodies are {"error":{"code":"…","message":"…"}} with the same
//     code in x-ms-error-code. Only the 403 and 413 codes are documented by
//     Microsoft; the 400 (InvalidPayload), 401 (OperationFailed) and 404
//     (NotFound) codes are this double's choice.
//
// Fault injection comes from sinktest.Faults (FailNext, FailFor with
// Retry-After, DropResponses: store, then drop the connection), plus Reject
// (a request holding a rejected EventId is refused whole with 400, as the
// API has no per-row results). Calls records every request's stream,
// status, raw and decompressed byte sizes and row count.
package dcefake
