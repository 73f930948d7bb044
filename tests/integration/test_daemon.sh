#!/bin/bash
# test_daemon.sh — the daemon's contract with the operator, on the real
# binary: exit codes, config errors with file/line/key, a comment after a
# value refused, -n refusing whatever the start would refuse, a start
# without -f that checks everything before it detaches (failures on
# standard error and in syslog, nothing left behind), the pid file (no
# symbolic links, no second owner, removed after the switch to `user`),
# SIGUSR1 during the start, clean stop on SIGTERM, SIGHUP and SIGINT,
# SIGUSR1 reloads without leaking descriptors, a bad reload keeps the
# running configuration.
#
# Syslog is caught by a sink listening on /dev/log inside a private mount
# namespace (with_devlog); nothing on the host is touched.  Everything
# started here is stopped by its own pid.
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

# ---- -n refuses whatever the start would refuse ------------------------------
# nc_conf NAME LINE... — a config file $WORK/NAME.conf of the given lines.
nc_conf() { local n=$1; shift; printf '%s\n' "$@" > "$WORK/$n.conf"; }
# refused NAME EXIT PATTERN... — `-n` on $WORK/NAME.conf exits EXIT and
# prints each PATTERN (extended regexps).
refused() {
    local n=$1 want=$2 p; shift 2
    "$MILTER_BIN" -n -c "$WORK/$n.conf" > "$WORK/$n.n" 2>&1
    expect_eq "-n $n: exit status" "$?" "$want"
    for p in "$@"; do expect_grep "-n $n: says /$p/" "$p" "$WORK/$n.n"; done
}
comment='comment after the value; a comment must be on a line of its own'
nc_conf comment "socket = inet:$PORT@127.0.0.1 # local" "rollout_salt = abc # x" "syslog = no"
refused comment 78 "comment.conf:1: socket: $comment" "comment.conf:2: rollout_salt: $comment" \
    '2 configuration error'
nc_conf quoted "rollout_salt = \"abc # x\"" "hostname = mx.example.org" "syslog = no"
refused quoted 0 'is valid'
nc_conf nohost "socket = inet:$PORT@no-such-host.invalid" "syslog = no"
refused nohost 78 'nohost.conf:1: socket: cannot resolve host "no-such-host.invalid" as an IPv4 address'
long=$(printf 'p%.0s' $(seq 106))
nc_conf longpath "socket = local:/$long" "syslog = no"
refused longpath 78 'longpath.conf:1: socket: socket path longer than 106 bytes'
nc_conf nouser "syslog = no" "user = nosuchuser"
refused nouser 78 'nouser.conf:2: user: unknown user nosuchuser'
nc_conf nogroup "syslog = no" "user = nobody" "group = nosuchgroup"
refused nogroup 78 'nogroup.conf:3: group: unknown group nosuchgroup'
# --user= on the command line is placed there.
"$MILTER_BIN" -n -c "$WORK/quoted.conf" --user=nosuchuser > "$WORK/cl.n" 2>&1
expect_eq "-n --user=nosuchuser: exit status" "$?" 78
expect_grep "-n --user=nosuchuser: names the command line" 'command line: user: unknown user nosuchuser' "$WORK/cl.n"
ln -sf "$WORK/victim" "$WORK/link.pid"
nc_conf pidlink "syslog = no" "pid_file = $WORK/link.pid"
refused pidlink 78 "pidlink.conf:2: pid_file: $WORK/link.pid is a symbolic link"
mkdir -p "$WORK/rootdir" "$WORK/nobodydir"
chmod 0755 "$WORK/rootdir"
chown nobody "$WORK/nobodydir"
nc_conf piddir "syslog = no" "user = nobody" "pid_file = $WORK/rootdir/m.pid"
refused piddir 78 "piddir.conf:3: pid_file: directory $WORK/rootdir cannot be written by user nobody"
nc_conf auditdir "syslog = no" "user = nobody" "audit_file = $WORK/rootdir/audit.jsonl"
refused auditdir 78 "auditdir.conf:3: audit_file: $WORK/rootdir/audit.jsonl: cannot be created by user nobody"
[ ! -e "$WORK/rootdir/m.pid" ] && [ ! -e "$WORK/rootdir/audit.jsonl" ] && [ ! -e "$WORK/victim" ] &&
    pass "-n created nothing" || fail "-n created files"

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

