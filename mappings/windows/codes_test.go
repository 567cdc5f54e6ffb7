package windows

import "testing"

func TestUACMessages(t *testing.T) {
	for in, want := range map[string]string{
		"%%2096": "'Don't Require Preauth' - Enabled",
		"%%2064": "'Don't Require Preauth' - Disabled",
		"%%2048": "Account Enabled",
		"\r\n\t\t%%2080\r\n\t\t%%2082\r\n\t\t%%2084": "Account Disabled, 'Password Not Required' - Enabled, 'Normal Account' - Enabled",
		"%%2093 %%2098":                 "'Trusted For Delegation' - Enabled, 'Trusted To Authenticate For Delegation' - Enabled",
		"%%2090 %%2058":                 "Account Locked, Account Unlocked",
		"%%2101":                        "'Protect Kerberos Service Tickets with AES Keys' - Enabled",
		"%%2100 %%2047 %%2102 %% %%x -": "", // undocumented or out of range
		"%%2096 %%2096":                 "'Don't Require Preauth' - Enabled",
	} {
		if got := messageNames(in, uacMessage); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"0x15":     "ACCOUNTDISABLE, PASSWD_NOTREQD, NORMAL_ACCOUNT",
		"0x10210":  "NORMAL_ACCOUNT, DONT_EXPIRE_PASSWORD, DONT_REQ_PREAUTH",
		"0x2080":   "WORKSTATION_TRUST_ACCOUNT, TRUSTED_FOR_DELEGATION",
		"0x0":      "",
		"-":        "",
		"0xzz":     "",
		"0x40000":  "TRUSTED_TO_AUTH_FOR_DELEGATION",
		"0x100000": "PARTIAL_SECRETS_ACCOUNT",
	} {
		if got := uacFlags(in); got != want {
			t.Errorf("uacFlags(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStatusTables(t *testing.T) {
	if len(ntStatus) < 40 {
		t.Errorf("%d NTSTATUS codes", len(ntStatus))
	}
	for code, want := range map[string]string{"0xc000006a": "STATUS_WRONG_PASSWORD", "0xc0000234": "STATUS_ACCOUNT_LOCKED_OUT", "0xc0000413": "STATUS_AUTHENTICATION_FIREWALL_FAILED"} {
		if ntStatus[code].name != want {
			t.Errorf("%s = %q", code, ntStatus[code].name)
		}
	}
	// Every KDC code 0x0-0x44 that RFC 4120 / 4556 and Windows define.
	undefined := map[int]bool{0x1e: true, 0x2b: true, 0x35: true, 0x36: true, 0x37: true, 0x38: true, 0x39: true, 0x3a: true, 0x3b: true}
	for c := 0; c <= 0x44; c++ {
		k := hexCode("0x" + string("0123456789abcdef"[c>>4]) + string("0123456789abcdef"[c&15]))
		e, ok := kdcErrors[k]
		if ok == undefined[c] {
			t.Errorf("%s: defined %v", k, ok)
		}
		if ok && (e.name == "" || (c != 0 && e.reason == "")) {
			t.Errorf("%s: %+v", k, e)
		}
	}
	if kdcErrors["0x18"].name != "KDC_ERR_PREAUTH_FAILED" || kdcErrors["0x44"].name != "KDC_ERR_WRONG_REALM" {
		t.Error("KDC names")
	}
	if logonTypes["10"] != "RemoteInteractive" || logonTypes["3"] != "Network" {
		t.Error("logon types")
	}
	for in, want := range map[string]string{"0x17": "rc4-hmac", "23": "rc4-hmac", "0x12": "aes256-cts-hmac-sha1-96", "0xffffffff": "", "0x3": "des-cbc-md5"} {
		if got := etypeName(in); got != want {
			t.Errorf("etype %s = %q, want %q", in, got, want)
		}
	}
}

func TestFlagDecoders(t *testing.T) {
	for in, want := range map[string]string{
		"0x40810010": "forwardable, renewable, name-canonicalize, renewable-ok",
		"0x60810010": "forwardable, forwarded, renewable, name-canonicalize, renewable-ok",
		"0x2":        "renew",
		"0x0":        "",
		"junk":       "",
	} {
		if got := ticketOptionFlags(in); got != want {
			t.Errorf("ticket options %s = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"0x100":   "ControlAccess",
		"0x40000": "WRITE_DAC",
		"0x30":    "ReadProperty, WriteProperty",
		"x":       "",
	} {
		if got := dsAccessMaskNames(in); got != want {
			t.Errorf("access mask %s = %q, want %q", in, got, want)
		}
	}
	if got := messageNames("%%7688\r\n\t\t\t\t%%1539 %%8449", messageText); got != "Control Access, WRITE_DAC, Success added" {
		t.Errorf("access list = %q", got)
	}
}

func TestGUIDNames(t *testing.T) {
	for in, want := range map[string]string{
		"%%7688\r\n\t\t{1131F6AD-9C07-11D1-F79F-00C04FC2DCD2}\r\n\t{19195a5b-6da0-11d0-afd3-00c04fd930c9}": "DS-Replication-Get-Changes-All, domainDNS",
		"{1131f6aa-9c07-11d1-f79f-00c04fc2dcd2} {89e95b76-444d-4c62-991a-0facbeda640c}":                    "DS-Replication-Get-Changes, DS-Replication-Get-Changes-In-Filtered-Set",
		// SDDL as 5136 writes nTSecurityDescriptor: unbraced GUIDs.
		"O:DAG:DAD:(OA;;CR;00299570-246d-11d0-a768-00aa006e0529;;S-1-5-21-1-2-3-1150)(OA;;WP;5b47d60f-6090-40b2-9f37-2a4de88f3063;bf967a86-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1150)": "User-Force-Change-Password, msDS-KeyCredentialLink, computer",
		"{3f78c3e5-f79a-46bd-a0b8-9d18116ddc79}{f3a64788-5306-11d1-a9c5-0000f80367c1}{bf9679c0-0de6-11d0-a285-00aa003049e2}":                                                                 "msDS-AllowedToActOnBehalfOfOtherIdentity, servicePrincipalName, member",
		"{f30e3bbe-9ff0-11d1-b603-0000f80367c1} {72e39547-7b18-11d1-adef-00c04fd8d5cd} {bf9679e3-0de6-11d0-a285-00aa003049e2}":                                                               "gPLink, dNSHostName, nTSecurityDescriptor",
		"{00000000-0000-0000-0000-000000000000} 1131f6aa-9c07-11d1-f79f-00c04fc2dcd":                                                                                                         "",
		"": "",
	} {
		if got := guidNames(in); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"%{bf967aba-0de6-11d0-a285-00aa003049e2}": "user",
		"{F30E3BC2-9FF0-11D1-B603-0000F80367C1}":  "groupPolicyContainer",
		"e5209ca2-3bba-11d2-90cc-00c04fd91ab1":    "pKICertificateTemplate",
		// an attribute GUID is not a class: kept as given
		"%{bf9679c0-0de6-11d0-a285-00aa003049e2}": "%{bf9679c0-0de6-11d0-a285-00aa003049e2}",
		"SAM_USER": "SAM_USER",
	} {
		if got := className(in); got != want {
			t.Errorf("className(%q) = %q, want %q", in, got, want)
		}
	}
}
