package windows

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Decode tables: what Windows writes as numbers, message-table ids (%%NNNN)
// or GUIDs, by name. Decoded values go into schema fields where one exists
// and otherwise into Event.Original under an extra "<Field>Name(s)" or
// "<Field>Flags" key next to the raw field.

// logonTypes names the LogonType values of 4624, 4625, 4634.
var logonTypes = map[string]string{
	"0":  "System",
	"2":  "Interactive",
	"3":  "Network",
	"4":  "Batch",
	"5":  "Service",
	"7":  "Unlock",
	"8":  "NetworkCleartext",
	"9":  "NewCredentials",
	"10": "RemoteInteractive",
	"11": "CachedInteractive",
	"12": "CachedRemoteInteractive",
	"13": "CachedUnlock",
}

// statusCode is a result code: its symbolic name and a short reason.
type statusCode struct{ name, reason string }

// ntStatus names the NTSTATUS (and a few SSPI) codes seen in 4625, 4776,
// 4794 and friends, keyed by lower-case hex.
var ntStatus = map[string]statusCode{
	"0x0":        {"STATUS_SUCCESS", ""},
	"0xc0000001": {"STATUS_UNSUCCESSFUL", "unsuccessful"},
	"0xc000000d": {"STATUS_INVALID_PARAMETER", "invalid parameter"},
	"0xc0000022": {"STATUS_ACCESS_DENIED", "access denied"},
	"0xc0000034": {"STATUS_OBJECT_NAME_NOT_FOUND", "object name not found"},
	"0xc000005e": {"STATUS_NO_LOGON_SERVERS", "no logon servers"},
	"0xc000005f": {"STATUS_NO_SUCH_LOGON_SESSION", "no such logon session"},
	"0xc0000062": {"STATUS_INVALID_ACCOUNT_NAME", "invalid account name"},
	"0xc0000063": {"STATUS_USER_EXISTS", "user exists"},
	"0xc0000064": {"STATUS_NO_SUCH_USER", "unknown user"},
	"0xc0000066": {"STATUS_NO_SUCH_GROUP", "no such group"},
	"0xc000006a": {"STATUS_WRONG_PASSWORD", "bad password"},
	"0xc000006b": {"STATUS_ILL_FORMED_PASSWORD", "ill-formed password"},
	"0xc000006c": {"STATUS_PASSWORD_RESTRICTION", "password restriction"},
	"0xc000006d": {"STATUS_LOGON_FAILURE", "bad user name or password"},
	"0xc000006e": {"STATUS_ACCOUNT_RESTRICTION", "account restriction"},
	"0xc000006f": {"STATUS_INVALID_LOGON_HOURS", "logon time restriction"},
	"0xc0000070": {"STATUS_INVALID_WORKSTATION", "workstation restriction"},
	"0xc0000071": {"STATUS_PASSWORD_EXPIRED", "password expired"},
	"0xc0000072": {"STATUS_ACCOUNT_DISABLED", "account disabled"},
	"0xc0000073": {"STATUS_NONE_MAPPED", "no account mapped"},
	"0xc000009a": {"STATUS_INSUFFICIENT_RESOURCES", "insufficient resources"},
	"0xc00000bb": {"STATUS_NOT_SUPPORTED", "not supported"},
	"0xc00000dc": {"STATUS_INVALID_SERVER_STATE", "server in wrong state"},
	"0xc0000133": {"STATUS_TIME_DIFFERENCE_AT_DC", "clock skew"},
	"0xc000015b": {"STATUS_LOGON_TYPE_NOT_GRANTED", "logon type not granted"},
	"0xc000018b": {"STATUS_NO_TRUST_SAM_ACCOUNT", "no trust account"},
	"0xc000018c": {"STATUS_TRUSTED_DOMAIN_FAILURE", "trusted domain failure"},
	"0xc000018d": {"STATUS_TRUSTED_RELATIONSHIP_FAILURE", "trust relationship failure"},
	"0xc0000192": {"STATUS_NETLOGON_NOT_STARTED", "netlogon not started"},
	"0xc0000193": {"STATUS_ACCOUNT_EXPIRED", "account expired"},
	"0xc0000199": {"STATUS_NOLOGON_INTERDOMAIN_TRUST_ACCOUNT", "interdomain trust account"},
	"0xc000019a": {"STATUS_NOLOGON_WORKSTATION_TRUST_ACCOUNT", "workstation trust account"},
	"0xc000019b": {"STATUS_NOLOGON_SERVER_TRUST_ACCOUNT", "server trust account"},
	"0xc0000203": {"STATUS_USER_SESSION_DELETED", "user session deleted"},
	"0xc0000224": {"STATUS_PASSWORD_MUST_CHANGE", "password must change"},
	"0xc0000225": {"STATUS_NOT_FOUND", "not found"},
	"0xc0000234": {"STATUS_ACCOUNT_LOCKED_OUT", "account locked out"},
	"0xc00002ee": {"STATUS_UNFINISHED_CONTEXT_DELETED", "unfinished context deleted"},
	"0xc0000371": {"STATUS_NO_SECRETS", "no secrets"},
	"0xc0000380": {"STATUS_SMARTCARD_WRONG_PIN", "smart card wrong pin"},
	"0xc0000381": {"STATUS_SMARTCARD_CARD_BLOCKED", "smart card blocked"},
	"0xc0000388": {"STATUS_DOWNGRADE_DETECTED", "downgrade detected"},
	"0xc0000413": {"STATUS_AUTHENTICATION_FIREWALL_FAILED", "authentication firewall"},
	"0x8009030c": {"SEC_E_LOGON_DENIED", "logon denied"},
	"0x80090308": {"SEC_E_INVALID_TOKEN", "invalid token"},
}

