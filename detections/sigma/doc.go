// Package sigma loads SigmaHQ-format rules (detection and correlation
// rules) as custom detections and evaluates them against schema.Event.
//
// # Rules
//
// ParseFile parses one file (several YAML documents allowed; Sigma 1
// action: global / reset / repeat are merged), Load every .yml / .yaml file
// under a root. Rules using a construct Castellan does not implement are
// never silently dropped: Load lists each with its file, id and reason.
//
// Detection: named selections — maps (AND of fields; a list value is an
// OR; |all makes it an AND), lists of maps (OR), keyword lists (matched,
// as contains, against every raw field value of the event) — and the
// condition with and, or, not, parentheses, "1 of x*", "all of x*",
// "N of x*", "1 of them", "all of them" (a list of conditions is an OR).
// Plain values are case-insensitive globs with * and ? (\*, \? and \\
// escape); null means absent or empty. Modifiers: contains, startswith,
// endswith, all, re (Go RE2; with i, m, s), base64, base64offset, utf16le,
// utf16be, utf16, wide, windash, cidr, exists, gt, gte, lt, lte, fieldref
// (equality) and cased. Not supported (reported): expand (placeholders),
// Sigma 1 aggregations (condition "| count()"), timeframe, regular
// expressions RE2 cannot compile (look-around, back-references), encodings
// without base64, unknown modifiers, logsources outside the table below.
//
// Correlation (Sigma 2, "correlation:" block): event_count, value_count
// (condition.field), temporal and temporal_ordered; rules referenced by id
// or name, group-by, timespan (s, m, h, d), condition gte or gt. lt, lte,
// eq, aliases and chained correlations are reported as unsupported.
// Referenced rules emit no alerts of their own unless the correlation sets
// generate: true. State is bounded: per rule at most
// Options.MaxKeysPerRule group keys (least recently updated evicted and
// counted), per key the last threshold events, at most max(2×threshold,
// 256) distinct values or one match per temporal step; keys expire after
// the timespan. Time is event time, never the wall clock, so replays give
// the same alerts with the same ids. After firing, a key is suppressed for
// one timespan. temporal_ordered keeps one chain per key: the first step
// restarts it only when no later step is pending.
//
// # Fields
//
// A Sigma field name resolves, at compile time, to a getter: the
// logsource's field map (below); the Windows envelope names EventID →
// event.code, Channel → event.channel, Provider_Name → event.provider,
// Computer → host.name; a dotted schema path schema.Field knows (e.g.
// user.name); otherwise the raw Event.Original field of that name (exact,
// then case-insensitive).
//
// # Logsources
//
//	product windows, service ...         channel
//	security                             Security
//	system                               System
//	application                          Application
//	sysmon                               Microsoft-Windows-Sysmon/Operational
//	powershell                           Microsoft-Windows-PowerShell/Operational, Windows PowerShell
//	powershell-classic                   Windows PowerShell
//	ntlm                                 Microsoft-Windows-NTLM/Operational
//	lsa-server                           Microsoft-Windows-LSA/Operational
//	ldap, ldap_debug                     Microsoft-Windows-LDAP-Client/Debug
//	taskscheduler, wmi, dns-server, windefend, bits-client, firewall-as,
//	codeintegrity-operational, smbclient-security, capi2, applocker, ...
//	                                     their Windows channels (logsource.go)
//
//	category                  events
//	process_creation          Sysmon 1 (fields as named) and Security 4688:
//	                            Image → NewProcessName, ParentImage → ParentProcessName,
//	                            CommandLine → CommandLine, User → SubjectDomainName\SubjectUserName,
//	                            IntegrityLevel → MandatoryLabel SID named (S-1-16-12288 → High, ...),
//	                            LogonId → SubjectLogonId, ProcessId → NewProcessId,
//	                            ParentProcessId → ProcessId; OriginalFileName, Hashes,
//	                            Company, Product, Description, CurrentDirectory,
//	                            ParentCommandLine, ParentUser, ... are absent in 4688
//	ps_script                 PowerShell/Operational 4104 (ScriptBlockText)
//	ps_module                 PowerShell/Operational 4103
//	ps_classic_start          Windows PowerShell 400
//	ps_classic_provider_start Windows PowerShell 600
//	network_connection        Sysmon 3
//	file_event                Sysmon 11;  file_delete 23, 26;  file_change 2
//	registry_add / _delete    Sysmon 12;  registry_set 13;  registry_rename 14;  registry_event 12-14
//	image_load 7, driver_load 6, process_access 10, create_remote_thread 8, raw_access_thread 9,
//	pipe_created 17-18, wmi_event 19-21, dns_query 22, process_termination 5,
//	create_stream_hash 15, process_tampering 25, clipboard_capture 24 (Sysmon)
//
// Events whose channel is empty or ForwardedEvents are routed by provider
// (Microsoft-Windows-Security-Auditing → Security, ...). Other products
// (linux, azure, ...) are reported as unsupported.
//
// # Evaluation
//
// Values are compiled once: needles lower-cased, globs reduced to
// equality / prefix / suffix / contains where possible, regular
// expressions, CIDRs, windash and base64offset variants precomputed.
// Rules are indexed by channel and by the EventID values their condition
// requires, so an event is only evaluated by rules that can match it, and a
// non-matching evaluation allocates nothing (except the 4688 User field,
// which joins domain and name).
//
// A Set is not safe for concurrent use; the pipeline serializes calls.
// Its correlation state can be saved with Snapshot and loaded with Restore.
package sigma
