package sigmarules

import (
	"fmt"
	"strings"
	"testing"

	"github.com/castellan-itdr/castellan/detections/sigma"
	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/mappings/windows"
)

func load(t *testing.T) *sigma.Set {
	t.Helper()
	rules, problems, err := sigma.Load(FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s (%s): %s", p.File, p.RuleID, p.Reason)
	}
	if len(rules) == 0 {
		t.Fatal("no rules loaded")
	}
	for _, r := range rules {
		if r.Technique == "" || r.Tactic == "" {
			t.Errorf("%s: no ATT&CK technique/tactic tag, eval cannot score it", r.File)
		}
		if strings.HasPrefix(r.File, "castellan_") && len(r.Falsepositives) == 0 {
			t.Errorf("%s: no falsepositives listed", r.File)
		}
		if strings.HasPrefix(r.File, "castellan_") && r.Author != "Castellan" {
			t.Errorf("%s: project rule with author %q", r.File, r.Author)
		}
		if !strings.HasPrefix(r.File, "castellan_") && r.Author == "Castellan" {
			t.Errorf("%s: SigmaHQ copies keep their author", r.File)
		}
	}
	set, err := sigma.NewSet(rules, sigma.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// titles returns the titles of the rules that fire on one NXLog-style line.
func titles(t *testing.T, set *sigma.Set, line string) []string {
	t.Helper()
	ev, err := windows.DecodeJSONEvent([]byte(line), "")
	if err != nil {
		t.Fatalf("decode %s: %v", line, err)
	}
	var got []string
	set.Process(&ev, func(a schema.Alert) { got = append(got, a.Rule.Title) })
	return got
}

const (
	proc4688 = `{"EventID": 4688, "Channel": "Security", "SourceName": "Microsoft-Windows-Security-Auditing", "Hostname": "WS01.corp.local", "@timestamp": "2026-03-02T10:00:00Z", "SubjectUserName": "jdoe", "SubjectDomainName": "CORP", "NewProcessName": %q, "CommandLine": %q}`
	sysmon   = `{"EventID": %d, "Channel": "Microsoft-Windows-Sysmon/Operational", "SourceName": "Microsoft-Windows-Sysmon", "Hostname": "WS01.corp.local", "@timestamp": "2026-03-02T10:00:00Z", %s}`
	ps4104   = `{"EventID": 4104, "Channel": "Microsoft-Windows-PowerShell/Operational", "SourceName": "Microsoft-Windows-PowerShell", "Hostname": "WS01.corp.local", "@timestamp": "2026-03-02T10:00:00Z", "ScriptBlockText": %q}`
)

func proc(image, cmd string) string { return sprintf(proc4688, image, cmd) }

// sec is a Security event on DC01 with the given extra fields (a JSON fragment).
func sec(id int, fields string) string {
	return sprintf(`{"EventID": %d, "Channel": "Security", "SourceName": "Microsoft-Windows-Security-Auditing", "Hostname": "DC01.corp.local", "@timestamp": "2026-03-02T10:00:00Z", %s}`, id, fields)
}

var sprintf = fmt.Sprintf

func TestProjectRules(t *testing.T) {
	set := load(t)
	cases := []struct {
		name, line, want string // want "" = no project rule fires
	}{
		{"net user add", proc(`C:\Windows\System32\net.exe`, `net  user toto3 P@ss /add`), "User account created with net user /add"},
		{"net user lookup is not creation", proc(`C:\Windows\System32\net.exe`, `net  user administrator /domain`), "Account discovery with net user"},
		{"net use to share", proc(`C:\Windows\System32\net.exe`, `net  use m: \\fs03\c$ /USER:corp\hack1`), "Administrative share mounted with net use"},
		{"net use to a normal share", proc(`C:\Windows\System32\net.exe`, `net  use h: \\fs03\home`), ""},
		{"sc remote create", proc(`C:\Windows\System32\sc.exe`, `sc  \\fs02 create evil binPath= "c:\x.exe"`), "Service created or reconfigured with sc.exe"},
		{"sc query", proc(`C:\Windows\System32\sc.exe`, `sc  query wuauserv`), ""},
		{"comsvcs minidump", proc(`C:\Windows\System32\rundll32.exe`, `rundll32.exe C:\Windows\System32\comsvcs.dll MiniDump 512 C:\t\x.dmp full`), "LSASS memory dump from the command line"},
		{"ntdsutil ifm", proc(`C:\Windows\System32\ntdsutil.exe`, `ntdsutil "activate instance ntds" ifm "create full c:\x" quit quit`), "NTDS.dit copy via ntdsutil IFM, diskshadow or volume shadow copy"},
		{"ntdsutil metadata cleanup", proc(`C:\Windows\System32\ntdsutil.exe`, `ntdsutil "metadata cleanup" quit`), ""},
		{"setspn query", proc(`C:\Windows\System32\setspn.exe`, `setspn  -T corp -Q */*`), "Service principal names listed with setspn"},
		{"setspn list own", proc(`C:\Windows\System32\setspn.exe`, `setspn  -L svc-sql`), ""},
		{"tscon hijack", proc(`C:\Windows\System32\cmd.exe`, `cmd /k tscon 2 /dest:rdp-tcp#8`), "RDP session hijack with tscon"},
		{"bitsadmin transfer", proc(`C:\Windows\System32\bitsadmin.exe`, `bitsadmin /transfer job https://x.test/a.jpg c:\a.png`), "BITS job created with bitsadmin"},
		{"bitsadmin list", proc(`C:\Windows\System32\bitsadmin.exe`, `bitsadmin /list /allusers`), ""},
		{"lsass access by tool", sprintf(sysmon, 10, `"SourceImage": "C:\\TOOLS\\m.exe", "TargetImage": "C:\\Windows\\system32\\lsass.exe", "GrantedAccess": "0x1010"`), "LSASS opened for memory reading by an unusual process"},
		{"lsass access by defender", sprintf(sysmon, 10, `"SourceImage": "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18\\MsMpEng.exe", "TargetImage": "C:\\Windows\\system32\\lsass.exe", "GrantedAccess": "0x1010"`), ""},
		{"bits from powershell", sprintf(ps4104, `Start-BitsTransfer -Source https://x.test/a -Destination C:\a.ps1`), "BITS transfer started from PowerShell"},
		{"dcom lateral", sprintf(ps4104, `$a = [System.Activator]::CreateInstance([type]::GetTypeFromProgID("MMC20.Application.1","fs01"))`), "Remote DCOM object instantiated from PowerShell"},
		{"forged ticket realm", `{"EventID": 4769, "Channel": "Security", "SourceName": "Microsoft-Windows-Security-Auditing", "Hostname": "DC01.corp.local", "@timestamp": "2026-03-02T10:00:00Z", "TargetUserName": "ghost@corp.local", "TargetDomainName": "corp.local", "ServiceName": "FS01$", "TicketEncryptionType": "0x12", "Status": "0x0"}`, "Kerberos ticket with a lower-case realm (forged ticket indicator)"},
		{"normal ticket realm", `{"EventID": 4769, "Channel": "Security", "SourceName": "Microsoft-Windows-Security-Auditing", "Hostname": "DC01.corp.local", "@timestamp": "2026-03-02T10:00:00Z", "TargetUserName": "jdoe@CORP.LOCAL", "TargetDomainName": "CORP.LOCAL", "ServiceName": "FS01$", "TicketEncryptionType": "0x12", "Status": "0x0"}`, ""},
		{"self added to group", `{"EventID": 4728, "Channel": "Security", "SourceName": "Microsoft-Windows-Security-Auditing", "Hostname": "DC01.corp.local", "@timestamp": "2026-03-02T10:00:00Z", "SubjectUserSid": "S-1-5-21-1-2-3-1158", "SubjectUserName": "lambda", "MemberSid": "S-1-5-21-1-2-3-1158", "TargetUserName": "Group02"}`, "Account added itself to a group"},
		{"admin adds another user", `{"EventID": 4728, "Channel": "Security", "SourceName": "Microsoft-Windows-Security-Auditing", "Hostname": "DC01.corp.local", "@timestamp": "2026-03-02T10:00:00Z", "SubjectUserSid": "S-1-5-21-1-2-3-1111", "SubjectUserName": "admin.jdoe", "MemberSid": "S-1-5-21-1-2-3-1158", "TargetUserName": "Group02"}`, ""},
		{"xp_cmdshell on", `{"EventID": 15457, "Channel": "Application", "SourceName": "MSSQL$RADAR", "Hostname": "SQL01.corp.local", "@timestamp": "2026-03-02T10:00:00Z", "Data1": "xp_cmdshell", "Data2": "0", "Data3": "1"}`, "SQL Server xp_cmdshell, CLR or OLE automation enabled"},
		{"xp_cmdshell off", `{"EventID": 15457, "Channel": "Application", "SourceName": "MSSQL$RADAR", "Hostname": "SQL01.corp.local", "@timestamp": "2026-03-02T10:00:00Z", "Data1": "xp_cmdshell", "Data2": "1", "Data3": "0"}`, ""},
		{"service bare name", `{"EventID": 7045, "Channel": "System", "SourceName": "Service Control Manager", "Hostname": "FS01.corp.local", "@timestamp": "2026-03-02T10:00:00Z", "ServiceName": "bad", "ImagePath": "virus.exe", "ServiceType": "user mode service", "StartType": "demand start", "AccountName": "LocalSystem"}`, "Service installed with an image path that is not an absolute path"},
		{"service absolute path", `{"EventID": 7045, "Channel": "System", "SourceName": "Service Control Manager", "Hostname": "FS01.corp.local", "@timestamp": "2026-03-02T10:00:00Z", "ServiceName": "Agent", "ImagePath": "\"C:\\Program Files\\Agent\\agent.exe\" /svc", "ServiceType": "user mode service", "StartType": "demand start", "AccountName": "LocalSystem"}`, ""},
		{"driver system32 path", `{"EventID": 7045, "Channel": "System", "SourceName": "Service Control Manager", "Hostname": "FS01.corp.local", "@timestamp": "2026-03-02T10:00:00Z", "ServiceName": "drv", "ImagePath": "System32\\drivers\\x.sys", "ServiceType": "kernel mode driver", "StartType": "boot start", "AccountName": ""}`, ""},
		{"ordinary script", sprintf(ps4104, `Get-Service | Where-Object Status -eq Running`), ""},
		{"computer via machine quota", sec(4741, `"SubjectUserName": "jdoe", "TargetUserName": "EVILPC$", "SamAccountName": "EVILPC$", "PrivilegeList": "SeMachineAccountPrivilege"`), "Computer account created by a user through the machine account quota"},
		{"computer by delegated admin", sec(4741, `"SubjectUserName": "admin.jdoe", "TargetUserName": "WS42$", "SamAccountName": "WS42$", "PrivilegeList": "-"`), ""},
		{"password changed for other", sec(4723, `"SubjectUserSid": "S-1-5-21-1-2-3-1111", "SubjectUserName": "admmig", "TargetSid": "S-1-5-21-1-2-3-1242", "TargetUserName": "hacker2", "PrivilegeList": "-"`), "Password change for another account (old password or hash supplied)"},
		{"own password changed", sec(4723, `"SubjectUserSid": "S-1-5-21-1-2-3-1242", "SubjectUserName": "bob", "TargetSid": "S-1-5-21-1-2-3-1242", "TargetUserName": "bob", "PrivilegeList": "-"`), ""},
		{"expired password changed at logon", sec(4723, `"SubjectUserSid": "S-1-5-7", "SubjectUserName": "ANONYMOUS LOGON", "TargetSid": "S-1-5-21-1-2-3-1242", "TargetUserName": "bob", "PrivilegeList": "-"`), ""},
		{"owner taken on user", sec(4662, `"SubjectUserName": "jdoe", "ObjectServer": "DS", "ObjectType": "%{bf967aba-0de6-11d0-a285-00aa003049e2}", "ObjectName": "%{237e2948-81ed-41be-b979-27f0f95b4302}", "AccessList": "%%1540\r\n\t\t\t\t", "AccessMask": "0x80000"`), "Owner of an account or group object taken in Active Directory"},
		{"property read on user", sec(4662, `"SubjectUserName": "jdoe", "ObjectServer": "DS", "ObjectType": "%{bf967aba-0de6-11d0-a285-00aa003049e2}", "ObjectName": "%{237e2948-81ed-41be-b979-27f0f95b4302}", "AccessList": "%%7684\r\n\t\t\t\t", "AccessMask": "0x10"`), ""},
		{"logonuser from powershell", sec(4648, `"SubjectUserName": "admmig", "TargetUserName": "test10", "TargetServerName": "localhost", "TargetInfo": "localhost", "ProcessName": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", "IpAddress": "-"`), "Explicit credentials used on the local host by a shell or script host"},
		{"runas through seclogon", sec(4648, `"SubjectUserName": "admmig", "TargetUserName": "hack1", "TargetServerName": "localhost", "TargetInfo": "localhost", "ProcessName": "C:\\Windows\\System32\\svchost.exe", "IpAddress": "::1"`), ""},
		{"logonuser from a tool folder", sec(4648, `"SubjectUserName": "admmig", "TargetUserName": "svc-sql", "TargetServerName": "localhost", "TargetInfo": "localhost", "ProcessName": "C:\\Users\\admmig\\Desktop\\RunasCs.exe", "IpAddress": "-"`), "Explicit credentials used on the local host by a shell or script host"},
		{"potato loopback", sec(4624, `"TargetUserSid": "S-1-5-7", "TargetUserName": "ANONYMOUS LOGON", "TargetDomainName": "NT AUTHORITY", "LogonType": "3", "AuthenticationPackageName": "NTLM", "LogonProcessName": "NtLmSsp ", "IpAddress": "127.0.0.1", "IpPort": "52684", "WorkstationName": ""`), "Anonymous NTLM network logon from the loopback address (Potato privilege escalation)"},
		{"anonymous from network", sec(4624, `"TargetUserSid": "S-1-5-7", "TargetUserName": "ANONYMOUS LOGON", "TargetDomainName": "NT AUTHORITY", "LogonType": "3", "AuthenticationPackageName": "NTLM", "LogonProcessName": "NtLmSsp ", "IpAddress": "10.1.2.3", "IpPort": "52684", "WorkstationName": "WS07"`), ""},
		{"spooler shell", sec(4688, `"SubjectUserName": "FS01$", "NewProcessName": "C:\\Windows\\System32\\cmd.exe", "ParentProcessName": "C:\\Windows\\System32\\spoolsv.exe", "CommandLine": "\"cmd.exe\""`), "Print spooler started a shell or script host"},
		{"spooler driver host", sec(4688, `"SubjectUserName": "FS01$", "NewProcessName": "C:\\Windows\\System32\\PrintIsolationHost.exe", "ParentProcessName": "C:\\Windows\\System32\\spoolsv.exe", "CommandLine": "PrintIsolationHost.exe -Embedding"`), ""},
		{"driver plug-in failed", `{"EventID": 808, "Channel": "Microsoft-Windows-PrintService/Admin", "SourceName": "Microsoft-Windows-PrintService", "Hostname": "WS01.corp.local", "@timestamp": "2026-03-02T10:00:00Z", "PluginDllName": "C:\\Windows\\system32\\spool\\DRIVERS\\x64\\3\\evil.dll", "ErrorCode": "0x7e", "Context": "110"}`, "Print spooler failed to load a printer driver plug-in DLL"},
		{"print provider failed", `{"EventID": 808, "Channel": "Microsoft-Windows-PrintService/Admin", "SourceName": "Microsoft-Windows-PrintService", "Hostname": "WS01.corp.local", "@timestamp": "2026-03-02T10:00:00Z", "PluginDllName": "C:\\Windows\\system32\\inetpp.dll", "ErrorCode": "0x7e", "Context": "110"}`, ""},
		{"printer port to dll", sprintf(ps4104, `Add-PrinterPort -Name C:\Windows\System32\ualapi.dll`), "Printer port pointing to an executable file created from PowerShell"},
		{"tcp printer port", sprintf(ps4104, `Add-PrinterPort -Name "IP_10.1.2.50" -PrinterHostAddress "10.1.2.50"`), ""},
		{"hidden share created", sec(5142, `"SubjectUserName": "admmig", "ShareName": "\\\\*\\tools$", "ShareLocalPath": "C:\\TOOLS\\x"`), "Hidden file share created by a user account"},
		{"drive share created", sec(5142, `"SubjectUserName": "admmig", "ShareName": "\\\\*\\D$", "ShareLocalPath": "D:\\"`), ""},
		{"visible share created", sec(5142, `"SubjectUserName": "admmig", "ShareName": "\\\\*\\Projects", "ShareLocalPath": "D:\\Projects"`), ""},
		{"spn set on computer (4742)", sec(4742, `"SubjectUserSid": "S-1-5-21-1-2-3-1111", "SubjectUserName": "admmig", "TargetUserName": "JUMP01$", "ServicePrincipalNames": "\r\n\t\tHOST/jump01.corp.local\r\n\t\tGC/jump01.corp.local/corp.local"`), "SPN written on a computer account by a user"},
		{"computer changed without spn", sec(4742, `"SubjectUserSid": "S-1-5-21-1-2-3-1111", "SubjectUserName": "admmig", "TargetUserName": "JUMP01$", "ServicePrincipalNames": "-"`), ""},
	}
	for _, c := range cases {
		var got []string
		for _, ti := range titles(t, set, c.line) {
			if isProject(set, ti) {
				got = append(got, ti)
			}
		}
		switch {
		case c.want == "" && len(got) != 0:
			t.Errorf("%s: fired %v", c.name, got)
		case c.want != "" && !contains(got, c.want):
			t.Errorf("%s: got %v, want %q", c.name, got, c.want)
		}
	}
}

func isProject(set *sigma.Set, title string) bool {
	for _, r := range set.Rules() {
		if r.Title == title {
			return r.Author == "Castellan"
		}
	}
	return false
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
