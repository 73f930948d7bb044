# policy_cases.sh — the submission-policy suite (RFC 8314 §4.1, RFC 8997),
# run unchanged against any MTA adapter.  Sourced after common.sh, one
# adapter and cases.sh (for start_milter, send, message_for).
#
# What it proves on real sessions: cleartext AUTH is refused at MAIL with the
# configured reply; an unauthenticated MAIL over cleartext gets the very same
# reply, byte for byte; TLS below the minimum is refused; report mode lets
# mail through and logs would-reject; an exception lets one user through
# until it expires; tempfail answers 4xx; SIGUSR1 switches policy for new connections, and a
# broken new file leaves the running policy in place.

# mail_reply NAME — the server's reply line to MAIL FROM in transcript NAME.
mail_reply() {
    awk '/^ *[~-]> MAIL FROM:/ {getline; print; exit}' "$WORK/$1.swaks" |
        sed -e 's/^ *<[*~-]* *//' -e 's/\r$//'
}

# audit_for USER — the last audit line for USER in the milter log.
audit_for() { grep -E "user=$1[@,]" "$MILTER_LOG" | tail -n 1; }

# reload_milter — rewrite the config from the current listener extras and
# send SIGUSR1; wait for the milter to log the outcome.
reload_milter() {
    local before done_re='event=reload, status=(ok|failed)'
    before=$(grep -Ec "$done_re" "$MILTER_LOG")
    write_milter_conf "$@"
    kill -USR1 "$MILTER_PID"
    local i
    for ((i = 0; i < 50; i++)); do
        [ "$(grep -Ec "$done_re" "$MILTER_LOG")" -gt "$before" ] && return 0
        sleep 0.1
    done
    return 1
}

auth_args() { echo --auth PLAIN --auth-user "$1" --auth-password "$2"; }