// kdcErrors names the Kerberos result codes 0x0-0x44 (RFC 4120, RFC 4556 and
// the Windows KDC), keyed by lower-case hex.
var kdcErrors = map[string]statusCode{
	"0x0":  {"KDC_ERR_NONE", ""},
	"0x1":  {"KDC_ERR_NAME_EXP", "client entry expired"},
	"0x2":  {"KDC_ERR_SERVICE_EXP", "server entry expired"},
	"0x3":  {"KDC_ERR_BAD_PVNO", "protocol version not supported"},
	"0x4":  {"KDC_ERR_C_OLD_MAST_KVNO", "client key encrypted in old master key"},
	"0x5":  {"KDC_ERR_S_OLD_MAST_KVNO", "server key encrypted in old master key"},
	"0x6":  {"KDC_ERR_C_PRINCIPAL_UNKNOWN", "unknown principal"},
	"0x7":  {"KDC_ERR_S_PRINCIPAL_UNKNOWN", "unknown server"},
	"0x8":  {"KDC_ERR_PRINCIPAL_NOT_UNIQUE", "principal not unique"},
	"0x9":  {"KDC_ERR_NULL_KEY", "no key"},
	"0xa":  {"KDC_ERR_CANNOT_POSTDATE", "cannot postdate"},
	"0xb":  {"KDC_ERR_NEVER_VALID", "ticket never valid"},
	"0xc":  {"KDC_ERR_POLICY", "policy restriction"},
	"0xd":  {"KDC_ERR_BADOPTION", "bad option"},
	"0xe":  {"KDC_ERR_ETYPE_NOTSUPP", "etype not supported"},
	"0xf":  {"KDC_ERR_SUMTYPE_NOSUPP", "checksum type not supported"},
	"0x10": {"KDC_ERR_PADATA_TYPE_NOSUPP", "pkinit pre-auth not supported"},
	"0x11": {"KDC_ERR_TRTYPE_NOSUPP", "transited type not supported"},
	"0x12": {"KDC_ERR_CLIENT_REVOKED", "revoked/disabled"},
	"0x13": {"KDC_ERR_SERVICE_REVOKED", "service revoked"},
	"0x14": {"KDC_ERR_TGT_REVOKED", "tgt revoked"},
	"0x15": {"KDC_ERR_CLIENT_NOTYET", "client not yet valid"},
	"0x16": {"KDC_ERR_SERVICE_NOTYET", "service not yet valid"},
	"0x17": {"KDC_ERR_KEY_EXPIRED", "password expired"},
	"0x18": {"KDC_ERR_PREAUTH_FAILED", "bad password"},
	"0x19": {"KDC_ERR_PREAUTH_REQUIRED", "pre-auth required"},
	"0x1a": {"KDC_ERR_SERVER_NOMATCH", "server mismatch"},
	"0x1b": {"KDC_ERR_MUST_USE_USER2USER", "server user-to-user only"},
	"0x1c": {"KDC_ERR_PATH_NOT_ACCEPTED", "path not accepted"},
	"0x1d": {"KDC_ERR_SVC_UNAVAILABLE", "service unavailable"},
	"0x1f": {"KRB_AP_ERR_BAD_INTEGRITY", "integrity check failed"},
	"0x20": {"KRB_AP_ERR_TKT_EXPIRED", "ticket expired"},
	"0x21": {"KRB_AP_ERR_TKT_NYV", "ticket not yet valid"},
	"0x22": {"KRB_AP_ERR_REPEAT", "replay"},
	"0x23": {"KRB_AP_ERR_NOT_US", "ticket not for us"},
	"0x24": {"KRB_AP_ERR_BADMATCH", "ticket and authenticator mismatch"},
	"0x25": {"KRB_AP_ERR_SKEW", "clock skew"},
	"0x26": {"KRB_AP_ERR_BADADDR", "bad address"},
	"0x27": {"KRB_AP_ERR_BADVERSION", "protocol version mismatch"},
	"0x28": {"KRB_AP_ERR_MSG_TYPE", "bad message type"},
	"0x29": {"KRB_AP_ERR_MODIFIED", "message modified"},
	"0x2a": {"KRB_AP_ERR_BADORDER", "message out of order"},
	"0x2c": {"KRB_AP_ERR_BADKEYVER", "key version not available"},
	"0x2d": {"KRB_AP_ERR_NOKEY", "service key not available"},
	"0x2e": {"KRB_AP_ERR_MUT_FAIL", "mutual authentication failed"},
	"0x2f": {"KRB_AP_ERR_BADDIRECTION", "bad message direction"},
	"0x30": {"KRB_AP_ERR_METHOD", "alternative authentication method required"},
	"0x31": {"KRB_AP_ERR_BADSEQ", "bad sequence number"},
	"0x32": {"KRB_AP_ERR_INAPP_CKSUM", "inappropriate checksum type"},
	"0x33": {"KRB_AP_PATH_NOT_ACCEPTED", "path not accepted"},
	"0x34": {"KRB_ERR_RESPONSE_TOO_BIG", "response too big"},
	"0x3c": {"KRB_ERR_GENERIC", "generic error"},
	"0x3d": {"KRB_ERR_FIELD_TOOLONG", "field too long"},
	"0x3e": {"KDC_ERR_CLIENT_NOT_TRUSTED", "client certificate not trusted"},
	"0x3f": {"KDC_ERR_KDC_NOT_TRUSTED", "kdc not trusted"},
	"0x40": {"KDC_ERR_INVALID_SIG", "invalid signature"},
	"0x41": {"KDC_ERR_KEY_TOO_WEAK", "key too weak"},
	"0x42": {"KRB_AP_ERR_USER_TO_USER_REQUIRED", "user-to-user required"},
	"0x43": {"KRB_AP_ERR_NO_TGT", "no tgt"},
	"0x44": {"KDC_ERR_WRONG_REALM", "wrong realm"},
}

