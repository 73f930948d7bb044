#!/bin/bash
# test_rspamd.sh — the built milter beside rspamd's milter (a private rspamd
# 3.4: proxy worker in milter mode, minimal configuration, loopback only,
# no Redis) in a real private Postfix, then in the full chain of a
# submission host: rspamd, OpenDKIM, this filter.
#
# What it proves, on delivered messages and the daemons' own logs:
#   1. smtpd_milters = this filter, rspamd.  A TLS + AUTH message carrying
#      a client's forged X-Spam and X-Spam-Status: rspamd's header edits are
#      applied (both removed, its own X-Spam-Status, X-Rspamd-Queue-Id with
#      the queue id and its other X- fields at the end, Authentication-Results
#      inserted below this filter's field) and this filter's trace field is
#      intact: exactly one, topmost, the MTA's own Received the next
#      Received, IANA cipher, valid syntax.  rspamd's verdict is honoured: a GTUBE
#      message gets rspamd's 554 and is not delivered.  This filter's
#      verdict is honoured: a cleartext AUTH gets its 530, is not delivered
#      and never reaches rspamd's scanner.  One audit line per transaction,
#      the GTUBE one included (this filter's verdict: accept).
#   2. smtpd_milters = rspamd, OpenDKIM, this filter (the README's order):
#      the message is scanned, signed and traced; the signature verifies
#      after rspamd's edits; the trace field is topmost, the signature next,
#      Authentication-Results right below the MTA's own Received.  A GTUBE message
#      is refused by rspamd before anything is signed; a cleartext AUTH is
#      refused by this filter before anything is scanned or signed; one
#      audit line each.
# Every daemon is stopped by its own pid.  Fails, never skips, when Postfix,
# rspamd, OpenDKIM or the milter cannot be started.
. "$(dirname "$0")/common.sh"
PORT_SMTP=13425 PORT_SUB=13987 PORT_SUBS=13865
. "$(dirname "$0")/mta-postfix.sh"
. "$(dirname "$0")/cases.sh"
. "$(dirname "$0")/milters.sh"
. "$(dirname "$0")/chain.sh"

new_workdir rspamd
MILTER_PORT=13401 DKIM_PORT=13402 RSPAMD_PORT=13403
GTUBE='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'

# audits — audit lines of authenticated transactions so far.
audits() { grep -c "user=$SASL_USER, mech=" "$MILTER_LOG"; }
# scans — messages rspamd has scanned so far.
scans() { grep -c 'rspamd_task_write_log:' "$RSPAMD_LOG"; }

# rejects — GTUBE rejections rspamd has logged so far.
rejects() { grep -c '(default: S (reject): .*GTUBE' "$RSPAMD_LOG"; }

# header_count FILE NAME — how many NAME fields the message has.
header_count() { sed '/^\r\{0,1\}$/q' "$1" | grep -ci "^$2:"; }

# gtube NAME ORDER — a GTUBE message over TLS + AUTH: rspamd's refusal,
# nothing delivered, nothing signed, one audit line.
gtube() {
    local name=$1 a s r
    a=$(audits) s=$(dkim_signed_count) r=$(rejects)
    chain_send "$name" --body "$GTUBE"
    expect_grep "$name: rspamd's refusal reaches the client" '^<[*~]\* +554 5\.7\.1 Gtube pattern' "$WORK/$name.swaks"
    expect_eq "$name: rspamd logged one more reject" "$(rejects)" $((r + 1))
    expect_not_delivered "$name"
    expect_eq "$name: nothing signed" "$(dkim_signed_count)" "$s"
    expect_eq "$name: one audit line" "$(audits)" $((a + 1))
    log "  $name: audit line: $(grep "user=$SASL_USER, mech=" "$MILTER_LOG" | tail -n 1)"
}

# cleartext NAME — a cleartext AUTH: this filter's refusal at MAIL, nothing
# scanned, signed or delivered, one audit line.
cleartext() {
    local name=$1 a s n
    a=$(audits) s=$(dkim_signed_count) n=$(scans)
    chain_cleartext "$name"
    expect_eq "$name: rspamd scanned nothing" "$(scans)" "$n"
    expect_eq "$name: nothing signed" "$(dkim_signed_count)" "$s"
    expect_eq "$name: one audit line" "$(audits)" $((a + 1))
    expect_grep "$name: the audit line is the refusal" 'verdict=reject, reason=cleartext, cleartext_auth=yes' \
        <(grep "user=$SASL_USER, mech=" "$MILTER_LOG" | tail -n 1)
}

# below_own FILE — the name of the field right below the MTA's own Received.
below_own() {
    unfolded_header "$1" | awk '
        seen { sub(/:.*/, ""); print; exit }
        /^Received: / && / by mx\.example\.test / { seen = 1 }'
}

