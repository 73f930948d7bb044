# chain.sh — this filter in a milter chain, against any MTA adapter
# (mta-postfix.sh, mta-sendmail.sh): with a real OpenDKIM signer in both
# orders, and between two milters that insert header fields at index 0.
# Sourced after common.sh, one adapter, cases.sh and milters.sh; the suite
# sets DKIM_PORT, BEFORE_PORT and AFTER_PORT and starts the MTA.
#
# What it proves, on delivered messages and the signer's own log:
#   1. Filter first, signer second, and the reverse: the message is signed
#      once and the signature verifies after delivery (dkimpy, given the
#      public key: no DNS); this filter's trace field is there exactly once,
#      valid, with the IANA cipher, below the DKIM-Signature when the filter
#      comes first and topmost when it comes last; a cleartext AUTH refused
#      by this filter stops the chain: the client gets the filter's 530,
#      nothing is delivered and OpenDKIM signs nothing.
#   2. Why the README recommends the filter after the signer: with a signer
#      told to sign Received fields, the filter-first order breaks the
#      signature (the signer signed this filter's field as the only Received
#      it saw; the verifier, taking the bottom-most Received, gets the MTA's
#      own), while the filter-last order still verifies.
#   3. Header order: a milter inserting X-Chain-Before at index 0 before this
#      filter, one inserting X-Chain-After at index 0 after it: delivered
#      top down X-Chain-After, this filter's field, X-Chain-Before, the MTA's
#      own Received — each index-0 insertion lands above those of the milters
#      before it, as the README says.

DKIM_SIGNS_RECEIVED=("OmitHeaders *,-Received" "SignHeaders *,+Received")

# chain_top FILE — the header names from the top down to the MTA's own
# Received, on one line.
chain_top() { header_names "$1" | paste -sd ' ' -; }

# chain_send NAME [SWAKS ARGS...] — one STARTTLS + AUTH PLAIN submission.
chain_send() {
    local name=$1; shift
    send "$name" --port "$PORT_SUB" --tls --auth PLAIN \
        --auth-user "$SASL_USER" --auth-password "$SASL_PASS" "$@"
}

# chain_wait NAME — the delivered file of NAME, waiting up to 20 s.
chain_wait() {
    local i f
    for ((i = 0; i < 200; i++)); do
        f=$(message_for "$1") && { echo "$f"; return 0; }
        sleep 0.1
    done
    return 1
}

# chain_delivered NAME WANT_TOP — NAME was delivered, signed once by
# OpenDKIM, with the header order WANT_TOP; one valid trace field of ours
# with the IANA name of the cipher the MTA recorded.
chain_delivered() {
    local name=$1 want=$2 f got own ours
    if ! f=$(chain_wait "$name"); then fail "$name: not delivered"; return 1; fi
    got=$(chain_top "$f")
    expect_eq "$name: header order from the top" "$got" "$want"
    ours=$(received_fields "$f" | grep -c ' by milter\.example\.test ' || true)
    expect_eq "$name: this filter's trace field exactly once" "$ours" 1
    own=$(mta_own_cipher "$f")
    expect_grep "$name: tls clause is the IANA name of $own" \
        "tls $(iana_of "$own")[; ]" <(received_fields "$f" | grep ' by milter\.example\.test ')
    expect_received_valid "$name" "$f"
}

# chain_signed NAME — OpenDKIM's log names NAME's queue id once, and the
# signature verifies.
chain_signed() {
    local name=$1 f qid out
    f=$(message_for "$name") || return
    qid=$(received_fields "$f" | sed -n 's/.* by mx\.example\.test .* id \([A-Za-z0-9]*\).*/\1/p' | head -n 1)
    expect_eq "$name: OpenDKIM signed queue id '$qid' once" \
        "$(grep -c "opendkim\\[[0-9]*\\]: $qid: DKIM-Signature field added" "$DKIM_LOG")" 1
    if out=$(dkim_verify "$f"); then
        pass "$name: DKIM signature verifies after delivery ($out)"
    else
        fail "$name: DKIM signature does not verify: $out"
    fi
}

# expect_not_delivered NAME — no message NAME, a second after its client
# was refused (a refused transaction never reaches the queue; the second is
# for a wrongly accepted one to show up).
expect_not_delivered() {
    sleep 1
    if message_for "$1" > /dev/null; then fail "$1: delivered although refused"
    else pass "$1: nothing delivered"; fi
}

