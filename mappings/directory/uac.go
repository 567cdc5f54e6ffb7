package directory

import (
	"strconv"
	"strings"
)

// UAC is userAccountControl (MS-ADTS 2.2.16).
type UAC uint32

// userAccountControl bits.
const (
	UACScript                     UAC = 0x1
	UACAccountDisable             UAC = 0x2
	UACHomedirRequired            UAC = 0x8
	UACLockout                    UAC = 0x10
	UACPasswdNotReqd              UAC = 0x20
	UACPasswdCantChange           UAC = 0x40
	UACEncryptedTextPwdAllowed    UAC = 0x80
	UACTempDuplicateAccount       UAC = 0x100
	UACNormalAccount              UAC = 0x200
	UACInterdomainTrustAccount    UAC = 0x800
	UACWorkstationTrustAccount    UAC = 0x1000
	UACServerTrustAccount         UAC = 0x2000
	UACDontExpirePassword         UAC = 0x10000
	UACMNSLogonAccount            UAC = 0x20000
	UACSmartcardRequired          UAC = 0x40000
	UACTrustedForDelegation       UAC = 0x80000
	UACNotDelegated               UAC = 0x100000
	UACUseDESKeyOnly              UAC = 0x200000
	UACDontReqPreauth             UAC = 0x400000
	UACPasswordExpired            UAC = 0x800000
	UACTrustedToAuthForDelegation UAC = 0x1000000
	UACPartialSecretsAccount      UAC = 0x4000000
)

var uacNames = []bitName[UAC]{
	{UACScript, "SCRIPT"}, {UACAccountDisable, "ACCOUNTDISABLE"}, {UACHomedirRequired, "HOMEDIR_REQUIRED"},
	{UACLockout, "LOCKOUT"}, {UACPasswdNotReqd, "PASSWD_NOTREQD"}, {UACPasswdCantChange, "PASSWD_CANT_CHANGE"},
	{UACEncryptedTextPwdAllowed, "ENCRYPTED_TEXT_PWD_ALLOWED"}, {UACTempDuplicateAccount, "TEMP_DUPLICATE_ACCOUNT"},
	{UACNormalAccount, "NORMAL_ACCOUNT"}, {UACInterdomainTrustAccount, "INTERDOMAIN_TRUST_ACCOUNT"},
	{UACWorkstationTrustAccount, "WORKSTATION_TRUST_ACCOUNT"}, {UACServerTrustAccount, "SERVER_TRUST_ACCOUNT"},
	{UACDontExpirePassword, "DONT_EXPIRE_PASSWORD"}, {UACMNSLogonAccount, "MNS_LOGON_ACCOUNT"},
	{UACSmartcardRequired, "SMARTCARD_REQUIRED"}, {UACTrustedForDelegation, "TRUSTED_FOR_DELEGATION"},
	{UACNotDelegated, "NOT_DELEGATED"}, {UACUseDESKeyOnly, "USE_DES_KEY_ONLY"}, {UACDontReqPreauth, "DONT_REQ_PREAUTH"},
	{UACPasswordExpired, "PASSWORD_EXPIRED"}, {UACTrustedToAuthForDelegation, "TRUSTED_TO_AUTH_FOR_DELEGATION"},
	{UACPartialSecretsAccount, "PARTIAL_SECRETS_ACCOUNT"},
}

// Has reports all bits of f are set.
func (u UAC) Has(f UAC) bool { return u&f == f }

// Disabled reports ACCOUNTDISABLE.
func (u UAC) Disabled() bool { return u.Has(UACAccountDisable) }

// PasswordNotRequired reports PASSWD_NOTREQD.
func (u UAC) PasswordNotRequired() bool { return u.Has(UACPasswdNotReqd) }

// DontExpire reports DONT_EXPIRE_PASSWORD.
func (u UAC) DontExpire() bool { return u.Has(UACDontExpirePassword) }

// DontReqPreauth reports DONT_REQ_PREAUTH (AS-REP roastable).
func (u UAC) DontReqPreauth() bool { return u.Has(UACDontReqPreauth) }

