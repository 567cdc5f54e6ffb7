// Package cim maps Castellan records onto the Splunk Common Information
// Model (CIM 6.x): the field names a Splunk data model expects, added to the
// record when the Splunk sink sends it, plus the Splunk app files a user
// installs (splunk/props.conf, eventtypes.conf, tags.conf).
//
// Data models used:
//
//   - Authentication (tag authentication): events of the authentication
//     kinds (logon, logon_failure, kerberos_*, ntlm_auth, ldap_bind,
//     cloud_signin);
//   - Change (tag change; account adds tag account): directory changes,
//     group membership and account changes, Entra directory audits, and
//     response actions;
//   - Alerts (tag alert): alerts, incidents and posture findings. CIM says
//     the Alerts model is for alerts raised by other alerting systems, which
//     is what Castellan is to Splunk.
//
// Only CIM field names are produced; the values follow the CIM enums
// (action success/failure, severity critical/high/medium/low/informational,
// type alert/warning). mitre_technique_id is the CIM field; annotations
// {"mitre_attack": [...]} is the shape Splunk Enterprise Security uses for
// ATT&CK annotations.
package cim
