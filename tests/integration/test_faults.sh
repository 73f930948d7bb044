#!/bin/bash
# test_faults.sh — how a real Postfix and the milter behave when the milter
# fails: killed mid-transaction, not running, too slow, and reloaded over
# and over under load.
#
# What it proves (one private Postfix, one milter config, own ports):
#   1. SIGKILL between MAIL and the end of DATA with milter_default_action =
#      tempfail: the client gets 4xx, nothing is delivered; after a milter
#      restart the retried message is delivered exactly once, with the
#      milter's trace field.
#   2. The same with milter_default_action = accept: delivered without the
#      milter's trace field, and Postfix's log names the milter failure.
#   3. Milter not running (inet port closed; unix socket missing): Postfix
#      follows milter_default_action (tempfail: 4xx before DATA; accept:
#      delivered) well within milter_connect_timeout.
#   4. Milter slower than milter_command_timeout (test-only MAIL-stage delay):
#      the client gets the default action's reply in about the timeout,
#      never hangs.
#   5. 50 SIGUSR1 reloads during 2,000 transactions: every message delivered
#      with the milter's trace field, 50 "event=reload, status=ok" lines, the
#      milter's descriptor count unchanged.
#   6. A failure inside each callback (connect, helo, mail, rcpt, eom, abort,
#      close), under on_internal_error = tempfail and accept: the steps
#      negotiated no-reply (connect, helo, rcpt) cannot answer, so the
#      failure is answered at the next step that can (MAIL; end of message
#      after RCPT); the client gets 4xx or the message passes without the
#      milter's trace field; the audit line (and its JSON twin) says which
#      stage failed and which step answered; abort and close fail without
#      touching the next transaction.
# The milter here is build/rfc8314-milter-test: the daemon with its test
# hooks (RFC8314_MILTER_TEST_DELAY_MS, RFC8314_MILTER_TEST_THROW_AT), which
# the shipped binary does not have.
# Every process started here is tracked and stopped by its own pid.  Fails,
# never skips, when Postfix or the milter cannot be started.
. "$(dirname "$0")/common.sh"
PORT_SMTP=10225 PORT_SUB=10787 PORT_SUBS=10665
. "$(dirname "$0")/mta-postfix.sh"
. "$(dirname "$0")/cases.sh"

new_workdir faults
MILTER_BIN="$BUILD_ABS/rfc8314-milter-test"
MILTER_PORT=12055
MILTER_CONF="$WORK/milter.conf"
MILTER_AUDIT="$WORK/audit.jsonl"
MILTER_LOG="$WORK/milter.log"
MILTER_PID=
CONNECT_TIMEOUT=10   # milter_connect_timeout as mta_setup writes it
COMMAND_TIMEOUT=3    # milter_command_timeout for the slow-milter case
T0=$EPOCHREALTIME

# ---- helpers ------------------------------------------------------------------

# now_ms — wall clock in milliseconds.
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# write_conf — the milter's config: a trace field on every session, on every
# port (the relay listener included), so each transaction does real work.
write_conf() {
    cat > "$MILTER_CONF" <<EOF
socket = inet:$MILTER_PORT@127.0.0.1
syslog = no
log_stderr = yes
log_level = info
audit_file = $MILTER_AUDIT
hostname = milter.example.test
trace = always
[listener relay]
port = $PORT_SMTP
role = relay
[listener submission]
port = $PORT_SUB
role = submission
[listener submissions]
port = $PORT_SUBS
role = submissions
EOF
}

# milter_up [ENV=VALUE...] — start the milter (log: $MILTER_LOG, appended).
milter_up() {
    "$MILTER_BIN" -n -c "$MILTER_CONF" >/dev/null || return 1
    env "$@" "$MILTER_BIN" -f -c "$MILTER_CONF" 2>>"$MILTER_LOG" &
    MILTER_PID=$!
    track_pid "$MILTER_PID"
    wait_port "$MILTER_PORT" 10 || { log "milter did not start:"; tail -n 20 "$MILTER_LOG" >&2; return 1; }
}

