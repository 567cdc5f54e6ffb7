#!/usr/bin/env bash
# samba-lab.sh — a throwaway Samba AD DC on 127.0.0.1 for Castellan's integration tests.
#
# Recipe and measurements: shared/reference/samba-dc-lab.md. Everything the lab writes lives
# under DIR (nothing in /etc changes except what apt does at install time). Needs root: ports
# below 1024 and /run/samba/winbindd (so one lab per host).
#
# Usage: samba-lab.sh COMMAND [DIR]        (DIR defaults to $LAB_DIR)
#   install         apt-get the packages (idempotent, quiet; no-op when present)
#   provision DIR   wipe DIR and provision a fresh domain into it (refuses while running)
#   start DIR       start samba in the background (PID in DIR/run/lab-samba.pid), wait until ready
#   wait DIR        block until LDAP, SMB, winbindd and Kerberos answer (WAIT_TIMEOUT s)
#   stop DIR        stop only this lab's processes, by PID
#   cycle DIR       install + provision + start (+ wait); the DC is left running; prints timings
#   smoke DIR       quick end-to-end checks (kinit, LDAPS, NTLM over SMB, audit JSON present)
#   env DIR         print shell exports for tests: eval "$(samba-lab.sh env DIR)"
#   clean DIR       stop, then remove DIR
#
# Settings (environment): REALM (LAB.TEST), DOMAIN (LAB), DC_NAME (dc1), DC_IP (127.0.0.1),
# ADMIN_PASS (Passw0rd!Lab), LAB_MODEL (single|prefork), LAB_STRONG_AUTH (no),
# LAB_ALLOW_NO_PREAUTH (0; 1 = make DONT_REQ_PREAUTH users AS-REP-roastable), LAB_KDC_LOG (1 =
# kerberos:3 TGS/AS summary lines), LAB_XATTR_TDB (auto|0|1), WAIT_TIMEOUT (60).
set -euo pipefail

REALM=${REALM:-LAB.TEST}
DOMAIN=${DOMAIN:-LAB}
DC_NAME=${DC_NAME:-dc1}
DC_IP=${DC_IP:-127.0.0.1}
ADMIN_PASS=${ADMIN_PASS:-Passw0rd!Lab}
LAB_MODEL=${LAB_MODEL:-single}
LAB_STRONG_AUTH=${LAB_STRONG_AUTH:-no}
LAB_ALLOW_NO_PREAUTH=${LAB_ALLOW_NO_PREAUTH:-0}
LAB_KDC_LOG=${LAB_KDC_LOG:-1}
LAB_XATTR_TDB=${LAB_XATTR_TDB:-auto}
WAIT_TIMEOUT=${WAIT_TIMEOUT:-60}

REALM_LC=$(printf '%s' "$REALM" | tr '[:upper:]' '[:lower:]')
BASE_DN=$(printf 'DC=%s' "${REALM_LC//./,DC=}")
DC_FQDN="$DC_NAME.$REALM_LC"
# A marker so provision only ever wipes a directory that is empty or was a lab.
MARKER=.castellan-samba-lab

PACKAGES=(samba samba-ad-dc samba-ad-provision samba-dsdb-modules samba-vfs-modules winbind
  krb5-user ldb-tools ldap-utils smbclient tcpdump openssl)

die() { echo "samba-lab: $*" >&2; exit 1; }
log() { echo "samba-lab: $*" >&2; }
now_ms() { date +%s%3N; }

need_root() { [ "$(id -u)" -eq 0 ] || die "$1 needs root (ports below 1024, /run/samba)"; }

