// Package ntlm decodes NTLMSSP messages (MS-NLMP) wherever they travel and
// follows the carriers that the network sensor sees in clear: SMB2
// SESSION_SETUP (TCP 445 and 139, through SessionSetups, which the smb
// dissector drives) and HTTP Authorization: NTLM/Negotiate (TCP 80, 5985,
// 8080). LDAP SASL binds use Parse and Event from the ldap package.
//
// An AUTHENTICATE (type 3) message becomes one ntlm_auth event: user,
// domain, workstation, NTLM version (v1 when the NT response is 24 bytes,
// v2 when longer, lm when only an LM response is sent), whether a MIC
// protects the exchange, and the outcome from the server's answer (the SMB2
// status, the HTTP status) when it is seen. CHALLENGE (type 2) messages
// teach the sensor the server's host name (target info AV pairs).
package ntlm