# milter_down [SIGNAL] — stop the running milter and reap it (SIGTERM by
# default; falls back to SIGKILL after 5 s).
milter_down() {
    local sig=${1:-TERM} i
    [ -n "$MILTER_PID" ] || return 0
    kill -s "$sig" "$MILTER_PID"
    for ((i = 0; i < 50; i++)); do
        kill -0 "$MILTER_PID" || break
        sleep 0.1
    done
    kill -9 "$MILTER_PID"
    wait "$MILTER_PID"
    MILTER_PID=
} 2>/dev/null   # also silences bash's own "Killed" job notice

# pf_set 'name = value'... — change main.cf and let Postfix re-read it.
pf_set() {
    local l
    for l in "$@"; do postconf -c "$PF_CONF" -e "$l" || return 1; done
    mta_reload
    sleep 1.5   # smtpd processes started from now on see the new settings
}

# count_case NAME — delivered messages whose X-Case is NAME.
count_case() {
    local f n=0
    for f in $(mta_messages); do grep -q "^X-Case: $1\$" "$f" && n=$((n + 1)); done
    echo "$n"
}

# milter_fields FILE — how many Received fields the milter wrote.
milter_fields() { received_fields "$1" | grep -c 'by milter\.example\.test' || true; }

# fds NAME — the milter's open descriptors, one "N -> target" a line, saved
# in $WORK/fds.NAME; prints their count.
fds() {
    find "/proc/$MILTER_PID/fd" -mindepth 1 -printf '%f -> %l\n' 2>/dev/null | sort -n > "$WORK/fds.$1"
    grep -c . "$WORK/fds.$1"
}

# log_mark — remember how far the Postfix log goes; log_since prints what
# was written after the mark.
log_mark() { LOG_MARK=$(wc -l < "$(mta_log)" 2>/dev/null || echo 0); }
log_since() { tail -n +"$((LOG_MARK + 1))" "$(mta_log)" 2>/dev/null; }

# ---- a slow SMTP client (bash /dev/tcp) ------------------------------------------
# slow_open NAME — connect to the relay port, EHLO, MAIL, RCPT, DATA and the
# header and body lines, but not the final ".": the transaction is open in
# the milter when this returns 0.  Transcript in $WORK/NAME.smtp.
SC_FD=
SC_LOG=
_sc_send() { printf '%s\r\n' "$1" >&"$SC_FD"; printf '> %s\n' "$1" >> "$SC_LOG"; }
# _sc_reply — read one (multi-line) reply; its code in SC_CODE.
_sc_reply() {
    local line
    SC_CODE=
    while IFS= read -r -t 30 -u "$SC_FD" line; do
        line=${line%$'\r'}
        printf '< %s\n' "$line" >> "$SC_LOG"
        if [[ $line =~ ^([0-9]{3})( |$) ]]; then SC_CODE=${BASH_REMATCH[1]}; return 0; fi
        [[ $line =~ ^[0-9]{3}- ]] || return 1
    done
    return 1
}
_sc_expect() { _sc_reply && [[ $SC_CODE == "$1" ]]; }
slow_open() {
    SC_LOG="$WORK/$1.smtp"
    : > "$SC_LOG"
    exec {SC_FD}<>"/dev/tcp/127.0.0.1/$PORT_SMTP" || return 1
    _sc_expect 220 || return 1
    _sc_send "EHLO slow.example.test"; _sc_expect 250 || return 1
    _sc_send "MAIL FROM:<sender@example.test>"; _sc_expect 250 || return 1
    _sc_send "RCPT TO:<$RCPT>"; _sc_expect 250 || return 1
    _sc_send "DATA"; _sc_expect 354 || return 1
    _sc_send "From: <sender@example.test>"
    _sc_send "To: <$RCPT>"
    _sc_send "Subject: $1"
    _sc_send "X-Case: $1"
    _sc_send ""
    _sc_send "The milter goes away before this message ends."
}
# slow_finish — end DATA; the reply code in SC_CODE; QUIT and close.
slow_finish() {
    _sc_send "."
    _sc_reply
    local rc=$? code=$SC_CODE
    _sc_send "QUIT"; _sc_reply
    SC_CODE=$code
    exec {SC_FD}>&-
    SC_FD=
    return $rc
}