// preauthTypes names PreAuthType (decimal).
var preauthTypes = map[string]string{
	"0":   "none",
	"2":   "PA-ENC-TIMESTAMP",
	"11":  "PA-ETYPE-INFO",
	"15":  "PA-PK-AS-REP_OLD",
	"16":  "PA-PK-AS-REQ",
	"17":  "PA-PK-AS-REP",
	"19":  "PA-ETYPE-INFO2",
	"20":  "PA-SVR-REFERRAL-INFO",
	"138": "PA-ENCRYPTED-CHALLENGE",
}

// ticketOptions names the Kerberos KDC option bits, numbered from the most
// significant bit as RFC 4120 does.
var ticketOptions = [32]string{
	1: "forwardable", 2: "forwarded", 3: "proxiable", 4: "proxy",
	5: "allow-postdate", 6: "postdated", 7: "invalid", 8: "renewable",
	9: "initial", 10: "pre-authent", 11: "opt-hardware-auth",
	12: "transited-policy-checked", 13: "ok-as-delegate", 14: "request-anonymous",
	15: "name-canonicalize", 26: "disable-transited-check", 27: "renewable-ok",
	28: "enc-tkt-in-skey", 30: "renew", 31: "validate",
}

// ticketOptionFlags decodes a hex TicketOptions value; "" if unparsable or 0.
func ticketOptionFlags(v string) string {
	n, ok := parseHex32(v)
	if !ok || n == 0 {
		return ""
	}
	// Few distinct option sets occur in practice: remember their names.
	if s, ok := ticketOptionMemo.Load(n); ok {
		return s.(string)
	}
	s := ticketOptionNames(n)
	if ticketOptionMemoSize.Add(1) <= maxTicketOptionMemo {
		ticketOptionMemo.Store(n, s)
	}
	return s
}

