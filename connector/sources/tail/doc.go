// Package tail is the file-tailing and TCP-listening machinery shared by
// the record-file sources (winjson, samba): glob paths re-expanded each poll,
// tailing with rotation and truncation detection, checkpoints by file
// identity and byte offset committed only after the pipeline accepted the
// batch, bounded records, counted and rate-limited decode errors, and an
// optional TCP listener for the same records.
//
// A source supplies a DecodeFunc (record bytes → event) and, for records
// that are not lines, a bufio.SplitFunc.
package tail
