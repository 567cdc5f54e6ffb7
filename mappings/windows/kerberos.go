package windows

import (
	"strconv"
	"strings"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// etypes maps a Kerberos encryption type (hex, lower case) to its name.
var etypes = map[string]string{
	"0x1":  "des-cbc-crc",
	"0x2":  "des-cbc-md4",
	"0x3":  "des-cbc-md5",
	"0x10": "des3-cbc-sha1",
	"0x11": "aes128-cts-hmac-sha1-96",
	"0x12": "aes256-cts-hmac-sha1-96",
	"0x17": "rc4-hmac",
	"0x13": "aes128-cts-hmac-sha256-128",
	"0x14": "aes256-cts-hmac-sha384-192",
	"0x18": "rc4-hmac-exp",
}

// etypeName maps TicketEncryptionType to a name; 0xffffffff (failure) and
// unknown values give "".
func etypeName(v string) string { return etypes[hexCode(v)] }

// preauthType returns PreAuthType as a decimal string ("0" = none);
// hex input is converted, anything else is kept as given.
func preauthType(v string) string {
	if v == "" {
		return ""
	}
	var n uint64
	var err error
	if h, ok := strings.CutPrefix(strings.ToLower(v), "0x"); ok {
		n, err = strconv.ParseUint(h, 16, 64)
	} else {
		n, err = strconv.ParseUint(v, 10, 64)
	}
	if err != nil {
		return v
	}
	return strconv.FormatUint(n, 10)
}

// kerberosCommon fills the account, client address, status and ticket fields
// shared by 4768, 4769, 4770 and 4771.
func kerberosCommon(r *Record, ev *schema.Event) {
	ev.Auth.Protocol = "kerberos"
	name, realm, _ := strings.Cut(r.get("TargetUserName"), "@")
	ev.User = schema.User{
		Name:      name,
		Domain:    r.get("TargetDomainName"),
		ID:        r.get("TargetSid"),
		IsMachine: strings.HasSuffix(name, "$"),
	}
	if ev.User.Domain == "" {
		ev.User.Domain = realm
	}
	setSource(r, ev)
	ev.Auth.Kerberos.Etype = etypeName(r.get("TicketEncryptionType"))
	ev.Auth.Kerberos.TicketOptions = hexCode(r.get("TicketOptions"))
	setName(ev.Original, "TicketOptionsFlags", ticketOptionFlags(ev.Auth.Kerberos.TicketOptions))
	ev.Auth.Kerberos.PreauthType = preauthType(r.get("PreAuthType"))
	setName(ev.Original, "PreAuthTypeName", preauthTypes[ev.Auth.Kerberos.PreauthType])
	status := hexCode(r.get("Status"))
	ev.Auth.Kerberos.Status = status
	if success(status) {
		ev.Event.Outcome = schema.OutcomeSuccess
	} else {
		ev.Event.Outcome = schema.OutcomeFailure
		ev.Auth.FailureCode = status
		ev.Event.Reason = kdcErrors[status].reason
		setName(ev.Original, "StatusName", kdcErrors[status].name)
	}
	if svc := r.get("ServiceName"); svc != "" {
		ev.Target.Service = svc
		ev.Target.IsMachine = strings.HasSuffix(svc, "$")
	}
}

// mapKerberosTGT: 4768 a Kerberos authentication ticket (TGT) was requested.
func mapKerberosTGT(r *Record, ev *schema.Event) {
	ev.Event.Kind = schema.KindKerberosTGT
	ev.Event.Action = "tgt-requested"
	kerberosCommon(r, ev)
}

// mapKerberosServiceTicket: 4769 a Kerberos service ticket was requested.
func mapKerberosServiceTicket(r *Record, ev *schema.Event) {
	ev.Event.Kind = schema.KindKerberosServiceTicket
	ev.Event.Action = "service-ticket-requested"
	kerberosCommon(r, ev)
}

// mapKerberosRenewal: 4770 a Kerberos service ticket was renewed.
func mapKerberosRenewal(r *Record, ev *schema.Event) {
	ev.Event.Kind = schema.KindKerberosServiceTicket
	ev.Event.Action = "renewed"
	kerberosCommon(r, ev)
}

// mapKerberosPreauthFailure: 4771 Kerberos pre-authentication failed.
func mapKerberosPreauthFailure(r *Record, ev *schema.Event) {
	ev.Event.Kind = schema.KindKerberosPreauthFail
	ev.Event.Action = "preauth-failed"
	kerberosCommon(r, ev)
	ev.Event.Outcome = schema.OutcomeFailure
	if ev.Auth.FailureCode == "" {
		ev.Auth.FailureCode = ev.Auth.Kerberos.Status
	}
}
