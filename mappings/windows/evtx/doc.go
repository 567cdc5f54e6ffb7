// Package evtx reads Windows EVTX files (the binary event log format) into
// windows.Record values, streaming, without building an XML tree.
//
// A Reader walks the file chunk by chunk (65,536 bytes each, after a 4,096
// byte file header) with one reused chunk buffer, so memory stays flat
// whatever the file size. Chunks are found by scanning the slots after the
// header, not by trusting the header's chunk count (it lags in live files);
// an all-zero slot (preallocated, never written) ends the scan. Each
// chunk's template definitions are compiled once into ops whose element
// context (System/EventID, EventData/Data, UserData leaf, ...) is resolved
// at compile time, so a record only decodes the substitution values a
// Record needs. Records without a template and nested BinXml values are
// compiled on the fly through the same path.
//
// Fields: EventID (Qualifiers ignored), Provider (Provider@Name), Channel,
// Computer, RecordID (record header), Time (System/TimeCreated@SystemTime,
// else the record header's FILETIME), Data: EventData/Data by @Name,
// unnamed Data as Data1, Data2, ... (a string array filling an unnamed Data
// element gives one entry per item, as Windows renders it), other
// EventData children by element name (Binary), and the leaf elements of
// UserData's child by name. Values render as Windows renders event XML:
// integers in decimal, HexInt32/64 and SizeT as 0x..., GUIDs as {XXXXXXXX-...}
// upper case, SIDs as S-1-..., binary as upper-case hex, FILETIME and
// SYSTEMTIME as RFC 3339 UTC; entity and character references expanded.
//
// Damage: the Reader never panics on hostile input and its allocations are
// bounded by construction (one chunk buffer; ≤ 1024 substitutions, nesting
// ≤ 64, ≤ 4096 Data entries, values cut at 64 KiB, ≤ 1 MiB of text and a
// capped amount of template work per record). Every damage is counted in
// Stats and reported to Options.OnDamage with its file offset:
//   - a non-zero slot with a bad signature, or a truncated last slot: the
//     chunk is skipped;
//   - a bad chunk header or records checksum: reported, and the records
//     whose own framing is sane are still read — except in the last chunk
//     of a file whose header is marked dirty, where Windows leaves stale
//     checksums while the log is open; that is not damage. A chunk with a
//     bad header checksum is never skipped by SkipTo on its header's ids;
//   - a record whose binary XML fails to decode: skipped, the next record
//     follows at offset+size;
//   - a record whose framing is broken (size out of bounds or not repeated
//     at its end): the rest of that chunk cannot be located and is skipped.
package evtx
