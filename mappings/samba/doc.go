// Package samba maps the JSON audit log of a Samba Active Directory domain
// controller onto schema.Event.
//
// Samba writes one JSON object per audit record into its debug log when the
// auth_json_audit, dsdb_json_audit, dsdb_password_json_audit,
// dsdb_group_json_audit and dsdb_transaction_json_audit debug classes are
// raised (see scripts/samba-lab.sh). Decode takes one log line and finds the
// object in the forms seen in practice:
//
//	  {"timestamp": "…", "type": "Authentication", …}           log file = … (4.9 and later)
//	JSON Authentication: {"timestamp": …}                         older releases
//	  /usr/sbin/samba_spnupdate: {"timestamp": …}                 a helper's output relayed by samba
//	Nov 28 06:55:56 dc1 samba[412]:   {"timestamp": …}            syslog
//
// Every other line (the "[date, level] file:line(func)" headers, Kerberos
// trace lines) is ErrSkip: not an error. A line that carries an audit object
// which is truncated, not JSON, without a type or a readable timestamp, or
// longer than MaxLineBytes is ErrMalformed. Samba's runcmd relay splits a
// helper's lines at 1024 bytes; such a first half is malformed and its
// continuation skipped.
//
// # Mapping
//
// Authentication records carry Windows event ids (4624 success, 4625
// failure) and are normalized to what a Windows DC logs for the same
// exchange, so the same rules see both:
//   - "Kerberos KDC" (an AS exchange) → kerberos_tgt (4768), or
//     kerberos_preauth_failure (4771) for a wrong password, with the Kerberos
//     result code as auth.failure_code (0x18 bad password, 0x6 unknown
//     principal, 0x12 disabled/locked/expired, 0x17 password expired);
//     auth.kerberos.preauth_type from authDescription (ENC-TS 2, ENC-CHAL 138,
//     PKINIT 16, and 0 for a successful exchange logged as "Unknown
//     Pre-authentication": the KDC issued a TGT without pre-authentication,
//     which is AS-REP roasting); auth.kerberos.etype from passwordType.
//   - LDAP "simple bind" → ldap_bind (auth.protocol ldap, logon type 8).
//   - everything else (NTLMSSP over SMB, LDAP SASL, DCE/RPC, SamLogon) →
//     logon / logon_failure, with the NTSTATUS as auth.failure_code
//     (NT_STATUS_WRONG_PASSWORD → 0xc000006a "bad password", …) and
//     passwordType NTLMv2 / NTLMv1 / LM as auth.ntlm.version.
//
// event.code is Samba's own eventId (4624 / 4625) in every case. Authorization
// records (auth_json_audit:5) are logons only when the session came from a
// Kerberos ticket, which has no Authentication record; otherwise they repeat
// an Authentication and stay kind other.
//
// passwordChange (4723 change, 4724 reset) → account_change with the Windows
// action names; groupChange (4728/4732/4756/… added, 4729/4733/4757/…
// removed) → group_membership_change with target.group and target.user from
// the DNs; dsdbChange → directory_change (one event per record: the
// attribute when one attribute changed, else the names joined with ",";
// extended DNs "<GUID=…>;<SID=…>;CN=…" reduced to the DN; redacted secrets
// leave no value); dsdbTransaction and unknown types → other. The acting
// identity of directory records is the session's SID (userSid); Samba does
// not log its name.
//
// # Ids
//
// Samba assigns no record number: transactionId is shared by every record of
// one transaction (a groupChange and its dsdbChange), logonId is "0" for NTLM
// and LDAP logons, and sessionId spans a connection. So the event id hashes
// the record itself: schema.EventID("samba", host, type, timestamp + every
// field, sorted). The same line read twice — a replay, or the same object
// through syslog instead of the log file — gets the same id; two records
// differ at least in their microsecond timestamp, client port or duration.
//
// # Original
//
// The record's fields are kept flattened under Event.Original: the fields of
// the type's object by their own names ("status", "serviceDescription"),
// nested objects and arrays with dotted keys ("version.major",
// "attributes.member.actions.0.values.0.value"), plus "type" and
// "timestamp". nulls are dropped. At most MaxOriginalFields keys (sorted, the
// rest dropped and counted in "original_truncated") and MaxOriginalValue
// bytes per value are kept.
package samba
