# mta-sendmail.sh — MTA adapter for the integration tests: a private
# Sendmail 8.17 on loopback (bash, sourced after common.sh).
#
# Promises:
# - Sendmail is never installed (the package conflicts with postfix): Debian's
#   sendmail-bin/-base/-cf (and libwrap0, which sendmail-bin links against)
#   are downloaded once into $BUILD_ABS/sendmail-pkgs and unpacked into
#   $BUILD_ABS/sendmail-root; every other file lives under $WORK.
# - Three listeners on 127.0.0.1 only: $PORT_SMTP (Name=MTA), $PORT_SUB
#   (Name=MSA: STARTTLS and AUTH, AUTH also in cleartext, unauthenticated MAIL
#   NOT refused by Sendmail — refusing it is the milter's job), $PORT_SUBS
#   (Name=SMTPS, implicit TLS).  AUTH PLAIN/LOGIN against a private sasldb.
# - Mail for $RCPT lands in $MAILDIR/new, one complete file per message.
# - The daemon runs in its own UTS and mount namespaces: host name
#   mx.example.test (Sendmail's own Received says "by mx.example.test"), a
#   private Cyrus SASL config directory and a private /dev whose /dev/log is
#   our syslog sink.  Nothing on the host is changed.
# - Every process started here is stopped by its own pid (mta_stop, and the
#   on_exit/track_pid hooks of common.sh).
#
# Interface: mta_setup MILTER, mta_start, mta_stop, mta_reload, mta_log,
# mta_wait_delivery N [SECS], mta_messages, mta_clear_mail,
# mta_own_cipher FILE, mta_own_group FILE.  MILTER is a port number or an
# "inet:127.0.0.1:PORT" / "inet:PORT@127.0.0.1" socket spec.
#
# Environment knobs (read by mta_setup and mta_reload):
#   MTA_MILTER_FLAGS   F= of the milter (default T: tempfail when the milter
#                      is unreachable; empty: carry on without it)
#   MTA_AUTH_OPTIONS   confAUTH_OPTIONS (default empty: PLAIN/LOGIN are
#                      offered and accepted over cleartext too; "p" forbids)
#   MTA_IPV6           yes: the MSA also listens on [::1]:$PORT_SUB (Name=MSA6),
#                      so a client can come over IPv6 (needs ::1 on lo)
#   MTA_MILTERS_BEFORE, MTA_MILTERS_AFTER
#                      other milters in the chain, before and after this one:
#                      space-separated NAME=MILTER words (MILTER as above),
#                      each an INPUT_MAIL_FILTER with F=T and this one's
#                      timeouts, in the order given (default: none)
#   PORT_LEGACY        (optional, set before mta_setup) a fourth listener,
#                      the legacy submission port of the README's recipe:
#                      Port=$PORT_LEGACY, Name=LEGACY, M=E
# After mta_setup, MTA_CERT is the server certificate (PEM) clients can trust.

MTA_NAME=sendmail
: "${PORT_SMTP:=11025}"
: "${PORT_SUB:=11587}"
: "${PORT_SUBS:=11465}"
SASL_USER=testuser
SASL_PASS=testpass
SASL_USER2=legacy
SASL_PASS2=legacypass
RCPT=user@example.test
# Measured with openssl s_client against this Sendmail 8.17.1.9 / OpenSSL 3.0:
# "Server Temp Key: ECDH, prime256v1, 256 bits" for TLS 1.3 and TLS 1.2 alike,
# even when the client offers X25519 first — Sendmail pins the ECDHE curve.
MTA_GROUP=secp256r1

SM_HOST=mx.example.test
SM_PKGS="$BUILD_ABS/sendmail-pkgs"
SM_ROOT="$BUILD_ABS/sendmail-root"
SM_BIN="$SM_ROOT/usr/libexec/sendmail/sendmail"
SM_CFDIR="$SM_ROOT/usr/share/sendmail/cf"
SM_HELPERS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/sendmail"
# libwrap.so.0 comes from the unpacked libwrap0, not from the host.
SM_LIBPATH="$SM_ROOT/usr/lib/x86_64-linux-gnu:$SM_ROOT/lib/x86_64-linux-gnu"