# set_dir DIR: absolute lab directory from the argument or $LAB_DIR.
set_dir() {
  local d=${1:-${LAB_DIR:-}}
  [ -n "$d" ] || die "no lab directory: pass DIR or set LAB_DIR"
  d=$(realpath -m -- "$d")
  case "$d" in
    / | /etc | /etc/* | /usr | /usr/* | /bin | /sbin | /lib | /lib64 | /var | /home | /root | /run | /tmp)
      die "refusing lab directory $d" ;;
  esac
  LAB_DIR=$d
  SMB_CONF=$LAB_DIR/etc/smb.conf
  PID_FILE=$LAB_DIR/run/lab-samba.pid
  AUDIT_LOG=$LAB_DIR/log/samba.log
  CLIENT_KRB5=$LAB_DIR/krb5.conf
}

lab_pid() { [ -f "$PID_FILE" ] && cat "$PID_FILE" 2>/dev/null || true; }

# running: the PID file names a live samba process. (samba rewrites its title to "samba: root
# process", so the root is recognised by its executable, its children by their --configfile.)
running() {
  local pid exe
  pid=$(lab_pid)
  [ -n "$pid" ] || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  [ "${exe##*/}" = samba ] || has_conf "$pid"
}

# has_conf PID: the process was started with this lab's smb.conf.
has_conf() {
  local c
  c=$( { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null) || return 1
  [[ $c == *"$SMB_CONF"* ]]
}

port_open() { (exec 3<>"/dev/tcp/$DC_IP/$1") 2>/dev/null; }

show_tail() {
  local f
  for f in "$@"; do
    [ -f "$f" ] || continue
    echo "---- last 20 lines of $f" >&2
    tail -n 20 "$f" >&2
  done
}

cmd_install() {
  need_root install
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || die "apt-get update failed"
    # --no-install-recommends keeps out krb5-config (writes /etc/krb5.conf),
    # libnss-winbind / libpam-winbind (nsswitch, PAM) and bind9.
    if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/samba-lab-apt.log 2>&1; then
      tail -n 20 /tmp/samba-lab-apt.log >&2
      die "apt-get install failed"
    fi
  fi
  # On a systemd host the packages start smbd/nmbd on 0.0.0.0:445, which collides with the lab.
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now smbd nmbd winbind samba-ad-dc >/dev/null 2>&1 || true
  fi
  command -v samba-tool >/dev/null || die "samba-tool missing after install"
}

has_cap_sys_admin() {
  local hex
  hex=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
  [ -n "$hex" ] && (( (16#$hex >> 21) & 1 ))
}

write_tls() {
  local tls=$LAB_DIR/private/tls
  mkdir -p "$tls"
  rm -f "$tls"/*.pem
  # Samba's own certificate has no SAN and a random (often negative) serial: Go refuses it.
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$REALM lab CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$tls/ca.key" -out "$tls/ca.pem" >/dev/null 2>&1 || die "openssl: CA"
  openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$DC_FQDN" \
    -keyout "$tls/key.pem" -out "$tls/server.csr" >/dev/null 2>&1 || die "openssl: server key"
  cat >"$tls/server.ext" <<EOF
subjectAltName=DNS:$DC_FQDN,DNS:$REALM_LC,DNS:localhost,IP:$DC_IP
extendedKeyUsage=serverAuth
EOF
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
    -days 3650 -extfile "$tls/server.ext" -out "$tls/cert.pem" >/dev/null 2>&1 || die "openssl: sign"
  chmod 600 "$tls/key.pem" "$tls/ca.key"
  rm -f "$tls/server.csr" "$tls/server.ext" "$tls/ca.srl"
}

write_client_krb5() {
  cat >"$CLIENT_KRB5" <<EOF
[libdefaults]
    default_realm = $REALM
    dns_lookup_realm = false
    dns_lookup_kdc = false
    rdns = false
    dns_canonicalize_hostname = false
    udp_preference_limit = 0
[realms]
    $REALM = {
        kdc = $DC_IP
        admin_server = $DC_IP
        kpasswd_server = $DC_IP
    }
[domain_realm]
    .$REALM_LC = $REALM
    $REALM_LC = $REALM
EOF
}

cmd_provision() {
  need_root provision
  if running; then die "lab in $LAB_DIR is running; stop it first"; fi
  if [ -e "$LAB_DIR" ]; then
    [ -d "$LAB_DIR" ] || die "$LAB_DIR exists and is not a directory"
    if [ -n "$(ls -A "$LAB_DIR")" ] && [ ! -e "$LAB_DIR/$MARKER" ]; then
      die "$LAB_DIR is not empty and not a lab directory; refusing to wipe it"
    fi
    find "$LAB_DIR" -mindepth 1 -delete
  fi
  mkdir -p "$LAB_DIR/run" "$LAB_DIR/log" "$LAB_DIR/state"
  touch "$LAB_DIR/$MARKER"
  chmod 755 "$LAB_DIR"
  local opts=()
  if [ "$LAB_XATTR_TDB" = 1 ] || { [ "$LAB_XATTR_TDB" = auto ] && ! has_cap_sys_admin; }; then
    # Without CAP_SYS_ADMIN the sysvol NT ACL xattrs cannot be written (G7).
    opts+=(--option="vfs objects = dfs_samba4 acl_xattr xattr_tdb")
  fi
  if ! samba-tool domain provision -s /dev/null --targetdir="$LAB_DIR" \
    --realm="$REALM" --domain="$DOMAIN" --server-role=dc --dns-backend=SAMBA_INTERNAL \
    --adminpass="$ADMIN_PASS" --host-name="$DC_NAME" --host-ip="$DC_IP" --use-rfc2307 \
    --option="interfaces = lo" --option="bind interfaces only = yes" \
    --option="pid directory = $LAB_DIR/run" \
    --option="ncalrpc dir = $LAB_DIR/run/ncalrpc" \
    --option="ntp signd socket directory = $LAB_DIR/run/ntp_signd" \
    "${opts[@]}" >"$LAB_DIR/log/provision.log" 2>&1; then
    show_tail "$LAB_DIR/log/provision.log"
    die "provision failed (log: $LAB_DIR/log/provision.log)"
  fi
  [ -f "$SMB_CONF" ] || die "provision wrote no $SMB_CONF"
  # Some --option values are silently dropped by provision (G2): append them to [global].
  local level="1 auth_json_audit:3 dsdb_json_audit:5 dsdb_password_json_audit:5 dsdb_group_json_audit:5 dsdb_transaction_json_audit:5"
  [ "$LAB_KDC_LOG" = 1 ] && level="$level kerberos:3"
  sed -i '/^[[:space:]]*dns forwarder[[:space:]]*=/d' "$SMB_CONF"
  local extra
  extra=$(printf '\tlog file = %s\n\tmax log size = 0\n\tlog level = %s\n\tauth event notification = yes\n\tldap server require strong auth = %s' \
    "$AUDIT_LOG" "$level" "$LAB_STRONG_AUTH")
  awk -v extra="$extra" '
    { print }
    /^\[global\]/ && !done { print extra; done = 1 }
  ' "$SMB_CONF" >"$SMB_CONF.new" && mv "$SMB_CONF.new" "$SMB_CONF"
  grep -q "log file = $AUDIT_LOG" "$SMB_CONF" || die "could not add audit settings to $SMB_CONF"
  if [ "$LAB_ALLOW_NO_PREAUTH" = 1 ]; then
    # AS-REP roasting needs both (G4): the KDC default and krbtgt's own flag.
    printf '[kdc]\n\trequire-preauth = false\n' >"$LAB_DIR/etc/krb5.conf"
    printf 'dn: CN=krbtgt,CN=Users,%s\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 4194818\n' "$BASE_DN" |
      ldbmodify -H "$LAB_DIR/private/sam.ldb" >>"$LAB_DIR/log/provision.log" 2>&1 ||
      die "ldbmodify krbtgt userAccountControl failed (log: $LAB_DIR/log/provision.log)"
  fi
  write_tls
  write_client_krb5
}

cmd_wait() {
  local pid start deadline ok
  pid=$(lab_pid)
  [ -n "$pid" ] || die "not started (no $PID_FILE)"
  start=$(now_ms)
  deadline=$((start + WAIT_TIMEOUT * 1000))
  export KRB5_CONFIG=$CLIENT_KRB5 KRB5CCNAME=FILE:$LAB_DIR/run/wait.ccache
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      show_tail "$LAB_DIR/log/samba.stdout" "$AUDIT_LOG"
      die "samba (pid $pid) exited during startup"
    fi
    ok=1
    ldapsearch -x -LLL -H "ldap://$DC_IP" -s base -b '' dnsHostName >/dev/null 2>&1 || ok=0
    [ $ok = 1 ] && { port_open 445 || ok=0; }
    # smbd answers before winbindd is up; SMB logons fail in that window (G8).
    [ $ok = 1 ] && { wbinfo -p >/dev/null 2>&1 || ok=0; }
    [ $ok = 1 ] && { printf '%s\n' "$ADMIN_PASS" | kinit "Administrator@$REALM" >/dev/null 2>&1 || ok=0; }
    [ $ok = 1 ] && break
    if [ "$(now_ms)" -ge "$deadline" ]; then
      show_tail "$LAB_DIR/log/samba.stdout" "$AUDIT_LOG"
      die "DC not ready after ${WAIT_TIMEOUT}s (LDAP, SMB 445, winbindd, kinit)"
    fi
    sleep 0.1
  done
  kdestroy >/dev/null 2>&1 || true
  log "ready in $(($(now_ms) - start)) ms"
}

cmd_start() {
  need_root start
  [ -f "$SMB_CONF" ] || die "not provisioned: $SMB_CONF missing (run provision first)"
  if running; then
    log "already running (pid $(lab_pid))"
    cmd_wait
    return
  fi
  local p
  for p in 88 389 445 636; do
    if port_open "$p"; then die "TCP $DC_IP:$p already accepts connections (another DC or smbd?)"; fi
  done
  mkdir -p "$LAB_DIR/run" "$LAB_DIR/log"
  setsid samba -s "$SMB_CONF" -F -M "$LAB_MODEL" </dev/null >>"$LAB_DIR/log/samba.stdout" 2>&1 &
  echo $! >"$PID_FILE"
  cmd_wait
}

# lab_pids: every process started with this lab's smb.conf (smbd, winbindd, samba-dcerpcd, rpcd_*).
lab_pids() {
  local d pid
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    [ "$pid" = "$$" ] && continue
    if has_conf "$pid"; then echo "$pid"; fi
  done
}

cmd_stop() {
  local pid i left stopped=0
  pid=$(lab_pid)
  if [ -n "$pid" ] && running; then
    stopped=1
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  # Stragglers: samba-dcerpcd and rpcd_* detach and outlive the root (G11). Never by name.
  for ((i = 0; i < 3; i++)); do
    left=$(lab_pids)
    [ -z "$left" ] && break
    stopped=1
    # shellcheck disable=SC2086
    kill -TERM $left 2>/dev/null || true
    sleep 0.5
  done
  left=$(lab_pids)
  # shellcheck disable=SC2086
  [ -z "$left" ] || kill -KILL $left 2>/dev/null || true
  [ "$stopped" = 1 ] || return 0
  # smbd and winbindd exit asynchronously after the root; an immediate start would trip on them.
  for ((i = 0; i < 50; i++)); do
    port_open 389 || port_open 445 || return 0
    sleep 0.1
  done
  log "warning: $DC_IP:389 or :445 still open after stop"
}

cmd_env() {
  local k v
  for k in LAB_DIR KRB5_CONFIG LAB_LDAP_URL LAB_LDAPS_URL LAB_CA_PEM LAB_REALM LAB_DOMAIN LAB_BASE_DN \
    LAB_DC_NAME LAB_DC_IP LAB_ADMIN LAB_ADMIN_PASS LAB_AUDIT_LOG LAB_SMB_CONF LAB_KDC_PORT LAB_LDAP_PORT \
    LAB_LDAPS_PORT LAB_SMB_PORT; do
    case $k in
      LAB_DIR) v=$LAB_DIR ;;
      KRB5_CONFIG) v=$CLIENT_KRB5 ;;
      LAB_LDAP_URL) v=ldap://$DC_IP:389 ;;
      LAB_LDAPS_URL) v=ldaps://$DC_IP:636 ;;
      LAB_CA_PEM) v=$LAB_DIR/private/tls/ca.pem ;;
      LAB_REALM) v=$REALM ;;
      LAB_DOMAIN) v=$DOMAIN ;;
      LAB_BASE_DN) v=$BASE_DN ;;
      LAB_DC_NAME) v=$DC_NAME ;;
      LAB_DC_IP) v=$DC_IP ;;
      LAB_ADMIN) v=Administrator@$REALM_LC ;;
      LAB_ADMIN_PASS) v=$ADMIN_PASS ;;
      LAB_AUDIT_LOG) v=$AUDIT_LOG ;;
      LAB_SMB_CONF) v=$SMB_CONF ;;
      LAB_KDC_PORT) v=88 ;;
      LAB_LDAP_PORT) v=389 ;;
      LAB_LDAPS_PORT) v=636 ;;
      LAB_SMB_PORT) v=445 ;;
    esac
    printf 'export %s=%q\n' "$k" "$v"
  done
}

cmd_smoke() {
  running || die "lab in $LAB_DIR is not running"
  export KRB5_CONFIG=$CLIENT_KRB5 KRB5CCNAME=FILE:$LAB_DIR/run/smoke.ccache
  printf '%s\n' "$ADMIN_PASS" | kinit "Administrator@$REALM" >/dev/null || die "smoke: kinit failed"
  local out
  out=$(klist -e 2>&1) || true
  [[ $out == *"krbtgt/$REALM@$REALM"* ]] || die "smoke: no TGT in klist"
  kdestroy >/dev/null 2>&1 || true
  out=$(LDAPTLS_CACERT=$LAB_DIR/private/tls/ca.pem ldapsearch -LLL -x -H "ldaps://$DC_IP" \
    -D "Administrator@$REALM_LC" -w "$ADMIN_PASS" -b "$BASE_DN" '(sAMAccountName=krbtgt)' pwdLastSet 2>&1) || true
  [[ $out == *"pwdLastSet:"* ]] || die "smoke: LDAPS search failed: $out"
  smbclient "//$DC_IP/netlogon" -s /dev/null -U "$DOMAIN\\Administrator%$ADMIN_PASS" \
    --option='client use kerberos = off' -c ls >/dev/null 2>&1 || die "smoke: smbclient (NTLM) failed"
  sleep 0.5
  local n
  n=$(grep -c '"type": "Authentication"' "$AUDIT_LOG" || true)
  [ "${n:-0}" -ge 3 ] || die "smoke: only ${n:-0} JSON Authentication events in $AUDIT_LOG"
  log "smoke ok ($n Authentication events)"
}

cmd_cycle() {
  local t0 t1 t2 t3
  t0=$(now_ms)
  cmd_install
  t1=$(now_ms)
  cmd_provision
  t2=$(now_ms)
  cmd_start
  t3=$(now_ms)
  log "cycle: install $((t1 - t0)) ms, provision $((t2 - t1)) ms, start+ready $((t3 - t2)) ms, total $((t3 - t0)) ms; running (pid $(lab_pid))"
}

cmd_clean() {
  cmd_stop
  if [ -e "$LAB_DIR" ]; then
    [ -e "$LAB_DIR/$MARKER" ] || die "$LAB_DIR is not a lab directory; not removing it"
    rm -rf -- "$LAB_DIR"
  fi
}

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

main() {
  [ $# -ge 1 ] || usage
  local cmd=$1
  shift
  case $cmd in
    install) cmd_install ;;
    provision | start | wait | stop | cycle | smoke | env | clean)
      set_dir "${1:-}"
      "cmd_$cmd" ;;
    -h | --help | help) usage ;;
    *) usage ;;
  esac
}

main "$@"
