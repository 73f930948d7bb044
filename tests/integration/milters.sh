# milters.sh — the other milters of a real submission host, started
# privately for the chain suites (bash; source it after common.sh):
# OpenDKIM signing, rspamd's milter (proxy worker in milter mode) and
# hdrins, a tiny header-inserting milter built from hdrins.c.
#
# What it promises:
#   * Everything lives under $WORK/<name>: configuration, keys, pid and log
#     files.  Every daemon listens on 127.0.0.1 only, runs in the
#     foreground as a child of the suite, and is stopped by its own pid
#     (the stop_* functions, registered with on_exit, and track_pid).
#   * No DNS and no network: OpenDKIM only signs; the key it signs with is
#     handed to the verifier (dkim_verify.py) directly.  rspamd gets no
#     resolver it could reach, no Redis, no controller, only the modules the
#     suite configures.
#   * OpenDKIM logs through syslog(3) only; it runs in a private mount
#     namespace whose /dev/log is a sink writing $DKIM_LOG, so the suites
#     can count the signatures it says it added.
#   * A daemon that does not come up fails the start_* call with its log
#     on stderr; nothing is skipped.
#
# Interface:
#   start_opendkim PORT [CONF LINES...]  stop_opendkim   DKIM_LOG, DKIM_KEYTXT
#   dkim_verify FILE            0 when every DKIM signature verifies
#   start_rspamd PORT           stop_rspamd          RSPAMD_LOG
#   start_hdrins NAME PORT HEADER VALUE INDEX        stop_hdrins NAME
#   header_names FILE           the message's header field names, top down
#                               (Received fields as "Received(milter)" for
#                               this filter's, "Received(mta)" for the MTA's)
#   unfolded_header FILE        the header, one field a line
#   dkim_signed_count           signatures OpenDKIM says it added so far

MILTERS_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Debian's interpreter, whose python3-dkim tests/packages.txt installs (a
# python3 earlier in PATH may lack it).
DKIM_PYTHON=/usr/bin/python3

# _with_private_devlog SOCKET COMMAND... — exec COMMAND in a private mount
# namespace whose /dev holds links to the real nodes and a /dev/log that is
# SOCKET.  /dev/log may be missing or a symlink on the host, so it cannot be
# bind-mounted over; a tmpfs /dev of links can always be built.  Run it in
# the background: the subshell execs unshare, which (without --fork) execs
# the shell, which execs COMMAND, so the caller's $! is COMMAND's pid.
_with_private_devlog() {
    local sock=$1; shift
    mkdir -p "$WORK/hostdev"
    exec unshare -m -- /bin/sh -c '
        set -e
        sock=$1 host=$2; shift 2
        mount --rbind /dev "$host"
        mount -t tmpfs -o mode=0755 privdev /dev
        for e in "$host"/* "$host"/.[!.]*; do
            [ -e "$e" ] || [ -L "$e" ] || continue
            n=${e##*/}
            [ "$n" = log ] && continue
            ln -s "$e" "/dev/$n"
        done
        ln -s "$sock" /dev/log
        exec "$@"
    ' sh "$sock" "$WORK/hostdev" "$@"
}

# _alive PID — true while PID runs; a zombie (an exited child of this shell
# not yet waited for) counts as gone.
_alive() {
    local state
    kill -0 "$1" 2>/dev/null || return 1
    state=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
    [ "$state" != Z ]
}

# _stop_pid PID [CHILDREN...] — TERM, wait up to 10 s, then KILL; the
# children (listed by the caller while the parent still ran) likewise.
_stop_pid() {
    local p i
    for p in "$@"; do
        kill "$p" 2>/dev/null || continue
        for ((i = 0; i < 100; i++)); do
            _alive "$p" || break
            sleep 0.1
        done
        _alive "$p" && kill -9 "$p" 2>/dev/null
    done
    wait "$1" 2>/dev/null
    return 0
}

# ---- OpenDKIM ---------------------------------------------------------------

DKIM_PID=
DKIM_SINK_PID=