// ticketOptionMemo caches ticketOptionFlags by value, up to
// maxTicketOptionMemo entries (hostile input cannot grow it further).
var (
	ticketOptionMemo     sync.Map
	ticketOptionMemoSize atomic.Int64
)

const maxTicketOptionMemo = 4096

func ticketOptionNames(n uint32) string {
	var names []string
	for bit, name := range ticketOptions {
		if name != "" && n&(1<<(31-bit)) != 0 {
			names = append(names, name)
		}
	}
	return strings.Join(names, ", ")
}

// samAccountFlags are the SAM USER_* account-control bits (MS-SAMR 2.2.1.12)
// that 4720/4738/4741/4742 report in OldUacValue / NewUacValue, named as the
// matching LDAP userAccountControl flags. The bit index also selects the
// message-table ids Windows writes in UserAccountControl: %%(2080+bit) for a
// flag turned on and %%(2048+bit) for a flag turned off.
var samAccountFlags = [...]struct{ ldap, text string }{
	{"ACCOUNTDISABLE", "Account Disabled"},
	{"HOMEDIR_REQUIRED", "Home Directory Required"},
	{"PASSWD_NOTREQD", "Password Not Required"},
	{"TEMP_DUPLICATE_ACCOUNT", "Temp Duplicate Account"},
	{"NORMAL_ACCOUNT", "Normal Account"},
	{"MNS_LOGON_ACCOUNT", "MNS Logon Account"},
	{"INTERDOMAIN_TRUST_ACCOUNT", "Interdomain Trust Account"},
	{"WORKSTATION_TRUST_ACCOUNT", "Workstation Trust Account"},
	{"SERVER_TRUST_ACCOUNT", "Server Trust Account"},
	{"DONT_EXPIRE_PASSWORD", "Don't Expire Password"},
	{"LOCKOUT", "Account Locked"},
	{"ENCRYPTED_TEXT_PWD_ALLOWED", "Encrypted Text Password Allowed"},
	{"SMARTCARD_REQUIRED", "Smartcard Required"},
	{"TRUSTED_FOR_DELEGATION", "Trusted For Delegation"},
	{"NOT_DELEGATED", "Not Delegated"},
	{"USE_DES_KEY_ONLY", "Use DES Key Only"},
	{"DONT_REQ_PREAUTH", "Don't Require Preauth"},
	{"PASSWORD_EXPIRED", "Password Expired"},
	{"TRUSTED_TO_AUTH_FOR_DELEGATION", "Trusted To Authenticate For Delegation"},
	{"NO_AUTH_DATA_REQUIRED", "Exclude Authorization Information"},
	{"PARTIAL_SECRETS_ACCOUNT", "Partial Secrets Account"},
	{"USE_AES_KEYS", "Protect Kerberos Service Tickets with AES Keys"},
}