# ---- setup ----------------------------------------------------------------------
[ -x "$MILTER_BIN" ] || { fail "no milter binary at $MILTER_BIN"; finish; exit 1; }
command -v swaks >/dev/null || { fail "swaks is not installed"; finish; exit 1; }
write_conf
: > "$MILTER_LOG"
milter_up || { fail "milter did not start"; finish; exit 1; }
# in_flow_delay = 0: 2,000 messages in a burst must not be throttled to the
# delivery rate (case 5 measures the milter, not Postfix's flow control).
MTA_MILTER_DEFAULT_ACTION=tempfail mta_setup "$MILTER_PORT" 'in_flow_delay = 0' ||
    { fail "postfix setup"; finish; exit 1; }
mta_start || { fail "postfix did not start"; finish; exit 1; }

# ---- 1. SIGKILL mid-transaction, tempfail -------------------------------------------
c=kill_tempfail
if slow_open "$c"; then
    pid=$MILTER_PID
    milter_down KILL
    check "$c: milter killed after DATA's 354" test ! -d "/proc/$pid"
    slow_finish
    if [[ $SC_CODE == 4* ]]; then pass "$c: client got $SC_CODE at the end of DATA"; else
        fail "$c: client got '${SC_CODE:-no reply}' at the end of DATA, want 4xx"; sed 's/^/    | /' "$WORK/$c.smtp"
    fi
    sleep 1
    expect_eq "$c: nothing delivered" "$(count_case "$c")" 0
    milter_up || fail "$c: milter did not restart"
    send "$c" --port "$PORT_SMTP"
    expect_grep "$c: retry accepted" '^<[-~] +250 .*(queued|Ok)' "$WORK/$c.swaks"
    mta_wait_delivery 1 20
    sleep 0.5
    expect_eq "$c: retried message delivered exactly once" "$(count_case "$c")" 1
    f=$(message_for "$c") && expect_eq "$c: the retry carries the milter's trace field" "$(milter_fields "$f")" 1
else
    fail "$c: the slow client did not reach DATA:"; sed 's/^/    | /' "$WORK/$c.smtp"
fi

# ---- 2. SIGKILL mid-transaction, accept ---------------------------------------------
c=kill_accept
pf_set 'milter_default_action = accept'
log_mark
before=$(mta_messages | grep -c .)
if slow_open "$c"; then
    milter_down KILL
    slow_finish
    if [[ $SC_CODE == 250 ]]; then pass "$c: client got 250 at the end of DATA"; else
        fail "$c: client got '${SC_CODE:-no reply}', want 250"; sed 's/^/    | /' "$WORK/$c.smtp"
    fi
    if mta_wait_delivery $((before + 1)) 20 && f=$(message_for "$c"); then
        expect_eq "$c: delivered without the milter's trace field" "$(milter_fields "$f")" 0
    else
        fail "$c: not delivered"
    fi
    log_since > "$WORK/$c.maillog"
    expect_grep "$c: Postfix logs the milter failure" \
        "warning: milter inet:127\\.0\\.0\\.1:$MILTER_PORT: .*(EOF|read|write|reset|[Bb]roken|error)" "$WORK/$c.maillog"
else
    fail "$c: the slow client did not reach DATA:"; sed 's/^/    | /' "$WORK/$c.smtp"
fi

# ---- 3. milter not running / socket missing -----------------------------------------
# The milter is down since case 2.  accept first (already set), then tempfail.
limit_ms=$(((CONNECT_TIMEOUT + 3) * 1000))
c=down_accept
before=$(mta_messages | grep -c .)
t=$(now_ms); send "$c" --port "$PORT_SMTP"; el=$(($(now_ms) - t))
expect_grep "$c: accepted" '^<[-~] +250 .*(queued|Ok)' "$WORK/$c.swaks"
check "$c: client done in ${el} ms (limit ${limit_ms})" [ "$el" -lt "$limit_ms" ]
if mta_wait_delivery $((before + 1)) 20 && f=$(message_for "$c"); then
    expect_eq "$c: delivered without the milter's trace field" "$(milter_fields "$f")" 0
