// Package directory is the identity snapshot that posture assessments read:
// one point-in-time picture of an Active Directory domain (users, computers,
// groups with nested membership resolved, trusts, GPOs, AD CS templates and
// enrollment services, the security descriptors that matter) and, optionally,
// of an Entra ID tenant (directory roles with active and eligible
// assignments, authentication-method registration, Conditional Access
// policies, applications and service principals with their credentials).
//
// It is pure data plus the logic that belongs to the data:
//
//   - UAC decodes userAccountControl (Disabled, DontReqPreauth,
//     TrustedForDelegation, …); EncTypes decodes msDS-SupportedEncryptionTypes.
//   - ParseSecurityDescriptor decodes a self-relative SECURITY_DESCRIPTOR
//     (MS-DTYP 2.4.6) as read from nTSecurityDescriptor or
//     msDS-AllowedToActOnBehalfOfOtherIdentity into SecurityDescriptor: owner,
//     group and DACL ACEs with named rights (AccessMask) and object-type GUIDs
//     named from a table of well-known extended rights, property sets,
//     attributes and classes (GUIDName).
//   - ParseSID and SIDString convert binary SIDs; RID, DomainRID and the
//     Rid* constants name well-known principals (Domain Admins = 512 …).
//   - Snapshot.Resolve computes nested group membership (cycle-safe): every
//     account's and group's EffectiveGroups, every group's EffectiveMembers,
//     the privileged groups each principal belongs to, and ACE trustee names.
//
// Collectors (connector/sources/ldap for AD, connector/sources/entra for
// Graph) fill a Snapshot; detections/posture assesses it. Tests may build a
// Snapshot by hand and call Resolve. This package imports nothing of ours.
package directory
