package dcerpc

// Interface is a known DCE/RPC interface: its short name (rpc.interface),
// the protocol specification that defines it, and its operation names by
// opnum (as the specification spells them, without IDL_ prefixes).
type Interface struct {
	Name string
	Spec string
	Ops  map[uint16]string
}

// Operation returns the name of opnum, or "" when it is not in the table.
func (i *Interface) Operation(opnum uint16) string {
	if i == nil {
		return ""
	}
	return i.Ops[opnum]
}

// ops builds an opnum table from names listed in opnum order starting at 0;
// an empty string leaves a gap (opnums not used on the wire).
func ops(names ...string) map[uint16]string {
	m := make(map[uint16]string, len(names))
	for i, n := range names {
		if n != "" {
			m[uint16(i)] = n
		}
	}
	return m
}

// with adds sparse opnums to a table.
func with(m map[uint16]string, kv map[uint16]string) map[uint16]string {
	for k, v := range kv {
		m[k] = v
	}
	return m
}

var (
	drsuapi = &Interface{Name: "drsuapi", Spec: "MS-DRSR", Ops: ops(
		"DRSBind", "DRSUnbind", "DRSReplicaSync", "DRSGetNCChanges", "DRSUpdateRefs", "DRSReplicaAdd",
		"DRSReplicaDel", "DRSReplicaModify", "DRSVerifyNames", "DRSGetMemberships", "DRSInterDomainMove",
		"DRSGetNT4ChangeLog", "DRSCrackNames", "DRSWriteSPN", "DRSRemoveDsServer", "DRSRemoveDsDomain",
		"DRSDomainControllerInfo", "DRSAddEntry", "DRSExecuteKCC", "DRSGetReplInfo", "DRSAddSidHistory",
		"DRSGetMemberships2", "DRSReplicaVerifyObjects", "DRSGetObjectExistence", "DRSQuerySitesByCost",
		"DRSInitDemotion", "DRSReplicaDemotion", "DRSFinishDemotion", "DRSAddCloneDC", "DRSWriteNgcKey",
		"DRSReadNgcKey")}
	samr = &Interface{Name: "samr", Spec: "MS-SAMR", Ops: with(ops(
		"SamrConnect", "SamrCloseHandle", "SamrSetSecurityObject", "SamrQuerySecurityObject", "",
		"SamrLookupDomainInSamServer", "SamrEnumerateDomainsInSamServer", "SamrOpenDomain",
		"SamrQueryInformationDomain", "SamrSetInformationDomain", "SamrCreateGroupInDomain",
		"SamrEnumerateGroupsInDomain", "SamrCreateUserInDomain", "SamrEnumerateUsersInDomain",
		"SamrCreateAliasInDomain", "SamrEnumerateAliasesInDomain", "SamrGetAliasMembership",
		"SamrLookupNamesInDomain", "SamrLookupIdsInDomain", "SamrOpenGroup", "SamrQueryInformationGroup",
		"SamrSetInformationGroup", "SamrAddMemberToGroup", "SamrDeleteGroup", "SamrRemoveMemberFromGroup",
		"SamrGetMembersInGroup", "SamrSetMemberAttributesOfGroup", "SamrOpenAlias", "SamrQueryInformationAlias",
		"SamrSetInformationAlias", "SamrDeleteAlias", "SamrAddMemberToAlias", "SamrRemoveMemberFromAlias",
		"SamrGetMembersInAlias", "SamrOpenUser", "SamrDeleteUser", "SamrQueryInformationUser",
		"SamrSetInformationUser", "SamrChangePasswordUser", "SamrGetGroupsForUser",
		"SamrQueryDisplayInformation", "SamrGetDisplayEnumerationIndex", "", "",
		"SamrGetUserDomainPasswordInformation", "SamrRemoveMemberFromForeignDomain",
		"SamrQueryInformationDomain2", "SamrQueryInformationUser2", "SamrQueryDisplayInformation2",
		"SamrGetDisplayEnumerationIndex2", "SamrCreateUser2InDomain", "SamrQueryDisplayInformation3",
		"SamrAddMultipleMembersToAlias", "SamrRemoveMultipleMembersFromAlias", "SamrOemChangePasswordUser2",
		"SamrUnicodeChangePasswordUser2", "SamrGetDomainPasswordInformation", "SamrConnect2",
		"SamrSetInformationUser2", "", "", "", "SamrConnect4", "", "SamrConnect5", "SamrRidToSid",
		"SamrSetDSRMPassword", "SamrValidatePassword"),
		map[uint16]string{73: "SamrUnicodeChangePasswordUser4"})}
	lsarpc = &Interface{Name: "lsarpc", Spec: "MS-LSAD/MS-LSAT", Ops: with(ops(
		"LsarClose", "", "LsarEnumeratePrivileges", "LsarQuerySecurityObject", "LsarSetSecurityObject", "",
		"LsarOpenPolicy", "LsarQueryInformationPolicy", "LsarSetInformationPolicy", "", "LsarCreateAccount",
		"LsarEnumerateAccounts", "LsarCreateTrustedDomain", "LsarEnumerateTrustedDomains", "LsarLookupNames",
		"LsarLookupSids", "LsarCreateSecret", "LsarOpenAccount", "LsarEnumeratePrivilegesAccount",
		"LsarAddPrivilegesToAccount", "LsarRemovePrivilegesFromAccount", "", "", "LsarGetSystemAccessAccount",
		"LsarSetSystemAccessAccount", "LsarOpenTrustedDomain", "LsarQueryInfoTrustedDomain",
		"LsarSetInformationTrustedDomain", "LsarOpenSecret", "LsarSetSecret", "LsarQuerySecret",
		"LsarLookupPrivilegeValue", "LsarLookupPrivilegeName", "LsarLookupPrivilegeDisplayName",
		"LsarDeleteObject", "LsarEnumerateAccountsWithUserRight", "LsarEnumerateAccountRights",
		"LsarAddAccountRights", "LsarRemoveAccountRights", "LsarQueryTrustedDomainInfo",
		"LsarSetTrustedDomainInfo", "LsarDeleteTrustedDomain", "LsarStorePrivateData",
		"LsarRetrievePrivateData", "LsarOpenPolicy2", "LsarGetUserName", "LsarQueryInformationPolicy2",
		"LsarSetInformationPolicy2", "LsarQueryTrustedDomainInfoByName", "LsarSetTrustedDomainInfoByName",
		"LsarEnumerateTrustedDomainsEx", "LsarCreateTrustedDomainEx", "", "LsarQueryDomainInformationPolicy",
		"LsarSetDomainInformationPolicy", "LsarOpenTrustedDomainByName", "", "LsarLookupSids2",
		"LsarLookupNames2", "LsarCreateTrustedDomainEx2"),
		map[uint16]string{68: "LsarLookupNames3", 73: "LsarQueryForestTrustInformation",
			74: "LsarSetForestTrustInformation", 76: "LsarLookupSids3", 77: "LsarLookupNames4",
			81: "LsarCreateTrustedDomainEx3", 82: "LsarOpenPolicy3"})}
	srvsvc = &Interface{Name: "srvsvc", Spec: "MS-SRVS", Ops: ops(
		"NetrCharDevEnum", "NetrCharDevGetInfo", "NetrCharDevControl", "NetrCharDevQEnum",
		"NetrCharDevQGetInfo", "NetrCharDevQSetInfo", "NetrCharDevQPurge", "NetrCharDevQPurgeSelf",
		"NetrConnectionEnum", "NetrFileEnum", "NetrFileGetInfo", "NetrFileClose", "NetrSessionEnum",
		"NetrSessionDel", "NetrShareAdd", "NetrShareEnum", "NetrShareGetInfo", "NetrShareSetInfo",
		"NetrShareDel", "NetrShareDelSticky", "NetrShareCheck", "NetrServerGetInfo", "NetrServerSetInfo",
		"NetrServerDiskEnum", "NetrServerStatisticsGet", "NetrServerTransportAdd", "NetrServerTransportEnum",
		"NetrServerTransportDel", "NetrRemoteTOD", "", "NetprPathType", "NetprPathCanonicalize",
		"NetprPathCompare", "NetprNameValidate", "NetprNameCanonicalize", "NetprNameCompare",
		"NetrShareEnumSticky", "NetrShareDelStart", "NetrShareDelCommit", "NetrpGetFileSecurity",
		"NetrpSetFileSecurity", "NetrServerTransportAddEx")}
	wkssvc = &Interface{Name: "wkssvc", Spec: "MS-WKST", Ops: ops(
		"NetrWkstaGetInfo", "NetrWkstaSetInfo", "NetrWkstaUserEnum", "", "", "NetrWkstaTransportEnum",
		"NetrWkstaTransportAdd", "NetrWkstaTransportDel", "NetrUseAdd", "NetrUseGetInfo", "NetrUseDel",
		"NetrUseEnum", "", "NetrWorkstationStatisticsGet", "", "", "", "", "", "", "NetrGetJoinInformation",
		"", "NetrJoinDomain2", "NetrUnjoinDomain2", "NetrRenameMachineInDomain2", "NetrValidateName2",
		"NetrGetJoinableOUs2", "NetrAddAlternateComputerName", "NetrRemoveAlternateComputerName",
		"NetrSetPrimaryComputerName", "NetrEnumerateComputerNames")}
	efsrpc = &Interface{Name: "efsrpc", Spec: "MS-EFSR", Ops: ops(
		"EfsRpcOpenFileRaw", "EfsRpcReadFileRaw", "EfsRpcWriteFileRaw", "EfsRpcCloseRaw",
		"EfsRpcEncryptFileSrv", "EfsRpcDecryptFileSrv", "EfsRpcQueryUsersOnFile", "EfsRpcQueryRecoveryAgents",
		"EfsRpcRemoveUsersFromFile", "EfsRpcAddUsersToFile", "", "EfsRpcNotSupported", "EfsRpcFileKeyInfo",
		"EfsRpcDuplicateEncryptionInfoFile", "", "EfsRpcAddUsersToFileEx", "EfsRpcFileKeyInfoEx", "",
		"EfsRpcGetEncryptedFileMetadata", "EfsRpcSetEncryptedFileMetadata", "EfsRpcFlushEfsCache",
		"EfsRpcEncryptFileExSrv", "EfsRpcQueryProtectors")}
	spoolss = &Interface{Name: "spoolss", Spec: "MS-RPRN", Ops: with(ops(
		"RpcEnumPrinters", "RpcOpenPrinter", "RpcSetJob", "RpcGetJob", "RpcEnumJobs", "RpcAddPrinter",
		"RpcDeletePrinter", "RpcSetPrinter", "RpcGetPrinter", "RpcAddPrinterDriver", "RpcEnumPrinterDrivers",
		"RpcGetPrinterDriver", "RpcGetPrinterDriverDirectory", "RpcDeletePrinterDriver",
		"RpcAddPrintProcessor", "RpcEnumPrintProcessors", "RpcGetPrintProcessorDirectory",
		"RpcStartDocPrinter", "RpcStartPagePrinter", "RpcWritePrinter", "RpcEndPagePrinter",
		"RpcAbortPrinter", "RpcReadPrinter", "RpcEndDocPrinter", "RpcAddJob", "RpcScheduleJob",
		"RpcGetPrinterData", "RpcSetPrinterData", "RpcWaitForPrinterChange", "RpcClosePrinter"),
		map[uint16]string{
			35: "RpcEnumPorts", 36: "RpcEnumMonitors", 37: "RpcAddPort", 39: "RpcDeletePort",
			53: "RpcGetPrinterDriver2", 56: "RpcFindClosePrinterChangeNotification",
			58: "RpcReplyOpenPrinter", 59: "RpcRouterReplyPrinter", 60: "RpcReplyClosePrinter",
			61: "RpcAddPortEx", 62: "RpcRemoteFindFirstPrinterChangeNotification",
			65: "RpcRemoteFindFirstPrinterChangeNotificationEx", 66: "RpcRouterReplyPrinterEx",
			67: "RpcRouterRefreshPrinterChangeNotification", 69: "RpcOpenPrinterEx", 70: "RpcAddPrinterEx",
			72: "RpcEnumPrinterData", 77: "RpcSetPrinterDataEx", 78: "RpcGetPrinterDataEx",
			79: "RpcEnumPrinterDataEx", 80: "RpcEnumPrinterKey", 84: "RpcDeletePrinterDriverEx",
			88: "RpcXcvData", 89: "RpcAddPrinterDriverEx",
		})}
	iremotewinspool = &Interface{Name: "iremotewinspool", Spec: "MS-PAR", Ops: map[uint16]string{
		0: "RpcAsyncOpenPrinter", 20: "RpcAsyncClosePrinter", 38: "RpcAsyncEnumPrinters",
		39: "RpcAsyncAddPrinterDriver", 40: "RpcAsyncEnumPrinterDrivers"}}
	netlogon = &Interface{Name: "netlogon", Spec: "MS-NRPC", Ops: ops(
		"NetrLogonUasLogon", "NetrLogonUasLogoff", "NetrLogonSamLogon", "NetrLogonSamLogoff",
		"NetrServerReqChallenge", "NetrServerAuthenticate", "NetrServerPasswordSet", "NetrDatabaseDeltas",
		"NetrDatabaseSync", "NetrAccountDeltas", "NetrAccountSync", "NetrGetDCName", "NetrLogonControl",
		"NetrGetAnyDCName", "NetrLogonControl2", "NetrServerAuthenticate2", "NetrDatabaseSync2",
		"NetrDatabaseRedo", "NetrLogonControl2Ex", "NetrEnumerateTrustedDomains", "DsrGetDcName",
		"NetrLogonGetCapabilities", "NetrLogonSetServiceBits", "NetrLogonGetTrustRid",
		"NetrLogonComputeServerDigest", "NetrLogonComputeClientDigest", "NetrServerAuthenticate3",
		"DsrGetDcNameEx", "DsrGetSiteName", "NetrLogonGetDomainInfo", "NetrServerPasswordSet2",
		"NetrServerPasswordGet", "NetrLogonSendToSam", "DsrAddressToSiteNamesW", "DsrGetDcNameEx2",
		"NetrLogonGetTimeServiceParentDomain", "NetrEnumerateTrustedDomainsEx", "DsrAddressToSiteNamesExW",
		"DsrGetDcSiteCoverageW", "NetrLogonSamLogonEx", "DsrEnumerateDomainTrusts",
		"DsrDeregisterDnsHostRecords", "NetrServerTrustPasswordsGet", "DsrGetForestTrustInformation",
		"NetrGetForestTrustInformation", "NetrLogonSamLogonWithFlags", "NetrServerGetTrustInfo")}
	dnsserver = &Interface{Name: "dnsserver", Spec: "MS-DNSP", Ops: ops(
		"R_DnssrvOperation", "R_DnssrvQuery", "R_DnssrvComplexOperation", "R_DnssrvEnumRecords",
		"R_DnssrvUpdateRecord", "R_DnssrvOperation2", "R_DnssrvQuery2", "R_DnssrvComplexOperation2",
		"R_DnssrvEnumRecords2", "R_DnssrvUpdateRecord2")}
	epmapper = &Interface{Name: "epmapper", Spec: "C706/MS-RPCE", Ops: ops(
		"ept_insert", "ept_delete", "ept_lookup", "ept_map", "ept_lookup_handle_free", "ept_inq_object",
		"ept_mgmt_delete")}
	mgmt = &Interface{Name: "mgmt", Spec: "C706", Ops: ops(
		"rpc__mgmt_inq_if_ids", "rpc__mgmt_inq_stats", "rpc__mgmt_is_server_listening",
		"rpc__mgmt_stop_server_listening", "rpc__mgmt_inq_princ_name")}
	netdfs = &Interface{Name: "netdfs", Spec: "MS-DFSNM", Ops: ops(
		"NetrDfsManagerGetVersion", "NetrDfsAdd", "NetrDfsRemove", "NetrDfsSetInfo", "NetrDfsGetInfo",
		"NetrDfsEnum", "NetrDfsMove", "NetrDfsRename", "NetrDfsManagerGetConfigInfo",
		"NetrDfsManagerSendSiteInfo", "NetrDfsAddFtRoot", "NetrDfsRemoveFtRoot", "NetrDfsAddStdRoot",
		"NetrDfsRemoveStdRoot", "NetrDfsManagerInitialize", "NetrDfsAddStdRootForced", "NetrDfsGetDcAddress",
		"NetrDfsSetDcAddress", "NetrDfsFlushFtTable", "NetrDfsAdd2", "NetrDfsRemove2", "NetrDfsEnumEx",
		"NetrDfsSetInfo2", "NetrDfsAddRootTarget", "NetrDfsRemoveRootTarget",
		"NetrDfsGetSupportedNamespaceVersion")}
	fssagentrpc = &Interface{Name: "fssagentrpc", Spec: "MS-FSRVP", Ops: ops(
		"GetSupportedVersion", "SetContext", "StartShadowCopySet", "AddToShadowCopySet",
		"CommitShadowCopySet", "ExposeShadowCopySet", "RecoveryCompleteShadowCopySet",
		"AbortShadowCopySet", "IsPathSupported", "IsPathShadowCopied", "GetShareMapping",
		"DeleteShareMapping", "PrepareShadowCopySet")}
	backupkey = &Interface{Name: "backupkey", Spec: "MS-BKRP", Ops: ops("BackuprKey")}
	winreg    = &Interface{Name: "winreg", Spec: "MS-RRP", Ops: ops(
		"OpenClassesRoot", "OpenCurrentUser", "OpenLocalMachine", "OpenPerformanceData", "OpenUsers",
		"BaseRegCloseKey", "BaseRegCreateKey", "BaseRegDeleteKey", "BaseRegDeleteValue", "BaseRegEnumKey",
		"BaseRegEnumValue", "BaseRegFlushKey", "BaseRegGetKeySecurity", "BaseRegLoadKey", "",
		"BaseRegOpenKey", "BaseRegQueryInfoKey", "BaseRegQueryValue", "BaseRegReplaceKey",
		"BaseRegRestoreKey", "BaseRegSaveKey", "BaseRegSetKeySecurity", "BaseRegSetValue",
		"BaseRegUnLoadKey", "BaseInitiateSystemShutdown", "BaseAbortSystemShutdown", "BaseRegGetVersion",
		"OpenCurrentConfig", "", "BaseRegQueryMultipleValues", "BaseInitiateSystemShutdownEx",
		"BaseRegSaveKeyEx", "OpenPerformanceText", "OpenPerformanceNlsText", "BaseRegQueryMultipleValues2",
		"BaseRegDeleteKeyEx")}
	svcctl = &Interface{Name: "svcctl", Spec: "MS-SCMR", Ops: ops(
		"RCloseServiceHandle", "RControlService", "RDeleteService", "RLockServiceDatabase",
		"RQueryServiceObjectSecurity", "RSetServiceObjectSecurity", "RQueryServiceStatus",
		"RSetServiceStatus", "RUnlockServiceDatabase", "RNotifyBootConfigStatus", "",
		"RChangeServiceConfigW", "RCreateServiceW", "REnumDependentServicesW", "REnumServicesStatusW",
		"ROpenSCManagerW", "ROpenServiceW", "RQueryServiceConfigW", "RQueryServiceLockStatusW",
		"RStartServiceW", "RGetServiceDisplayNameW", "RGetServiceKeyNameW")}
	atsvc = &Interface{Name: "atsvc", Spec: "MS-TSCH", Ops: ops(
		"NetrJobAdd", "NetrJobDel", "NetrJobEnum", "NetrJobGetInfo")}
	tsch = &Interface{Name: "tsch", Spec: "MS-TSCH", Ops: ops(
		"SchRpcHighestVersion", "SchRpcRegisterTask", "SchRpcRetrieveTask", "SchRpcCreateFolder",
		"SchRpcSetSecurity", "SchRpcGetSecurity", "SchRpcEnumFolders", "SchRpcEnumTasks",
		"SchRpcEnumInstances", "SchRpcGetInstanceInfo", "SchRpcStopInstance", "SchRpcStop", "SchRpcRun",
		"SchRpcDelete", "SchRpcRename", "SchRpcScheduledRuntimes", "SchRpcGetLastRunInfo",
		"SchRpcGetTaskInfo", "SchRpcGetNumberOfMissedRuns", "SchRpcEnableTask")}
	dssetup = &Interface{Name: "dssetup", Spec: "MS-DSSP", Ops: ops("DsRolerGetPrimaryDomainInformation")}
	// DCOM (MS-DCOM) and WMI (MS-WMI): remote activation and WMI calls as
	// wmiexec and dcomexec make them. ORPC opnums count IUnknown's three
	// methods (0-2), which never travel.
	iremotescmactivator = &Interface{Name: "iremotescmactivator", Spec: "MS-DCOM", Ops: map[uint16]string{
		3: "RemoteGetClassObject", 4: "RemoteCreateInstance"}}
	iactivation     = &Interface{Name: "iactivation", Spec: "MS-DCOM", Ops: ops("RemoteActivation")}
	iobjectexporter = &Interface{Name: "iobjectexporter", Spec: "MS-DCOM", Ops: ops(
		"ResolveOxid", "SimplePing", "ComplexPing", "ServerAlive", "ResolveOxid2", "ServerAlive2")}
	iwbemlevel1login = &Interface{Name: "iwbemlevel1login", Spec: "MS-WMI", Ops: map[uint16]string{
		3: "EstablishPosition", 4: "RequestChallenge", 5: "WBEMLogin", 6: "NTLMLogin"}}
	iwbemservices = &Interface{Name: "iwbemservices", Spec: "MS-WMI", Ops: map[uint16]string{
		3: "OpenNamespace", 4: "CancelAsyncCall", 5: "QueryObjectSink", 6: "GetObject", 7: "GetObjectAsync",
		8: "PutClass", 9: "PutClassAsync", 10: "DeleteClass", 11: "DeleteClassAsync", 12: "CreateClassEnum",
		13: "CreateClassEnumAsync", 14: "PutInstance", 15: "PutInstanceAsync", 16: "DeleteInstance",
		17: "DeleteInstanceAsync", 18: "CreateInstanceEnum", 19: "CreateInstanceEnumAsync", 20: "ExecQuery",
		21: "ExecQueryAsync", 22: "ExecNotificationQuery", 23: "ExecNotificationQueryAsync", 24: "ExecMethod",
		25: "ExecMethodAsync"}}
)