else
    fail "$c: not delivered"
fi

c=down_tempfail
pf_set 'milter_default_action = tempfail'
t=$(now_ms); send "$c" --port "$PORT_SMTP"; el=$(($(now_ms) - t))
check "$c: client done in ${el} ms (limit ${limit_ms})" [ "$el" -lt "$limit_ms" ]
expect_grep "$c: 4xx before DATA" '^<(-|~|\*\*) +4[0-9][0-9] ' "$WORK/$c.swaks"
expect_no_grep "$c: never reached DATA" '^<[-~] +354 ' "$WORK/$c.swaks"

c=nosocket_tempfail
pf_set "smtpd_milters = unix:$WORK/no-such-milter.sock"
t=$(now_ms); send "$c" --port "$PORT_SMTP"; el=$(($(now_ms) - t))
check "$c: client done in ${el} ms (limit ${limit_ms})" [ "$el" -lt "$limit_ms" ]
expect_grep "$c: 4xx before DATA" '^<(-|~|\*\*) +4[0-9][0-9] ' "$WORK/$c.swaks"
expect_no_grep "$c: never reached DATA" '^<[-~] +354 ' "$WORK/$c.swaks"
sleep 1
expect_eq "$c: down_tempfail and $c delivered nothing" \
    "$(($(count_case down_tempfail) + $(count_case "$c")))" 0

# ---- 4. slow milter: MAIL stage sleeps 15 s, milter_command_timeout 3 s -------------
pf_set "smtpd_milters = inet:127.0.0.1:$MILTER_PORT" "milter_command_timeout = ${COMMAND_TIMEOUT}s"
milter_up RFC8314_MILTER_TEST_DELAY_MS=15000 || fail "slow milter did not start"
for action in tempfail accept; do
    c=slow_$action
    [ "$action" = accept ] && pf_set 'milter_default_action = accept'
    before=$(mta_messages | grep -c .)
    t=$(now_ms)
    timeout 20 swaks --server 127.0.0.1 --port "$PORT_SMTP" --to "$RCPT" --from sender@example.test \
        --helo client.example.test --timeout 30 --header "Subject: $c" --header "X-Case: $c" \
        > "$WORK/$c.swaks" 2>&1
    el=$(($(now_ms) - t))
    check "$c: client done in ${el} ms (limit 10000; milter_command_timeout ${COMMAND_TIMEOUT}s)" [ "$el" -lt 10000 ]
    # Sooner than the timeout would mean the delay never applied.
    check "$c: Postfix waited for the milter's timeout" [ "$el" -ge $((COMMAND_TIMEOUT * 1000 - 500)) ]
    if [ "$action" = tempfail ]; then
        expect_grep "$c: MAIL gets 4xx" '^<(-|~|\*\*) +4[0-9][0-9] ' "$WORK/$c.swaks"
        expect_no_grep "$c: never reached DATA" '^<[-~] +354 ' "$WORK/$c.swaks"
    else
        expect_grep "$c: accepted" '^<[-~] +250 .*(queued|Ok)' "$WORK/$c.swaks"
        if mta_wait_delivery $((before + 1)) 20 && f=$(message_for "$c"); then
            expect_eq "$c: delivered without the milter's trace field" "$(milter_fields "$f")" 0
        else
            fail "$c: not delivered"
        fi
    fi
done
# Its threads sleep for 15 s; no need to wait for them.
milter_down KILL

# ---- 5. 50 reloads during 2,000 transactions ---------------------------------------
c=reload_load
pf_set 'milter_default_action = tempfail' 'milter_command_timeout = 10s'
mta_clear_mail
MILTER_LOG="$WORK/milter-reload.log"
: > "$MILTER_LOG"
milter_up || fail "$c: milter did not start"
send "${c}_warmup" --port "$PORT_SMTP"
mta_wait_delivery 1 20 || fail "$c: warm-up message not delivered"
sleep 0.5
fd_before=$(fds before)
t=$(now_ms)
/usr/sbin/smtp-source -s 10 -m 2000 -f a@example.test -t "$RCPT" "127.0.0.1:$PORT_SMTP" \
    > "$WORK/$c.source" 2>&1 &
