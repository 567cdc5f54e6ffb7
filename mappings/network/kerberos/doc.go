// Package kerberos dissects Kerberos v5 (RFC 4120) on TCP and UDP port 88
// into schema.Events: the AS exchange becomes kerberos_tgt (or
// kerberos_preauth_failure for KDC_ERR_PREAUTH_FAILED, 0x18), the TGS
// exchange kerberos_service_ticket.
//
// Requests are remembered per conversation (a TCP connection, or a UDP
// 5-tuple) and paired first-in first-out with the KDC's answer, which is
// when the event is emitted: an AS-REP or TGS-REP (success; the client name
// comes from the reply's cname, the etype from the ticket's or the reply's
// enc-part) or a KRB-ERROR (failure, with its error code). Requests still
// unanswered when the conversation ends are emitted with outcome unknown.
//
// Messages are decoded with the allocation-free BER reader of
// mappings/network: lengths are checked against the message before
// anything is read, list lengths are capped, and a TCP record longer than
// MaxMessage is skipped and counted.
package kerberos
