// Package ldap dissects LDAPv3 (RFC 4511) in clear on TCP 389 and 3268
// (global catalog) into schema.Events. TLS ports (636, 3269) are claimed
// only to be counted as encrypted; a StartTLS upgrade or SASL sealing after
// a bind ends decoding of a connection the same way.
//
//   - BindRequest → ldap_bind, emitted with the BindResponse's result: the
//     bind DN, simple or SASL (mechanism). A simple bind with a password is
//     flagged original.cleartext = "true"; the password itself is never
//     stored or logged, only its length. An NTLM AUTHENTICATE inside a SASL
//     bind (GSS-SPNEGO) also yields an ntlm_auth event.
//   - SearchRequest → ldap_search, emitted with SearchResultDone: base DN,
//     scope, the filter rendered as RFC 4515 text, the attribute list, the
//     size limit, the controls, and how many entries came back.
//   - Add, Modify, Delete and ModifyDN requests → directory_change, one event
//     per modified attribute for Modify, emitted with the response's result.
//     Values of secret attributes (unicodePwd, userPassword, …) are
//     replaced by "[REDACTED]".
//
// Messages are decoded with the allocation-free BER reader of
// mappings/network; a message longer than MaxMessage is skipped and
// counted, filter rendering is depth- and length-capped.
package ldap
