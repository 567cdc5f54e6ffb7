// Package dns dissects DNS (RFC 1035) over UDP and TCP port 53 into
// dns_query events: the first question's name and type, the answer's
// RCODE and answer count, and whether the query is a zone transfer (AXFR
// 252 or IXFR 251, event.action "zone-transfer").
//
// One event is emitted per query, when its answer arrives (matched by
// transaction id within the conversation) or, unanswered, when the
// conversation ends (outcome unknown). A zone transfer over TCP spans many
// messages: their answers are summed, and the event is emitted when the
// closing SOA of an AXFR is seen, on an error RCODE, or at the end of the
// connection. An answer whose query was not seen (capture started late)
// still makes an event from the answer's own question.
//
// Parsing is bounded: names follow at most maxPointers compression
// pointers, each pointing strictly backwards (no loops), and stop at 255
// bytes; at most maxRecords answer records are walked per message and
// maxPending queries are remembered per conversation.
package dns
