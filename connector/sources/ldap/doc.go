// Package ldap collects an Active Directory snapshot (mappings/directory)
// over LDAP with github.com/go-ldap/ldap/v3, for the identity posture
// assessments. It is a library, not a pipeline source: the posture runner
// calls Collect on its schedule.
//
// One Collect binds (simple bind over LDAPS or StartTLS; the password is a
// secret and never appears in errors or logs), reads the RootDSE for the
// naming contexts, and reads with paged searches (Simple Paged Results,
// RFC 2696) and the LDAP_SERVER_SD_FLAGS control (OWNER|DACL, so a
// non-admin account can read nTSecurityDescriptor):
//
//   - the domain head: SID, functional level, ms-DS-MachineAccountQuota,
//     password and lockout policy, gPLink, security descriptor;
//   - CN=AdminSDHolder,CN=System and its security descriptor;
//   - every account (objectClass=user: users, computers, managed service
//     accounts, krbtgt) with UAC, SPNs, password and logon times, SID
//     history, delegation settings (msDS-AllowedToDelegateTo, RBCD
//     descriptors), LAPS expiry attributes (legacy and Windows LAPS) and OS;
//   - every group with its member attribute (ranged retrieval for large
//     groups);
//   - trusts (trustedDomain), GPO containers (groupPolicyContainer) with
//     their descriptors and the gPLinks that attach them;
//   - from the configuration partition: the domain's NetBIOS name
//     (crossRef), AD CS certificate templates and enrollment services with
//     their descriptors; from the schema: whether LAPS is deployed.
//
// Nested group membership is then resolved by directory.Snapshot.Resolve
// (cycle-safe). What cannot be read (a descriptor that does not parse, a
// container the account may not see) becomes a Snapshot warning and a
// count, never a silent gap; a failed bind or search fails the collection.
package ldap
