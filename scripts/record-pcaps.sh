#!/usr/bin/env bash
# record-pcaps.sh — record the network sensor's sample captures from the project's own Samba lab.
#
# Usage: scripts/record-pcaps.sh [OUT_DIR]      (OUT_DIR defaults to samples/pcap)
#
# Starts a throwaway Samba AD DC on loopback (scripts/samba-lab.sh, in a fresh temp dir, with
# LAB_ALLOW_NO_PREAUTH=1 so a DONT_REQ_PREAUTH account is AS-REP-roastable), creates the lab
# accounts, then records one small capture per scenario with `tcpdump -i lo`:
#
#   kerberos-as.pcap        kinit good password, wrong password, unknown user (TCP 88)
#   kerberos-udp.pcap       the same AS exchange over UDP 88 (RESPONSE_TOO_BIG fallback to TCP)
#   kerberos-tgs-rc4.pcap   kvno of a user SPN (ticket etype RC4 by default) and kvno -e rc4-hmac
#   kerberos-asrep.pcap     AS-REQ without pre-authentication for a DONT_REQ_PREAUTH account (RC4)
#   ldap-recon.pcap         simple binds (good, bad) and BloodHound-like ldapsearch sweeps
#   ldap-modify.pcap        ldapmodify/ldapadd over plain 389, including a unicodePwd change
#   ldap-sasl-ntlm.pcap     samba-tool over ldap:// (SASL GSS-SPNEGO with NTLM)
#   smb-ntlm.pcap           smbclient with NTLM, good and wrong password
#
# Needs root (the lab and tcpdump). The lab is stopped and removed at the end. Regenerate the
# golden outputs afterwards with:
#   go test ./connector/sources/netsensor/ -run TestGolden -update
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OUT=$(realpath -m -- "${1:-$ROOT/samples/pcap}")
LAB_DIR=$(mktemp -d /tmp/castellan-pcap-lab.XXXXXX)
export LAB_DIR LAB_ALLOW_NO_PREAUTH=1 LAB_KDC_LOG=0
PASS='Alic3!Pass'
SVC_PASS='Svc!Sql2026pass'
NOPRE_PASS='N0pre!Pass2026'
LOG_NAME=record-pcaps
PCAP_FILTER='port 88 or port 389 or port 445'
# shellcheck source=scripts/pcap-lib.sh
. "$HERE/pcap-lib.sh"

cleanup() {
  stop_capture
  bash "$HERE/samba-lab.sh" clean "$LAB_DIR" >/dev/null 2>&1 || true
  rm -f "$LAB_DIR.cycle.log"
}
trap cleanup EXIT

require_root_tcpdump