# chain_cleartext NAME — a cleartext AUTH PLAIN on the submission port: the
# filter's refusal reaches the client, nothing is delivered.
chain_cleartext() {
    send "$1" --port "$PORT_SUB" --auth PLAIN --auth-user "$SASL_USER" --auth-password "$SASL_PASS"
    expect_grep "$1: the filter's refusal reaches the client" \
        '^<\*\* +530 5\.7\.0 Encryption required' "$WORK/$1.swaks"
    expect_not_delivered "$1"
}

# chain_refused NAME — chain_cleartext, and OpenDKIM signed nothing.
chain_refused() {
    local signed
    signed=$(dkim_signed_count)
    chain_cleartext "$1"
    expect_eq "$1: OpenDKIM signed nothing" "$(dkim_signed_count)" "$signed"
}

# chain_dkim NAME WANT — send NAME and match what the verifier says about
# the delivered message against the glob WANT.
chain_dkim() {
    local name=$1 want=$2 f out
    chain_send "$name"
    if ! f=$(chain_wait "$name"); then fail "$name: not delivered"; return; fi
    out=$(dkim_verify "$f")
    # shellcheck disable=SC2053
    if [[ $out == $want ]]; then pass "$name: the verifier says: $out"
    else fail "$name: want '$want' from the verifier, got: $out"; fi
}

run_chain_cases() {
    local f

    # 1. Filter first, signer second.
    MTA_MILTERS_BEFORE='' MTA_MILTERS_AFTER="opendkim=$DKIM_PORT" mta_reload ||
        { fail "chain: reload with the filter first"; return; }
    chain_send chain_filter_first
    chain_delivered chain_filter_first "DKIM-Signature Received(milter) Received(mta)" &&
        chain_signed chain_filter_first
    chain_refused chain_filter_first_refused

    # 1'. Signer first, filter last (the README's order).
    MTA_MILTERS_BEFORE="opendkim=$DKIM_PORT" MTA_MILTERS_AFTER='' mta_reload ||
        { fail "chain: reload with the signer first"; return; }
    chain_send chain_filter_last
    chain_delivered chain_filter_last "Received(milter) DKIM-Signature Received(mta)" &&
        chain_signed chain_filter_last
    chain_refused chain_filter_last_refused

    # 2. A signer that signs Received fields.
    stop_opendkim
    start_opendkim "$DKIM_PORT" "${DKIM_SIGNS_RECEIVED[@]}" || { fail "chain: OpenDKIM restart"; return; }
    chain_dkim chain_rcvd_filter_last "pass *"
    MTA_MILTERS_BEFORE='' MTA_MILTERS_AFTER="opendkim=$DKIM_PORT" mta_reload ||
        { fail "chain: reload with the filter first"; return; }
    chain_dkim chain_rcvd_filter_first "fail *h=Received:*"

    # 3. Index-0 inserters before and after this filter.
    MTA_MILTERS_BEFORE="before=$BEFORE_PORT" MTA_MILTERS_AFTER="after=$AFTER_PORT" mta_reload ||
        { fail "chain: reload with the header inserters"; return; }
    chain_send chain_header_order
    if f=$(chain_wait chain_header_order); then
        expect_eq "header order: index-0 inserts around this filter" "$(chain_top "$f")" \
            "X-Chain-After Received(milter) X-Chain-Before Received(mta)"
        log "  delivered header block, inserters before and after this filter:"
        sed '/^\r\{0,1\}$/q' "$f" | sed 's/^/    | /' >&2
    else
        fail "chain_header_order: not delivered"
    fi
    expect_no_grep "milter log: no internal errors" 'internal error' "$MILTER_LOG"
}

# start_chain_milters — OpenDKIM and the two inserters for run_chain_cases.
start_chain_milters() {
    start_opendkim "$DKIM_PORT" || return 1
    start_hdrins before "$BEFORE_PORT" X-Chain-Before "inserted at index 0 by a milter before rfc8314-milter" 0 || return 1
    start_hdrins after "$AFTER_PORT" X-Chain-After "inserted at index 0 by a milter after rfc8314-milter" 0
}
