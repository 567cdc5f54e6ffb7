// Package evtxwrite writes Windows XML Event Log (EVTX) files as Windows itself lays them
// out, so that Castellan's EVTX source, Velociraptor, libevtx, python-evtx and Event Viewer
// can read what the samples generator produces.
//
// # Layout
//
// A file is a 4096-byte file header ("ElfFile\x00", version 3.1, chunk count, next record
// id, flags, CRC32 of its first 120 bytes) followed by 65536-byte chunks. Each chunk starts
// with a 512-byte header ("ElfChnk\x00", first and last record number and id, last record
// and free space offsets, CRC32 of the record data, CRC32 of the header, the 64-bucket
// common-string table and the 32-bucket template table) and holds 8-byte aligned records
// from offset 512: magic 0x00002a2a, size, record id, FILETIME, Binary XML, size again.
// A record that does not fit in the current chunk starts a new one; string and template
// tables are chunk-local and restart with every chunk.
//
// # Binary XML
//
// Every record is a fragment holding one template instance. The template — one per
// provider, event id, channel, computer and ordered list of field names and value types —
// is defined inline the first time a chunk uses it and referenced by offset afterwards, as
// Windows does. Its System part follows Windows' templates: Provider (Name, Guid), EventID
// (with an optional Qualifiers attribute), Version, Level, Task, Opcode, Keywords,
// TimeCreated, EventRecordID, Correlation, Execution, Channel, Computer and Security.
// Provider, Channel and Computer are literal text in the template (as in files Windows
// writes); everything else is a typed substitution. Fields go into
// <EventData><Data Name="…">, or, for events such as 1102, into
// <UserData><LogFileCleared xmlns="…"><Name>. Windows stores UserData as a nested Binary
// XML value; this package writes it inline in the template, which renders identically.
//
// Names (element and attribute names) are interned per chunk in the common-string table,
// bucketed by Windows' 16-bit name hash (h = h*65599 + c over the UTF-16 code units);
// templates are bucketed by the same hash over the eight 16-bit words of their GUID, and
// identified by the GUID's first 32 bits.
//
// # Value types
//
// Field values are strings in [windows.Record]; each is written with the narrowest Windows
// type that renders back to exactly the same text: SID (0x13) for canonical SIDs
// ("S-1-5-21-…"), HexInt32 (0x14) / HexInt64 (0x15) for canonical lower-case hex ("0x0",
// "0xc000006d"; LogonId fields and values above 32 bits are HexInt64), GUID (0x0f) for
// upper-case braced GUIDs ("{54849625-5478-4994-A5BA-3E3B0328C30D}") and UnicodeString
// (0x01) for everything else, including the empty string. The EventID is UInt16, the
// record id UInt64, TimeCreated a FileTime.
//
// # Headers and streaming
//
// The writer buffers only the current chunk. When the destination is an [io.WriteSeeker]
// (an *os.File), the file header is rewritten at Close with its final values (chunk count,
// last chunk, next record id), the clean flag and its CRC. On a plain [io.Writer] the file
// header must go out before the first chunk: it is written when the first chunk is complete
// and describes that chunk; if more chunks follow it is marked dirty, as a live log is,
// and readers (Windows, libevtx, Velociraptor) recover the rest by scanning the chunks.
// A file holds at most 65535 chunks (about 4 GiB), the limit of the header's chunk count.
package evtxwrite
