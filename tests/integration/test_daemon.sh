#!/bin/bash
# test_daemon.sh — the daemon's contract with the operator, on the real
# binary: exit codes, config errors with file/line/key, clean stop on
# SIGTERM and SIGHUP, SIGUSR1 reloads without leaking descriptors, a bad
# reload keeps the running configuration.
. "$(dirname "$0")/common.sh"

new_workdir daemon
[ -x "$MILTER_BIN" ] || { fail "no milter binary at $MILTER_BIN"; finish; exit 1; }
PORT=12045

"$MILTER_BIN" -V > "$WORK/v.out" 2>&1
expect_eq "-V exits 0" "$?" 0
expect_grep "-V prints the version" '^rfc8314-milter [0-9]+\.[0-9]+\.[0-9]+$' "$WORK/v.out"
"$MILTER_BIN" -h > "$WORK/h.out" 2>&1
expect_eq "-h exits 0" "$?" 0
expect_grep "-h documents SIGUSR1" 'SIGUSR1 reloads' "$WORK/h.out"
"$MILTER_BIN" --no-such-option > "$WORK/bad.out" 2>&1
expect_eq "unknown option exits 64" "$?" 64

cat > "$WORK/bad.conf" <<'CONF'
socket = inet:99999@127.0.0.1
log_level = chatty
no_such_key = 1
[listener submission]
port = 587
action = sometimes
CONF
"$MILTER_BIN" -n -c "$WORK/bad.conf" > "$WORK/n.out" 2>&1
expect_eq "-n on a bad file exits 78" "$?" 78
expect_grep "error names file:line: key (socket)" "bad.conf:1: socket: " "$WORK/n.out"
expect_grep "error names file:line: key (log_level)" "bad.conf:2: log_level: " "$WORK/n.out"
expect_grep "error names file:line: key (unknown key)" "bad.conf:3: no_such_key: unknown key" "$WORK/n.out"
expect_grep "error names file:line: key (listener action)" "bad.conf:6: action: " "$WORK/n.out"
expect_grep "all errors counted" '4 configuration error' "$WORK/n.out"
"$MILTER_BIN" -n -c "$WORK/missing.conf" > "$WORK/m.out" 2>&1
expect_eq "-n on a missing file exits 78" "$?" 78
"$MILTER_BIN" -n -c "$WORK" > "$WORK/d.out" 2>&1
expect_eq "-n on a file that cannot be read exits 78" "$?" 78
expect_grep "unreadable file: path and reason" "$WORK: cannot read the file: Is a directory" "$WORK/d.out"

# Settings that conflict or that the trace field could not carry: each
# reported at the line of the key at fault.
cat > "$WORK/conflict.conf" <<'CONF'
hostname = mx..example-
group = mail
[listener submission]
port = 587
reply = 451 4.7.0 Try again later
CONF
"$MILTER_BIN" -n -c "$WORK/conflict.conf" > "$WORK/c.out" 2>&1
expect_eq "-n on conflicting settings exits 78" "$?" 78
expect_grep "hostname the trace field cannot carry" "conflict.conf:1: hostname: want a domain name" "$WORK/c.out"
expect_grep "group without user, at the group line" "conflict.conf:2: group: group is set but user is not" "$WORK/c.out"
expect_grep "reply against the default action, at the reply line" \
    "conflict.conf:5: reply: 451 does not fit the default action reject" "$WORK/c.out"
expect_grep "all conflicts counted" '3 configuration error' "$WORK/c.out"

# Keys on the command line: the same table, checked with the file's errors.
"$MILTER_BIN" -n -c "$WORK/bad.conf" --umask=9 > "$WORK/o.out" 2>&1
expect_eq "-n with a bad override exits 78" "$?" 78
expect_grep "override error names the command line and key" "command line: umask: want an octal mode" "$WORK/o.out"
expect_grep "override and file errors reported together" '5 configuration error' "$WORK/o.out"

# The staged deprecation in the sample config: every stage's section, as
# an operator would uncomment it, is a valid configuration.
awk -v dir="$WORK" '
    /^#   \[listener submission\]$/ { n++; f = dir "/stage" n ".conf"; print "rollout_salt = s" > f }
    /^#   / && n { sub(/^#   /, ""); print >> f; next }
    { if (n && f) close(f) }
' "$TOP/conf/rfc8314-milter.conf"
stages=0
for f in "$WORK"/stage*.conf; do
    [ -e "$f" ] || continue
    stages=$((stages + 1))
    if "$MILTER_BIN" -n -c "$f" > "$f.out" 2>&1; then pass "sample stage $(basename "$f" .conf) is valid"
    else fail "sample stage $(basename "$f" .conf):"; sed 's/^/    | /' "$f.out"; fi
done
expect_eq "the sample shows four stages" "$stages" 4