src=$!
track_pid "$src"
for ((i = 0; i < 50; i++)); do
    kill -USR1 "$MILTER_PID"
    sleep 0.1
done
if kill -0 "$src" 2>/dev/null; then still=yes; else still=no; fi
wait "$src"; rc=$?
el=$(($(now_ms) - t))
log "$c: smtp-source done in ${el} ms (still running after the 50th reload: $still)"
expect_eq "$c: smtp-source reports no failed transaction (exit status)" "$rc" 0
expect_eq "$c: the 50 reloads happened while mail was flowing" "$still" yes
mta_wait_delivery 2001 90
expect_eq "$c: all 2000 messages delivered" "$(($(mta_messages | grep -c .) - 1))" 2000
with=$(find "$MAILDIR/new" "$MAILDIR/cur" -type f -exec grep -l 'milter\.example\.test' {} + 2>/dev/null | grep -c .)
expect_eq "$c: every message carries the milter's trace field" "$with" 2001
sleep 1   # let the last milter sessions close
fd_after=$(fds after)
expect_eq "$c: no leaked descriptors in the milter (before $fd_before)" "$fd_after" "$fd_before"
[ "$fd_after" -eq "$fd_before" ] || diff "$WORK/fds.before" "$WORK/fds.after" | sed 's/^/    | /'
expect_eq "$c: 50 reload lines with status=ok" "$(grep -c 'event=reload, status=ok' "$MILTER_LOG")" 50
expect_no_grep "$c: no reload failures" 'event=reload, status=(error|failed)' "$MILTER_LOG"
expect_no_grep "$c: no internal errors" 'internal error' "$MILTER_LOG"
check "$c: milter still running" kill -0 "$MILTER_PID"

milter_down

# ---- 6. a failure inside each callback: answered where an answer is possible ------
# A test-only hook throws from inside the stage's callback, after the
# session's work.  connect, helo and rcpt are negotiated no-reply: libmilter
# would turn any answer there into "no reply", so the failure is carried to
# MAIL (connect, helo) or the end of the message (rcpt) and answered there
# with on_internal_error.

# rset_session NAME — on the relay port: one transaction ended by RSET (the
# MTA sends the milter an abort), then a complete one.  Transcript in
# $WORK/NAME.smtp; 0 when the second transaction got 250 after DATA.
rset_session() {
    SC_LOG="$WORK/$1.smtp"
    : > "$SC_LOG"
    exec {SC_FD}<>"/dev/tcp/127.0.0.1/$PORT_SMTP" || return 1
    _sc_expect 220 || return 1
    _sc_send "EHLO rset.example.test"; _sc_expect 250 || return 1
    _sc_send "MAIL FROM:<sender@example.test>"; _sc_expect 250 || return 1
    _sc_send "RCPT TO:<$RCPT>"; _sc_expect 250 || return 1
    _sc_send "RSET"; _sc_expect 250 || return 1
    _sc_send "MAIL FROM:<sender@example.test>"; _sc_expect 250 || return 1
    _sc_send "RCPT TO:<$RCPT>"; _sc_expect 250 || return 1
    _sc_send "DATA"; _sc_expect 354 || return 1
    _sc_send "Subject: $1"
    _sc_send "X-Case: $1"
    _sc_send ""
    _sc_send "The transaction before this one was reset."
    slow_finish && [[ $SC_CODE == 250 ]]
}