// uacMessage renders the message-table id of a UserAccountControl change as
// Windows does ("'Don't Require Preauth' - Enabled"); "" if unknown.
func uacMessage(id int) string {
	var enabled bool
	var bit int
	switch {
	case id >= 2080 && id < 2080+len(samAccountFlags):
		enabled, bit = true, id-2080
	case id >= 2048 && id < 2048+len(samAccountFlags):
		bit = id - 2048
	default:
		return ""
	}
	switch bit {
	case 0:
		if enabled {
			return "Account Disabled"
		}
		return "Account Enabled"
	case 10:
		if enabled {
			return "Account Locked"
		}
		return "Account Unlocked"
	case 20:
		return "" // no message is documented for this bit
	}
	state := "Disabled"
	if enabled {
		state = "Enabled"
	}
	return "'" + samAccountFlags[bit].text + "' - " + state
}

// uacFlags decodes a hex OldUacValue / NewUacValue to flag names; "" when
// unparsable.
func uacFlags(v string) string {
	n, ok := parseHex32(v)
	if !ok {
		return ""
	}
	var names []string
	for bit, f := range samAccountFlags {
		if n&(1<<bit) != 0 {
			names = append(names, f.ldap)
		}
	}
	return strings.Join(names, ", ")
}

// messageTexts names message-table ids that fields such as AccessList,
// FailureReason, AuditPolicyChanges and ImpersonationLevel carry.
var messageTexts = map[int]string{
	// standard access rights
	1537: "DELETE", 1538: "READ_CONTROL", 1539: "WRITE_DAC", 1540: "WRITE_OWNER",
	1541: "SYNCHRONIZE", 1542: "ACCESS_SYS_SEC",
	// generic values
	1832: "Identification", 1833: "Impersonation", 1840: "Delegation",
	1842: "Yes", 1843: "No",
	// 4625 FailureReason
	2304: "An error occurred during logon",
	2305: "The specified user account has expired",
	2306: "The NetLogon component is not active",
	2307: "Account locked out",
	2308: "The user has not been granted the requested logon type at this machine",
	2309: "The specified account's password has expired",
	2310: "Account currently disabled",
	2311: "Account logon time restriction violation",
	2312: "User not allowed to logon at this computer",
	2313: "Unknown user name or bad password",
	// file and share access rights (5140, 5145)
	4416: "ReadData (or ListDirectory)", 4417: "WriteData (or AddFile)",
	4418: "AppendData (or AddSubdirectory or CreatePipeInstance)", 4419: "ReadEA",
	4420: "WriteEA", 4421: "Execute/Traverse", 4422: "DeleteChild",
	4423: "ReadAttributes", 4424: "WriteAttributes",
	// directory service access rights (4661, 4662)
	7680: "Create Child", 7681: "Delete Child", 7682: "List Contents",
	7683: "Write Self", 7684: "Read Property", 7685: "Write Property",
	7686: "Delete Tree", 7687: "List Object", 7688: "Control Access",
	// 4719 AuditPolicyChanges
	8448: "Success removed", 8449: "Success added", 8450: "Failure removed", 8451: "Failure added",
}