// interfaces maps lower-case interface UUIDs to their descriptions.
var interfaces = map[string]*Interface{
	"e3514235-4b06-11d1-ab04-00c04fc2dcd2": drsuapi,
	"12345778-1234-abcd-ef00-0123456789ac": samr,
	"12345778-1234-abcd-ef00-0123456789ab": lsarpc,
	"4b324fc8-1670-01d3-1278-5a47bf6ee188": srvsvc,
	"6bffd098-a112-3610-9833-46c3f87e345a": wkssvc,
	"c681d488-d850-11d0-8c52-00c04fd90f7e": efsrpc, // on \pipe\lsarpc (PetitPotam's first variant)
	"df1941c5-fe89-4e79-bf10-463657acf44d": efsrpc, // on \pipe\efsrpc
	"12345678-1234-abcd-ef00-0123456789ab": spoolss,
	"76f03f96-cdfd-44fc-a22c-64950a001209": iremotewinspool,
	"12345678-1234-abcd-ef00-01234567cffb": netlogon,
	"50abc2a4-574d-40b3-9d66-ee4fd5fba076": dnsserver,
	"e1af8308-5d1f-11c9-91a4-08002b14a0fa": epmapper,
	"afa8bd80-7d8a-11c9-bef4-08002b102989": mgmt,
	"4fc742e0-4a10-11cf-8273-00aa004ae673": netdfs,
	"a8e0653c-2744-4389-a61d-7373df8b2292": fssagentrpc,
	"3dde7c30-165d-11d1-ab8f-00805f14db40": backupkey,
	"338cd001-2244-31f1-aaaa-900038001003": winreg,
	"367abb81-9844-35f1-ad32-98f038001003": svcctl,
	"1ff70682-0a51-30e8-076d-740be8cee98b": atsvc,
	"86d35949-83c9-4044-b424-db363231fd0c": tsch,
	"3919286a-b10c-11d0-9ba8-00c04fd92ef5": dssetup,
	"000001a0-0000-0000-c000-000000000046": iremotescmactivator,
	"4d9f4ab8-7d1c-11cf-861e-0020af6e7c57": iactivation,
	"99fcfec4-5260-101b-bbcb-00aa0021347a": iobjectexporter,
	"f309ad18-d86a-11d0-a075-00c04fb68820": iwbemlevel1login,
	"9556dc99-828c-11cf-a37e-00aa003240c7": iwbemservices,
}

// Lookup returns the interface of a lower-case UUID, or nil.
func Lookup(uuid string) *Interface { return interfaces[uuid] }