# start_opendkim PORT [EXTRA opendkim.conf LINES...] — a signing OpenDKIM
# for example.test, selector "test", on 127.0.0.1:PORT.  The key pair is
# made once per work directory; DKIM_KEYTXT is its public TXT record.
start_opendkim() {
    local port=$1; shift
    local d="$WORK/opendkim" line
    mkdir -p "$d"
    DKIM_LOG="$d/log"
    DKIM_KEYTXT="$d/test.txt"
    if [ ! -s "$d/test.private" ]; then
        opendkim-genkey -D "$d" -d example.test -s test -b 2048 ||
            { log "opendkim: opendkim-genkey failed"; return 1; }
    fi
    {
        echo "# Written by tests/integration/milters.sh: a private signer."
        echo "Syslog yes"
        echo "SyslogSuccess yes"
        echo "Mode s"
        echo "Domain example.test"
        echo "Selector test"
        echo "KeyFile $d/test.private"
        echo "Socket inet:$port@127.0.0.1"
        echo "PidFile $d/opendkim.pid"
        echo "Background no"
        echo "Canonicalization relaxed/relaxed"
        for line in "$@"; do echo "$line"; done
    } > "$d/opendkim.conf"
    if [ -z "$DKIM_SINK_PID" ] || ! kill -0 "$DKIM_SINK_PID" 2>/dev/null; then
        rm -f "$d/devlog"
        perl "$MILTERS_HERE/sendmail/syslog-sink.pl" "$d/devlog" "$DKIM_LOG" </dev/null 2>>"$d/sink.err" &
        DKIM_SINK_PID=$!
        track_pid "$DKIM_SINK_PID"
        wait_for_socket "$d/devlog" || { log "opendkim: syslog sink did not start"; return 1; }
    fi
    _with_private_devlog "$d/devlog" opendkim -f -x "$d/opendkim.conf" </dev/null >>"$d/stderr" 2>&1 &
    DKIM_PID=$!
    track_pid "$DKIM_PID"
    on_exit stop_opendkim
    if ! wait_port "$port" 30; then
        log "opendkim did not start:"; cat "$d/stderr" "$DKIM_LOG" >&2
        return 1
    fi
}

# stop_opendkim — the daemon by its pid, then its syslog sink.  Idempotent.
stop_opendkim() {
    [ -n "$DKIM_PID" ] && _stop_pid "$DKIM_PID"
    DKIM_PID=
    [ -n "$DKIM_SINK_PID" ] && _stop_pid "$DKIM_SINK_PID"
    DKIM_SINK_PID=
    return 0
}

# dkim_signed_count — how many signatures OpenDKIM says it has added.
dkim_signed_count() { grep -c 'DKIM-Signature field added' "$DKIM_LOG" 2>/dev/null || true; }

# dkim_verify FILE — verify with dkimpy against DKIM_KEYTXT; the verifier's
# lines on stdout.
dkim_verify() { "$DKIM_PYTHON" "$MILTERS_HERE/dkim_verify.py" "$1" "$DKIM_KEYTXT"; }

