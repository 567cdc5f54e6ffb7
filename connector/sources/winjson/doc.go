// Package winjson is the forwarded-JSON Windows event source: it tails
// JSON-lines files written by Winlogbeat, NXLog or any shipper that writes one
// Windows event per line (either shape windows.DecodeJSON understands), and
// optionally listens on TCP for the same lines.
//
// Files are matched by glob patterns, re-globbed every poll so new files are
// picked up. Each file's position (device, inode, byte offset, line number)
// is handed to the pipeline as a checkpoint with every batch and becomes
// durable only when the batch does; after a restart the source resumes where
// the last accepted batch ended. Rotation (rename + create) and truncation
// are detected by file identity and size. Undecodable lines raise a counter
// and a rate-limited warning; they never stop the source.
package winjson
