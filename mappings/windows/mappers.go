package windows

import "strings"

// securityMappers are Security-log event ids; they apply when the record
// comes from the Security channel, ForwardedEvents, or the auditing provider.
var securityMappers = map[int]mapper{
	// logon.go
	4624: mapLogon,
	4625: mapLogonFailure,
	4648: mapExplicitLogon,
	// other.go
	4634: mapLogoff("logged-off"),
	4647: mapLogoff("logoff-initiated"),
	4672: mapOtherAction("special-privileges-assigned"),
	4673: mapPrivilegedService,
	4698: mapOtherAction("scheduled-task-created"),
	4798: mapGroupEnumeration,
	4799: mapGroupEnumeration,
	5140: mapShareAccess("network-share-accessed"),
	5145: mapShareAccess("network-share-object-checked"),
	// kerberos.go
	4768: mapKerberosTGT,
	4769: mapKerberosServiceTicket,
	4770: mapKerberosRenewal,
	4771: mapKerberosPreauthFailure,
	// ntlm.go
	4776: mapNTLM,
	// directory.go
	4661: mapHandleRequest,
	4662: mapDirectoryAccess,
	5136: mapDirectoryModify,
	5137: mapDirectoryObject("add", "object-created"),
	5138: mapDirectoryObject("add", "object-undeleted"),
	5139: mapDirectoryMove,
	5141: mapDirectoryObject("delete", "object-deleted"),
	// account.go
	4720: mapAccount("user-account-created"),
	4722: mapAccount("user-account-enabled"),
	4723: mapAccount("password-change-attempted"),
	4724: mapAccount("password-reset-attempted"),
	4725: mapAccount("user-account-disabled"),
	4726: mapAccount("user-account-deleted"),
	4738: mapAccount("user-account-changed"),
	4740: mapAccountLockout,
	4741: mapAccount("computer-account-created"),
	4742: mapAccount("computer-account-changed"),
	4743: mapAccount("computer-account-deleted"),
	4765: mapAccount("sid-history-added"),
	4766: mapAccount("sid-history-add-failed"),
	4767: mapAccount("user-account-unlocked"),
	4780: mapAccount("admin-account-acl-set"),
	4781: mapAccountRename,
	4794: mapAccount("dsrm-password-set-attempted"),
	4727: mapGroup("security-global-group-created"),
	4730: mapGroup("security-global-group-deleted"),
	4731: mapGroup("security-local-group-created"),
	4753: mapGroup("distribution-global-group-deleted"),
	4758: mapGroup("security-universal-group-deleted"),
	4763: mapGroup("distribution-universal-group-deleted"),
	4764: mapGroup("group-type-changed"),
	4728: mapGroupMember("add", "member-added-to-global-group"),
	4732: mapGroupMember("add", "member-added-to-local-group"),
	4756: mapGroupMember("add", "member-added-to-universal-group"),
	4729: mapGroupMember("delete", "member-removed-from-global-group"),
	4733: mapGroupMember("delete", "member-removed-from-local-group"),
	4757: mapGroupMember("delete", "member-removed-from-universal-group"),
	// certsvc.go
	4882: mapCertServices("certificate-services-permissions-changed"),
	4885: mapCertServices("audit-filter-changed"),
	4886: mapCertServices("certificate-requested"),
	4887: mapCertServices("certificate-issued"),
	4890: mapCertServices("manager-settings-changed"),
	4896: mapCertServices("rows-deleted"),
	4898: mapCertServices("template-loaded"),
	4899: mapCertServices("template-updated"),
	// system.go
	4697: mapServiceInstall4697,
	4719: mapAuditPolicy,
	1102: mapLogCleared("security-log-cleared"),
}

// systemMappers are System-log event ids, checked against the provider.
var systemMappers = map[int]mapper{
	7045: mapServiceInstall7045,
	104:  mapLogCleared("event-log-cleared"),
}

// ntlmMappers are Microsoft-Windows-NTLM/Operational event ids, checked
// against the channel or provider.
var ntlmMappers = map[int]mapper{
	8004: mapNTLMAudit,
}

// NTLM operational log names.
const (
	ProviderNTLM = "Microsoft-Windows-NTLM"
	ChannelNTLM  = "Microsoft-Windows-NTLM/Operational"
)

func isNTLM(r *Record, channel string) bool {
	return strings.EqualFold(channel, ChannelNTLM) || strings.EqualFold(r.Provider, ProviderNTLM)
}

// mapperFor returns the mapper for r, nil when r stays KindOther.
func mapperFor(r *Record, channel string) mapper {
	if m, ok := securityMappers[r.EventID]; ok && isSecurity(r, channel) {
		return m
	}
	if m, ok := systemMappers[r.EventID]; ok && isSystem(r, channel) {
		return m
	}
	if m, ok := ntlmMappers[r.EventID]; ok && isNTLM(r, channel) {
		return m
	}
	return nil
}
