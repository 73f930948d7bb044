#!/bin/bash
# tests/packages/smoke.sh — smoke test of an *installed* rfc8314-milter
# package (.deb or .rpm), run as root on a machine without systemd.
#
# Promises:
#   - uses only the installed files: the binary, the packaged configuration,
#     the packaged unit (its ExecStart line is what gets run) and user;
#   - starts the daemon as systemd would: as the packaged user and group,
#     umask 0007, with /run/rfc8314-milter created 0750 beforehand;
#   - checks `-n` on the packaged config, that the socket appears with the
#     right owner and mode, and pushes one STARTTLS SMTP session through a
#     private Postfix on 127.0.0.1 that reaches the milter over that unix
#     socket (so postfix's membership in the group is exercised too), then
#     checks the delivered message carries the RFC 8314 tls clause;
#   - stops everything it started by pid, and leaves files only under $WORK
#     (default: a fresh directory under ${AUTOPKGTEST_TMP:-/tmp}) plus the
#     runtime directory, which it removes when it created it.
# Prints `ok - ...`/`FAIL - ...` lines and a summary; exits 0 only when all
# checks passed.
set -u

UNIT=${UNIT:-}
for u in /lib/systemd/system/rfc8314-milter.service /usr/lib/systemd/system/rfc8314-milter.service; do
    [ -z "$UNIT" ] && [ -f "$u" ] && UNIT=$u
done
CONF=/etc/rfc8314-milter/rfc8314-milter.conf
RUNDIR=/run/rfc8314-milter
SOCK=$RUNDIR/rfc8314-milter.sock
SMTP_PORT=${SMTP_PORT:-20587}
PKG_USER=rfc8314-milter
WORK=${WORK:-$(mktemp -d "${AUTOPKGTEST_TMP:-/tmp}/rfc8314-smoke.XXXXXX")}

PASSED=0
FAILED=0
MILTER_PID=
POSTFIX_UP=
MADE_RUNDIR=

