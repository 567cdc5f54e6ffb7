// Package sentinel is the Microsoft Sentinel sink: it writes Castellan
// records as rows of custom tables, one per record kind (mappings/asim:
// events, alerts, incidents, posture findings, response actions), through
// the Azure Monitor Logs Ingestion API, with the azlogs client, to a Data
// Collection Endpoint and Rule deployed from mappings/asim/deploy.
//
// Push groups a batch by record kind into its stream, turns each record
// into a row (asim.FromEvent, FromAlert, FromIncident, FromFinding,
// FromAction), and packs the rows greedily into gzip-compressed JSON arrays
// that stay within MaxCallBytes on the wire (the service's 1 MiB limit
// applies to the raw, compressed body). Each array is one Upload call; the
// Go client neither chunks nor compresses, so the sink does both. Uploads
// of one Push run in order.
//
// Outcomes are classified for delivery.Sender: 413 is TooLarge (the sender
// splits); 429 and 503 are Throttled with the Retry-After the service
// sent; 401 and 403 are Permanent with a hint about the Monitoring Metrics
// Publisher role; 400 and 404 are Permanent; other 5xx and network errors
// are retried. A 400 for a call of many rows is narrowed down by halving,
// so only the rows the service refuses are dead-lettered. When some
// uploads of a Push succeed and others fail, Push returns a
// *delivery.PartialError naming only the failed items, so nothing already
// stored is sent again. azcore's own retries are off: the sender is the one
// place that retries.
//
// Log Analytics does not deduplicate: a retry after a lost response stores
// a row twice. Every row carries EventId, and the shipped queries take one
// row per EventId.
package sentinel