// messageNames decodes every %%NNNN id in v with lookup, in order and without
// duplicates, joined with ", ". Unknown ids are skipped; "" if none is known.
func messageNames(v string, lookup func(int) string) string {
	var names []string
	for {
		i := strings.Index(v, "%%")
		if i < 0 {
			break
		}
		v = v[i+2:]
		j := 0
		for j < len(v) && j < 6 && v[j] >= '0' && v[j] <= '9' {
			j++
		}
		if j == 0 {
			continue
		}
		id, _ := strconv.Atoi(v[:j])
		v = v[j:]
		if name := lookup(id); name != "" && !containsString(names, name) {
			names = append(names, name)
		}
	}
	return strings.Join(names, ", ")
}

func messageText(id int) string { return messageTexts[id] }

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// dsAccessRights names the bits of a directory service access mask.
var dsAccessRights = [...]struct {
	bit  uint32
	name string
}{
	{0x1, "CreateChild"}, {0x2, "DeleteChild"}, {0x4, "ListChildren"}, {0x8, "Self"},
	{0x10, "ReadProperty"}, {0x20, "WriteProperty"}, {0x40, "DeleteTree"},
	{0x80, "ListObject"}, {0x100, "ControlAccess"}, {0x10000, "DELETE"},
	{0x20000, "READ_CONTROL"}, {0x40000, "WRITE_DAC"}, {0x80000, "WRITE_OWNER"},
	{0x1000000, "ACCESS_SYSTEM_SECURITY"}, {0x10000000, "GENERIC_ALL"},
	{0x20000000, "GENERIC_EXECUTE"}, {0x40000000, "GENERIC_WRITE"}, {0x80000000, "GENERIC_READ"},
}

// dsAccessMaskNames decodes a hex directory access mask; "" if unparsable or 0.
func dsAccessMaskNames(v string) string {
	n, ok := parseHex32(v)
	if !ok {
		return ""
	}
	var names []string
	for _, r := range dsAccessRights {
		if n&r.bit != 0 {
			names = append(names, r.name)
		}
	}
	return strings.Join(names, ", ")
}

// parseHex32 reads "0x1F" (or decimal) as a 32-bit value.
func parseHex32(v string) (uint32, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var n uint64
	var err error
	if h, ok := strings.CutPrefix(strings.ToLower(v), "0x"); ok {
		n, err = strconv.ParseUint(h, 16, 32)
	} else {
		n, err = strconv.ParseUint(v, 10, 32)
	}
	return uint32(n), err == nil
}