conf() {
    {
        echo "socket = inet:$PORT@127.0.0.1"
        echo "syslog = no"
        echo "log_stderr = yes"
        echo "pid_file = $WORK/milter.pid"
        echo "$@"
    } > "$WORK/good.conf"
}
conf "# ok"
"$MILTER_BIN" -n -c "$WORK/good.conf" > "$WORK/n2.out" 2>&1
expect_eq "-n on a good file exits 0" "$?" 0
"$MILTER_BIN" -n -c "$WORK/good.conf" --log_level=debug --umask 002 > "$WORK/n3.out" 2>&1
expect_eq "-n with good overrides exits 0" "$?" 0

# start_daemon — foreground daemon; sets PID.
start_daemon() {
    : > "$WORK/daemon.log"
    "$MILTER_BIN" -f -c "$WORK/good.conf" 2>>"$WORK/daemon.log" &
    PID=$!
    track_pid "$PID"
    wait_port "$PORT" 10
}

# stops_on SIGNAL
stops_on() {
    start_daemon || { fail "daemon did not start for $1"; return; }
    kill "-$1" "$PID"
    local i
    for ((i = 0; i < 50; i++)); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$PID" 2>/dev/null; then
        fail "SIG$1 did not stop the daemon within 5 s"
        kill -9 "$PID"
    else
        wait "$PID"
        expect_eq "SIG$1 stops the daemon with exit 0" "$?" 0
    fi
    [ ! -e "$WORK/milter.pid" ] && pass "SIG$1: pid file removed" || fail "SIG$1: pid file left behind"
}
stops_on TERM
stops_on HUP
stops_on INT

# 50 reloads: every one logged ok, no descriptor leaked.
start_daemon || { fail "daemon did not start"; finish; exit 1; }
expect_eq "pid file holds the daemon's pid" "$(cat "$WORK/milter.pid" 2>/dev/null)" "$PID"
fds_before=$(ls /proc/"$PID"/fd | wc -l)
for ((i = 0; i < 50; i++)); do
    kill -USR1 "$PID"
    sleep 0.05
done
for ((i = 0; i < 50; i++)); do
    [ "$(grep -c 'event=reload, status=ok' "$WORK/daemon.log")" -ge 50 ] && break
    sleep 0.1
done
expect_eq "50 reloads logged ok" "$(grep -c 'event=reload, status=ok' "$WORK/daemon.log")" 50
fds_after=$(ls /proc/"$PID"/fd | wc -l)
expect_eq "no descriptor leaked over 50 reloads" "$fds_after" "$fds_before"

# A broken file on reload: logged with file:line, the daemon keeps running.
conf "log_level = chatty"
kill -USR1 "$PID"
for ((i = 0; i < 50; i++)); do grep -q 'status=failed' "$WORK/daemon.log" && break; sleep 0.1; done
expect_grep "bad reload: error logged with file:line: key" 'status=error, .*good.conf:5: log_level' "$WORK/daemon.log"
expect_grep "bad reload: running configuration kept" 'status=failed' "$WORK/daemon.log"
kill -0 "$PID" 2>/dev/null && pass "bad reload: daemon still running" || fail "bad reload: daemon died"
# A restart-only key changed: warned, not applied.
conf "# socket moves below"
sed -i "s/^socket = inet:$PORT@/socket = inet:12046@/" "$WORK/good.conf"
kill -USR1 "$PID"
for ((i = 0; i < 50; i++)); do grep -q 'socket changed' "$WORK/daemon.log" && break; sleep 0.1; done
expect_grep "restart-only key: warned on reload" 'socket changed; it takes effect at the next restart' "$WORK/daemon.log"
kill -TERM "$PID"; wait "$PID" 2>/dev/null
expect_no_grep "no internal errors" 'internal error' "$WORK/daemon.log"

# Started as root with user=: the audit file is opened as that user, so a
# reload (which reopens it, for log rotation) still can.
if [ "$(id -u)" -eq 0 ] && getent passwd nobody >/dev/null; then
    mkdir -p "$WORK/auditdir"
    chown nobody "$WORK/auditdir"
    cat > "$WORK/priv.conf" <<CONF
socket = inet:$PORT@127.0.0.1
syslog = no
log_stderr = yes
user = nobody
audit_file = $WORK/auditdir/audit.jsonl
CONF
    "$MILTER_BIN" -f -c "$WORK/priv.conf" 2>"$WORK/priv.log" &
    PID=$!
    track_pid "$PID"
    wait_port "$PORT" 10 || fail "privileged start: no socket"
    expect_eq "user=: the audit file is created by that user" \
        "$(stat -c %U "$WORK/auditdir/audit.jsonl" 2>/dev/null)" nobody
    kill -USR1 "$PID"
    for ((i = 0; i < 50; i++)); do grep -q 'event=reload, status=ok' "$WORK/priv.log" && break; sleep 0.1; done
    expect_grep "user=: reload logged ok" 'event=reload, status=ok' "$WORK/priv.log"
    expect_no_grep "user=: reload reopens the audit file" 'cannot open audit_file' "$WORK/priv.log"
    kill -TERM "$PID"; wait "$PID" 2>/dev/null
else
    fail "user=: this check needs root and a user nobody"
fi
finish
