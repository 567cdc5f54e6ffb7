// Package delivery is written once for every sink: a durable per-sink queue
// kept in the state file, a sender loop that batches, retries with
// exponential backoff and jitter, honours Retry-After, and dead-letters
// permanently rejected records on disk. Sinks only turn records into requests
// (Pusher).
//
// It owns its bucket format and is handed a *bbolt.DB; it never imports
// connector.
package delivery
