#!/bin/bash
# test_notify.sh — systemd's notify protocol as the daemon speaks it, against
# a datagram socket this test binds and passes as NOTIFY_SOCKET (no systemd
# runs here): READY=1 only once the milter socket answers a negotiation,
# RELOADING=1 then READY=1 with STATUS= on a good and on a bad reload,
# WATCHDOG=1 every WATCHDOG_USEC/2 — and none once the milter's socket
# stops answering, or when WATCHDOG_PID names another process — STOPPING=1
# on SIGTERM, and an abstract-namespace NOTIFY_SOCKET.
#
# Prints the datagrams of a start, a reload and a stop.  Every process it
# starts it stops by its pid.
. "$(dirname "$0")/common.sh"

new_workdir notify
SINK="$TOP/tests/integration/notify_sink.py"
[ -x "$MILTER_BIN" ] || { fail "no milter binary at $MILTER_BIN"; finish; exit 1; }

# start_sink NAME SOCKET [MILTER_SOCKET] — the sink writing $WORK/NAME.jsonl.
start_sink() {
    local out="$WORK/$1.jsonl"
    rm -f "$out" "$out.bound"
    /usr/bin/python3 "$SINK" "$2" "$out" ${3:+"$3"} &
    SINK_PID=$!
    track_pid "$SINK_PID"
    DGRAMS=$out
    # Python can take seconds to start on a busy machine.
    wait_file "$out.bound" 60 || { log "notify sink did not bind $2"; return 1; }
}
stop_sink() { kill "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null; }

# count PATTERN — datagrams (JSON lines) matching the extended regexp.
count() { grep -Ec -- "$1" "$DGRAMS" 2>/dev/null; }
# wait_count PATTERN N [SECS] — until at least N datagrams match.
wait_count() {
    local i
    for ((i = 0; i < ${3:-30} * 10; i++)); do
        [ "$(count "$1")" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}
# msgs — the datagrams, one a line, newlines inside shown as " | ".
msgs() { sed -e 's/, "probe": "[^"]*"}$/}/' -e 's/.*"msg": "\(.*\)"}$/\1/' -e 's/\\n/ | /g' "$DGRAMS"; }

write_conf() {
    cat > "$WORK/milter.conf" <<EOF
socket = local:$WORK/milter.sock
syslog = no
log_stderr = yes
EOF
}

# start_milter [ENV=VALUE...] — the daemon in the foreground with NOTIFY_SOCKET.
start_milter() {
    : > "$WORK/milter.log"
    env "$@" "$MILTER_BIN" -f -c "$WORK/milter.conf" 2>>"$WORK/milter.log" &
    MILTER_PID=$!
    track_pid "$MILTER_PID"
}
stop_milter() {
    kill "$MILTER_PID" 2>/dev/null
    wait "$MILTER_PID"
    MILTER_RC=$?
}

write_conf

# ---- 1. start, reloads, watchdog, stop ----------------------------------------------
start_sink main "$WORK/notify.sock" "$WORK/milter.sock" || { fail "sink"; finish; exit 1; }
start_milter NOTIFY_SOCKET="$WORK/notify.sock" WATCHDOG_USEC=2000000
if wait_count '"msg": "READY=1' 1 30; then pass "READY=1 sent"; else
    fail "no READY=1 within 30 s"; sed 's/^/    | /' "$WORK/milter.log"; finish; exit 1; fi
first=$(head -n 1 "$DGRAMS")
case "$first" in
    *'"msg": "READY=1\nSTATUS=configuration '"$WORK"'/milter.conf in force; milter socket local:'"$WORK"'/milter.sock\nMAINPID='"$MILTER_PID"'"'*)
        pass "the first datagram is READY=1 with STATUS= (the config in force) and MAINPID" ;;
    *) fail "first datagram: $first" ;;
esac
case "$first" in
    *'"probe": "ok"'*) pass "when READY=1 arrived, the milter socket answered a negotiation" ;;
    *) fail "READY=1 but the socket did not answer: $first" ;;
esac
expect_eq "READY=1 once only at start" "$(count '"msg": "READY=1')" 1

# Watchdog: WATCHDOG_USEC=2 s, so a ping about every second.
before=$(count '"msg": "WATCHDOG=1"')
sleep 5
got=$(($(count '"msg": "WATCHDOG=1"') - before))
if [ "$got" -ge 3 ] && [ "$got" -le 7 ]; then pass "WATCHDOG=1 every WATCHDOG_USEC/2: $got pings in 5 s"
else fail "WATCHDOG=1: $got pings in 5 s, want 3..7"; fi

# reload_datagrams N — SIGUSR1, wait for the Nth READY=1; R1 and R2 are the
# first two datagrams after the signal that are not watchdog pings.
reload_datagrams() {
    local n reload
    n=$(wc -l < "$DGRAMS")
    kill -USR1 "$MILTER_PID"
    wait_count '"msg": "READY=1' "$1" 20 || fail "no READY=1 after reload $(($1 - 1))"
    reload=$(tail -n +"$((n + 1))" "$DGRAMS" | grep -v '"msg": "WATCHDOG=1"')
    R1=$(sed -n 1p <<< "$reload")
    R2=$(sed -n 2p <<< "$reload")
}