# _sm_unpack — the unpacked Sendmail root, downloading the packages only when
# the cache lacks them.
_sm_unpack() {
    local p
    if [ -x "$SM_BIN" ] && [ -f "$SM_CFDIR/m4/cf.m4" ] && \
       [ -e "$SM_ROOT/usr/lib/x86_64-linux-gnu/libwrap.so.0" ]; then
        return 0
    fi
    command -v m4 >/dev/null || { log "sendmail: m4 is not installed"; return 1; }
    mkdir -p "$SM_PKGS"
    for p in sendmail-bin sendmail-base sendmail-cf libwrap0; do
        ls "$SM_PKGS/${p}_"*.deb >/dev/null 2>&1 && continue
        # apt's _apt user cannot write here; the download then runs as root,
        # which is what we are anyway.
        (cd "$SM_PKGS" && apt-get download "$p" >/dev/null 2>&1) || {
            log "sendmail: apt-get download $p failed"; return 1; }
    done
    rm -rf "$SM_ROOT"
    mkdir -p "$SM_ROOT"
    for p in "$SM_PKGS"/*.deb; do
        dpkg-deb -x "$p" "$SM_ROOT" || return 1
    done
    # The binary is setgid smmsp/mail; a set-id program runs in secure mode,
    # which ignores LD_LIBRARY_PATH (needed for the unpacked libwrap).  We
    # run it as root anyway, so the bit buys nothing here.
    chmod g-s "$SM_BIN"
}

# _sm_milter_port SPEC — the TCP port out of a port number or inet: spec.
_sm_milter_port() {
    local s=$1
    case "$s" in
        *[!0-9]*) ;;
        *) echo "$s"; return ;;
    esac
    s=${s#inet:}
    case "$s" in
        *@*) echo "${s%%@*}" ;;
        *) echo "${s##*:}" ;;
    esac
}

# _sm_other_milters "NAME=MILTER ..." — one INPUT_MAIL_FILTER line per word.
_sm_other_milters() {
    local w
    for w in $1; do
        case "$w" in
            [A-Za-z]*=?*) ;;
            *) log "sendmail: bad milter word '$w' (want NAME=MILTER)"; return 1 ;;
        esac
        echo "INPUT_MAIL_FILTER(\`${w%%=*}', \`S=inet:$(_sm_milter_port "${w#*=}")@127.0.0.1, F=T, T=S:30s;R:30s;E:1m')dnl"
    done
}

# _sm_write_cf — (re)generate sendmail.mc and sendmail.cf from the current
# environment knobs.
_sm_write_cf() {
    # A knob set now wins; otherwise the value from the last write stays,
    # so "MTA_MILTER_FLAGS= mta_setup" survives a later mta_reload.
    SM_MILTER_FLAGS=${MTA_MILTER_FLAGS-${SM_MILTER_FLAGS-T}}
    SM_AUTH_OPTIONS=${MTA_AUTH_OPTIONS-${SM_AUTH_OPTIONS-}}
    SM_IPV6_DAEMON=
    if [ "${MTA_IPV6:-}" = yes ]; then
        ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128' ||
            { log "sendmail: MTA_IPV6=yes but lo has no ::1"; return 1; }
        SM_IPV6_DAEMON="DAEMON_OPTIONS(\`Port=$PORT_SUB, Addr=::1, Family=inet6, Name=MSA6, M=E')dnl
"
    fi
    SM_LEGACY_DAEMON=
    [ -n "${PORT_LEGACY:-}" ] && SM_LEGACY_DAEMON="DAEMON_OPTIONS(\`Port=$PORT_LEGACY, Addr=127.0.0.1, Family=inet, Name=LEGACY, M=E')dnl
"
    SM_MILTERS_BEFORE=${MTA_MILTERS_BEFORE-${SM_MILTERS_BEFORE-}}
    SM_MILTERS_AFTER=${MTA_MILTERS_AFTER-${SM_MILTERS_AFTER-}}
    local fopt=""
    [ -n "$SM_MILTER_FLAGS" ] && fopt="F=$SM_MILTER_FLAGS, "
    cat > "$SM_DIR/sendmail.mc" <<EOF
divert(-1)
# Generated by tests/integration/mta-sendmail.sh — private test instance.
divert(0)dnl
VERSIONID(\`rfc8314-milter integration test')dnl
OSTYPE(\`linux')dnl
dnl Only our three listeners; no default MTA on 25, no default MSA on 587.
FEATURE(\`no_default_msa')dnl
DAEMON_OPTIONS(\`Port=$PORT_SMTP, Addr=127.0.0.1, Family=inet, Name=MTA')dnl
dnl No M=a here on purpose: unauthenticated MAIL must reach the milter.
DAEMON_OPTIONS(\`Port=$PORT_SUB, Addr=127.0.0.1, Family=inet, Name=MSA, M=E')dnl
DAEMON_OPTIONS(\`Port=$PORT_SUBS, Addr=127.0.0.1, Family=inet, Name=SMTPS, M=s')dnl
${SM_IPV6_DAEMON}${SM_LEGACY_DAEMON}define(\`confDOMAIN_NAME', \`$SM_HOST')dnl
LOCAL_DOMAIN(\`example.test')dnl
dnl Everything the daemon reads or writes lives under \$WORK.
define(\`confPID_FILE', \`$SM_DIR/sendmail.pid')dnl
define(\`QUEUE_DIR', \`$SM_DIR/mqueue')dnl
define(\`ALIAS_FILE', \`$SM_DIR/aliases')dnl
define(\`HELP_FILE', \`$SM_DIR/helpfile')dnl
define(\`confSERVICE_SWITCH_FILE', \`$SM_DIR/service.switch')dnl
define(\`confHOSTS_FILE', \`/etc/hosts')dnl
dnl Loopback only: no DNS, no ident, no canonification of addresses.
FEATURE(\`nocanonify')dnl
dnl example.test is not in any DNS; the sender check must not look it up.
FEATURE(\`accept_unresolvable_domains')dnl
define(\`confBIND_OPTS', \`-DNSRCH -DEFNAMES')dnl
define(\`confTO_IDENT', \`0')dnl
define(\`confLOG_LEVEL', \`13')dnl
dnl A busy test machine must not make Sendmail refuse or delay connections.
define(\`confREFUSE_LA', \`999')dnl
define(\`confQUEUE_LA', \`999')dnl
define(\`confDELAY_LA', \`999')dnl
dnl Let a syntactically hostile HELO through (Sendmail answers 501 itself
dnl otherwise): the tests want the milter to face it, as with Postfix.
define(\`confALLOW_BOGUS_HELO', \`true')dnl
define(\`confDEF_USER_ID', \`65534:65534')dnl
dnl The key file is group-readable (gen_cert) and so is the sasldb.
define(\`confDONT_BLAME_SENDMAIL', \`GroupReadableKeyFile,GroupReadableSASLDBFile,TrustStickyBit')dnl
define(\`confSERVER_CERT', \`$SM_DIR/tls/cert.pem')dnl
define(\`confSERVER_KEY', \`$SM_DIR/tls/key.pem')dnl
define(\`confCLIENT_CERT', \`$SM_DIR/tls/cert.pem')dnl
define(\`confCLIENT_KEY', \`$SM_DIR/tls/key.pem')dnl
define(\`confCACERT', \`$SM_DIR/tls/cert.pem')dnl
define(\`confCACERT_PATH', \`$SM_DIR/tls')dnl
define(\`confAUTH_MECHANISMS', \`PLAIN LOGIN')dnl
define(\`confAUTH_REALM', \`$SM_HOST')dnl
TRUST_AUTH_MECH(\`PLAIN LOGIN')dnl
EOF
    if [ -n "$SM_AUTH_OPTIONS" ]; then
        echo "define(\`confAUTH_OPTIONS', \`$SM_AUTH_OPTIONS')dnl" >> "$SM_DIR/sendmail.mc"
    fi
    _sm_other_milters "$SM_MILTERS_BEFORE" >> "$SM_DIR/sendmail.mc" || return 1
    cat >> "$SM_DIR/sendmail.mc" <<EOF
dnl The milter asks for its macros itself (smfi_setsymlist).
INPUT_MAIL_FILTER(\`rfc8314', \`S=inet:$SM_MILTER_PORT@127.0.0.1, ${fopt}T=S:30s;R:30s;E:1m')dnl
EOF
    _sm_other_milters "$SM_MILTERS_AFTER" >> "$SM_DIR/sendmail.mc" || return 1
    cat >> "$SM_DIR/sendmail.mc" <<EOF
dnl Local delivery: our script, no passwd lookup of the user, no aliases.
define(\`LOCAL_MAILER_PATH', \`$SM_DIR/deliver')dnl
define(\`LOCAL_MAILER_ARGS', \`deliver \$u')dnl
MODIFY_MAILER_FLAGS(\`LOCAL', \`-wA')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
    m4 -D_CF_DIR_="$SM_CFDIR/" "$SM_CFDIR/m4/cf.m4" "$SM_DIR/sendmail.mc" \
        > "$SM_DIR/sendmail.cf.new" 2> "$SM_DIR/m4.err" || {
        log "sendmail: m4 failed:"; cat "$SM_DIR/m4.err" >&2; return 1; }
    if [ -s "$SM_DIR/m4.err" ]; then
        log "sendmail: m4 complained:"; cat "$SM_DIR/m4.err" >&2; return 1
    fi
    mv "$SM_DIR/sendmail.cf.new" "$SM_DIR/sendmail.cf"
}

# mta_setup MILTER — unpack Sendmail and write its private configuration.
mta_setup() {
    SM_MILTER_PORT=$(_sm_milter_port "$1")
    unset SM_MILTER_FLAGS SM_AUTH_OPTIONS SM_MILTERS_BEFORE SM_MILTERS_AFTER
    SM_DIR="$WORK/sendmail"
    SM_PIDFILE="$SM_DIR/sendmail.pid"
    SM_LOG="$SM_DIR/maillog"
    SM_SOCK="$SM_DIR/devlog"
    MAILDIR="$WORK/maildir"
    _sm_unpack || return 1
    mkdir -p "$SM_DIR/mqueue" "$SM_DIR/sasl2" "$SM_DIR/dev" "$SM_DIR/hostdev" \
        "$MAILDIR/tmp" "$MAILDIR/new"
    chmod 0700 "$SM_DIR/mqueue"
    # Linux's local mailer has F=S, so the script runs as root (the daemon's
    # uid); world-writable+sticky only matters if that ever changes.
    chmod 1777 "$MAILDIR/tmp" "$MAILDIR/new"
    : > "$SM_LOG"
    gen_cert "$SM_DIR/tls" || { log "sendmail: gen_cert failed"; return 1; }
    MTA_CERT="$SM_DIR/tls/cert.pem"

    # Private, empty alias and help files keep Sendmail away from
    # /etc/mail; the local mailer has no A flag, so aliases are never used.
    : > "$SM_DIR/aliases"
    : > "$SM_DIR/helpfile"
    printf 'hosts\tfiles\naliases\tfiles\n' > "$SM_DIR/service.switch"

    # Local delivery: write to tmp/, then rename into new/, so a file in new/
    # is always a complete message.  Sendmail strips the environment, hence
    # the baked-in path.
    cat > "$SM_DIR/deliver" <<EOF
#!/bin/sh
# deliver USER... — test-only local mailer: message on stdin into $MAILDIR/new.
umask 022
f=\$(date +%s%N).\$\$
cat > "$MAILDIR/tmp/\$f" || exit 75
mv "$MAILDIR/tmp/\$f" "$MAILDIR/new/\$f" || exit 75
exit 0
EOF
    chmod 0755 "$SM_DIR/deliver"

    # Cyrus SASL: Sendmail's application name is "Sendmail"; the file is only
    # looked for in Cyrus's compiled-in directories, so mta_start binds
    # $SM_DIR/sasl2 over one of them inside the private mount namespace.
    rm -f "$SM_DIR/sasl2/sasldb2"
    cat > "$SM_DIR/sasl2/Sendmail.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $SM_DIR/sasl2/sasldb2
mech_list: PLAIN LOGIN
EOF
    # Sendmail hands Cyrus its AuthRealm (= host name) as the user realm.
    printf '%s' "$SASL_PASS" | saslpasswd2 -p -c -f "$SM_DIR/sasl2/sasldb2" -u "$SM_HOST" "$SASL_USER" &&
    printf '%s' "$SASL_PASS2" | saslpasswd2 -p -c -f "$SM_DIR/sasl2/sasldb2" -u "$SM_HOST" "$SASL_USER2" || {
        log "sendmail: saslpasswd2 failed"; return 1; }
    chmod 0640 "$SM_DIR/sasl2/sasldb2"

    _sm_write_cf
}

# _sm_sasl_dir — the Cyrus config directory to shadow.  Cyrus searches
# /etc/sasl2:/etc/sasl:<plugindir>:/usr/lib/sasl2 and a bind mount needs an
# existing target: the first existing one before the plugin directory wins,
# else /usr/lib/sasl2 (shipped, empty, by libsasl2-2).
_sm_sasl_dir() {
    local d
    for d in /etc/sasl2 /etc/sasl /usr/lib/sasl2; do
        [ -d "$d" ] && { echo "$d"; return 0; }
    done
    return 1
}

_sm_pid() { head -n 1 "$SM_PIDFILE" 2>/dev/null; }

_sm_alive() {
    local pid
    pid=$(_sm_pid)
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

_sm_start_sink() {
    if [ -n "${SM_SINK_PID:-}" ] && kill -0 "$SM_SINK_PID" 2>/dev/null; then
        return 0
    fi
    rm -f "$SM_SOCK"
    perl "$SM_HELPERS/syslog-sink.pl" "$SM_SOCK" "$SM_LOG" </dev/null 2>>"$SM_DIR/sink.err" &
    SM_SINK_PID=$!
    track_pid "$SM_SINK_PID"
    local i=0
    while [ ! -S "$SM_SOCK" ]; do
        i=$((i + 1))
        [ "$i" -ge 50 ] && { log "sendmail: syslog sink did not start"; return 1; }
        sleep 0.1
    done
}

_sm_stop_sink() {
    [ -n "${SM_SINK_PID:-}" ] || return 0
    kill "$SM_SINK_PID" 2>/dev/null
    wait "$SM_SINK_PID" 2>/dev/null
    SM_SINK_PID=
}

# mta_start — the daemon in private UTS and mount namespaces; returns once
# all three ports accept connections.
mta_start() {
    local sasl_dir t0 pid
    sasl_dir=$(_sm_sasl_dir) || { log "sendmail: no Cyrus config dir to shadow"; return 1; }
    _sm_alive && return 0
    rm -f "$SM_PIDFILE"
    # Sendmail retries a busy port quietly every 5 s; fail fast instead, and
    # say which port is taken (e.g. by an instance a killed test left).
    local p
    for p in "$PORT_SMTP" "$PORT_SUB" "$PORT_SUBS" ${PORT_LEGACY:+"$PORT_LEGACY"}; do
        if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            log "sendmail: port $p is already in use"; return 1
        fi
    done
    _sm_start_sink || return 1
    if [ -z "${SM_EXIT_HOOK:-}" ]; then
        on_exit mta_stop
        SM_EXIT_HOOK=1
    fi
    # Debian's /etc/ssl/openssl.cnf holds every OpenSSL user at TLS 1.2 and
    # security level 2.  The policy tests must reach this server with TLS
    # 1.0/1.1, so Sendmail gets a private copy allowing them (bind-mounted in
    # its mount namespace only; Sendmail drops OPENSSL_CONF from its
    # environment).
    cat > "$SM_DIR/openssl.cnf" <<'CNF'
openssl_conf = default_conf
[default_conf]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
MinProtocol = TLSv1
CipherString = DEFAULT:@SECLEVEL=0
CNF
    t0=$(date +%s.%N)
    # Inside the namespaces: a dotted host name (an unqualified one costs a
    # 60 s sleep), our Sendmail.conf, and a /dev of symlinks to the real
    # nodes plus /dev/log -> our sink.  unshare's default propagation is
    # private, so none of these mounts is seen by the host.  Sendmail forks
    # into the background; the shell and unshare exit right after, leaving
    # only the daemon (and its children) in the namespaces.
    LIBPATH="$SM_LIBPATH" unshare -u -m -- /bin/sh -c '
        set -e
        dir=$1 sasl=$2 sock=$3; shift 3
        hostname "'"$SM_HOST"'"
        mount --bind "$dir/sasl2" "$sasl"
        mount --bind "$dir/openssl.cnf" /etc/ssl/openssl.cnf
        mount --rbind /dev "$dir/hostdev"
        mount -t tmpfs -o mode=0755 smdev /dev
        for e in "$dir"/hostdev/* "$dir"/hostdev/.[!.]*; do
            [ -e "$e" ] || [ -L "$e" ] || continue
            n=${e##*/}
            [ "$n" = log ] && continue
            ln -s "$e" "/dev/$n"
        done
        ln -s "$sock" /dev/log
        exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LD_LIBRARY_PATH="$LIBPATH" "$@"
    ' sh "$SM_DIR" "$sasl_dir" "$SM_SOCK" \
        "$SM_BIN" -C "$SM_DIR/sendmail.cf" -bd -q10m -L sm-test \
        </dev/null >>"$SM_DIR/start.out" 2>&1 || {
        log "sendmail: start failed:"; cat "$SM_DIR/start.out" >&2; return 1; }
    if ! wait_file "$SM_PIDFILE" 20; then
        log "sendmail: no pid file; start output and log:"
        cat "$SM_DIR/start.out" "$SM_LOG" >&2
        return 1
    fi
    pid=$(_sm_pid)
    track_pid "$pid"
    for p in "$PORT_SMTP" "$PORT_SUB" "$PORT_SUBS" ${PORT_LEGACY:+"$PORT_LEGACY"}; do
        wait_port "$p" 20 || { log "sendmail: port $p not listening"; cat "$SM_LOG" >&2; return 1; }
    done
    grep -q 'cannot bind' "$SM_LOG" && log "sendmail: a listener needed bind retries (see $SM_LOG)"
    SM_START_SECS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
    log "sendmail: pid $pid up in ${SM_START_SECS}s"
}