# start_daemon — foreground daemon; sets PID.  Returns once it logged its
# start: the port accepts connections a little earlier, when the socket is
# open but the signal and reload threads are not yet there.
start_daemon() {
    : > "$WORK/daemon.log"
    "$MILTER_BIN" -f -c "$WORK/good.conf" 2>>"$WORK/daemon.log" &
    PID=$!
    track_pid "$PID"
    wait_port "$PORT" 10 || return 1
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q 'event=start' "$WORK/daemon.log" && return 0
        sleep 0.1
    done
    return 1
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
# Each signal once the reload before it is logged: two SIGUSR1 that arrive
# while one is still pending are one signal (POSIX does not queue them), and
# on a loaded machine 50 ms are not always enough for a reload.
for ((i = 1; i <= 50; i++)); do
    kill -USR1 "$PID"
    for ((j = 0; j < 250; j++)); do
        [ "$(grep -c 'event=reload, status=ok' "$WORK/daemon.log")" -ge "$i" ] && break
        sleep 0.02
    done
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

# stop_and_reap PID — SIGTERM, up to 15 s to end (then SIGKILL); its exit
# status in RC.
stop_and_reap() {
    local i
    kill -TERM "$1" 2>/dev/null
    for ((i = 0; i < 150; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$1" 2>/dev/null && kill -9 "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    RC=$?
}

# ---- SIGUSR1 while the daemon starts ---------------------------------------------
# The configuration is read from a FIFO, which holds the daemon inside main()
# (past its first line) until the test writes the file: SIGUSR1s sent then,
# and on in a tight loop while the rest of the start runs, must not kill it
# (the default action of SIGUSR1 is to terminate: exit 138).
usr1_during_start() {
    local fifo="$WORK/start.conf" real="$WORK/start.conf.real" w i pid blaster
    rm -f "$fifo"; mkfifo "$fifo"
    printf '%s\n' "socket = inet:$PORT@127.0.0.1" "syslog = no" "log_stderr = yes" > "$real"
    exec {w}<>"$fifo"   # a writer, so the daemon's open does not wait for one
    : > "$WORK/usr1.log"
    # Neither the daemon nor the loop below may hold the writer: the
    # daemon's read ends only when the last writer is closed.
    "$MILTER_BIN" -f -c "$fifo" 2>>"$WORK/usr1.log" {w}>&- &
    pid=$!
    track_pid "$pid"
    for ((i = 0; i < 100; i++)); do
        ls -l "/proc/$pid/fd" 2>/dev/null | grep -q 'start\.conf' && break
        sleep 0.05
    done
    if ! ls -l "/proc/$pid/fd" 2>/dev/null | grep -q 'start\.conf'; then
        fail "SIGUSR1 at start: the daemon never opened its configuration"; exec {w}>&-; return
    fi
    for ((i = 0; i < 200; i++)); do kill -USR1 "$pid" 2>/dev/null || break; done
    # Reloads read the path again: from now on a regular file.
    mv "$real" "$fifo"
    ( exec {w}>&-; while kill -USR1 "$pid" 2>/dev/null; do :; done ) &
    blaster=$!
    track_pid "$blaster"
    printf '%s\n' "socket = inet:$PORT@127.0.0.1" "syslog = no" "log_stderr = yes" >&"$w"
    exec {w}>&-
    wait_port "$PORT" 10 && sleep 0.5
    kill "$blaster" 2>/dev/null; wait "$blaster" 2>/dev/null
    if kill -0 "$pid" 2>/dev/null; then
        pass "SIGUSR1 at start: the daemon survived a loop of SIGUSR1 through its start"
    else
        wait "$pid"; fail "SIGUSR1 at start: the daemon died with exit status $?"; return
    fi
    for ((i = 0; i < 50; i++)); do grep -q 'event=reload, status=ok' "$WORK/usr1.log" && break; sleep 0.1; done
    expect_grep "SIGUSR1 at start: taken as a reload" 'event=reload, status=ok' "$WORK/usr1.log"
    stop_and_reap "$pid"
    expect_eq "SIGUSR1 at start: SIGTERM then stops it with exit 0" "$RC" 0
}
usr1_during_start

# ---- starting without -f: everything checked before it detaches -----------------
SINK_SOCK="$WORK/devlog.sock"
SYSLOG="$WORK/syslog.log"
perl "$TOP/tests/integration/sendmail/syslog-sink.pl" "$SINK_SOCK" "$SYSLOG" </dev/null 2>>"$WORK/sink.err" &
track_pid $!
for ((i = 0; i < 50; i++)); do [ -S "$SINK_SOCK" ] && break; sleep 0.1; done
[ -S "$SINK_SOCK" ] || fail "syslog sink did not start"
mkdir -p "$WORK/hostdev"

# with_devlog CMD... — CMD in a private mount namespace whose /dev/log is
# the sink (the rest of /dev: symlinks to the real nodes).
with_devlog() {
    unshare -m -- /bin/sh -c '
        set -e
        dir=$1 sock=$2; shift 2
        mount --rbind /dev "$dir"
        mount -t tmpfs -o mode=0755 devlog /dev
        for e in "$dir"/* "$dir"/.[!.]*; do
            [ -e "$e" ] || [ -L "$e" ] || continue
            ln -s "$e" "/dev/${e##*/}"
        done
        ln -sf "$sock" /dev/log
        exec "$@"
    ' sh "$WORK/hostdev" "$SINK_SOCK" "$@"
}

# syslog_has NAME PATTERN — the sink caught a line matching PATTERN.
syslog_has() {
    local i pat=${2//\"/\\\\\"}   # syslog lines are escaped: " is \"
    for ((i = 0; i < 30; i++)); do grep -Eq -- "$pat" "$SYSLOG" && break; sleep 0.1; done
    expect_grep "$1" "$pat" "$SYSLOG"
}

# start_fails NAME EXIT PATTERN — start without -f on $WORK/NAME.conf:
# the starting process exits EXIT, says PATTERN on standard error and in
# syslog, and leaves no pid file, no socket and no process behind.
start_fails() {
    local n=$1 want=$2 pat=$3
    : > "$SYSLOG"
    timeout 20 bash -c 'with_devlog "$@"' _ "$MILTER_BIN" -c "$WORK/$n.conf" \
        > "$WORK/$n.out" 2> "$WORK/$n.err"
    expect_eq "start $n: exit status" "$?" "$want"
    expect_grep "start $n: the reason on standard error" "$pat" "$WORK/$n.err"
    syslog_has "start $n: the reason in syslog" "rfc8314-milter\[[0-9]+\]: error=.*$pat"
    [ ! -e "$WORK/$n.pid" ] && pass "start $n: no pid file left" || fail "start $n: pid file left behind"
    [ ! -e "$WORK/$n.sock" ] && pass "start $n: no socket left" || fail "start $n: socket left behind"
    if pgrep -f -- "-c $WORK/$n.conf" >/dev/null; then
        fail "start $n: a daemon is running"; pgrep -af -- "-c $WORK/$n.conf" | sed 's/^/    | /'
    else pass "start $n: no daemon running"; fi
}
export -f with_devlog
export WORK SINK_SOCK
# d_conf NAME LINE... — a daemon config with a unix socket and a pid file
# named after NAME, logging to syslog only.
d_conf() {
    local n=$1; shift
    printf '%s\n' "socket = local:$WORK/$n.sock" "pid_file = $WORK/$n.pid" "$@" > "$WORK/$n.conf"
}
d_conf d_user "user = nosuchuser"
start_fails d_user 78 'd_user.conf:3: user: unknown user nosuchuser'
d_conf d_group "user = nobody" "group = nosuchgroup"
start_fails d_group 78 'd_group.conf:4: group: unknown group nosuchgroup'
d_conf d_config "log_level = chatty"
start_fails d_config 78 'd_config.conf:3: log_level: want error, warning'
d_conf d_comment "rollout_salt = abc # x"
start_fails d_comment 78 "d_comment.conf:3: rollout_salt: $comment"
d_conf d_resolve
sed -i "1s|.*|socket = inet:$PORT@no-such-host.invalid|" "$WORK/d_resolve.conf"
start_fails d_resolve 78 'd_resolve.conf:1: socket: cannot resolve host "no-such-host.invalid"'
d_conf d_audit "user = nobody" "audit_file = $WORK/rootdir/d_audit.jsonl"
start_fails d_audit 78 "d_audit.conf:4: audit_file: $WORK/rootdir/d_audit.jsonl: cannot be created by user nobody"
# The socket fails after the pid file was taken: the pid file must go too.
d_conf d_socket
sed -i "1s|.*|socket = local:$WORK/no-such-dir/d_socket.sock|" "$WORK/d_socket.conf"
start_fails d_socket 71 "cannot open socket local:$WORK/no-such-dir/d_socket.sock: $WORK/no-such-dir: No such file or directory"

# A good start without -f: the starting process exits 0 once the daemon
# runs; the pid file names the daemon; SIGTERM removes pid file and socket.
# Pid file, socket and audit file in a directory of the daemon's user, as
# /run/rfc8314-milter is: it removes them after switching to that user.
d_conf d_good "user = nobody" "audit_file = $WORK/nobodydir/audit.jsonl"
sed -i -e "1s|.*|socket = local:$WORK/nobodydir/d_good.sock|" \
    -e "2s|.*|pid_file = $WORK/nobodydir/d_good.pid|" "$WORK/d_good.conf"
: > "$SYSLOG"
timeout 20 bash -c 'with_devlog "$@"' _ "$MILTER_BIN" -c "$WORK/d_good.conf" > "$WORK/d_good.out" 2> "$WORK/d_good.err"
expect_eq "start d_good: exit status" "$?" 0
dpid=$(cat "$WORK/nobodydir/d_good.pid" 2>/dev/null)
if [ -n "$dpid" ] && kill -0 "$dpid" 2>/dev/null; then
    track_pid "$dpid"
    pass "start d_good: the pid file names a running daemon"
    expect_eq "start d_good: the daemon runs as nobody" \
        "$(awk '/^Uid:/ { print $2 "/" $3 }' "/proc/$dpid/status")" 65534/65534
    expect_eq "start d_good: the pid file belongs to nobody" "$(stat -c %U "$WORK/nobodydir/d_good.pid")" nobody
    [ -S "$WORK/nobodydir/d_good.sock" ] && pass "start d_good: socket there" || fail "start d_good: no socket"
    syslog_has "start d_good: start logged" "rfc8314-milter\[$dpid\]: event=start"
    kill -TERM "$dpid"
    for ((i = 0; i < 100; i++)); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$dpid" 2>/dev/null && fail "start d_good: SIGTERM did not stop it" || pass "start d_good: SIGTERM stops it"
    [ ! -e "$WORK/nobodydir/d_good.pid" ] && pass "start d_good: pid file removed after the switch to nobody" ||
        fail "start d_good: pid file left behind"
    [ ! -e "$WORK/nobodydir/d_good.sock" ] && pass "start d_good: socket removed" ||
        fail "start d_good: socket left behind"
    syslog_has "start d_good: stop logged" "rfc8314-milter\[$dpid\]: event=stop"
else
    fail "start d_good: no running daemon named by the pid file (got '$dpid')"
    sed 's/^/    | /' "$WORK/d_good.err" "$SYSLOG"
fi
expect_eq "start d_good: nothing on standard error" "$(cat "$WORK/d_good.err")" ""

# ---- the pid file ----------------------------------------------------------------
# never_through KIND LN-OPTION WHY — a link of KIND planted at the pid path
# (to a file of someone else's): the start is refused with WHY and the
# other file is untouched.
never_through() {
    local n=p_$1 rc
    echo precious > "$WORK/$n.victim"
    ln "$2" "$WORK/$n.victim" "$WORK/$n.pid"
    d_conf "$n"
    timeout 20 "$MILTER_BIN" -f -c "$WORK/$n.conf" > /dev/null 2> "$WORK/$n.err"
    rc=$?
    [ "$rc" -ne 0 ] && pass "pid file $1 link: refused (exit $rc)" || fail "pid file $1 link: the daemon started"
    expect_grep "pid file $1 link: says why" "$n.pid $3" "$WORK/$n.err"
    expect_eq "pid file $1 link: the other file untouched" "$(cat "$WORK/$n.victim")" precious
}
never_through symbolic -sf "is a symbolic link"
never_through hard -f "has 2 hard links"
# A second instance does not take over the pid file of a running one (nor
# its unix socket): refused before it opens its socket.
d_conf p_first "syslog = no"
"$MILTER_BIN" -f -c "$WORK/p_first.conf" 2> "$WORK/p_first.err" &
first=$!
track_pid "$first"
for ((i = 0; i < 100; i++)); do [ -S "$WORK/p_first.sock" ] && [ -s "$WORK/p_first.pid" ] && break; sleep 0.1; done
sed -e "s|^socket = .*|socket = inet:$PORT@127.0.0.1|" -e "s|^pid_file = .*|pid_file = $WORK/p_first.pid|" \
    "$WORK/p_first.conf" > "$WORK/p_second.conf"
timeout 20 "$MILTER_BIN" -f -c "$WORK/p_second.conf" > /dev/null 2> "$WORK/p_second.err"
rc=$?
[ "$rc" -ne 0 ] && pass "second instance: refused (exit $rc)" || fail "second instance: it started"
expect_grep "second instance: names the running one" \
    "p_first.pid is held by a running process \(pid $first, rfc8314-milter\)" "$WORK/p_second.err"
expect_eq "second instance: the pid file still names the first" "$(cat "$WORK/p_first.pid")" "$first"
kill -0 "$first" 2>/dev/null && pass "second instance: the first still runs" || fail "second instance: the first died"
stop_and_reap "$first"
expect_eq "second instance: the first stops with exit 0" "$RC" 0
[ ! -e "$WORK/p_first.pid" ] && pass "second instance: the first's pid file removed at its stop" ||
    fail "second instance: pid file left behind"
# A stale pid file (its process gone) is taken over.
echo 999999 > "$WORK/p_stale.pid"
d_conf p_stale "syslog = no"
"$MILTER_BIN" -f -c "$WORK/p_stale.conf" 2> "$WORK/p_stale.err" &
stale=$!
track_pid "$stale"
for ((i = 0; i < 100; i++)); do [ "$(cat "$WORK/p_stale.pid")" = "$stale" ] && break; sleep 0.1; done
expect_eq "stale pid file: taken over" "$(cat "$WORK/p_stale.pid")" "$stale"
stop_and_reap "$stale"

finish
