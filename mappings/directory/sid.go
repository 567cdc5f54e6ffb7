package directory

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Relative identifiers of well-known domain principals (MS-DTYP 2.4.2.4).
// Domain RIDs are relative to the domain SID; builtin ones to S-1-5-32.
const (
	RidAdministrator               = 500
	RidGuest                       = 501
	RidKrbtgt                      = 502
	RidEnterpriseReadOnlyDCs       = 498
	RidDomainAdmins                = 512
	RidDomainUsers                 = 513
	RidDomainGuests                = 514
	RidDomainComputers             = 515
	RidDomainControllers           = 516
	RidCertPublishers              = 517
	RidSchemaAdmins                = 518
	RidEnterpriseAdmins            = 519
	RidGroupPolicyCreatorOwners    = 520
	RidReadOnlyDCs                 = 521
	RidCloneableDCs                = 522
	RidProtectedUsers              = 525
	RidKeyAdmins                   = 526
	RidEnterpriseKeyAdmins         = 527
	RidRASAndIASServers            = 553
	RidAllowedRODCPasswordRepl     = 571
	RidDeniedRODCPasswordRepl      = 572
	RidBuiltinAdministrators       = 544
	RidBuiltinUsers                = 545
	RidBuiltinGuests               = 546
	RidAccountOperators            = 548
	RidServerOperators             = 549
	RidPrintOperators              = 550
	RidBackupOperators             = 551
	RidReplicator                  = 552
	RidPreWindows2000              = 554
	RidRemoteDesktopUsers          = 555
	RidIncomingForestTrustBuilders = 557
	RidWindowsAuthorizationAccess  = 560
)

// Well-known SIDs.
const (
	SIDEveryone              = "S-1-1-0"
	SIDCreatorOwner          = "S-1-3-0"
	SIDAnonymous             = "S-1-5-7"
	SIDEnterpriseDCs         = "S-1-5-9"
	SIDPrincipalSelf         = "S-1-5-10"
	SIDAuthenticatedUsers    = "S-1-5-11"
	SIDSystem                = "S-1-5-18"
	SIDBuiltinAdministrators = "S-1-5-32-544"
	SIDBuiltinUsers          = "S-1-5-32-545"
	SIDAccountOperators      = "S-1-5-32-548"
	SIDServerOperators       = "S-1-5-32-549"
	SIDPrintOperators        = "S-1-5-32-550"
	SIDBackupOperators       = "S-1-5-32-551"
	SIDPreWindows2000        = "S-1-5-32-554"
)

var wellKnownSIDNames = map[string]string{
	SIDEveryone: "Everyone", SIDCreatorOwner: "CREATOR OWNER", "S-1-3-1": "CREATOR GROUP",
	SIDAnonymous: "ANONYMOUS LOGON", SIDEnterpriseDCs: "ENTERPRISE DOMAIN CONTROLLERS",
	SIDPrincipalSelf: "SELF", SIDAuthenticatedUsers: "Authenticated Users", SIDSystem: "SYSTEM",
	"S-1-5-19": "LOCAL SERVICE", "S-1-5-20": "NETWORK SERVICE", "S-1-5-4": "INTERACTIVE", "S-1-5-2": "NETWORK",
	SIDBuiltinAdministrators: "Administrators", SIDBuiltinUsers: "Users", "S-1-5-32-546": "Guests",
	SIDAccountOperators: "Account Operators", SIDServerOperators: "Server Operators",
	SIDPrintOperators: "Print Operators", SIDBackupOperators: "Backup Operators",
	"S-1-5-32-552": "Replicator", SIDPreWindows2000: "Pre-Windows 2000 Compatible Access",
	"S-1-5-32-555": "Remote Desktop Users", "S-1-5-32-557": "Incoming Forest Trust Builders",
	"S-1-5-32-560": "Windows Authorization Access Group", "S-1-5-32-561": "Terminal Server License Servers",
	"S-1-5-32-562": "Distributed COM Users", "S-1-5-32-580": "Remote Management Users",
}

var domainRIDNames = map[uint32]string{
	RidAdministrator: "Administrator", RidGuest: "Guest", RidKrbtgt: "krbtgt",
	RidEnterpriseReadOnlyDCs: "Enterprise Read-only Domain Controllers",
	RidDomainAdmins:          "Domain Admins", RidDomainUsers: "Domain Users", RidDomainGuests: "Domain Guests",
	RidDomainComputers: "Domain Computers", RidDomainControllers: "Domain Controllers",
	RidCertPublishers: "Cert Publishers", RidSchemaAdmins: "Schema Admins", RidEnterpriseAdmins: "Enterprise Admins",
	RidGroupPolicyCreatorOwners: "Group Policy Creator Owners", RidReadOnlyDCs: "Read-only Domain Controllers",
	RidCloneableDCs: "Cloneable Domain Controllers", RidProtectedUsers: "Protected Users",
	RidKeyAdmins: "Key Admins", RidEnterpriseKeyAdmins: "Enterprise Key Admins",
	RidRASAndIASServers: "RAS and IAS Servers", RidAllowedRODCPasswordRepl: "Allowed RODC Password Replication Group",
	RidDeniedRODCPasswordRepl: "Denied RODC Password Replication Group",
}