# mta_stop — stop the daemon (and any child it left) by pid; idempotent.
mta_stop() {
    local pid kids i
    pid=$(_sm_pid)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        # Per-connection and delivery children are listed before the parent
        # goes away (afterwards they would be orphans, hard to find by pid).
        kids=$(pgrep -P "$pid" 2>/dev/null || true)
        kill "$pid" 2>/dev/null
        for ((i = 0; i < 100; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null
        for i in $kids; do kill "$i" 2>/dev/null; done
    fi
    rm -f "$SM_PIDFILE"
    # Let the last log lines reach the sink before it goes.
    sleep 0.2
    _sm_stop_sink
    return 0
}

# mta_reload — regenerate the cf from the knobs and SIGHUP the daemon.
# Sendmail re-executes itself (same namespaces, same environment) and, being
# a -bd daemon, forks into the background again: the pid changes, so wait
# for the new one in the pid file and track it.
mta_reload() {
    local old pid i p
    _sm_write_cf || return 1
    old=$(_sm_pid)
    [ -n "$old" ] && kill -0 "$old" 2>/dev/null || { mta_start; return; }
    kill -HUP "$old"
    for ((i = 0; i < 200; i++)); do
        pid=$(_sm_pid)
        [ -n "$pid" ] && [ "$pid" != "$old" ] && kill -0 "$pid" 2>/dev/null && break
        pid=
        sleep 0.1
    done
    [ -n "$pid" ] || { log "sendmail: no new daemon after SIGHUP"; return 1; }
    track_pid "$pid"
    for p in "$PORT_SMTP" "$PORT_SUB" "$PORT_SUBS" ${PORT_LEGACY:+"$PORT_LEGACY"}; do
        wait_port "$p" 20 || { log "sendmail: port $p not back after reload"; return 1; }
    done
}

# mta_log — Sendmail's syslog output, as caught by the sink.
mta_log() { echo "$SM_LOG"; }

# mta_messages — delivered message files, oldest first (names start with
# the delivery time in nanoseconds).
mta_messages() {
    local f
    for f in "$MAILDIR"/new/*; do
        [ -f "$f" ] && echo "$f"
    done | sort
}

# mta_wait_delivery N [SECS] — 0 once at least N messages were delivered.
mta_wait_delivery() {
    local want=$1 limit=${2:-20} i=0
    while [ "$(mta_messages | grep -c .)" -lt "$want" ]; do
        i=$((i + 1))
        [ "$i" -ge $((limit * 10)) ] && return 1
        sleep 0.1
    done
    return 0
}

mta_clear_mail() {
    rm -f "$MAILDIR"/new/* "$MAILDIR"/tmp/*
}

# _sm_own_received FILE — Sendmail's own Received field (unfolded): the
# topmost one that says "by mx.example.test".
_sm_own_received() {
    awk 'BEGIN { h = "" }
         /^\r?$/ { exit }
         /^[ \t]/ { h = h $0; next }
         { if (h != "") print h; h = $0 }
         END { if (h != "") print h }' "$1" | tr -d '\r' |
        grep -i '^Received:' | grep -F "by $SM_HOST " | head -n 1
}

# mta_own_cipher FILE — the cipher Sendmail recorded, in its own (OpenSSL)
# spelling: "(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 ...)".
mta_own_cipher() {
    _sm_own_received "$1" | sed -n 's/.*[( ]cipher=\([^ )]*\).*/\1/p'
}

# mta_own_group FILE — Sendmail never records the key-exchange group.
mta_own_group() { :; }
