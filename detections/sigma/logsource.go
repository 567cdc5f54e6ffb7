package sigma

import (
	"strings"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Channel names used by the logsource mapping.
const (
	chanSecurity   = "Security"
	chanSystem     = "System"
	chanSysmon     = "Microsoft-Windows-Sysmon/Operational"
	chanPowerShell = "Microsoft-Windows-PowerShell/Operational"
	chanPSClassic  = "Windows PowerShell"
)

// serviceChannels maps logsource.service (product windows) to event
// channels.
var serviceChannels = map[string][]string{
	"security":                             {chanSecurity},
	"system":                               {chanSystem},
	"application":                          {"Application"},
	"sysmon":                               {chanSysmon},
	"powershell":                           {chanPowerShell, chanPSClassic},
	"powershell-classic":                   {chanPSClassic},
	"ntlm":                                 {"Microsoft-Windows-NTLM/Operational"},
	"lsa-server":                           {"Microsoft-Windows-LSA/Operational"},
	"ldap":                                 {"Microsoft-Windows-LDAP-Client/Debug"},
	"ldap_debug":                           {"Microsoft-Windows-LDAP-Client/Debug"},
	"taskscheduler":                        {"Microsoft-Windows-TaskScheduler/Operational"},
	"wmi":                                  {"Microsoft-Windows-WMI-Activity/Operational"},
	"dns-server":                           {"DNS Server"},
	"windefend":                            {"Microsoft-Windows-Windows Defender/Operational"},
	"bits-client":                          {"Microsoft-Windows-Bits-Client/Operational"},
	"codeintegrity-operational":            {"Microsoft-Windows-CodeIntegrity/Operational"},
	"firewall-as":                          {"Microsoft-Windows-Windows Firewall With Advanced Security/Firewall"},
	"driver-framework":                     {"Microsoft-Windows-DriverFrameworks-UserMode/Operational"},
	"smbclient-security":                   {"Microsoft-Windows-SmbClient/Security"},
	"smbclient-connectivity":               {"Microsoft-Windows-SmbClient/Connectivity"},
	"terminalservices-localsessionmanager": {"Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"},
	"capi2":                                {"Microsoft-Windows-CAPI2/Operational"},
	"certificateservicesclient-lifecycle-system": {"Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational"},
	"openssh":                  {"OpenSSH/Operational"},
	"msexchange-management":    {"MSExchange Management"},
	"printservice-admin":       {"Microsoft-Windows-PrintService/Admin"},
	"printservice-operational": {"Microsoft-Windows-PrintService/Operational"},
	"appxdeployment-server":    {"Microsoft-Windows-AppXDeploymentServer/Operational"},
	"shell-core":               {"Microsoft-Windows-Shell-Core/Operational"},
	"security-mitigations":     {"Microsoft-Windows-Security-Mitigations/Kernel Mode", "Microsoft-Windows-Security-Mitigations/User Mode"},
	"diagnosis-scripted":       {"Microsoft-Windows-Diagnosis-Scripted/Operational"},
	"ntfs":                     {"Microsoft-Windows-Ntfs/Operational"},
	"kernel-shimengine":        {"Microsoft-Windows-Kernel-ShimEngine/Operational"},
	"dhcp":                     {"Microsoft-Windows-DHCP-Server/Operational"},
	"vhdmp":                    {"Microsoft-Windows-VHDMP/Operational"},
	"hyper-v-worker":           {"Microsoft-Windows-Hyper-V-Worker-Admin"},
	"appmodel-runtime":         {"Microsoft-Windows-AppModel-Runtime/Admin"},
	"applocker": {
		"Microsoft-Windows-AppLocker/MSI and Script", "Microsoft-Windows-AppLocker/EXE and DLL",
		"Microsoft-Windows-AppLocker/Packaged app-Deployment", "Microsoft-Windows-AppLocker/Packaged app-Execution",
	},
}

// categorySysmon maps logsource.category (product windows) to Sysmon event
// ids. process_creation additionally maps to Security 4688.
var categorySysmon = map[string][]string{
	"process_creation":         {"1"},
	"file_change":              {"2"},
	"network_connection":       {"3"},
	"sysmon_status":            {"4", "16"},
	"process_termination":      {"5"},
	"driver_load":              {"6"},
	"image_load":               {"7"},
	"create_remote_thread":     {"8"},
	"raw_access_thread":        {"9"},
	"process_access":           {"10"},
	"file_event":               {"11"},
	"registry_add":             {"12"},
	"registry_delete":          {"12"},
	"registry_set":             {"13"},
	"registry_rename":          {"14"},
	"registry_event":           {"12", "13", "14"},
	"create_stream_hash":       {"15"},
	"pipe_created":             {"17", "18"},
	"wmi_event":                {"19", "20", "21"},
	"dns_query":                {"22"},
	"file_delete":              {"23", "26"},
	"clipboard_capture":        {"24"},
	"process_tampering":        {"25"},
	"file_block_executable":    {"27"},
	"file_block_shredding":     {"28"},
	"file_executable_detected": {"29"},
	"sysmon_error":             {"255"},
}

// target is one (channel set, event id set, field map) a rule compiles
// for. Most rules have one; process_creation has two (Sysmon 1, Security
// 4688).
type target struct {
	name     string
	channels []string // exact channel names; empty = any channel
	eventIDs []string // required event ids; empty = any
	fields   map[string]fieldSpec
}

// mandatoryLabels names the integrity level SIDs of 4688 MandatoryLabel.
var mandatoryLabels = map[string]string{
	"S-1-16-0":     "Untrusted",
	"S-1-16-4096":  "Low",
	"S-1-16-8192":  "Medium",
	"S-1-16-8448":  "MediumPlus",
	"S-1-16-12288": "High",
	"S-1-16-16384": "System",
	"S-1-16-20480": "Protected",
	"S-1-16-28672": "Secure",
}

// security4688 maps Sigma process_creation names (Sysmon 1 shaped) onto
// Security 4688 fields.
var security4688 = map[string]fieldSpec{
	"image":             {original: "NewProcessName"},
	"parentimage":       {original: "ParentProcessName"},
	"commandline":       {original: "CommandLine"},
	"processid":         {original: "NewProcessId"},
	"parentprocessid":   {original: "ProcessId"},
	"logonid":           {original: "SubjectLogonId"},
	"user":              {derived: user4688},
	"integritylevel":    {derived: integrity4688},
	"originalfilename":  {absent: true},
	"hashes":            {absent: true},
	"imphash":           {absent: true},
	"md5":               {absent: true},
	"sha1":              {absent: true},
	"sha256":            {absent: true},
	"company":           {absent: true},
	"product":           {absent: true},
	"description":       {absent: true},
	"fileversion":       {absent: true},
	"currentdirectory":  {absent: true},
	"parentcommandline": {absent: true},
	"parentuser":        {absent: true},
	"logonguid":         {absent: true},
	"processguid":       {absent: true},
	"parentprocessguid": {absent: true},
	"terminalsessionid": {absent: true},
}

// user4688 renders the creating account as DOMAIN\name, as Sysmon's User.
func user4688(ev *schema.Event) (string, bool) {
	name, ok := ev.Original["SubjectUserName"]
	if !ok || name == "" || name == "-" {
		return "", false
	}
	if d := ev.Original["SubjectDomainName"]; d != "" && d != "-" {
		return d + `\` + name, true
	}
	return name, true
}

// integrity4688 names the MandatoryLabel SID as Sysmon's IntegrityLevel.
func integrity4688(ev *schema.Event) (string, bool) {
	v, ok := ev.Original["MandatoryLabel"]
	if !ok || v == "" {
		return "", false
	}
	if n, ok := mandatoryLabels[strings.ToUpper(v)]; ok {
		return n, true
	}
	return v, true
}

// targets resolves a logsource to the event streams a rule runs on.
func targets(ls Logsource) ([]target, error) {
	product := strings.ToLower(ls.Product)
	service := strings.ToLower(ls.Service)
	category := strings.ToLower(ls.Category)
	if product != "" && product != "windows" {
		return nil, unsupported("logsource", "product %q (Castellan maps windows logsources only)", ls.Product)
	}
	if product == "" && service == "" && category == "" {
		return []target{{name: "any"}}, nil
	}
	var chans []string
	if service != "" {
		c, ok := serviceChannels[service]
		if !ok {
			return nil, unsupported("logsource", "service %q is not mapped to a Windows channel", ls.Service)
		}
		chans = c
	}
	if category == "" {
		return []target{{name: service, channels: chans}}, nil
	}
	switch category {
	case "ps_script":
		return []target{{name: "ps_script", channels: pick(chans, chanPowerShell), eventIDs: []string{"4104"}}}, nil
	case "ps_module":
		return []target{{name: "ps_module", channels: pick(chans, chanPowerShell), eventIDs: []string{"4103"}}}, nil
	case "ps_classic_start":
		return []target{{name: "ps_classic_start", channels: pick(chans, chanPSClassic), eventIDs: []string{"400"}}}, nil
	case "ps_classic_provider_start":
		return []target{{name: "ps_classic_provider_start", channels: pick(chans, chanPSClassic), eventIDs: []string{"600"}}}, nil
	}
	ids, ok := categorySysmon[category]
	if !ok {
		return nil, unsupported("logsource", "category %q is not mapped", ls.Category)
	}
	if service != "" && service != "sysmon" && !(category == "process_creation" && service == "security") {
		return nil, unsupported("logsource", "category %q with service %q", ls.Category, ls.Service)
	}
	out := []target{}
	if service == "" || service == "sysmon" {
		out = append(out, target{name: "sysmon/" + category, channels: []string{chanSysmon}, eventIDs: ids})
	}
	if category == "process_creation" && (service == "" || service == "security") {
		out = append(out, target{name: "security/4688", channels: []string{chanSecurity}, eventIDs: []string{"4688"}, fields: security4688})
	}
	return out, nil
}

// pick returns chans when set, else the default channel.
func pick(chans []string, def string) []string {
	if len(chans) > 0 {
		return chans
	}
	return []string{def}
}

// providerChannels resolves events without a usable channel (empty or
// ForwardedEvents) by provider.
var providerChannels = map[string]string{
	"microsoft-windows-security-auditing": chanSecurity,
	"microsoft-windows-sysmon":            chanSysmon,
	"microsoft-windows-powershell":        chanPowerShell,
	"powershell":                          chanPSClassic,
	"service control manager":             chanSystem,
	"microsoft-windows-ntlm":              "Microsoft-Windows-NTLM/Operational",
}
