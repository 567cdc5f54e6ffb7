// Package evtx is the Windows EVTX file source: it reads .evtx files
// (exported logs, archived logs, and live logs that are still being written)
// with the chunk-by-chunk parser in mappings/windows/evtx and hands every
// record, normalized by mappings/windows with event.dataset "evtx", to the
// pipeline in batches.
//
// Paths are files, directories (every *.evtx below them) and glob patterns,
// expanded again on every poll so new and archived files are picked up. A
// file's position — its device, inode, size and the id of the last record
// handed off — travels with every batch as a checkpoint and becomes durable
// only when the batch does; after a restart the source resumes after that
// record. Files are recognized by identity (device and inode), so a live log
// that Windows archives (renames) and replaces is followed into the new file
// while the archived one, if still matched, is not read twice.
//
// Live files are re-read when their size or modification time changes; the
// parser skips chunks already handed off by their header alone, and at most
// one batch of events is held in memory whatever the file size. Damaged
// chunks and records are counted and warned about once per file and offset;
// they never stop the source. Files that are not EVTX are skipped with one
// warning.
package evtx
