// Package samba is the Samba AD DC audit source: it tails the log file a
// Samba domain controller writes its JSON audit records into (log file =
// …, with auth_json_audit, dsdb_json_audit, dsdb_password_json_audit and
// dsdb_group_json_audit raised) and hands every record, normalized by
// mappings/samba, to the pipeline with event.dataset "samba".
//
// The log mixes audit records with debug header lines and Kerberos trace
// lines; those are skipped (counted in source_skipped_records), never
// errors. Tailing is connector/sources/tail, shared with winjson: glob patterns re-globbed each
// poll, a checkpoint per file (device, inode, byte offset, line) carried by
// every batch and durable only when the pipeline accepts it, rotation
// (Samba renames samba.log to samba.log.old when it exceeds max log size)
// and truncation detected by file identity and size, and a rate-limited
// warning naming the file and line of undecodable records.
package samba
