package scenario

import (
	"fmt"
	"strconv"
	"time"
)

// Providers and channels used by the generated events.
const (
	ProviderSecurity = "Microsoft-Windows-Security-Auditing"
	ProviderEventlog = "Microsoft-Windows-Eventlog"
	ProviderSCM      = "Service Control Manager"
	ChannelSecurity  = "Security"
	ChannelSystem    = "System"
)

// Field is one named EventData (or UserData) value. Windows renders every value as a string.
type Field struct {
	Name, Value string
}

// Event is one Windows event as its logging host recorded it, before encoding.
type Event struct {
	Time     time.Time // UTC, millisecond precision
	File     string    // name of the output file of the logging host
	Channel  string
	Provider string
	ID       int
	Failure  bool    // Audit Failure rather than Audit Success
	UserData string  // when set, Data sits in UserData under this element (1102: LogFileCleared)
	Data     []Field // in the order Windows defines them
}

// Value returns the value of the named field, or "".
func (e *Event) Value(name string) string {
	for _, f := range e.Data {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// Replication property GUIDs checked by DCSync detection, and the domainDNS class.
const (
	GUIDGetChanges         = "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2"
	GUIDGetChangesAll      = "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2"
	GUIDGetChangesFiltered = "89e95b76-444d-4c62-991a-0facbeda640c"
	GUIDDomainDNS          = "19195a5b-6da0-11d0-afd3-00c04fd930c9"
)

// Kerberos ticket encryption types as Windows prints them.
const (
	EtypeAES256 = "0x12"
	EtypeRC4    = "0x17"
)

// secEvent records an event in domain controller dc's Security log.
func (b *builder) secEvent(t time.Time, dc int, id int, failure bool, data ...Field) {
	b.emit(Event{Time: t, File: b.dcFile(dc), Channel: ChannelSecurity, Provider: ProviderSecurity,
		ID: id, Failure: failure, Data: data})
}

func (b *builder) port() string { return strconv.Itoa(49152 + b.rng.IntN(16000)) }

func (b *builder) logonID() string { return fmt.Sprintf("0x%x", 0x100000+b.rng.IntN(0x2000000)) }

func (b *builder) logonGUID() string { return "{" + guid(b.rng) + "}" }

func mapped(ip string) string { return "::ffff:" + ip }

// tgt records a 4768 (Kerberos TGT requested) for a known account.
func (b *builder) tgt(t time.Time, dc int, a *Account, ip, etype, preauth string) {
	b.secEvent(t, dc, 4768, false,
		Field{"TargetUserName", a.Sam},
		Field{"TargetDomainName", b.d.Realm},
		Field{"TargetSid", a.SID},
		Field{"ServiceName", "krbtgt"},
		Field{"ServiceSid", b.d.KrbtgtSID()},
		Field{"TicketOptions", "0x40810010"},
		Field{"Status", "0x0"},
		Field{"TicketEncryptionType", etype},
		Field{"PreAuthType", preauth},
		Field{"IpAddress", mapped(ip)},
		Field{"IpPort", b.port()},
		Field{"CertIssuerName", ""},
		Field{"CertSerialNumber", ""},
		Field{"CertThumbprint", ""},
	)
}

// tgtUnknown records a failed 4768 for a principal that does not exist (KDC_ERR_C_PRINCIPAL_UNKNOWN).
func (b *builder) tgtUnknown(t time.Time, dc int, name, ip string) {
	b.secEvent(t, dc, 4768, true,
		Field{"TargetUserName", name},
		Field{"TargetDomainName", b.d.Realm},
		Field{"TargetSid", "S-1-0-0"},
		Field{"ServiceName", "krbtgt/" + b.d.Realm},
		Field{"ServiceSid", "S-1-0-0"},
		Field{"TicketOptions", "0x40810010"},
		Field{"Status", "0x6"},
		Field{"TicketEncryptionType", "0xffffffff"},
		Field{"PreAuthType", "-"},
		Field{"IpAddress", mapped(ip)},
		Field{"IpPort", b.port()},
		Field{"CertIssuerName", ""},
		Field{"CertSerialNumber", ""},
		Field{"CertThumbprint", ""},
	)
}

// tgs records a 4769 (Kerberos service ticket requested).
func (b *builder) tgs(t time.Time, dc int, user, svc *Account, ip, etype string) {
	b.secEvent(t, dc, 4769, false,
		Field{"TargetUserName", user.Sam + "@" + b.d.Realm},
		Field{"TargetDomainName", b.d.Realm},
		Field{"ServiceName", svc.Sam},
		Field{"ServiceSid", svc.SID},
		Field{"TicketOptions", "0x40810000"},
		Field{"TicketEncryptionType", etype},
		Field{"IpAddress", mapped(ip)},
		Field{"IpPort", b.port()},
		Field{"Status", "0x0"},
		Field{"LogonGuid", b.logonGUID()},
		Field{"TransmittedServices", "-"},
	)
}

// preauthFailed records a 4771 with KDC_ERR_PREAUTH_FAILED (bad password).
func (b *builder) preauthFailed(t time.Time, dc int, a *Account, ip string) {
	b.secEvent(t, dc, 4771, true,
		Field{"TargetUserName", a.Sam},
		Field{"TargetSid", a.SID},
		Field{"ServiceName", "krbtgt/" + b.d.NetBIOS},
		Field{"TicketOptions", "0x40810010"},
		Field{"Status", "0x18"},
		Field{"PreAuthType", "2"},
		Field{"IpAddress", mapped(ip)},
		Field{"IpPort", b.port()},
		Field{"CertIssuerName", ""},
		Field{"CertSerialNumber", ""},
		Field{"CertThumbprint", ""},
	)
}

// ntlmValidation records a 4776 (the DC validated NTLM credentials).
func (b *builder) ntlmValidation(t time.Time, dc int, a *Account, workstation, status string) {
	b.secEvent(t, dc, 4776, status != "0x0",
		Field{"PackageName", "MICROSOFT_AUTHENTICATION_PACKAGE_V1_0"},
		Field{"TargetUserName", a.Sam},
		Field{"Workstation", workstation},
		Field{"Status", status},
	)
}

// Logon methods for [builder.logon].
const (
	viaKerberos = iota
	viaNTLM
	viaInteractive // types 2 and 10: Negotiate through winlogon / RDP
)

// logon records a 4624 on domain controller dc and returns the new logon id.
func (b *builder) logon(t time.Time, dc int, a *Account, logonType int, ip, workstation string, via int) string {
	id := b.logonID()
	dcAcct := b.d.DCs[dc]
	subjSID, subjName, subjDomain, subjLogon := "S-1-0-0", "-", "-", "0x0"
	procName, procID, lpn, pkg, ws, lm, keyLen, port := "-", "0x0", "Kerberos", "Kerberos", "-", "-", "0", "0"
	restricted := "-"
	switch via {
	case viaNTLM:
		lpn, pkg, ws, lm, keyLen = "NtLmSsp ", "NTLM", workstation, "NTLM V2", "128"
		port = b.port()
	case viaInteractive:
		subjSID, subjName, subjDomain, subjLogon = "S-1-5-18", dcAcct.Sam, b.d.NetBIOS, "0x3e7"
		lpn, pkg, ws = "User32 ", "Negotiate", b.d.DCHost(dc)
		if logonType == 10 {
			ws = workstation // the RDP client's name
		}
		procName, procID = `C:\Windows\System32\svchost.exe`, fmt.Sprintf("0x%x", 0x300+b.rng.IntN(0x900))
		if logonType == 2 {
			procName = `C:\Windows\System32\winlogon.exe`
		}
		if logonType == 10 {
			restricted, port = "%%1843", b.port()
		}
	default:
		port = b.port()
	}
	b.secEvent(t, dc, 4624, false,
		Field{"SubjectUserSid", subjSID},
		Field{"SubjectUserName", subjName},
		Field{"SubjectDomainName", subjDomain},
		Field{"SubjectLogonId", subjLogon},
		Field{"TargetUserSid", a.SID},
		Field{"TargetUserName", a.Sam},
		Field{"TargetDomainName", b.d.NetBIOS},
		Field{"TargetLogonId", id},
		Field{"LogonType", strconv.Itoa(logonType)},
		Field{"LogonProcessName", lpn},
		Field{"AuthenticationPackageName", pkg},
		Field{"WorkstationName", ws},
		Field{"LogonGuid", b.logonGUIDFor(via)},
		Field{"TransmittedServices", "-"},
		Field{"LmPackageName", lm},
		Field{"KeyLength", keyLen},
		Field{"ProcessId", procID},
		Field{"ProcessName", procName},
		Field{"IpAddress", ip},
		Field{"IpPort", port},
		Field{"ImpersonationLevel", "%%1833"},
		Field{"RestrictedAdminMode", restricted},
		Field{"TargetOutboundUserName", "-"},
		Field{"TargetOutboundDomainName", "-"},
		Field{"VirtualAccount", "%%1843"},
		Field{"TargetLinkedLogonId", "0x0"},
		Field{"ElevatedToken", "%%1842"},
	)
	return id
}

func (b *builder) logonGUIDFor(via int) string {
	if via == viaNTLM {
		return "{00000000-0000-0000-0000-000000000000}"
	}
	return b.logonGUID()
}

// logonFailed records a 4625 for a bad password over NTLM from a workstation.
func (b *builder) logonFailed(t time.Time, dc int, a *Account, ip, workstation string) {
	b.secEvent(t, dc, 4625, true,
		Field{"SubjectUserSid", "S-1-0-0"},
		Field{"SubjectUserName", "-"},
		Field{"SubjectDomainName", "-"},
		Field{"SubjectLogonId", "0x0"},
		Field{"TargetUserSid", "S-1-0-0"},
		Field{"TargetUserName", a.Sam},
		Field{"TargetDomainName", b.d.NetBIOS},
		Field{"Status", "0xc000006d"},
		Field{"FailureReason", "%%2313"},
		Field{"SubStatus", "0xc000006a"},
		Field{"LogonType", "3"},
		Field{"LogonProcessName", "NtLmSsp "},
		Field{"AuthenticationPackageName", "NTLM"},
		Field{"WorkstationName", workstation},
		Field{"TransmittedServices", "-"},
		Field{"LmPackageName", "-"},
		Field{"KeyLength", "0"},
		Field{"ProcessId", "0x0"},
		Field{"ProcessName", "-"},
		Field{"IpAddress", ip},
		Field{"IpPort", b.port()},
	)
}

// directoryAccess records a 4662 control-access on the domain head for one property GUID.
func (b *builder) directoryAccess(t time.Time, dc int, subject *Account, logonID, property string) {
	b.secEvent(t, dc, 4662, false,
		Field{"SubjectUserSid", subject.SID},
		Field{"SubjectUserName", subject.Sam},
		Field{"SubjectDomainName", b.d.NetBIOS},
		Field{"SubjectLogonId", logonID},
		Field{"ObjectServer", "DS"},
		Field{"ObjectType", "%{" + GUIDDomainDNS + "}"},
		Field{"ObjectName", "%{" + b.d.ObjectGUID + "}"},
		Field{"OperationType", "Object Access"},
		Field{"HandleId", "0x0"},
		Field{"AccessList", "%%7688\r\n\t\t\t\t"},
		Field{"AccessMask", "0x100"},
		Field{"Properties", "%%7688\r\n\t\t{" + property + "}\r\n\t{" + GUIDDomainDNS + "}\r\n"},
		Field{"AdditionalInfo", "-"},
		Field{"AdditionalInfo2", ""},
	)
}

func subject(b *builder, admin *Account, logonID string) []Field {
	return []Field{
		{"SubjectUserSid", admin.SID},
		{"SubjectUserName", admin.Sam},
		{"SubjectDomainName", b.d.NetBIOS},
		{"SubjectLogonId", logonID},
	}
}

// memberAdded records 4728 (global), 4732 (domain local) or 4756 (universal) group changes.
func (b *builder) memberAdded(t time.Time, dc, id int, admin *Account, logonID string, member *Account, g Group) {
	data := []Field{
		{"MemberName", b.d.DN(member)},
		{"MemberSid", member.SID},
		{"TargetUserName", g.Name},
		{"TargetDomainName", b.d.NetBIOS},
		{"TargetSid", g.SID},
	}
	data = append(data, subject(b, admin, logonID)...)
	data = append(data, Field{"PrivilegeList", "-"})
	b.secEvent(t, dc, id, false, data...)
}

// passwordReset records 4724 (an administrator reset an account's password).
func (b *builder) passwordReset(t time.Time, dc int, admin *Account, logonID string, target *Account) {
	data := []Field{
		{"TargetUserName", target.Sam},
		{"TargetDomainName", b.d.NetBIOS},
		{"TargetSid", target.SID},
	}
	b.secEvent(t, dc, 4724, false, append(data, subject(b, admin, logonID)...)...)
}

// userAccount records 4720 (created) or 4738 (changed) with the user attributes Windows lists.
func (b *builder) userAccount(t time.Time, dc, id int, admin *Account, logonID string, target *Account, passwordLastSet string) {
	same := "-"
	upn, display, sam, primary := same, same, same, same
	oldUAC, newUAC, uac := "0x15", "0x15", same
	if id == 4720 {
		upn, display, sam, primary = target.Sam+"@"+b.d.DNS, target.DisplayName(), target.Sam, "513"
		oldUAC, uac = "0x0", "\r\n\t\t%%2080\r\n\t\t%%2082\r\n\t\t%%2084"
	}
	data := []Field{
		{"Dummy", "-"},
		{"TargetUserName", target.Sam},
		{"TargetDomainName", b.d.NetBIOS},
		{"TargetSid", target.SID},
	}
	data = append(data, subject(b, admin, logonID)...)
	data = append(data,
		Field{"PrivilegeList", "-"},
		Field{"SamAccountName", sam},
		Field{"DisplayName", display},
		Field{"UserPrincipalName", upn},
		Field{"HomeDirectory", same},
		Field{"HomePath", same},
		Field{"ScriptPath", same},
		Field{"ProfilePath", same},
		Field{"UserWorkstations", same},
		Field{"PasswordLastSet", passwordLastSet},
		Field{"AccountExpires", same},
		Field{"PrimaryGroupId", primary},
		Field{"AllowedToDelegateTo", same},
		Field{"OldUacValue", oldUAC},
		Field{"NewUacValue", newUAC},
		Field{"UserAccountControl", uac},
		Field{"UserParameters", same},
		Field{"SidHistory", same},
		Field{"LogonHours", same},
	)
	if id == 4720 {
		data = data[1:] // 4720 has no Dummy field
	}
	b.secEvent(t, dc, id, false, data...)
}

// logCleared records 1102 (the Security log was cleared) on domain controller dc.
func (b *builder) logCleared(t time.Time, dc int, who *Account, logonID string) {
	b.emit(Event{Time: t, File: b.dcFile(dc), Channel: ChannelSecurity, Provider: ProviderEventlog,
		ID: 1102, UserData: "LogFileCleared", Data: subject(b, who, logonID)})
}

// serviceInstalled records 7045 in FS01's System log.
func (b *builder) serviceInstalled(t time.Time, name, image, startType string) {
	b.emit(Event{Time: t, File: FileFS01, Channel: ChannelSystem, Provider: ProviderSCM, ID: 7045,
		Data: []Field{
			{"ServiceName", name},
			{"ImagePath", image},
			{"ServiceType", "user mode service"},
			{"StartType", startType},
			{"AccountName", "LocalSystem"},
		}})
}

// serviceState records 7036 (service entered a state) in FS01's System log.
func (b *builder) serviceState(t time.Time, name, state string) {
	b.emit(Event{Time: t, File: FileFS01, Channel: ChannelSystem, Provider: ProviderSCM, ID: 7036,
		Data: []Field{{"param1", name}, {"param2", state}}})
}
