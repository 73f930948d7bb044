#!/bin/bash
# test_shutdown.sh — the milter stopped with SIGTERM in the middle of 50
# concurrent transactions through a real Postfix (milter_default_action =
# tempfail), while more transactions keep arriving.
#
# What it proves, on the client's replies, the delivered mail and the
# milter's own log (and, in `make check SANITIZE=1`, under ASan and UBSan):
#   * the 50 transactions open in the milter when SIGTERM arrives all finish:
#     250 at the end of DATA, delivered, with the milter's trace field (the
#     filter went on serving them while it stopped);
#   * the milter's socket is closed at once, so transactions that start
#     during the stop are tempfailed by Postfix;
#   * none is lost: every transaction is either accepted and delivered
#     exactly once, or got a 4xx — delivered + tempfailed = sent, with no
#     5xx, reset or hang;
#   * the milter exits 0 by itself, with no crash, no sanitizer report and
#     no internal error, and says it stopped with nothing cut off.
# Every process started here is tracked and stopped by its own pid.
. "$(dirname "$0")/common.sh"
PORT_SMTP=10425 PORT_SUB=10987 PORT_SUBS=10865
. "$(dirname "$0")/mta-postfix.sh"
. "$(dirname "$0")/cases.sh"

new_workdir shutdown
MILTER_PORT=12075
MILTER_CONF="$WORK/milter.conf"
MILTER_LOG="$WORK/milter.log"
HOLD=50      # transactions open in the milter at SIGTERM
STREAM=10    # clients starting new transactions all along
CONTROL="$WORK/control"

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

[ -x "$MILTER_BIN" ] || { fail "no milter binary at $MILTER_BIN"; finish; exit 1; }
command -v python3 >/dev/null || { fail "python3 is not installed"; finish; exit 1; }

# A trace field on every session, so each transaction does real work in the
# milter; milter_timeout bounds the stop's wait.
cat > "$MILTER_CONF" <<EOF
socket = inet:$MILTER_PORT@127.0.0.1
syslog = no
log_stderr = yes
log_level = info
hostname = milter.example.test
trace = always
milter_timeout = 60
[listener relay]
port = $PORT_SMTP
role = relay
EOF
"$MILTER_BIN" -n -c "$MILTER_CONF" > "$WORK/n.out" 2>&1 || { fail "milter config:"; cat "$WORK/n.out"; finish; exit 1; }
"$MILTER_BIN" -f -c "$MILTER_CONF" 2> "$MILTER_LOG" &
MILTER_PID=$!
track_pid "$MILTER_PID"
wait_port "$MILTER_PORT" 20 || { fail "milter did not start"; cat "$MILTER_LOG"; finish; exit 1; }
mta_setup "$MILTER_PORT" 'in_flow_delay = 0' || { fail "postfix setup"; finish; exit 1; }
mta_start || { fail "postfix did not start"; finish; exit 1; }

mkdir -p "$CONTROL"
python3 "$TOP/tests/integration/shutdown_load.py" "$PORT_SMTP" "$RCPT" "$HOLD" "$STREAM" "$CONTROL" \
    > "$WORK/results" 2> "$WORK/load.err" &
LOAD_PID=$!
track_pid "$LOAD_PID"
wait_file "$CONTROL/ready" 120 || fail "the held transactions never got to the end of DATA"
expect_eq "all $HOLD held transactions open in the milter" "$(cat "$CONTROL/ready" 2>/dev/null)" "$HOLD"
sleep 1   # the stream runs through the live milter too

t_term=$(now_ms)
kill -TERM "$MILTER_PID"
closed=
for ((i = 0; i < 200; i++)); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$MILTER_PORT") 2>/dev/null; then closed=$(($(now_ms) - t_term)); break; fi
    sleep 0.05
done
if [ -n "$closed" ]; then pass "the milter's socket refuses connections ${closed} ms after SIGTERM"; else
    fail "the milter's socket still accepts connections 10 s after SIGTERM"; fi
