package directory

import "strings"

// Well-known object-type GUIDs found in directory ACEs: extended rights
// (rightsGuid), validated writes, property sets, attributes and classes
// (schemaIDGUID). Values are constant across forests, except for schema
// extensions such as legacy LAPS (ms-Mcs-AdmPwd), which are not listed.
const (
	GUIDReplicationGetChanges            = "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2"
	GUIDReplicationGetChangesAll         = "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2"
	GUIDReplicationGetChangesFilteredSet = "89e95b76-444d-4c62-991a-0facbeda640c"
	GUIDReplicationSynchronize           = "1131f6ab-9c07-11d1-f79f-00c04fc2dcd2"
	GUIDReplicationManageTopology        = "1131f6ac-9c07-11d1-f79f-00c04fc2dcd2"
	GUIDUserForceChangePassword          = "00299570-246d-11d0-a768-00aa006e0529"
	GUIDUserChangePassword               = "ab721a53-1e2f-11d0-9819-00aa0040529b"
	GUIDCertificateEnrollment            = "0e10c968-78fb-11d2-90d4-00c04f79dc55"
	GUIDCertificateAutoEnrollment        = "a05b8cc2-17bc-4802-a710-e7c15ab866a2"
	GUIDUnexpirePassword                 = "ccc2dc7d-a6ad-4a7a-8846-c04e3cc53501"
	GUIDReanimateTombstones              = "45ec5156-db7e-47bb-b53f-dbeb2d03c40f"
	GUIDAllowedToAuthenticate            = "68b1d179-0d15-4d4f-ab71-46152e79a7bc"
	GUIDSendAs                           = "ab721a54-1e2f-11d0-9819-00aa0040529b"
	GUIDReceiveAs                        = "ab721a56-1e2f-11d0-9819-00aa0040529b"
	GUIDApplyGroupPolicy                 = "edacfd8f-ffb3-11d1-b41d-00a0c968f939"
	// Validated writes.
	GUIDValidatedSPN         = "f3a64788-5306-11d1-a9c5-0000f80367c1" // also the servicePrincipalName attribute
	GUIDValidatedDNSHostName = "72e39547-7b18-11d1-adef-00c04fd8d5cd"
	GUIDSelfMembership       = "bf9679c0-0de6-11d0-a285-00aa003049e2" // also the member attribute
	// Property sets.
	GUIDUserAccountRestrictions = "4c164200-20c0-11d0-a768-00aa006e0529"
	GUIDUserLogon               = "5f202010-79a5-11d0-9020-00c04fc2d4cf"
	GUIDPersonalInformation     = "77b5b886-944a-11d1-aebd-0000f80367c1"
	GUIDPublicInformation       = "e48d0154-bcf8-11d1-8702-00c04fb96050"
	GUIDGeneralInformation      = "59ba2f42-79a2-11d0-9020-00c04fc2d3cf"
	GUIDMembership              = "bc0ac240-79a9-11d0-9020-00c04fc2d4cf"
	GUIDDNSHostNameAttributes   = "72e39547-7b18-11d1-adef-00c04fd8d5cd"
	GUIDPrivateInformation      = "91e647de-d96f-4b70-9557-d63ff4f3ccd8"
	// Attributes.
	GUIDMember                          = "bf9679c0-0de6-11d0-a285-00aa003049e2"
	GUIDServicePrincipalName            = "f3a64788-5306-11d1-a9c5-0000f80367c1"
	GUIDKeyCredentialLink               = "5b47d60f-6090-40b2-9f37-2a4de88f3063"
	GUIDAllowedToActOnBehalf            = "3f78c3e5-f79a-46bd-a0b8-9d18116ddc79"
	GUIDAllowedToDelegateTo             = "800d94d7-b7a1-42a1-b14d-7cae1423d07f"
	GUIDUserAccountControl              = "bf967a68-0de6-11d0-a285-00aa003049e2"
	GUIDScriptPath                      = "bf9679a8-0de6-11d0-a285-00aa003049e2"
	GUIDGPLink                          = "f30e3bbe-9ff0-11d1-b603-0000f80367c1"
	GUIDGPCFileSysPath                  = "f30e3bc1-9ff0-11d1-b603-0000f80367c1"
	GUIDPKIEnrollmentFlag               = "d15ef7d8-f226-46db-ae79-b34e560bd12c"
	GUIDPKICertificateNameFlag          = "ea1dddc4-60ff-416e-8cc0-17cee534bce7"
	GUIDPKIExtendedKeyUsage             = "18976af6-3b9e-11d2-90cc-00c04fd91ab1"
	GUIDPKICertificateApplicationPolicy = "dbd90548-aa37-4202-9966-8c537ba5ce32"
	GUIDPKIRASignature                  = "fe17e04b-937d-4f7e-8e0e-9292c8d5683e"
	GUIDSIDHistory                      = "17eb4278-d167-11d0-b002-0000f80367c1"
	GUIDMSDSMachineAccountQuota         = "d064fb68-1480-11d3-91c1-0000f87a57d4"
	// Classes.
	GUIDClassUser                 = "bf967aba-0de6-11d0-a285-00aa003049e2"
	GUIDClassComputer             = "bf967a86-0de6-11d0-a285-00aa003049e2"
	GUIDClassGroup                = "bf967a9c-0de6-11d0-a285-00aa003049e2"
	GUIDClassOrganizationalUnit   = "bf967aa5-0de6-11d0-a285-00aa003049e2"
	GUIDClassGroupPolicyContainer = "f30e3bc2-9ff0-11d1-b603-0000f80367c1"
	GUIDClassCertificateTemplate  = "e5209ca2-3bba-11d2-90cc-00c04fd91ab1"
	GUIDClassInetOrgPerson        = "4828cc14-1437-45bc-9b07-ad6f015e5f28"
	GUIDClassGMSA                 = "7b8b558a-93a5-4af7-adca-c017e67f1057"
)

