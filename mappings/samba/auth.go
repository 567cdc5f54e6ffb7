package samba

import (
	"strings"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// ntStatus maps the NTSTATUS names Samba logs to their codes.
var ntStatus = map[string]string{
	"NT_STATUS_OK":                             "0x0",
	"NT_STATUS_UNSUCCESSFUL":                   "0xc0000001",
	"NT_STATUS_INVALID_PARAMETER":              "0xc000000d",
	"NT_STATUS_ACCESS_DENIED":                  "0xc0000022",
	"NT_STATUS_NO_LOGON_SERVERS":               "0xc000005e",
	"NT_STATUS_INVALID_ACCOUNT_NAME":           "0xc0000062",
	"NT_STATUS_NO_SUCH_USER":                   "0xc0000064",
	"NT_STATUS_WRONG_PASSWORD":                 "0xc000006a",
	"NT_STATUS_LOGON_FAILURE":                  "0xc000006d",
	"NT_STATUS_ACCOUNT_RESTRICTION":            "0xc000006e",
	"NT_STATUS_INVALID_LOGON_HOURS":            "0xc000006f",
	"NT_STATUS_INVALID_WORKSTATION":            "0xc0000070",
	"NT_STATUS_PASSWORD_EXPIRED":               "0xc0000071",
	"NT_STATUS_ACCOUNT_DISABLED":               "0xc0000072",
	"NT_STATUS_NOT_SUPPORTED":                  "0xc00000bb",
	"NT_STATUS_INVALID_SERVER_STATE":           "0xc00000dc",
	"NT_STATUS_NO_SUCH_DOMAIN":                 "0xc00000df",
	"NT_STATUS_INTERNAL_ERROR":                 "0xc00000e5",
	"NT_STATUS_TIME_DIFFERENCE_AT_DC":          "0xc0000133",
	"NT_STATUS_LOGON_TYPE_NOT_GRANTED":         "0xc000015b",
	"NT_STATUS_ACCOUNT_EXPIRED":                "0xc0000193",
	"NT_STATUS_PASSWORD_MUST_CHANGE":           "0xc0000224",
	"NT_STATUS_ACCOUNT_LOCKED_OUT":             "0xc0000234",
	"NT_STATUS_DOWNGRADE_DETECTED":             "0xc0000388",
	"NT_STATUS_AUTHENTICATION_FIREWALL_FAILED": "0xc0000413",
	"NT_STATUS_NTLM_BLOCKED":                   "0xc0000418",
}

// ntReasons names the codes as mappings/windows does for 4625 / 4776.
var ntReasons = map[string]string{
	"0xc0000064": "unknown user",
	"0xc000006a": "bad password",
	"0xc000006d": "bad user name or password",
	"0xc000006e": "account restriction",
	"0xc000006f": "logon time restriction",
	"0xc0000070": "workstation restriction",
	"0xc0000071": "password expired",
	"0xc0000072": "account disabled",
	"0xc0000193": "account expired",
	"0xc0000224": "password must change",
	"0xc0000234": "account locked out",
	"0xc000015b": "logon type not granted",
	"0xc0000133": "clock skew",
	"0xc0000413": "authentication firewall",
}

// kdcCodes maps the NTSTATUS of a failed AS exchange to the Kerberos error
// the KDC sent (what a Windows DC logs in 4768 / 4771), with its reason as
// mappings/windows names it.
var kdcCodes = map[string]struct{ code, reason string }{
	"NT_STATUS_WRONG_PASSWORD":        {"0x18", "bad password"},
	"NT_STATUS_NO_SUCH_USER":          {"0x6", "unknown principal"},
	"NT_STATUS_ACCOUNT_DISABLED":      {"0x12", "revoked/disabled"},
	"NT_STATUS_ACCOUNT_LOCKED_OUT":    {"0x12", "revoked/disabled"},
	"NT_STATUS_ACCOUNT_EXPIRED":       {"0x12", "revoked/disabled"},
	"NT_STATUS_PASSWORD_EXPIRED":      {"0x17", "password expired"},
	"NT_STATUS_PASSWORD_MUST_CHANGE":  {"0x17", "password expired"},
	"NT_STATUS_INVALID_LOGON_HOURS":   {"0xc", "policy restriction"},
	"NT_STATUS_INVALID_WORKSTATION":   {"0xc", "policy restriction"},
	"NT_STATUS_TIME_DIFFERENCE_AT_DC": {"0x25", "clock skew"},
}

// preauthTypes maps authDescription of a KDC record to the decimal
// PA-DATA type of 4768 PreAuthType.
var preauthTypes = map[string]string{
	"ENC-TS Pre-authentication":   "2",
	"ENC-CHAL Pre-authentication": "138",
	"PKINIT":                      "16",
}

// etypeNames maps Kerberos key type names (Heimdal's, as in passwordType)
// to the names mappings/windows uses.
var etypeNames = map[string]string{
	"arcfour-hmac-md5":        "rc4-hmac",
	"arcfour-hmac":            "rc4-hmac",
	"rc4-hmac":                "rc4-hmac",
	"aes256-cts-hmac-sha1-96": "aes256-cts-hmac-sha1-96",
	"aes128-cts-hmac-sha1-96": "aes128-cts-hmac-sha1-96",
	"des-cbc-md5":             "des-cbc-md5",
	"des-cbc-crc":             "des-cbc-crc",
}

// authUser builds the authenticated identity: the account Samba resolved
// (became*), else the one it mapped the name to, else the name the client
// sent with its realm or domain prefix removed.
func authUser(b map[string]any) schema.User {
	u := schema.User{
		Name:   str(b, "becameAccount"),
		Domain: str(b, "becameDomain"),
		ID:     str(b, "becameSid"),
	}
	if u.Name == "" {
		u.Name, u.Domain = str(b, "mappedAccount"), str(b, "mappedDomain")
	}
	client := str(b, "clientAccount")
	if dom, name, ok := strings.Cut(client, `\`); ok {
		client = name
		if u.Domain == "" {
			u.Domain = dom
		}
	}
	name, realm, _ := strings.Cut(client, "@")
	if u.Name == "" {
		u.Name = name
	}
	if u.Domain == "" {
		u.Domain = str(b, "clientDomain")
	}
	if u.Domain == "" {
		u.Domain = realm
	}
	if id := str(b, "logonId"); id != "" && id != "0" {
		u.LogonID = "0x" + strings.ToLower(id)
	}
	u.IsMachine = strings.HasSuffix(u.Name, "$")
	return u
}

// authEndpoints fills source (remoteAddress, workstation) and destination
// (localAddress).
func authEndpoints(b map[string]any, ev *schema.Event) {
	ev.Source.IP, ev.Source.Port = parseAddress(str(b, "remoteAddress"))
	ev.Destination.IP, ev.Destination.Port = parseAddress(str(b, "localAddress"))
	ev.Source.Hostname = str(b, "workstation")
}

// ntlmVersion maps passwordType to auth.ntlm.version.
func ntlmVersion(pt string) string {
	switch strings.ToUpper(pt) {
	case "NTLMV2":
		return "v2"
	case "NTLMV1", "NTLM":
		return "v1"
	case "LM":
		return "lm"
	}
	return ""
}

// protocol derives auth.protocol of a non-KDC logon.
func protocol(service, desc, pt string) string {
	d := strings.ToLower(desc)
	switch {
	case d == "simple bind":
		return "ldap"
	case strings.Contains(d, "ntlmssp") || ntlmVersion(pt) != "":
		return "ntlm"
	case strings.Contains(d, "krb5") || strings.Contains(d, "kerberos") || strings.Contains(d, "gssapi"):
		return "kerberos"
	case strings.Contains(strings.ToLower(service), "kerberos"):
		return "kerberos"
	}
	return ""
}

// mapAuthentication: an authentication attempt (eventId 4624 / 4625).
func mapAuthentication(r *record, ev *schema.Event) {
	b := r.body
	status := str(b, "status")
	ok := status == "NT_STATUS_OK"
	if ev.Event.Code == "" { // version 1.0 had no eventId
		ev.Event.Code = "4625"
		if ok {
			ev.Event.Code = "4624"
		}
	}
	ev.Event.Outcome = outcome(ok)
	ev.User = authUser(b)
	authEndpoints(b, ev)
	ev.Auth.LogonType = num(b, "logonType")
	service, desc, pt := str(b, "serviceDescription"), str(b, "authDescription"), str(b, "passwordType")
	ev.Auth.Process = service
	ev.Auth.Package = desc

	if service == "Kerberos KDC" {
		mapKDC(ev, status, desc, pt)
		return
	}
	ev.Auth.Protocol = protocol(service, desc, pt)
	if ev.Auth.Protocol == "ntlm" {
		ev.Auth.NTLM.Version = ntlmVersion(pt)
		ev.Auth.NTLM.Workstation = ev.Source.Hostname
	}
	switch {
	case strings.EqualFold(desc, "simple bind"):
		ev.Event.Kind = schema.KindLDAPBind
		ev.Event.Action = "ldap-simple-bind"
	case ok:
		ev.Event.Kind = schema.KindLogon
		ev.Event.Action = "logged-in"
	default:
		ev.Event.Kind = schema.KindLogonFailure
		ev.Event.Action = "logon-failed"
	}
	if !ok {
		code := ntStatus[status]
		ev.Auth.FailureCode = code
		ev.Event.Reason = ntReasons[code]
		if ev.Event.Reason == "" {
			ev.Event.Reason = status
		}
	}
}

// mapKDC: an AS exchange, normalized as Windows 4768 / 4771.
func mapKDC(ev *schema.Event, status, desc, pt string) {
	ev.Auth.Protocol = "kerberos"
	ev.Auth.Kerberos.Etype = etypeNames[strings.ToLower(pt)]
	if ev.Auth.Kerberos.Etype == "" && pt != "" && !strings.EqualFold(pt, "Plaintext") {
		ev.Auth.Kerberos.Etype = strings.ToLower(pt)
	}
	ev.Auth.Kerberos.PreauthType = preauthTypes[desc]
	if status == "NT_STATUS_OK" {
		ev.Event.Kind = schema.KindKerberosTGT
		ev.Event.Action = "tgt-requested"
		ev.Auth.Kerberos.Status = "0x0"
		if desc == "Unknown Pre-authentication" && pt == "" {
			// No pre-authentication the KDC knows was verified: the reply
			// is encrypted with the account's key (AS-REP roastable).
			ev.Auth.Kerberos.PreauthType = "0"
		}
		return
	}
	k, known := kdcCodes[status]
	if !known {
		k.code, k.reason = ntStatus[status], status
	}
	ev.Auth.FailureCode = k.code
	ev.Auth.Kerberos.Status = k.code
	ev.Event.Reason = k.reason
	if status == "NT_STATUS_WRONG_PASSWORD" {
		ev.Event.Kind = schema.KindKerberosPreauthFail
		ev.Event.Action = "preauth-failed"
		return
	}
	ev.Event.Kind = schema.KindKerberosTGT
	ev.Event.Action = "tgt-requested"
}

// mapAuthorization: a session was authorized (auth_json_audit:5). Only a
// session from a Kerberos ticket is a logon; for the others the
// Authentication record already was.
func mapAuthorization(r *record, ev *schema.Event) {
	b := r.body
	ev.Event.Outcome = schema.OutcomeSuccess
	ev.User = schema.User{Name: str(b, "account"), Domain: str(b, "domain"), ID: str(b, "sid")}
	ev.User.IsMachine = strings.HasSuffix(ev.User.Name, "$")
	authEndpoints(b, ev)
	authType := str(b, "authType")
	ev.Auth.Process = str(b, "serviceDescription")
	ev.Auth.Package = authType
	ev.Auth.Protocol = protocol(ev.Auth.Process, authType, "")
	if ev.Auth.Protocol == "kerberos" {
		ev.Event.Kind = schema.KindLogon
		ev.Event.Action = "logged-in"
		ev.Auth.LogonType = 3
		return
	}
	ev.Event.Action = "session-authorized"
}