# rspamd_edited NAME FILE QID — rspamd's edits are in the delivered message;
# its X- fields at the end of the header, where the README says.
rspamd_edited() {
    local name=$1 f=$2 qid=$3
    expect_eq "$name: rspamd's X- fields at the end of the header" \
        "$(sed '/^\r\{0,1\}$/q' "$f" | grep -E '^[A-Za-z-]+:' | tail -n 5 | sed 's/:.*//' | sort | paste -sd ' ' -)" \
        "X-Rspamd-Action X-Rspamd-Queue-Id X-Rspamd-Server X-Spam-Status X-Spamd-Result"
    expect_eq "$name: the client's X-Spam removed by rspamd" "$(header_count "$f" X-Spam)" 0
    expect_grep "$name: X-Spam-Status is rspamd's, the client's is gone" '^X-Spam-Status: No, score=' "$f"
    expect_eq "$name: one X-Spam-Status" "$(header_count "$f" X-Spam-Status)" 1
    expect_grep "$name: X-Rspamd-Queue-Id is the queue id" "^X-Rspamd-Queue-Id: $qid\$" "$f"
    expect_eq "$name: rspamd's Authentication-Results" "$(header_count "$f" Authentication-Results)" 1
}

# queue_id FILE — the MTA's queue id of a delivered message.
queue_id() {
    received_fields "$1" | sed -n 's/.* by mx\.example\.test .* id \([A-Za-z0-9]*\).*/\1/p' | head -n 1
}

[ -x "$MILTER_BIN" ] || { fail "no milter binary at $MILTER_BIN"; finish; exit 1; }
start_milter || { fail "milter did not start"; finish; exit 1; }
t0=$EPOCHREALTIME
start_rspamd "$RSPAMD_PORT" || { fail "rspamd did not start"; finish; exit 1; }
log "rspamd: pid $RSPAMD_PID up in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')s"
start_opendkim "$DKIM_PORT" || { fail "OpenDKIM did not start"; finish; exit 1; }
MTA_MILTERS_BEFORE='' MTA_MILTERS_AFTER="rspamd=$RSPAMD_PORT" mta_setup "$MILTER_PORT" ||
    { fail "postfix setup"; finish; exit 1; }
mta_start || { fail "postfix did not start"; finish; exit 1; }

# ---- 1. this filter, rspamd ----------------------------------------------------
expect_eq "smtpd_milters: this filter, then rspamd" "$(postconf -c "$PF_CONF" -h smtpd_milters)" \
    "inet:127.0.0.1:$MILTER_PORT,inet:127.0.0.1:$RSPAMD_PORT"
a=$(audits)
chain_send rspamd_ham --header 'X-Spam: yes' --header 'X-Spam-Status: Yes, score=99.0 (forged by the client)'
check_trace rspamd_ham 1
if f=$(message_for rspamd_ham); then
    qid=$(queue_id "$f")
    # rspamd inserts Authentication-Results at index 1: below the topmost
    # field it saw, this filter's.
    expect_eq "rspamd_ham: header order from the top" "$(chain_top "$f")" \
        "Received(milter) Authentication-Results Received(mta)"
    rspamd_edited rspamd_ham "$f" "$qid"
    expect_eq "rspamd_ham: one audit line for $qid" "$(grep -c ": $qid: user=$SASL_USER, .*verdict=accept" "$MILTER_LOG")" 1
fi
expect_eq "rspamd_ham: one audit line in all" "$(audits)" $((a + 1))
gtube rspamd_gtube
expect_grep "rspamd_gtube: this filter's own verdict was accept" 'verdict=accept$' \
    <(grep "user=$SASL_USER, mech=" "$MILTER_LOG" | tail -n 1)
cleartext rspamd_cleartext

# ---- 2. rspamd, OpenDKIM, this filter -------------------------------------------
MTA_MILTERS_BEFORE="rspamd=$RSPAMD_PORT opendkim=$DKIM_PORT" MTA_MILTERS_AFTER='' mta_reload ||
    fail "reload with the full chain"
expect_eq "smtpd_milters: rspamd, OpenDKIM, this filter" "$(postconf -c "$PF_CONF" -h smtpd_milters)" \
    "inet:127.0.0.1:$RSPAMD_PORT,inet:127.0.0.1:$DKIM_PORT,inet:127.0.0.1:$MILTER_PORT"
mta_clear_mail
a=$(audits)
chain_send full_chain --header 'X-Spam: yes'
check_trace full_chain 1
if f=$(message_for full_chain); then
    qid=$(queue_id "$f")
    rspamd_edited full_chain "$f" "$qid"
    expect_eq "full_chain: header order from the top" "$(chain_top "$f")" \
        "Received(milter) DKIM-Signature Received(mta)"
    # rspamd ran first: the topmost field it saw was the MTA's own Received.
    expect_eq "full_chain: Authentication-Results right below the MTA's Received" "$(below_own "$f")" \
        Authentication-Results
    chain_signed full_chain
    expect_grep "full_chain: rspamd scanned $qid" "qid: <$qid>.*\\(default: F \\(no action\\)" "$RSPAMD_LOG"
    log "  full_chain: the delivered header block (rspamd, OpenDKIM, this filter):"
    sed '/^\r\{0,1\}$/q' "$f" | sed 's/^/    | /' >&2
fi
expect_eq "full_chain: one audit line" "$(audits)" $((a + 1))
gtube full_chain_gtube
cleartext full_chain_cleartext

expect_no_grep "milter log: no internal errors" 'internal error' "$MILTER_LOG"
expect_no_grep "postfix: no milter failure" 'milter.*(error|timeout|unavailable)' "$(mta_log)"
mta_stop
stop_rspamd
stop_opendkim
stop_milter
finish