# A good reload.
reload_datagrams 2
[[ $R1 == *'"msg": "RELOADING=1\nSTATUS=reloading the configuration\nMONOTONIC_USEC='[0-9]*'"'* ]] \
    && pass "good reload: RELOADING=1 with MONOTONIC_USEC first" || fail "good reload, first: $R1"
[[ $R2 == *'"msg": "READY=1\nSTATUS=configuration '"$WORK"'/milter.conf reloaded and in force"'* ]] \
    && pass "good reload: then READY=1, STATUS= says the new config is in force" || fail "good reload, then: $R2"

# A bad reload: the old configuration stays, and STATUS= says why.
echo "no_such_key = 1" >> "$WORK/milter.conf"
reload_datagrams 3
[[ $R1 == *'"msg": "RELOADING=1\n'* ]] && pass "bad reload: RELOADING=1 first" || fail "bad reload, first: $R1"
[[ $R2 == *'"msg": "READY=1\nSTATUS=reload failed, the previous configuration stays in force: '"$WORK"'/milter.conf:4: no_such_key: unknown key"'* ]] \
    && pass "bad reload: READY=1, STATUS= names the file, line and key" || fail "bad reload, then: $R2"
write_conf
check "the daemon still runs after the bad reload" kill -0 "$MILTER_PID"

# Pings only while the milter's own socket answers: once its path is gone no
# MTA can reach it, and systemd must be left to restart it.
rm -f "$WORK/milter.sock"
sleep 2.5
before=$(count '"msg": "WATCHDOG=1"')
sleep 4
got=$(($(count '"msg": "WATCHDOG=1"') - before))
expect_eq "no WATCHDOG=1 while the milter socket does not answer (4 s)" "$got" 0
expect_grep "the missed pings are logged with the reason" \
    'warning="watchdog: the milter did not answer a negotiation on its own socket; not pinging systemd", socket=local:.*what=' \
    "$WORK/milter.log"

n=$(wc -l < "$DGRAMS")
stop_milter
expect_eq "exit status 0 on SIGTERM" "$MILTER_RC" 0
wait_count '"msg": "STOPPING=1' 1 10 || true
last=$(tail -n +"$((n + 1))" "$DGRAMS" | grep -v WATCHDOG)
# One datagram after the stop signal: STOPPING=1, its STATUS= naming the
# signal and what the drain waits for (daemon.cpp's drain sends it first).
[[ $(printf '%s\n' "$last" | wc -l) == 1 &&
   $last == *'"msg": "STOPPING=1\nSTATUS=stopping (SIGTERM): 0 open connection(s) get up to '*' s to end"'* ]] \
    && pass "STOPPING=1 on SIGTERM, the only datagram after it" || fail "stop: $last"
echo "--- datagrams of a start, a good and a bad reload, and a stop (WATCHDOG=1 left out):"
msgs | grep -v '^WATCHDOG=1$' | sed 's/^/    /'
echo "--- WATCHDOG=1 datagrams received: $(count '"msg": "WATCHDOG=1"')"
stop_sink

# ---- 2. WATCHDOG_PID naming another process: no pings ------------------------------------
write_conf
start_sink otherpid "$WORK/notify2.sock" || fail "sink"
start_milter NOTIFY_SOCKET="$WORK/notify2.sock" WATCHDOG_USEC=1000000 WATCHDOG_PID=1
wait_count '"msg": "READY=1' 1 30 && pass "WATCHDOG_PID=1: READY=1 still sent" || fail "WATCHDOG_PID=1: no READY=1"
sleep 3
expect_eq "WATCHDOG_PID=1 (not us): no WATCHDOG=1" "$(count '"msg": "WATCHDOG=1"')" 0
stop_milter
stop_sink

# ---- 3. an abstract-namespace socket, no watchdog -------------------------------------------
abstract="@rfc8314-notify-test-$$"
start_sink abstract "$abstract" || fail "sink"
start_milter NOTIFY_SOCKET="$abstract"
wait_count '"msg": "READY=1' 1 30 && pass "abstract NOTIFY_SOCKET: READY=1" || fail "abstract NOTIFY_SOCKET: no READY=1"
sleep 1.5
expect_eq "no WATCHDOG_USEC: no WATCHDOG=1" "$(count '"msg": "WATCHDOG=1"')" 0
stop_milter
wait_count '"msg": "STOPPING=1' 1 10 && pass "abstract NOTIFY_SOCKET: STOPPING=1" || fail "abstract: no STOPPING=1"
stop_sink

# ---- 4. no NOTIFY_SOCKET: nothing to notify, the daemon runs as before -------------------------
start_milter
# event=start is logged once the signals are set up (a SIGTERM before that
# would meet the default action: a start-up race that is not this suite's).
for ((i = 0; i < 200; i++)); do grep -q 'event=start' "$WORK/milter.log" && [ -S "$WORK/milter.sock" ] && break; sleep 0.1; done
if [ -S "$WORK/milter.sock" ]; then pass "without NOTIFY_SOCKET the daemon starts"; else fail "no socket without NOTIFY_SOCKET"; fi
stop_milter
expect_eq "without NOTIFY_SOCKET: exit 0" "$MILTER_RC" 0
expect_no_grep "without NOTIFY_SOCKET: no notify warning" 'notify systemd' "$WORK/milter.log"

finish