# The 2,000 messages of case 5 would make every message_for/count_case
# below grep them all.
mta_clear_mail
# Where each stage's failure is answered; "-" for none (nothing to answer).
declare -A ANSWERED=([connect]=mail [helo]=mail [mail]=mail [rcpt]=eom [eom]=eom [abort]=- [close]=-)
for stage in connect helo mail rcpt eom abort close; do
    for action in tempfail accept; do
        c=throw_${stage}_$action
        MILTER_LOG="$WORK/milter-$c.log"
        : > "$MILTER_LOG"
        write_conf
        sed -i "1i on_internal_error = $action" "$MILTER_CONF"   # a global key: before any section
        milter_up RFC8314_MILTER_TEST_THROW_AT=$stage || fail "$c: milter did not start"
        before=$(mta_messages | grep -c .)
        answered=${ANSWERED[$stage]}
        if [ "$stage" = abort ]; then
            if rset_session "$c"; then pass "$c: the transaction after the reset is accepted"; else
                fail "$c: the session with RSET failed:"; sed 's/^/    | /' "$WORK/$c.smtp"
            fi
        else
            send "$c" --port "$PORT_SUB" --tls --auth PLAIN --auth-user "$SASL_USER" --auth-password "$SASL_PASS"
        fi
        expect_grep "$c: the failure is logged with its stage" \
            "error=\"internal error\", stage=$stage, what=\"test: failure injected at $stage\"" "$MILTER_LOG"
        if [ "$answered" = - ]; then
            # Nothing left to answer: the mail is the filter's as usual.
            if mta_wait_delivery $((before + 1)) 20 && f=$(message_for "$c"); then
                expect_eq "$c: delivered with the milter's trace field" "$(milter_fields "$f")" 1
            else
                fail "$c: not delivered"
            fi
            expect_no_grep "$c: no transaction is answered as failed" 'reason=internal-error' "$MILTER_LOG"
        else
            expect_grep "$c: the audit line says what failed and where it was answered" \
                "user=$SASL_USER, mech=PLAIN, tls=TLSv1\\.[23], cipher=TLS_[A-Z0-9_]+, group=[^,]+, bits=[0-9]+, client=[^,]+, listener=submission/$PORT_SUB, verdict=$action, reason=internal-error, stage=$stage, answered=$answered, " "$MILTER_LOG"
            expect_grep "$c: and its JSON twin" \
                "\"verdict\":\"$action\",\"reason\":\"internal-error\".*\"stage\":\"$stage\",\"answered\":\"$answered\"" "$MILTER_AUDIT"
            expect_eq "$c: no other audit line for the transaction" \
                "$(grep "user=$SASL_USER, " "$MILTER_LOG" | grep -vc 'reason=internal-error')" 0
            if [ "$action" = tempfail ] && [ "$answered" = mail ]; then
                expect_grep "$c: MAIL gets 4xx" '^<[-~*]+ +4[0-9][0-9] ' "$WORK/$c.swaks"
                expect_no_grep "$c: never reached DATA" '^<[-~] +354 ' "$WORK/$c.swaks"
            elif [ "$action" = tempfail ]; then
                expect_grep "$c: DATA reached" '^<[-~] +354 ' "$WORK/$c.swaks"
                expect_grep "$c: the end of DATA gets 4xx" '^<[-~*]+ +4[0-9][0-9] ' "$WORK/$c.swaks"
                expect_no_grep "$c: no message accepted" '^<[-~] +250 .*queued' "$WORK/$c.swaks"
            else
                expect_grep "$c: accepted" '^<[-~] +250 .*(queued|Ok)' "$WORK/$c.swaks"
                if mta_wait_delivery $((before + 1)) 20 && f=$(message_for "$c"); then
                    expect_eq "$c: delivered, without the milter's trace field" "$(milter_fields "$f")" 0
                else
                    fail "$c: not delivered"
                fi
            fi
        fi
        check "$c: milter still running" kill -0 "$MILTER_PID"
        milter_down
        if [ "$action" = tempfail ] && [ "$answered" != - ]; then
            sleep 0.5
            expect_eq "$c: nothing delivered" "$(count_case "$c")" 0
        fi
    done
done

mta_stop
t=${EPOCHREALTIME/./}; t0=${T0/./}
log "test_faults: $(((t - t0) / 1000000)) s"
finish
