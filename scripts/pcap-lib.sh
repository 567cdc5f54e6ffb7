# pcap-lib.sh — helpers shared by the record-*-pcaps.sh scripts; source it, do not run it.
#
# The caller sets LOG_NAME (prefix of log lines), and before calling capture: OUT (directory of
# the captures) and PCAP_FILTER (tcpdump filter of the DC ports to record). Its EXIT trap calls
# stop_capture so an interrupted capture does not leave tcpdump running.

TCPDUMP_PID=

log() { echo "$LOG_NAME: $*" >&2; }

# require_root_tcpdump: exit unless root; install tcpdump when missing.
require_root_tcpdump() {
  [ "$(id -u)" -eq 0 ] || { echo "$LOG_NAME: needs root" >&2; exit 1; }
  command -v tcpdump >/dev/null || apt-get install -y tcpdump >/dev/null
}

# stop_capture: stop the running tcpdump, if any.
stop_capture() {
  [ -n "$TCPDUMP_PID" ] && kill "$TCPDUMP_PID" 2>/dev/null || true
}

# capture NAME CMD...: record loopback traffic matching PCAP_FILTER to $OUT/NAME.pcap while CMD
# runs (a failing CMD is fine: failures are part of the scenarios).
capture() {
  local name=$1; shift
  local f="$OUT/$name.pcap"
  tcpdump -i lo -s 0 -U -w "$f" "$PCAP_FILTER" >/dev/null 2>&1 &
  TCPDUMP_PID=$!
  sleep 1
  "$@" || true
  sleep 1
  kill "$TCPDUMP_PID"; wait "$TCPDUMP_PID" 2>/dev/null || true
  TCPDUMP_PID=
  log "$name.pcap: $(stat -c %s "$f") bytes"
}