log "starting lab in $LAB_DIR"
bash "$HERE/samba-lab.sh" cycle "$LAB_DIR" >"$LAB_DIR.cycle.log" 2>&1 || { tail -20 "$LAB_DIR.cycle.log"; exit 1; }
eval "$(bash "$HERE/samba-lab.sh" env "$LAB_DIR")"
SMBCONF=$LAB_DIR/etc/smb.conf
C=(-s "$SMBCONF" -H ldap://127.0.0.1 -U "Administrator%$LAB_ADMIN_PASS")

log "creating accounts"
samba-tool user create alice "$PASS" "${C[@]}" >/dev/null
samba-tool user create svc_sql "$SVC_PASS" "${C[@]}" >/dev/null
samba-tool user create nopre "$NOPRE_PASS" "${C[@]}" >/dev/null
samba-tool spn add MSSQLSvc/sql01.lab.test:1433 svc_sql "${C[@]}" >/dev/null
ldapmodify -x -H "$LAB_LDAP_URL" -D "$LAB_ADMIN" -w "$LAB_ADMIN_PASS" >/dev/null <<EOF
dn: CN=nopre,CN=Users,$LAB_BASE_DN
changetype: modify
replace: userAccountControl
userAccountControl: 4194816
EOF

# Client configurations: TCP only (the lab's), UDP first, and RC4-only.
UDPCONF=$LAB_DIR/krb5-udp.conf
sed '/udp_preference_limit/d' "$KRB5_CONFIG" >"$UDPCONF"
RC4CONF=$LAB_DIR/krb5-rc4.conf
sed 's/^\(\s*default_realm.*\)$/\1\n    default_tkt_enctypes = rc4-hmac\n    default_tgs_enctypes = rc4-hmac\n    permitted_enctypes = rc4-hmac aes256-cts-hmac-sha1-96/' "$KRB5_CONFIG" >"$RC4CONF"
export KRB5CCNAME=FILE:$LAB_DIR/run/record.ccache

mkdir -p "$OUT"

as_exchange() {
  echo "$PASS" | kinit alice@LAB.TEST >/dev/null
  echo 'Wr0ng!pass' | kinit alice@LAB.TEST >/dev/null 2>&1 || true
  echo 'Wr0ng!pass' | kinit ghost@LAB.TEST >/dev/null 2>&1 || true
  kdestroy >/dev/null 2>&1 || true
}
udp_exchange() { KRB5_CONFIG=$UDPCONF as_exchange; }
tgs_exchange() {
  echo "$PASS" | kinit alice@LAB.TEST >/dev/null
  kvno MSSQLSvc/sql01.lab.test:1433 >/dev/null
  kvno -e rc4-hmac MSSQLSvc/sql01.lab.test:1433 >/dev/null
  kdestroy >/dev/null 2>&1 || true
}
asrep_exchange() {
  # The KDC answers a DONT_REQ_PREAUTH account without pre-authentication: the AS-REP's
  # enc-part (RC4 here) is crackable offline. The wrong password only fails decryption.
  echo 'not-the-password' | KRB5_CONFIG=$RC4CONF kinit nopre@LAB.TEST >/dev/null 2>&1 || true
  kdestroy >/dev/null 2>&1 || true
}
ldap_recon() {
  local L=(-x -LLL -H "$LAB_LDAP_URL" -D alice@lab.test -w "$PASS" -b "$LAB_BASE_DN")
  ldapwhoami -x -H "$LAB_LDAP_URL" -D alice@lab.test -w 'Wr0ngPass' >/dev/null 2>&1 || true
  ldapsearch "${L[@]}" '(&(objectClass=user)(servicePrincipalName=*))' sAMAccountName servicePrincipalName >/dev/null
  ldapsearch "${L[@]}" '(adminCount=1)' sAMAccountName >/dev/null
  ldapsearch "${L[@]}" -z 1000 '(objectClass=user)' sAMAccountName distinguishedName objectSid \
    userAccountControl servicePrincipalName memberOf primaryGroupID pwdLastSet lastLogon \
    msDS-AllowedToDelegateTo msDS-AllowedToActOnBehalfOfOtherIdentity adminCount description >/dev/null
  ldapsearch "${L[@]}" -s one '(|(userAccountControl:1.2.840.113556.1.4.803:=4194304)(!(cn=krbtgt)))' cn >/dev/null
}
ldap_modify() {
  local A=(-x -H "$LAB_LDAP_URL" -D "$LAB_ADMIN" -w "$LAB_ADMIN_PASS")
  ldapadd "${A[@]}" >/dev/null <<EOF || true
dn: CN=pcap-contact,CN=Users,$LAB_BASE_DN
objectClass: contact
description: recorded by record-pcaps.sh
EOF
  ldapmodify "${A[@]}" >/dev/null <<EOF || true
dn: CN=svc_sql,CN=Users,$LAB_BASE_DN
changetype: modify
add: servicePrincipalName
servicePrincipalName: HTTP/web01.lab.test
-
replace: description
description: sql service
EOF
  # Refused on plain 389 (needs an encrypted connection), but the value crosses the wire.
  ldapmodify "${A[@]}" >/dev/null 2>&1 <<EOF || true
dn: CN=alice,CN=Users,$LAB_BASE_DN
changetype: modify
replace: unicodePwd
unicodePwd:: IgBOAGUAdwAhAFAAYQBzAHMAMQAyADMAIgA=
EOF
}
ldap_sasl() { samba-tool user list -s "$SMBCONF" -H ldap://127.0.0.1 -U "LAB\\alice%$PASS" --use-kerberos=off >/dev/null; }
smb_ntlm() {
  smbclient //127.0.0.1/netlogon -s /dev/null -U "LAB\\alice%$PASS" --option='client use kerberos=off' -c ls >/dev/null 2>&1 || true
  smbclient //127.0.0.1/netlogon -s /dev/null -U 'LAB\alice%Wr0ng!pass' --option='client use kerberos=off' -c ls >/dev/null 2>&1 || true
}

capture kerberos-as as_exchange
capture kerberos-udp udp_exchange
capture kerberos-tgs-rc4 tgs_exchange
capture kerberos-asrep asrep_exchange
capture ldap-recon ldap_recon
capture ldap-modify ldap_modify
capture ldap-sasl-ntlm ldap_sasl
capture smb-ntlm smb_ntlm
log "done: $OUT"