pass() { PASSED=$((PASSED + 1)); printf 'ok - %s\n' "$*"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL - %s\n' "$*"; }
show() { sed -n '1,40p' "$1" 2>/dev/null | sed 's/^/    | /'; }

cleanup() {
    [ -n "$POSTFIX_UP" ] && postfix -c "$WORK/postfix" stop >/dev/null 2>&1
    if [ -n "$MILTER_PID" ]; then
        kill -TERM "$MILTER_PID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$MILTER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$MILTER_PID" 2>/dev/null
    fi
    [ -n "$MADE_RUNDIR" ] && rm -rf "$RUNDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$(id -u)" -ne 0 ]; then echo "smoke: must run as root" >&2; exit 2; fi
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
# Postfix's daemons (postfix, nobody) must traverse every parent of $WORK.
chmod 0755 "$WORK"

# ---- the installed files ----------------------------------------------------
[ -x /usr/sbin/rfc8314-milter ] && pass "binary installed" || fail "no /usr/sbin/rfc8314-milter"
[ -n "$UNIT" ] && pass "unit installed: $UNIT" || fail "no systemd unit installed"
getent passwd "$PKG_USER" >/dev/null && pass "user $PKG_USER exists" || fail "no user $PKG_USER"
if getent passwd postfix >/dev/null; then
    id -nG postfix | tr ' ' '\n' | grep -qx "$PKG_USER" \
        && pass "postfix is in group $PKG_USER" || fail "postfix is not in group $PKG_USER"
fi

/usr/sbin/rfc8314-milter -n -c "$CONF" >"$WORK/check.out" 2>&1
rc=$?
[ "$rc" -eq 0 ] && pass "-n accepts the packaged config" || { fail "-n exit $rc"; show "$WORK/check.out"; }

# The check also runs as the packaged user: the daemon re-reads the config
# and the exceptions file on reload without root.
setpriv --reuid="$PKG_USER" --regid="$PKG_USER" --init-groups \
    /usr/sbin/rfc8314-milter -n -c "$CONF" >"$WORK/check-user.out" 2>&1
rc=$?
[ "$rc" -eq 0 ] && pass "-n as $PKG_USER" || { fail "-n as $PKG_USER exit $rc"; show "$WORK/check-user.out"; }

[ "$FAILED" -eq 0 ] || { echo "$PASSED passed, $FAILED failed"; exit 1; }

# ---- start the daemon the way the unit does -------------------------------
# ExecStart from the installed unit, word-split (it has no quoting).
exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT" | head -n1)
read -r -a cmd <<<"$exec_start"
# Stderr logging makes the daemon's own lines visible to this test; syslog
# may have no /dev/log here.
cmd+=(--log_stderr yes)

# RuntimeDirectory=rfc8314-milter, RuntimeDirectoryMode=0750.
if [ ! -d "$RUNDIR" ]; then
    MADE_RUNDIR=1
    if command -v systemd-tmpfiles >/dev/null && [ -f /usr/lib/tmpfiles.d/rfc8314-milter.conf ]; then
        systemd-tmpfiles --create /usr/lib/tmpfiles.d/rfc8314-milter.conf
    else
        install -d -o "$PKG_USER" -g "$PKG_USER" -m 0750 "$RUNDIR"
    fi
fi
[ "$(stat -c '%U:%G %a' "$RUNDIR")" = "$PKG_USER:$PKG_USER 750" ] \
    && pass "runtime directory $RUNDIR 0750" || fail "runtime directory: $(stat -c '%U:%G %a' "$RUNDIR")"

# UMask=0007, User=, Group= (setpriv keeps our pid: $! is the daemon).
(umask 0007; exec setpriv --reuid="$PKG_USER" --regid="$PKG_USER" --init-groups \
    --no-new-privs "${cmd[@]}") >"$WORK/milter.log" 2>&1 &
MILTER_PID=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
if [ -S "$SOCK" ]; then
    pass "socket $SOCK appeared"
else
    fail "no socket $SOCK"; show "$WORK/milter.log"
    echo "$PASSED passed, $FAILED failed"; exit 1
fi
got=$(stat -c '%U:%G %a' "$SOCK")
# 770: group (postfix) may connect, others not.
[ "$got" = "$PKG_USER:$PKG_USER 770" ] && pass "socket owner and mode" || fail "socket: got $got, want $PKG_USER:$PKG_USER 770"
kill -0 "$MILTER_PID" 2>/dev/null && pass "daemon running as pid $MILTER_PID" || fail "daemon exited"
[ "$(ps -o user= -p "$MILTER_PID" 2>/dev/null | tr -d ' ')" = "$PKG_USER" ] \
    && pass "daemon runs as $PKG_USER" || fail "daemon user: $(ps -o user= -p "$MILTER_PID")"

# ---- a private Postfix on loopback ------------------------------------------
P=$WORK/postfix
mkdir -p "$P" "$WORK/spool" "$WORK/data" "$WORK/mail"
chown postfix "$WORK/data"
chown 65534:65534 "$WORK/mail"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=mx.smoke.test" \
    -keyout "$P/key.pem" -out "$P/cert.pem" >/dev/null 2>&1
chmod 0640 "$P/key.pem"
echo "bob@smoke.test bob/" >"$WORK/vmailbox"
cat >"$P/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $WORK/spool
data_directory = $WORK/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.smoke.test
mydomain = smoke.test
myorigin = smoke.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_transport = error:no local delivery
relay_transport = error:no relay
default_transport = error:no relay
virtual_mailbox_domains = smoke.test
virtual_mailbox_maps = texthash:$WORK/vmailbox
virtual_mailbox_base = $WORK/mail
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
smtpd_tls_security_level = may
smtpd_tls_cert_file = $P/cert.pem
smtpd_tls_key_file = $P/key.pem
smtpd_milters = unix:$SOCK
milter_protocol = 6
# An unreachable milter must fail the session, not be skipped silently.
milter_default_action = tempfail
maillog_file = $WORK/maillog
maillog_file_prefixes = $WORK
smtputf8_enable = no
EOF
cat >"$P/master.cf" <<EOF
127.0.0.1:$SMTP_PORT inet n - n - - smtpd
pickup    unix n - n 60 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
virtual   unix - n n - - virtual
tlsmgr    unix - - n 1000? 1 tlsmgr
postlog   unix-dgram n - n - 1 postlogd
EOF
if postfix -c "$P" start >"$WORK/postfix-start.out" 2>&1; then
    POSTFIX_UP=1
    pass "private postfix started"
else
    fail "postfix start"; show "$WORK/postfix-start.out"; show "$WORK/maillog"
fi
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT") 2>/dev/null && break; sleep 0.1; done

# ---- one SMTP session ---------------------------------------------------------
swaks --server 127.0.0.1 --port "$SMTP_PORT" --tls --tls-protocol tlsv1_2 \
    --ehlo laptop.smoke.test --from alice@client.test --to bob@smoke.test \
    --header 'Subject: rfc8314-milter package smoke test' >"$WORK/swaks.out" 2>&1
rc=$?
[ "$rc" -eq 0 ] && pass "SMTP session accepted" || { fail "swaks exit $rc"; show "$WORK/swaks.out"; show "$WORK/maillog"; }

msg=
for _ in $(seq 100); do
    msg=$(find "$WORK/mail/bob/new" -type f 2>/dev/null | head -n1)
    [ -n "$msg" ] && break
    sleep 0.1
done
if [ -n "$msg" ]; then
    pass "message delivered"
    # The milter's field: a Received with the RFC 8314 tls clause naming the
    # IANA cipher suite (TLS_...), which Postfix's own field never has.
    if tr -d '\r' <"$msg" | sed -n '1,/^$/p' | sed -e ':a' -e 'N;$!ba' -e 's/\n[ \t]\+/ /g' \
        | grep -Eq '^Received: .* tls TLS_[A-Z0-9_]+'; then
        pass "trace field with RFC 8314 tls clause"
    else
        fail "no RFC 8314 trace field in the delivered header:"; show "$msg"
    fi
else
    fail "message not delivered"; show "$WORK/maillog"; show "$WORK/milter.log"
fi

# ---- reload and stop, as the unit does ----------------------------------------
kill -USR1 "$MILTER_PID"
sleep 0.5
kill -0 "$MILTER_PID" 2>/dev/null && pass "alive after SIGUSR1 (reload)" || { fail "died on SIGUSR1"; show "$WORK/milter.log"; }
kill -TERM "$MILTER_PID"
for _ in $(seq 100); do kill -0 "$MILTER_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$MILTER_PID" 2>/dev/null; then
    fail "still running 10 s after SIGTERM"
else
    wait "$MILTER_PID"; rc=$?
    MILTER_PID=
    # libmilter's signal thread takes SIGTERM: the daemon must log its stop
    # and exit 0, not die by the signal (143).
    case $rc in
        0) pass "clean exit on SIGTERM" ;;
        *) fail "exit status $rc after SIGTERM"; show "$WORK/milter.log" ;;
    esac
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