kill -0 "$MILTER_PID" 2>/dev/null && pass "the milter still runs for its open transactions" ||
    fail "the milter exited with transactions open"
sleep 2   # transactions starting now meet the closed socket
touch "$CONTROL/release"

t_release=$(now_ms)
for ((i = 0; i < 900; i++)); do kill -0 "$MILTER_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$MILTER_PID" 2>/dev/null; then
    fail "the milter did not exit within 90 s of the release"; kill -9 "$MILTER_PID"
fi
wait "$MILTER_PID"
rc=$?
expect_eq "the milter exits 0" "$rc" 0
log "test_shutdown: milter exited $(($(now_ms) - t_release)) ms after the held transactions were released"
touch "$CONTROL/stop"
for ((i = 0; i < 1200; i++)); do kill -0 "$LOAD_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$LOAD_PID" 2>/dev/null && { fail "the clients hang"; kill "$LOAD_PID"; }
wait "$LOAD_PID"
expect_eq "the client script ran to its end" "$?" 0
[ -s "$WORK/load.err" ] && { log "client stderr:"; sed 's/^/    | /' "$WORK/load.err" >&2; }

# ---- what each transaction got ---------------------------------------------------
sent=$(grep -c . "$WORK/results")
accepted=$(grep -c ' accepted 250 ' "$WORK/results")
tempfailed=$(grep -c ' tempfail 4' "$WORK/results")
errors=$(grep -vc ' accepted 250 \| tempfail 4' "$WORK/results")
log "test_shutdown: $sent transactions: $accepted accepted, $tempfailed tempfailed, $errors other"
expect_eq "no transaction got a 5xx, a reset or no reply" "$errors" 0
[ "$errors" -eq 0 ] || grep -v ' accepted 250 \| tempfail 4' "$WORK/results" | head -20 | sed 's/^/    | /'
check "some transactions started during the stop were tempfailed" [ "$tempfailed" -gt 0 ]
expect_eq "every held transaction accepted" "$(grep -c '^hold-[0-9]* accepted 250 dot$' "$WORK/results")" "$HOLD"

# Delivered: exactly the accepted ones, each once.
mta_wait_delivery "$accepted" 120
sleep 1
for f in $(mta_messages); do sed -n 's/^X-Case: //p' "$f" | head -n 1; done | tr -d '\r' | sort > "$WORK/delivered"
grep ' accepted 250 ' "$WORK/results" | cut -d' ' -f1 | sort > "$WORK/want"
expect_eq "delivered + tempfailed = sent" "$(($(grep -c . "$WORK/delivered") + tempfailed))" "$sent"
if cmp -s "$WORK/delivered" "$WORK/want"; then pass "the delivered messages are exactly the accepted ones, each once"; else
    fail "delivered and accepted differ (< delivered, > accepted):"; diff "$WORK/delivered" "$WORK/want" | head -20 | sed 's/^/    | /'
fi
with=0
for f in $(mta_messages); do
    grep -q '^X-Case: hold-' "$f" && [ "$(received_fields "$f" | grep -c 'by milter\.example\.test')" -eq 1 ] && with=$((with + 1))
done
expect_eq "every held transaction carries the milter's trace field" "$with" "$HOLD"

# ---- the milter's own account --------------------------------------------------
expect_grep "the stop is logged with the open connections" \
    "event=stopping, signal=TERM, open_connections=[0-9]+, wait_limit=60s" "$MILTER_LOG"
expect_grep "the stop is logged" 'event=stop$' "$MILTER_LOG"
expect_no_grep "nothing cut off" 'cut_connections' "$MILTER_LOG"
expect_no_grep "no sanitizer report" 'AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehavior' "$MILTER_LOG"
expect_no_grep "no internal error" 'internal error' "$MILTER_LOG"

mta_stop
finish
