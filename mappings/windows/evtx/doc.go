// Package evtx reads Windows EVTX files (the binary event log format) into
// windows.Record values, streaming, without building an XML tree.
//
// A Reader walks the file chunk by chunk (65,536 bytes each, after a 4,096
// byte file header) with one reused chunk buffer, so memory stays flat
// whatever the file size. Each chunk's template definitions are compiled once
// into a plan that says which substitution feeds which Record field; a record
// then only decodes the values the plan needs. Records that do not fit the
// plan shape (no template, nested binary XML, names from substitutions) take
// a generic, slower path that yields the same fields.
//
// Damage: the reader never panics on hostile input and never allocates more
// than the sizes bounded by the format (a chunk, a capped number of
// substitutions, names and Data entries). A chunk with a bad signature or a
// bad header checksum is skipped whole and reported as a Damage; a record
// that fails to decode is skipped and reported, and reading continues with
// the record that follows it. A records checksum mismatch is reported for
// every chunk except the last written chunk of a file whose header is marked
// dirty (Windows leaves those stale while the log is open); in both cases the
// records whose own framing is sane are still read.
package evtx