# wait_for_socket PATH — until PATH is a socket (5 s).
wait_for_socket() {
    local i
    for ((i = 0; i < 50; i++)); do
        [ -S "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

# ---- rspamd -------------------------------------------------------------------

RSPAMD_PID=

# start_rspamd PORT — rspamd's proxy worker in milter mode on 127.0.0.1:PORT,
# scanning in-process (self_scan).  Minimal: the core checks (GTUBE is one:
# the pattern makes rspamd reject) and milter_headers, told to edit headers
# of local, authenticated mail too (it skips them by default) and to
# remove any client-supplied X-Spam field.  The TLD list is a one-line file:
# rspamd compiles the real one for minutes.  It runs as Debian's _rspamd
# user (it refuses root workers), so its directory belongs to that user.
start_rspamd() {
    local port=$1
    local r="$WORK/rspamd"
    mkdir -p "$r/db"
    RSPAMD_LOG="$r/rspamd.log"
    printf 'test\n' > "$r/tld.dat"
    cat > "$r/rspamd.conf" <<EOF
# Written by tests/integration/milters.sh: a private rspamd milter.
modules { path = "\${PLUGINSDIR}"; }
options {
  pidfile = "$r/rspamd.pid";
  filters = "";
  url_tld = "$r/tld.dat";
  hs_cache_dir = "$r/db";
  local_addrs = [];
  dns { nameserver = ["127.0.0.1:1"]; timeout = 1s; retransmits = 1; }
}
logging { type = "file"; filename = "$RSPAMD_LOG"; level = "info"; }
actions { reject = 15; add_header = 6; }
milter_headers {
  use = ["x-spamd-result", "x-rspamd-server", "x-rspamd-queue-id", "x-spam-status",
         "authentication-results", "remove-spam-flag"];
  extended_spam_headers = true;
  skip_local = false;
  skip_authenticated = false;
}
worker "rspamd_proxy" {
  bind_socket = "127.0.0.1:$port";
  milter = yes;
  timeout = 120s;
  count = 1;
  upstream "local" { default = yes; self_scan = yes; }
}
EOF
    chown -R _rspamd:_rspamd "$r"
    rspamd -f -c "$r/rspamd.conf" -u _rspamd -g _rspamd \
        --var DBDIR="$r/db" --var RUNDIR="$r" --var LOGDIR="$r" \
        </dev/null >>"$r/stderr" 2>&1 &
    RSPAMD_PID=$!
    track_pid "$RSPAMD_PID"
    on_exit stop_rspamd
    if ! wait_port "$port" 120; then
        log "rspamd did not start:"; tail -n 30 "$r/stderr" "$RSPAMD_LOG" >&2
        return 1
    fi
}

# stop_rspamd — the main process by pid; its workers (listed first) after.
stop_rspamd() {
    [ -n "$RSPAMD_PID" ] || return 0
    local kids
    kids=$(pgrep -P "$RSPAMD_PID" 2>/dev/null || true)
    # shellcheck disable=SC2086
    _stop_pid "$RSPAMD_PID" $kids
    RSPAMD_PID=
}

# ---- hdrins ---------------------------------------------------------------------

declare -A HDRINS_PID=()

# build_hdrins — compile hdrins.c once per build directory.
build_hdrins() {
    HDRINS_BIN="$BUILD_ABS/itest-hdrins"
    [ -x "$HDRINS_BIN" ] && [ "$HDRINS_BIN" -nt "$MILTERS_HERE/hdrins.c" ] && return 0
    cc -O1 -Wall -Wextra -Werror -o "$HDRINS_BIN" "$MILTERS_HERE/hdrins.c" -lmilter -lpthread ||
        { log "hdrins: build failed"; return 1; }
}

# start_hdrins NAME PORT HEADER VALUE INDEX
start_hdrins() {
    local name=$1 port=$2
    build_hdrins || return 1
    "$HDRINS_BIN" "inet:$port@127.0.0.1" "$3" "$4" "$5" </dev/null >>"$WORK/hdrins-$name.log" 2>&1 &
    HDRINS_PID[$name]=$!
    track_pid "${HDRINS_PID[$name]}"
    on_exit "stop_hdrins $name"
    wait_port "$port" 10 || { log "hdrins $name did not start:"; cat "$WORK/hdrins-$name.log" >&2; return 1; }
}

stop_hdrins() {
    [ -n "${HDRINS_PID[$1]:-}" ] && _stop_pid "${HDRINS_PID[$1]}"
    HDRINS_PID[$1]=
    return 0
}

# ---- header order -------------------------------------------------------------

# unfolded_header FILE — the header of a message, one field a line, CRs
# dropped and TABs made spaces.
unfolded_header() {
    awk '
        /^\r?$/ { exit }
        /^[ \t]/ { cur = cur $0; next }
        { if (cur != "") print cur; cur = $0 }
        END { if (cur != "") print cur }
    ' "$1" | tr -d '\r' | tr '\t' ' '
}

# header_names FILE — one line per header field of the delivered message,
# top down, ending with the MTA's own Received field: the field name, and
# for Received fields whose they are ("Received(milter)": this filter's,
# the one with "by milter.example.test"; "Received(mta)": the MTA's own).
# The delivery agent's Return-Path, X-Original-To and Delivered-To, written
# at delivery above everything, are left out.
header_names() {
    unfolded_header "$1" | awk '
        { name = $0; sub(/:.*/, "", name) }
        name ~ /^(Return-Path|X-Original-To|Delivered-To)$/ { next }
        name == "Received" && / by milter\.example\.test / { print "Received(milter)"; next }
        name == "Received" && / by mx\.example\.test / { print "Received(mta)"; exit }
        { print name }
    '
}
