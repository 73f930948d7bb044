# deprecation_cases.sh — the deprecation tools of issue 16 on a real MTA, run
# unchanged against any adapter.  Sourced after common.sh, one adapter started
# with PORT_LEGACY set, cases.sh and policy_cases.sh (for reload_milter,
# mail_reply, audit_for, delivered).
#
# What it proves on real sessions:
#   - a network exception (127.0.0.0/8, the suite's clients) exempts a
#     cleartext transaction on the main port with and without AUTH, while no
#     user entry exists; the audit line and JSON name the entry; -t agrees;
#   - the legacy listener recipe (README): the main port refuses a TLS 1.1
#     client and a cleartext AUTH; the legacy port, with its weaker minimum
#     and action = report, lets the same clients through (accept,
#     would-reject), and its trace field hides the client (trace_client =
#     hidden) while the audit line keeps it; that field parses with the
#     project's check-received and with an independent RFC 5321 reading
#     (rfc5321_stamp.py);
#   - the legacy listener's own exceptions file holds there only.

DEPRECATION_PY="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/rfc5321_stamp.py"

run_deprecation_cases() {
    local want="530 5.7.0 Encryption required: enable SSL/TLS (or STARTTLS) with TLS 1.2 or newer in your mail program"
    local line before out f field ok='^<[-~] +250 .*(queued|accepted|OK|Ok)'
    [ -n "${PORT_LEGACY:-}" ] || { fail "deprecation: the adapter was set up without PORT_LEGACY"; return; }
    before=$(mta_messages | grep -c .)

    # 1. A network exception, no user entry: exempt whatever the credentials.
    printf '# devices\n127.0.0.0/8 until 2099-12-31  # the suite'"'"'s clients\n' > "$WORK/exceptions"
    reload_milter "action = reject" "@exceptions" || fail "deprecation: reload with a network exception not logged"
    send d_net_noauth --port "$PORT_SUB"
    expect_grep "network exception: cleartext without AUTH delivered" "$ok" "$WORK/d_net_noauth.swaks"
    expect_grep "network exception: audit line names the network" \
        'user=none, mech=none, tls=none.*client=[^,]*\[127\.0\.0\.1\]:[0-9]+, listener=submission/[0-9]+, verdict=exempt, reason=cleartext, exception=127\.0\.0\.0/8, exempt_until=2099-12-31' \
        "$MILTER_LOG"
    send d_net_auth --port "$PORT_SUB" $(auth_args "$SASL_USER" "$SASL_PASS")
    expect_grep "network exception: cleartext AUTH delivered, no user entry" "$ok" "$WORK/d_net_auth.swaks"
    expect_audit "network exception: the authenticated user is exempt by the network" "$SASL_USER" \
        "*verdict=exempt, reason=cleartext, exception=127.0.0.0/8, exempt_until=2099-12-31, cleartext_auth=yes"
    expect_grep "network exception: JSON names the entry" \
        '"client_addr":"127\.0\.0\.1".*"verdict":"exempt".*"exception":"127\.0\.0\.0/8"' "$MILTER_AUDIT"
    # -t with the running configuration agrees, and a client outside is refused.
    out=$("$MILTER_BIN" -t -c "$MILTER_CONF" --macro "{daemon_port}=$PORT_SUB" --macro '{client_addr}=127.0.0.1' 2>&1)
    printf '%s\n' "$out" > "$WORK/d_t_inside.out"
    expect_grep "-t: a client inside is exempt, the entry named" \
        'verdict=exempt, reason=cleartext, exception=127\.0\.0\.0/8' "$WORK/d_t_inside.out"
    out=$("$MILTER_BIN" -t -c "$MILTER_CONF" --macro "{daemon_port}=$PORT_SUB" --macro '{client_addr}=IPv6:2001:db8::1' 2>&1)
    printf '%s\n' "$out" > "$WORK/d_t_outside.out"
    expect_grep "-t: a client outside (Postfix's IPv6: form) is refused" \
        "^verdict at MAIL: reject reply: 530 5.7.0" "$WORK/d_t_outside.out"

    # 2. The legacy listener recipe: the main port refuses, the legacy port
    # (weaker minimum, report, hidden client, its own exceptions file) lets
    # the same clients through.
    printf '# legacy devices\n192.0.2.0/24  # not the suite'"'"'s clients\n' > "$WORK/legacy-exceptions"
    MILTER_CONF_SECTIONS="[listener legacy]
port = $PORT_LEGACY
role = submission
min_tls_version = TLSv1.0
action = report
trace_client = hidden
exceptions_file = $WORK/legacy-exceptions"
    reload_milter "action = reject" || fail "deprecation: reload with the legacy listener not logged"
    # Each audit check right after its session: audit_for reads the user's
    # last line.
    send d_main_tls11 --port "$PORT_SUB" --tls --tls-protocol tlsv1_1 --tls-cipher 'DEFAULT:@SECLEVEL=0' \
        $(auth_args "$SASL_USER2" "$SASL_PASS2")
    if grep -q 'TLS started with cipher TLSv1.1' "$WORK/d_main_tls11.swaks"; then
        expect_eq "legacy recipe: TLS 1.1 refused on the main port" "$(mail_reply d_main_tls11)" "$want"
        expect_audit "legacy recipe: main port audit reject, tls-version" "$SASL_USER2" \
            "*tls=TLSv1.1,*listener=submission/$PORT_SUB, verdict=reject, reason=tls-version*"
    else
        fail "legacy recipe: could not negotiate TLS 1.1 on the main port"
        sed 's/^/    | /' "$WORK/d_main_tls11.swaks" | head -30
    fi
    send d_legacy_tls11 --port "$PORT_LEGACY" --tls --tls-protocol tlsv1_1 --tls-cipher 'DEFAULT:@SECLEVEL=0' \
        $(auth_args "$SASL_USER2" "$SASL_PASS2")
    if grep -q 'TLS started with cipher TLSv1.1' "$WORK/d_legacy_tls11.swaks"; then
        expect_grep "legacy recipe: the same TLS 1.1 client delivered on the legacy port" "$ok" "$WORK/d_legacy_tls11.swaks"
        expect_audit "legacy recipe: legacy port audit accept under its own minimum, client kept" "$SASL_USER2" \
            "*tls=TLSv1.1,*client=*\\[127.0.0.1\\]:*, listener=legacy/$PORT_LEGACY, verdict=accept*"
    else
        fail "legacy recipe: could not negotiate TLS 1.1 on the legacy port"
        sed 's/^/    | /' "$WORK/d_legacy_tls11.swaks" | head -30
    fi
    send d_main_clear --port "$PORT_SUB" $(auth_args "$SASL_USER" "$SASL_PASS")
    expect_eq "legacy recipe: cleartext AUTH refused on the main port" "$(mail_reply d_main_clear)" "$want"
    send d_legacy_clear --port "$PORT_LEGACY" $(auth_args "$SASL_USER" "$SASL_PASS")
    expect_grep "legacy recipe: the same cleartext AUTH delivered on the legacy port" "$ok" "$WORK/d_legacy_clear.swaks"
    expect_audit "legacy recipe: legacy port audit would-reject, cleartext" "$SASL_USER" \
        "*listener=legacy/$PORT_LEGACY, verdict=would-reject, reason=cleartext*"

    # 3. The legacy listener's own exceptions file: a device entry there
    # exempts on the legacy port only.
    printf '# legacy devices\n127.0.0.1  # the suite'"'"'s device\n' > "$WORK/legacy-exceptions"
    reload_milter "action = reject" || fail "deprecation: reload with a legacy device entry not logged"
    send d_legacy_exempt --port "$PORT_LEGACY"
    expect_grep "legacy exceptions: cleartext device delivered on the legacy port" "$ok" "$WORK/d_legacy_exempt.swaks"
    expect_grep "legacy exceptions: audit exempt by the legacy file's entry" \
        "user=none, mech=none, tls=none.*listener=legacy/$PORT_LEGACY, verdict=exempt, reason=cleartext, exception=127\\.0\\.0\\.1/32" \
        "$MILTER_LOG"
    send d_main_noexc --port "$PORT_SUB"
    expect_eq "legacy exceptions: the entry does not hold on the main port" "$(mail_reply d_main_noexc)" "$want"

    # 4. What was delivered; the hidden trace field.
    mta_wait_delivery $((before + 5)) 30 || fail "deprecation: fewer than 5 messages arrived"
    for f in d_net_noauth d_net_auth d_legacy_tls11 d_legacy_clear d_legacy_exempt; do
        check "deprecation: delivered: $f" delivered "$f"
    done
    for f in d_main_tls11 d_main_clear d_main_noexc; do
        if delivered "$f"; then fail "deprecation: not delivered: $f (a refused transaction was delivered)"
        else pass "deprecation: not delivered: $f"; fi
    done
    if f=$(message_for d_legacy_tls11); then
        field=$(received_fields "$f" | grep ' tls ')
        printf '%s\n' "$field" > "$WORK/d_hidden_field.txt"
        case "$field" in
            "Received: from hidden.invalid by milter.example.test with ESMTPSA id "*) pass "trace_client = hidden: the field reads 'from hidden.invalid by ...'" ;;
            *) fail "trace_client = hidden: field: $field" ;;
        esac
        case "$field" in
            *127.0.0.1* | *client.example.test* | *"["*) fail "trace_client = hidden: the field names the client: $field" ;;
            *) pass "trace_client = hidden: no client address, name or HELO in the field" ;;
        esac
        expect_received_valid d_legacy_tls11 "$f"
        if python3 "$DEPRECATION_PY" --hidden < "$f" > "$WORK/d_hidden_rfc5321.out" 2>&1; then
            pass "trace_client = hidden: an independent RFC 5321 reading accepts the field"
        else
            fail "trace_client = hidden: rfc5321_stamp.py:"; sed 's/^/    | /' "$WORK/d_hidden_rfc5321.out"
        fi
    fi

    # Back to the suite's defaults for the cases that follow.
    MILTER_CONF_SECTIONS=
    reload_milter || fail "deprecation: reload to the defaults not logged"
    expect_no_grep "deprecation: milter log: no internal errors" 'internal error' "$MILTER_LOG"
}