run_policy_cases() {
    local want r1 r2 line

    # 1. Built-in defaults: reject authenticated submission over cleartext.
    send p_clear_auth --port "$PORT_SUB" $(auth_args "$SASL_USER" "$SASL_PASS")
    r1=$(mail_reply p_clear_auth)
    want="530 5.7.0 Encryption required: enable SSL/TLS (or STARTTLS) with TLS 1.2 or newer in your mail program"
    expect_eq "cleartext AUTH: refused at MAIL with the default reply" "$r1" "$want"
    line=$(audit_for "$SASL_USER")
    case "$line" in
        *"tls=none, cipher=none"*"verdict=reject, reason=cleartext"*"cleartext_auth=yes"*)
            pass "cleartext AUTH: audit line says reject, cleartext, cleartext_auth=yes" ;;
        *) fail "cleartext AUTH: audit line: $line" ;;
    esac
    expect_grep "cleartext AUTH: warning names the MTA setting" \
        'warning=.*smtpd_tls_auth_only.*AuthOptions=p' "$MILTER_LOG"

    # 2. Identical denial: no credentials at all, same listener, same reply.
    send p_clear_noauth --port "$PORT_SUB"
    r2=$(mail_reply p_clear_noauth)
    expect_eq "cleartext without AUTH: byte-identical reply" "$r2" "$r1"
    if [ -n "$r1" ] && cmp -s <(printf '%s' "$r1") <(printf '%s' "$r2"); then
        pass "identical denial: cmp of both reply lines"
    else
        fail "identical denial: replies differ or are empty"
    fi
    expect_grep "cleartext without AUTH: audit line for the refusal" \
        'user=none, mech=none, tls=none.*verdict=reject, reason=cleartext' "$MILTER_LOG"

    # 3. TLS is fine: the same user over STARTTLS is accepted.
    send p_tls_ok --port "$PORT_SUB" --tls $(auth_args "$SASL_USER" "$SASL_PASS")
    expect_grep "STARTTLS + AUTH: accepted" '^<[-~] +250 .*(queued|accepted|OK|Ok)' "$WORK/p_tls_ok.swaks"

    # 4. TLS 1.1 is below the RFC 8997 minimum.
    send p_tls11 --port "$PORT_SUB" --tls --tls-protocol tlsv1_1 --tls-cipher 'DEFAULT:@SECLEVEL=0' \
        $(auth_args "$SASL_USER2" "$SASL_PASS2")
    if grep -q 'TLS started with cipher TLSv1.1' "$WORK/p_tls11.swaks"; then
        expect_eq "TLS 1.1 + AUTH: refused" "$(mail_reply p_tls11)" "$want"
        line=$(audit_for "$SASL_USER2")
        case "$line" in
            *"tls=TLSv1.1,"*"verdict=reject, reason=tls-version"*) pass "TLS 1.1: audit reason tls-version" ;;
            *) fail "TLS 1.1: audit line: $line" ;;
        esac
    else
        fail "TLS 1.1: could not negotiate TLS 1.1 with the MTA"; sed 's/^/    | /' "$WORK/p_tls11.swaks" | head -30
    fi

    # 5. Report mode (reload): cleartext AUTH goes through, logged would-reject.
    reload_milter "action = report" || fail "reload to report mode not logged"
    send p_report --port "$PORT_SUB" $(auth_args "$SASL_USER" "$SASL_PASS")
    expect_grep "report mode: cleartext AUTH delivered" '^<[-~] +250 .*(queued|accepted|OK|Ok)' "$WORK/p_report.swaks"
    line=$(audit_for "$SASL_USER")
    case "$line" in
        *"verdict=would-reject, reason=cleartext"*) pass "report mode: audit verdict would-reject" ;;
        *) fail "report mode: audit line: $line" ;;
    esac

    # 6. tempfail: 451 4.7.0 with the same text.
    reload_milter "action = tempfail" || fail "reload to tempfail not logged"
    send p_tempfail --port "$PORT_SUB" $(auth_args "$SASL_USER" "$SASL_PASS")
    expect_eq "tempfail: 451 4.7.0 reply" "$(mail_reply p_tempfail)" \
        "451 4.7.0 Encryption required: enable SSL/TLS (or STARTTLS) with TLS 1.2 or newer in your mail program"

    # 7. An exception lets one user through until it expires; an expired one does not.
    # The MTA may qualify the name (Postfix: user@realm): match both forms.
    {
        echo "# test exceptions"
        echo "$SASL_USER2 until 2099-12-31  # old phone"
        echo "$SASL_USER2@example.test until 2099-12-31"
        echo "$SASL_USER until 2001-01-01"
        echo "$SASL_USER@example.test until 2001-01-01"
    } > "$WORK/exceptions"
    reload_milter "action = reject" "@exceptions" || fail "reload with exceptions not logged"
    expect_grep "exceptions: expired entries reported at load with file and line" \
        'exceptions:[0-9]+.*expired' "$MILTER_LOG"
    send p_exempt --port "$PORT_SUB" $(auth_args "$SASL_USER2" "$SASL_PASS2")
    expect_grep "exception: legacy user delivered over cleartext" '^<[-~] +250 .*(queued|accepted|OK|Ok)' "$WORK/p_exempt.swaks"
    line=$(audit_for "$SASL_USER2")
    case "$line" in
        *"verdict=exempt, reason=cleartext"*"exempt_until=2099-12-31"*) pass "exception: audit verdict exempt until 2099-12-31" ;;
        *) fail "exception: audit line: $line" ;;
    esac
    send p_expired --port "$PORT_SUB" $(auth_args "$SASL_USER" "$SASL_PASS")
    expect_eq "expired exception: refused" "$(mail_reply p_expired)" "$want"

    # 8. A broken new file is refused; the running policy stays.
    reload_milter "action = sometimes" || fail "reload of a broken file not logged"
    expect_grep "broken reload: error names file, line and key" \
        'event=reload, status=error, .*milter.conf:[0-9]+: action' "$MILTER_LOG"
    expect_grep "broken reload: running configuration kept" 'event=reload, status=failed' "$MILTER_LOG"
    send p_after_bad --port "$PORT_SUB" $(auth_args "$SASL_USER" "$SASL_PASS")
    expect_eq "broken reload: still rejecting" "$(mail_reply p_after_bad)" "$want"

    # 9. A custom reply with a help URL.
    reload_milter "reply = 530 5.7.0 Use TLS, see https://help.example.test/tls" || fail "reload reply"
    send p_reply --port "$PORT_SUB" $(auth_args "$SASL_USER" "$SASL_PASS")
    expect_eq "custom reply" "$(mail_reply p_reply)" "530 5.7.0 Use TLS, see https://help.example.test/tls"

    expect_no_grep "milter log: no internal errors" 'internal error' "$MILTER_LOG"
}
