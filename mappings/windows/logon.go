package windows

import (
	"strconv"
	"strings"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// statusReason is the short reason of an NTSTATUS code ("" if unknown).
func statusReason(code string) string { return ntStatus[code].reason }

// setStatusNames adds StatusName / SubStatusName for the NTSTATUS fields.
func setStatusNames(r *Record, ev *schema.Event, keys ...string) {
	for _, k := range keys {
		if c := hexCode(r.get(k)); !success(c) {
			setName(ev.Original, k+"Name", ntStatus[c].name)
		}
	}
}

// authProtocol maps an authentication package name to auth.protocol.
func authProtocol(pkg string) string {
	switch strings.ToLower(pkg) {
	case "kerberos":
		return "kerberos"
	case "ntlm", "microsoft_authentication_package_v1_0":
		return "ntlm"
	case "negotiate":
		return "negotiate"
	}
	return ""
}

// ntlmVersion maps LmPackageName ("NTLM V1", "NTLM V2", "LM") to v1 | v2 | lm.
func ntlmVersion(lm string) string {
	switch strings.ToUpper(lm) {
	case "NTLM V1":
		return "v1"
	case "NTLM V2":
		return "v2"
	case "LM":
		return "lm"
	}
	return ""
}

// logonCommon fills what 4624 and 4625 share.
func logonCommon(r *Record, ev *schema.Event) {
	ev.User = targetUser(r)
	setSource(r, ev)
	ev.Source.Hostname = r.get("WorkstationName")
	setLogonType(r, ev)
	ev.Auth.Package = r.get("AuthenticationPackageName")
	ev.Auth.Protocol = authProtocol(ev.Auth.Package)
	ev.Auth.Process = r.get("LogonProcessName")
	ev.Auth.NTLM.Version = ntlmVersion(r.get("LmPackageName"))
	if ev.Auth.NTLM.Version != "" {
		ev.Auth.NTLM.Workstation = ev.Source.Hostname
	}
}

// mapLogon: 4624 an account was successfully logged on.
func mapLogon(r *Record, ev *schema.Event) {
	ev.Event.Kind = schema.KindLogon
	ev.Event.Action = "logged-in"
	ev.Event.Outcome = schema.OutcomeSuccess
	logonCommon(r, ev)
}

// mapLogonFailure: 4625 an account failed to log on.
func mapLogonFailure(r *Record, ev *schema.Event) {
	ev.Event.Kind = schema.KindLogonFailure
	ev.Event.Action = "logon-failed"
	ev.Event.Outcome = schema.OutcomeFailure
	logonCommon(r, ev)
	status, sub := hexCode(r.get("Status")), hexCode(r.get("SubStatus"))
	code := status
	if (status == "0xc000006d" || status == "") && !success(sub) {
		code = sub
	}
	ev.Auth.FailureCode = code
	ev.Event.Reason = statusReason(code)
	setStatusNames(r, ev, "Status", "SubStatus")
	setName(ev.Original, "FailureReasonName", messageNames(r.get("FailureReason"), messageText))
}

// setLogonType fills auth.logon_type and Original["LogonTypeName"].
func setLogonType(r *Record, ev *schema.Event) {
	lt := r.get("LogonType")
	ev.Auth.LogonType, _ = strconv.Atoi(lt)
	setName(ev.Original, "LogonTypeName", logonTypes[lt])
}

// mapExplicitLogon: 4648 a logon was attempted using explicit credentials.
// The subject used the credentials of the target account against the
// target server.
func mapExplicitLogon(r *Record, ev *schema.Event) {
	ev.Event.Kind = schema.KindLogon
	ev.Event.Action = "explicit-credentials"
	ev.Event.Outcome = schema.OutcomeSuccess
	ev.User = subject(r)
	ev.Target.User = r.user("TargetUserName", "TargetDomainName", "", "")
	ev.Destination.Hostname = r.get("TargetServerName")
	ev.Destination.IP = cleanIP(r.get("IpAddress"))
	ev.Destination.Port = port(r.get("IpPort"))
	ev.Auth.Process = r.get("ProcessName")
}