var guidNames = map[string]string{
	GUIDReplicationGetChanges:            "DS-Replication-Get-Changes",
	GUIDReplicationGetChangesAll:         "DS-Replication-Get-Changes-All",
	GUIDReplicationGetChangesFilteredSet: "DS-Replication-Get-Changes-In-Filtered-Set",
	GUIDReplicationSynchronize:           "DS-Replication-Synchronize",
	GUIDReplicationManageTopology:        "DS-Replication-Manage-Topology",
	GUIDUserForceChangePassword:          "User-Force-Change-Password",
	GUIDUserChangePassword:               "User-Change-Password",
	GUIDCertificateEnrollment:            "Certificate-Enrollment",
	GUIDCertificateAutoEnrollment:        "Certificate-AutoEnrollment",
	GUIDUnexpirePassword:                 "Unexpire-Password",
	GUIDReanimateTombstones:              "Reanimate-Tombstones",
	GUIDAllowedToAuthenticate:            "Allowed-To-Authenticate",
	GUIDSendAs:                           "Send-As",
	GUIDReceiveAs:                        "Receive-As",
	GUIDApplyGroupPolicy:                 "Apply-Group-Policy",
	GUIDValidatedSPN:                     "Validated-SPN/servicePrincipalName",
	GUIDValidatedDNSHostName:             "Validated-DNS-Host-Name/DNS-Host-Name-Attributes",
	GUIDSelfMembership:                   "Self-Membership/member",
	GUIDUserAccountRestrictions:          "User-Account-Restrictions",
	GUIDUserLogon:                        "User-Logon",
	GUIDPersonalInformation:              "Personal-Information",
	GUIDPublicInformation:                "Public-Information",
	GUIDGeneralInformation:               "General-Information",
	GUIDMembership:                       "Membership",
	GUIDPrivateInformation:               "Private-Information",
	GUIDKeyCredentialLink:                "msDS-KeyCredentialLink",
	GUIDAllowedToActOnBehalf:             "msDS-AllowedToActOnBehalfOfOtherIdentity",
	GUIDAllowedToDelegateTo:              "msDS-AllowedToDelegateTo",
	GUIDUserAccountControl:               "userAccountControl",
	GUIDScriptPath:                       "scriptPath",
	GUIDGPLink:                           "gPLink",
	GUIDGPCFileSysPath:                   "gPCFileSysPath",
	GUIDPKIEnrollmentFlag:                "msPKI-Enrollment-Flag",
	GUIDPKICertificateNameFlag:           "msPKI-Certificate-Name-Flag",
	GUIDPKIExtendedKeyUsage:              "pKIExtendedKeyUsage",
	GUIDPKICertificateApplicationPolicy:  "msPKI-Certificate-Application-Policy",
	GUIDPKIRASignature:                   "msPKI-RA-Signature",
	GUIDSIDHistory:                       "sIDHistory",
	GUIDMSDSMachineAccountQuota:          "ms-DS-MachineAccountQuota",
	GUIDClassUser:                        "user",
	GUIDClassComputer:                    "computer",
	GUIDClassGroup:                       "group",
	GUIDClassOrganizationalUnit:          "organizationalUnit",
	GUIDClassGroupPolicyContainer:        "groupPolicyContainer",
	GUIDClassCertificateTemplate:         "pKICertificateTemplate",
	GUIDClassInetOrgPerson:               "inetOrgPerson",
	GUIDClassGMSA:                        "msDS-GroupManagedServiceAccount",
}

// GUIDName names a well-known object-type GUID ("" if unknown). Case and
// braces do not matter.
func GUIDName(guid string) string {
	if guid == "" {
		return ""
	}
	return guidNames[strings.ToLower(strings.Trim(guid, "{}"))]
}
