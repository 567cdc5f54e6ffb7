package windows

// securityMappers are Security-log event ids; they apply when the record
// comes from the Security channel, ForwardedEvents, or the auditing provider.
var securityMappers = map[int]mapper{
	// logon.go
	4624: mapLogon,
	4625: mapLogonFailure,
	4648: mapExplicitLogon,
	// kerberos.go
	4768: mapKerberosTGT,
	4769: mapKerberosServiceTicket,
	4770: mapKerberosRenewal,
	4771: mapKerberosPreauthFailure,
	// ntlm.go
	4776: mapNTLM,
	// directory.go
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
	4781: mapAccountRename,
	4794: mapAccount("dsrm-password-set-attempted"),
	4728: mapGroupMember("add", "member-added-to-global-group"),
	4732: mapGroupMember("add", "member-added-to-local-group"),
	4756: mapGroupMember("add", "member-added-to-universal-group"),
	4729: mapGroupMember("delete", "member-removed-from-global-group"),
	4733: mapGroupMember("delete", "member-removed-from-local-group"),
	4757: mapGroupMember("delete", "member-removed-from-universal-group"),
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