// TrustedForDelegation reports TRUSTED_FOR_DELEGATION (unconstrained).
func (u UAC) TrustedForDelegation() bool { return u.Has(UACTrustedForDelegation) }

// TrustedToAuthForDelegation reports TRUSTED_TO_AUTH_FOR_DELEGATION
// (constrained delegation with protocol transition).
func (u UAC) TrustedToAuthForDelegation() bool { return u.Has(UACTrustedToAuthForDelegation) }

// UseDESKeyOnly reports USE_DES_KEY_ONLY.
func (u UAC) UseDESKeyOnly() bool { return u.Has(UACUseDESKeyOnly) }

// EncryptedTextPwdAllowed reports ENCRYPTED_TEXT_PWD_ALLOWED (reversible
// encryption).
func (u UAC) EncryptedTextPwdAllowed() bool { return u.Has(UACEncryptedTextPwdAllowed) }

// NotDelegated reports NOT_DELEGATED ("account is sensitive and cannot be
// delegated").
func (u UAC) NotDelegated() bool { return u.Has(UACNotDelegated) }

// SmartcardRequired reports SMARTCARD_REQUIRED.
func (u UAC) SmartcardRequired() bool { return u.Has(UACSmartcardRequired) }

// ServerTrust reports SERVER_TRUST_ACCOUNT (a domain controller).
func (u UAC) ServerTrust() bool { return u.Has(UACServerTrustAccount) }

// Names lists the set bits by their MS-ADTS names, low bit first; unknown
// bits appear as hex.
func (u UAC) Names() []string {
	out, rest := bitNames(u, uacNames)
	if rest != 0 {
		out = append(out, "0x"+strings.ToUpper(strconv.FormatUint(uint64(rest), 16)))
	}
	return out
}

// String is Names joined with "|".
func (u UAC) String() string { return strings.Join(u.Names(), "|") }

// EncTypes is msDS-SupportedEncryptionTypes.
type EncTypes uint32

// Encryption type bits.
const (
	EncDESCBCCRC EncTypes = 0x1
	EncDESCBCMD5 EncTypes = 0x2
	EncRC4       EncTypes = 0x4
	EncAES128    EncTypes = 0x8
	EncAES256    EncTypes = 0x10
	EncAESSK     EncTypes = 0x20
)

// Set reports the attribute was set (non-zero).
func (e EncTypes) Set() bool { return e != 0 }

// DES reports a DES type is enabled.
func (e EncTypes) DES() bool { return e&(EncDESCBCCRC|EncDESCBCMD5) != 0 }

// RC4 reports RC4-HMAC is enabled.
func (e EncTypes) RC4() bool { return e&EncRC4 != 0 }

// AES reports an AES type is enabled.
func (e EncTypes) AES() bool { return e&(EncAES128|EncAES256) != 0 }

// DESOnly reports only DES types are enabled.
func (e EncTypes) DESOnly() bool { return e.DES() && !e.RC4() && !e.AES() }

// RC4Only reports RC4 without AES (DES may be there too).
func (e EncTypes) RC4Only() bool { return e.RC4() && !e.AES() }

var encNames = []bitName[EncTypes]{{EncDESCBCCRC, "DES-CBC-CRC"}, {EncDESCBCMD5, "DES-CBC-MD5"}, {EncRC4, "RC4-HMAC"},
	{EncAES128, "AES128-CTS-HMAC-SHA1-96"}, {EncAES256, "AES256-CTS-HMAC-SHA1-96"}, {EncAESSK, "AES-SK"}}

// Names lists the enabled types (unknown bits are left out).
func (e EncTypes) Names() []string {
	out, _ := bitNames(e, encNames)
	return out
}

// bitName names one bit of a flag word.
type bitName[T ~uint32] struct {
	bit  T
	name string
}

// bitNames lists the names of v's bits in table order, and returns the
// bits no entry names.
func bitNames[T ~uint32](v T, table []bitName[T]) (names []string, rest T) {
	rest = v
	for _, n := range table {
		if v&n.bit != 0 {
			names = append(names, n.name)
			rest &^= n.bit
		}
	}
	return names, rest
}