// schemaGUIDs names well-known schemaIDGUIDs of attributes and classes,
// property sets and control access rights (lower case, no braces). GUIDs of
// schema extensions such as legacy LAPS ms-Mcs-AdmPwd differ per forest and
// cannot be listed here.
var schemaGUIDs = map[string]string{
	// control access rights and validated writes
	"1131f6aa-9c07-11d1-f79f-00c04fc2dcd2": "DS-Replication-Get-Changes",
	"1131f6ad-9c07-11d1-f79f-00c04fc2dcd2": "DS-Replication-Get-Changes-All",
	"89e95b76-444d-4c62-991a-0facbeda640c": "DS-Replication-Get-Changes-In-Filtered-Set",
	"1131f6ab-9c07-11d1-f79f-00c04fc2dcd2": "DS-Replication-Synchronize",
	"1131f6ac-9c07-11d1-f79f-00c04fc2dcd2": "DS-Replication-Manage-Topology",
	"00299570-246d-11d0-a768-00aa006e0529": "User-Force-Change-Password",
	"ab721a53-1e2f-11d0-9819-00aa0040529b": "User-Change-Password",
	"ccc2dc7d-a6ad-4a7a-8846-c04e3cc53501": "Unexpire-Password",
	"45ec5156-db7e-47bb-b53f-dbeb2d03c40f": "Reanimate-Tombstones",
	"ba33815a-4f93-4c76-87f3-57574bff8109": "Migrate-SID-History",
	"68b1d179-0d15-4d4f-ab71-46152e79a7bc": "Allowed-To-Authenticate",
	"ab721a54-1e2f-11d0-9819-00aa0040529b": "Send-As",
	"ab721a56-1e2f-11d0-9819-00aa0040529b": "Receive-As",
	"0e10c968-78fb-11d2-90d4-00c04f79dc55": "Certificate-Enrollment",
	"a05b8cc2-17bc-4802-a710-e7c15ab866a2": "Certificate-AutoEnrollment",
	"edacfd8f-ffb3-11d1-b41d-00a0c968f939": "Apply-Group-Policy",
	// property sets
	"4c164200-20c0-11d0-a768-00aa006e0529": "User-Account-Restrictions",
	"5f202010-79a5-11d0-9020-00c04fc2d4cf": "User-Logon",
	"bc0ac240-79a9-11d0-9020-00c04fc2d4cf": "Membership",
	"59ba2f42-79a2-11d0-9020-00c04fc2d3cf": "General-Information",
	"e48d0154-bcf8-11d1-8702-00c04fb96050": "Public-Information",
	"77b5b886-944a-11d1-aebd-0000f80367c1": "Personal-Information",
	// attributes (some double as validated writes: member = Self-Membership,
	// servicePrincipalName = Validated-SPN, dNSHostName = Validated-DNS-Host-Name)
	"bf9679c0-0de6-11d0-a285-00aa003049e2": "member",
	"f3a64788-5306-11d1-a9c5-0000f80367c1": "servicePrincipalName",
	"72e39547-7b18-11d1-adef-00c04fd8d5cd": "dNSHostName",
	"5b47d60f-6090-40b2-9f37-2a4de88f3063": "msDS-KeyCredentialLink",
	"bf9679e3-0de6-11d0-a285-00aa003049e2": "nTSecurityDescriptor",
	"3f78c3e5-f79a-46bd-a0b8-9d18116ddc79": "msDS-AllowedToActOnBehalfOfOtherIdentity",
	"800d94d7-b7a1-42a1-b14d-7cae1423d07f": "msDS-AllowedToDelegateTo",
	"f30e3bbe-9ff0-11d1-b603-0000f80367c1": "gPLink",
	"f30e3bc1-9ff0-11d0-b603-0000f80367c1": "gPCFileSysPath",
	"bf967a68-0de6-11d0-a285-00aa003049e2": "userAccountControl",
	"3e0abfd0-126a-11d0-a060-00aa006c33ed": "sAMAccountName",
	"28630ebb-41d5-11d1-a9c1-0000f80367c1": "userPrincipalName",
	"bf9679e1-0de6-11d0-a285-00aa003049e2": "unicodePwd",
	"bf967918-0de6-11d0-a285-00aa003049e2": "adminCount",
	"17eb4278-d167-11d0-b002-0000f80367c1": "sIDHistory",
	"20119867-1d04-4ab7-9371-cfc3d5df0afd": "msDS-SupportedEncryptionTypes",
	"bf9679a8-0de6-11d0-a285-00aa003049e2": "scriptPath",
	"bf967a00-0de6-11d0-a285-00aa003049e2": "primaryGroupID",
	"bf967a0a-0de6-11d0-a285-00aa003049e2": "pwdLastSet",
	"e362ed86-b728-0842-b27d-2dea7a9df218": "msDS-ManagedPassword",
	// classes
	"bf967aba-0de6-11d0-a285-00aa003049e2": "user",
	"bf967a86-0de6-11d0-a285-00aa003049e2": "computer",
	"bf967a9c-0de6-11d0-a285-00aa003049e2": "group",
	"19195a5b-6da0-11d0-afd3-00c04fd930c9": "domainDNS",
	"19195a5a-6da0-11d0-afd3-00c04fd930c9": "domain",
	"f30e3bc2-9ff0-11d1-b603-0000f80367c1": "groupPolicyContainer",
	"e5209ca2-3bba-11d2-90cc-00c04fd91ab1": "pKICertificateTemplate",
	"ee4aa692-3bba-11d2-90cc-00c04fd91ab1": "pKIEnrollmentService",
	"bf967aa5-0de6-11d0-a285-00aa003049e2": "organizationalUnit",
	"bf967a8b-0de6-11d0-a285-00aa003049e2": "container",
	"bf967ab8-0de6-11d0-a285-00aa003049e2": "trustedDomain",
	"4828cc14-1437-45bc-9b07-ad6f015e5f28": "inetOrgPerson",
	"7b8b558a-93a5-4af7-adca-c017e67f1057": "msDS-GroupManagedServiceAccount",
	"e0fa1e8c-9b45-11d0-afdd-00c04fd930c9": "dnsNode",
}

