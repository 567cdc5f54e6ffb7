// Package correlate joins alerts into identity incidents.
//
// Alerts that share an entity — an account, a source IP or a source host —
// within the window (default 24 h, by event time) form one incident. An alert
// that touches two open incidents merges them into the older one. Each change
// bumps the incident's version; Flush returns the changed incidents so the
// pipeline re-emits them (SIEMs keep the latest version per id).
//
// Entities of an alert: for a stateful rule, the values of its group_by
// fields (a password spray grouped by source.ip is about that IP, not about
// the sprayed accounts), plus the source IP and host of the evidence when the
// rule is grouped by a user (the actor's machine); for a match rule, the
// acting user and the source IP and host. A distinct-count rule over target
// accounts (Kerberoasting's target.service) adds the accounts it counted:
// they are the attack's victims.
//
// Hybrid identities: accounts are joined by user.name. Enrichment
// (entities.Identities) rewrites a cloud event whose Entra user is linked to
// an AD account — by onPremisesSecurityIdentifier, UPN, object id or
// sAMAccountName — to the on-prem name and SID, so an on-prem alert and a
// cloud alert on one person land in one incident.
package correlate