// WellKnownSIDName names a well-known SID: universal and builtin SIDs by
// value, domain principals by RID when the SID is in a domain
// (S-1-5-21-…). "" if unknown.
func WellKnownSIDName(sid string) string {
	if n, ok := wellKnownSIDNames[sid]; ok {
		return n
	}
	if strings.HasPrefix(sid, "S-1-5-21-") && strings.Count(sid, "-") == 7 {
		return domainRIDNames[RID(sid)]
	}
	return ""
}

// RID returns the last sub-authority of a SID string, 0 if none.
func RID(sid string) uint32 {
	i := strings.LastIndexByte(sid, '-')
	if i < 0 {
		return 0
	}
	v, err := strconv.ParseUint(sid[i+1:], 10, 32)
	if err != nil {
		return 0
	}
	return uint32(v)
}

// DomainRID reports whether sid is domainSID-rid.
func DomainRID(sid, domainSID string, rid uint32) bool {
	return domainSID != "" && sid == domainSID+"-"+strconv.FormatUint(uint64(rid), 10)
}

// DomainOf returns the domain part of a domain principal's SID
// (S-1-5-21-a-b-c for S-1-5-21-a-b-c-rid), "" otherwise.
func DomainOf(sid string) string {
	if !strings.HasPrefix(sid, "S-1-5-21-") {
		return ""
	}
	i := strings.LastIndexByte(sid, '-')
	return sid[:i]
}

// maxSubAuthorities is the SID limit (MS-DTYP 2.4.2).
const maxSubAuthorities = 15

// ErrSID reports a malformed binary SID.
var ErrSID = errors.New("directory: malformed SID")

// ParseSID decodes a binary SID (MS-DTYP 2.4.2.2) at the start of b and
// returns its string form and its length in bytes.
func ParseSID(b []byte) (string, int, error) {
	if len(b) < 8 {
		return "", 0, fmt.Errorf("%w: %d bytes, need at least 8", ErrSID, len(b))
	}
	if b[0] != 1 {
		return "", 0, fmt.Errorf("%w: revision %d", ErrSID, b[0])
	}
	n := int(b[1])
	if n > maxSubAuthorities {
		return "", 0, fmt.Errorf("%w: %d sub-authorities (max %d)", ErrSID, n, maxSubAuthorities)
	}
	size := 8 + 4*n
	if len(b) < size {
		return "", 0, fmt.Errorf("%w: %d sub-authorities need %d bytes, have %d", ErrSID, n, size, len(b))
	}
	var auth uint64
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}
	var sb strings.Builder
	sb.Grow(16 + 11*n)
	sb.WriteString("S-1-")
	if auth >= 1<<32 {
		fmt.Fprintf(&sb, "0x%012X", auth)
	} else {
		sb.WriteString(strconv.FormatUint(auth, 10))
	}
	for i := 0; i < n; i++ {
		sb.WriteByte('-')
		sb.WriteString(strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[8+4*i:])), 10))
	}
	return sb.String(), size, nil
}

// SIDString decodes a whole binary SID (objectSid) to its string form.
func SIDString(b []byte) (string, error) {
	s, n, err := ParseSID(b)
	if err != nil {
		return "", err
	}
	if n != len(b) {
		return "", fmt.Errorf("%w: %d trailing bytes", ErrSID, len(b)-n)
	}
	return s, nil
}

// EncodeSID is the inverse of ParseSID (for tests and for building
// security descriptors).
func EncodeSID(sid string) ([]byte, error) {
	parts := strings.Split(sid, "-")
	if len(parts) < 3 || parts[0] != "S" || parts[1] != "1" || len(parts)-3 > maxSubAuthorities {
		return nil, fmt.Errorf("%w: %q", ErrSID, sid)
	}
	auth, err := strconv.ParseUint(parts[2], 10, 48)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: authority: %v", ErrSID, sid, err)
	}
	out := make([]byte, 8, 8+4*(len(parts)-3))
	out[0], out[1] = 1, byte(len(parts)-3)
	for i := 0; i < 6; i++ {
		out[7-i] = byte(auth >> (8 * i))
	}
	for _, p := range parts[3:] {
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%w: %q: %v", ErrSID, sid, err)
		}
		out = binary.LittleEndian.AppendUint32(out, uint32(v))
	}
	return out, nil
}