// classGUIDs are the schemaGUIDs entries that name classes.
var classGUIDs = map[string]bool{
	"bf967aba-0de6-11d0-a285-00aa003049e2": true, "bf967a86-0de6-11d0-a285-00aa003049e2": true,
	"bf967a9c-0de6-11d0-a285-00aa003049e2": true, "19195a5b-6da0-11d0-afd3-00c04fd930c9": true,
	"19195a5a-6da0-11d0-afd3-00c04fd930c9": true, "f30e3bc2-9ff0-11d1-b603-0000f80367c1": true,
	"e5209ca2-3bba-11d2-90cc-00c04fd91ab1": true, "ee4aa692-3bba-11d2-90cc-00c04fd91ab1": true,
	"bf967aa5-0de6-11d0-a285-00aa003049e2": true, "bf967a8b-0de6-11d0-a285-00aa003049e2": true,
	"bf967ab8-0de6-11d0-a285-00aa003049e2": true, "4828cc14-1437-45bc-9b07-ad6f015e5f28": true,
	"7b8b558a-93a5-4af7-adca-c017e67f1057": true, "e0fa1e8c-9b45-11d0-afdd-00c04fd930c9": true,
}

// className maps a class GUID ("%{...}", "{...}" or bare) to its name;
// anything else is returned as given.
func className(v string) string {
	g := strings.ToLower(strings.Trim(strings.TrimPrefix(v, "%"), "{}"))
	if classGUIDs[g] {
		return schemaGUIDs[g]
	}
	return v
}

// guidNames names the well-known GUIDs found anywhere in s (braced or bare,
// any case), in order of appearance and without duplicates, joined with
// ", "; "" if none is known.
func guidNames(s string) string {
	var names []string
	for i := 0; i+36 <= len(s); i++ {
		if !isGUIDAt(s, i) {
			continue
		}
		if name := schemaGUIDs[strings.ToLower(s[i:i+36])]; name != "" && !containsString(names, name) {
			names = append(names, name)
		}
		i += 35
	}
	return strings.Join(names, ", ")
}

// isGUIDAt reports whether s[i:i+36] has the 8-4-4-4-12 hex shape.
func isGUIDAt(s string, i int) bool {
	if s[i+8] != '-' || s[i+13] != '-' || s[i+18] != '-' || s[i+23] != '-' {
		return false
	}
	for k := range 36 {
		c := s[i+k]
		switch k {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

// secureChannelTypes names NETLOGON_SECURE_CHANNEL_TYPE (8004 SChannelType).
var secureChannelTypes = map[string]string{
	"0": "NullSecureChannel", "1": "MsvApSecureChannel", "2": "WorkstationSecureChannel",
	"3": "TrustedDnsDomainSecureChannel", "4": "TrustedDomainSecureChannel",
	"5": "UasServerSecureChannel", "6": "ServerSecureChannel", "7": "CdcServerSecureChannel",
}

// setName stores a decoded value under key in ev.Original unless it is empty.
func setName(orig map[string]string, key, value string) {
	if value != "" {
		orig[key] = value
	}
}
