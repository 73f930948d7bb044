# policy_cases.sh — the submission-policy suite (RFC 8314 §4.1, RFC 8997),
# run unchanged against any MTA adapter.  Sourced after common.sh, one
# adapter and cases.sh (for start_milter, send, message_for).
#
# What it proves on real sessions: cleartext AUTH is refused at MAIL with the
# configured reply; an unauthenticated MAIL over cleartext gets the very same
# reply, byte for byte; TLS below the minimum is refused; report mode lets
# mail through and logs would-reject; an exception lets one user through
# until it expires; tempfail answers 4xx and the client's retry goes through
# once it uses TLS; TLS 1.1 passes when the minimum is lowered to it; the
# relay listener is left alone; SIGUSR1 switches the policy for new
# connections while a connection already open keeps the one it started with,
# and a broken new file leaves the running policy in place.  Refused
# transactions are never delivered.

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

# expect_audit NAME USER GLOB — the last audit line for USER matches GLOB.
expect_audit() {
    local line
    line=$(audit_for "$2")
    # shellcheck disable=SC2053
    if [[ $line == $3 ]]; then pass "$1"; else fail "$1: audit line: '$line', want '$3'"; fi
}

# A hand-driven cleartext SMTP session on one descriptor, for a connection
# that must stay open across a reload.  Transcript in $WORK/NAME.smtp.
SMTP_FD=
SMTP_LOG=
# smtp_reply — read one (multi-line) reply; print its last line.
smtp_reply() {
    local line
    while IFS= read -r -t 20 line <&"$SMTP_FD"; do
        line=${line%$'\r'}
        printf '<- %s\n' "$line" >> "$SMTP_LOG"
        case "$line" in [0-9][0-9][0-9]-*) continue ;; esac
        printf '%s\n' "$line"
        return 0
    done
    printf '<- (no reply)\n' >> "$SMTP_LOG"
    return 1
}
# smtp_open NAME PORT — connect and read the greeting.
smtp_open() {
    SMTP_LOG="$WORK/$1.smtp"
    : > "$SMTP_LOG"
    exec {SMTP_FD}<>"/dev/tcp/127.0.0.1/$2" || return 1
    smtp_reply > /dev/null
}
# smtp_cmd LINE — send LINE, print the reply's last line.
smtp_cmd() {
    printf -- '-> %s\n' "$1" >> "$SMTP_LOG"
    printf '%s\r\n' "$1" >&"$SMTP_FD"
    smtp_reply
}
smtp_close() {
    smtp_cmd QUIT > /dev/null
    exec {SMTP_FD}>&-
    SMTP_FD=
}

# delivered NAME — 0 when a message with X-Case NAME was delivered.
delivered() { message_for "$1" > /dev/null; }

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
    expect_audit "STARTTLS + AUTH: audit verdict accept" "$SASL_USER" "*tls=TLSv1.[23], cipher=TLS_*verdict=accept"

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
    expect_audit "tempfail: audit verdict tempfail" "$SASL_USER" "*tls=none,*verdict=tempfail, reason=cleartext*cleartext_auth=yes"
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
    expect_audit "custom reply: audit verdict reject" "$SASL_USER" "*verdict=reject, reason=cleartext*"

    # 10. A good reload: a connection opened under the old policy keeps it,
    # the next connection follows the new one.
    local plain r_old
    plain=$(printf '\0%s\0%s' "$SASL_USER" "$SASL_PASS" | base64 -w0)
    if smtp_open p_open_old "$PORT_SUB"; then
        smtp_cmd "EHLO client.example.test" > /dev/null
        r_old=$(smtp_cmd "AUTH PLAIN $plain")
        case "$r_old" in 235*) pass "open session: cleartext AUTH accepted by the MTA" ;;
            *) fail "open session: AUTH got '$r_old'" ;; esac
        reload_milter "action = report" || fail "reload to report mode (open session) not logged"
        send p_new_after_reload --port "$PORT_SUB" $(auth_args "$SASL_USER" "$SASL_PASS")
        expect_grep "reload: the next connection follows the new policy (delivered)" \
            '^<[-~] +250 .*(queued|accepted|OK|Ok)' "$WORK/p_new_after_reload.swaks"
        expect_audit "reload: the next connection's audit verdict would-reject" "$SASL_USER" \
            "*verdict=would-reject, reason=cleartext*"
        r_old=$(smtp_cmd "MAIL FROM:<sender@example.test>")
        expect_eq "reload: the connection opened before it keeps the old policy" \
            "$r_old" "530 5.7.0 Use TLS, see https://help.example.test/tls"
        expect_audit "reload: the open connection's audit verdict reject" "$SASL_USER" \
            "*verdict=reject, reason=cleartext*"
        smtp_close
    else
        fail "open session: cannot connect to port $PORT_SUB"
    fi

    # 11. tempfail is a temporary refusal: the session stays open, nothing is
    # delivered, and the client's retry over STARTTLS goes through.
    reload_milter "action = tempfail" || fail "reload to tempfail not logged"
    send p_tempfail2 --port "$PORT_SUB" $(auth_args "$SASL_USER" "$SASL_PASS")
    case "$(mail_reply p_tempfail2)" in
        4[0-9][0-9]" 4."*) pass "tempfail: 4xx at MAIL" ;;
        *) fail "tempfail: reply '$(mail_reply p_tempfail2)'" ;;
    esac
    expect_grep "tempfail: session still open (QUIT answered 221)" '^<[-~]* *221 ' "$WORK/p_tempfail2.swaks"
    send p_tempfail2_retry --port "$PORT_SUB" --tls $(auth_args "$SASL_USER" "$SASL_PASS")
    expect_grep "tempfail: the retry over STARTTLS is accepted" \
        '^<[-~] +250 .*(queued|accepted|OK|Ok)' "$WORK/p_tempfail2_retry.swaks"
    expect_audit "tempfail: the retry's audit verdict accept" "$SASL_USER" "*tls=TLSv1.[23],*verdict=accept"

    # 12. TLS 1.1 passes when the listener's minimum is lowered to it.
    reload_milter "min_tls_version = TLSv1.1" || fail "reload to min_tls_version TLSv1.1 not logged"
    send p_tls11_ok --port "$PORT_SUB" --tls --tls-protocol tlsv1_1 --tls-cipher 'DEFAULT:@SECLEVEL=0' \
        $(auth_args "$SASL_USER2" "$SASL_PASS2")
    if grep -q 'TLS started with cipher TLSv1.1' "$WORK/p_tls11_ok.swaks"; then
        expect_grep "TLS 1.1 under min_tls_version = TLSv1.1: accepted" \
            '^<[-~] +250 .*(queued|accepted|OK|Ok)' "$WORK/p_tls11_ok.swaks"
        line=$(audit_for "$SASL_USER2")
        case "$line" in
            *"tls=TLSv1.1,"*"verdict=accept"*) pass "TLS 1.1 under TLSv1.1: audit verdict accept" ;;
            *) fail "TLS 1.1 under TLSv1.1: audit line: $line" ;;
        esac
    else
        fail "TLS 1.1 (lowered minimum): could not negotiate TLS 1.1"; sed 's/^/    | /' "$WORK/p_tls11_ok.swaks" | head -30
    fi

    # 13. The relay listener is untouched: cleartext mail passes, no refusal.
    reload_milter || fail "reload to the defaults not logged"
    send p_relay --port "$PORT_SMTP"
    expect_grep "relay listener: cleartext mail accepted" \
        '^<[-~] +250 .*(queued|accepted|OK|Ok)' "$WORK/p_relay.swaks"
    expect_no_grep "relay listener: no refusal logged" 'listener=relay/[0-9]+, verdict=(reject|tempfail|would-reject)' "$MILTER_LOG"

    # 14. What was delivered and what was not.  Deliveries arrive in order,
    # so once the last accepted message is in, a refused one would be too.
    local c accepted=(p_tls_ok p_report p_exempt p_new_after_reload p_tempfail2_retry p_tls11_ok p_relay)
    mta_wait_delivery "${#accepted[@]}" 30 || fail "deliveries: fewer than ${#accepted[@]} messages arrived"
    for c in "${accepted[@]}"; do
        check "delivered: $c" delivered "$c"
    done
    for c in p_clear_auth p_clear_noauth p_tls11 p_tempfail p_expired p_after_bad p_reply p_tempfail2; do
        if delivered "$c"; then fail "not delivered: $c (a refused transaction was delivered)"; else pass "not delivered: $c"; fi
    done

    expect_no_grep "milter log: no internal errors" 'internal error' "$MILTER_LOG"
}

# run_unknown_listener_cases — an MTA that passes no {daemon_port}: its own
# macro lists (Postfix's default connect list lacks it) and no
# smfi_setsymlist.  Postfix 3.7 honours smfi_setsymlist at every
# milter_protocol, so the milter is restarted as the test build acting as
# if it were not offered (RFC8314_MILTER_TEST_NO_SETSYMLIST=1); the macros
# that arrive are then Postfix's own.  The suite's [listener] sections match
# by port, so no listener can be told.  Authentication is submission
# whatever the port: a cleartext AUTH is still refused; an unauthenticated
# cleartext session is relay and passes.  The milter says at negotiation
# which macros to add and warns (once) that the listener is unknown.
run_unknown_listener_cases() {
    local want="530 5.7.0 Encryption required: enable SSL/TLS (or STARTTLS) with TLS 1.2 or newer in your mail program"
    local f before
    stop_milter
    MILTER_BIN="$BUILD_ABS/rfc8314-milter-test" MILTER_ENV=RFC8314_MILTER_TEST_NO_SETSYMLIST=1 start_milter ||
        { fail "unknown listener: the test build of the milter did not start"; return; }
    before=$(mta_messages | grep -c .)

    send u_clear_auth --port "$PORT_SUB" $(auth_args "$SASL_USER" "$SASL_PASS")
    expect_eq "unknown listener: cleartext AUTH still refused" "$(mail_reply u_clear_auth)" "$want"
    expect_audit "unknown listener: audit line names it and the reason" "$SASL_USER" \
        "*listener=unknown, verdict=reject, reason=cleartext*"

    send u_clear_noauth --port "$PORT_SUB"
    expect_grep "unknown listener: unauthenticated cleartext is relay, accepted" \
        '^<[-~] +250 .*(queued|accepted|OK|Ok)' "$WORK/u_clear_noauth.swaks"

    send u_tls_auth --port "$PORT_SUB" --tls $(auth_args "$SASL_USER" "$SASL_PASS")
    expect_grep "unknown listener: AUTH over TLS accepted" \
        '^<[-~] +250 .*(queued|accepted|OK|Ok)' "$WORK/u_tls_auth.swaks"
    expect_audit "unknown listener: TLS audit verdict accept" "$SASL_USER" \
        "*tls=TLSv1.[23],*listener=unknown, verdict=accept*"

    expect_grep "unknown listener: negotiation names the macros per stage" \
        'error="the MTA does not offer smfi_setsymlist.*Postfix: add to milter_connect_macros \(j \{daemon_name\} \{daemon_addr\} \{daemon_port\}' "$MILTER_LOG"
    expect_eq "unknown listener: that error is rate-limited" \
        "$(grep -c 'does not offer smfi_setsymlist' "$MILTER_LOG")" 1
    expect_grep "unknown listener: a warning names the missing macro and the fix" \
        'warning="the MTA passed no \{daemon_port\}.*fix="add \{daemon_port\} to the MTA.s connect macros \(Postfix milter_connect_macros' "$MILTER_LOG"
    expect_eq "unknown listener: the warning is rate-limited" \
        "$(grep -c 'passed no {daemon_port}' "$MILTER_LOG")" 1

    mta_wait_delivery $((before + 2)) 30 || fail "unknown listener: fewer than 2 messages arrived"
    check "unknown listener: delivered: u_clear_noauth" delivered u_clear_noauth
    check "unknown listener: delivered: u_tls_auth" delivered u_tls_auth
    if delivered u_clear_auth; then fail "unknown listener: the refused transaction was delivered"; else
        pass "unknown listener: not delivered: u_clear_auth"; fi
    if f=$(message_for u_tls_auth); then
        expect_eq "unknown listener: the TLS message carries the milter's trace field" \
            "$(received_fields "$f" | grep -c 'by milter\.example\.test')" 1
    fi
}

# run_null_cipher_case — Postfix only (Sendmail's cipher list leaves NULL
# suites out): a client that negotiates NULL-SHA256 has a cipher of 0 bits,
# a real value, not an unknown one: refused under min_cipher_bits with
# bits=0, and group=none (RSA key transport uses no group).  swaks gives up
# on a 0-bit cipher, so openssl s_client carries the session.
run_null_cipher_case() {
    local want="530 5.7.0 Encryption required: enable SSL/TLS (or STARTTLS) with TLS 1.2 or newer in your mail program"
    local plain out="$WORK/p_null.smtp"
    plain=$(printf '\0%s\0%s' "$SASL_USER2" "$SASL_PASS2" | base64 -w0)
    {
        sleep 1
        printf 'EHLO client.example.test\n'; sleep 0.5
        printf 'AUTH PLAIN %s\n' "$plain"; sleep 0.5
        printf 'MAIL FROM:<sender@example.test>\n'; sleep 1
        printf 'QUIT\n'; sleep 0.5
    } | timeout 20 openssl s_client -starttls smtp -connect "127.0.0.1:$PORT_SUB" -tls1_2 \
        -cipher 'NULL-SHA256:@SECLEVEL=0' -crlf -quiet -ign_eof > "$out" 2>&1
    if grep -q '^235 ' "$out"; then
        if tr -d '\r' < "$out" | grep -qxF -- "$want"; then pass "NULL-SHA256 + AUTH: refused at MAIL"
        else fail "NULL-SHA256 + AUTH: no '$want' in $out"; fi
        expect_audit "NULL-SHA256: 0 bits is a value, the reason cipher-bits" "$SASL_USER2" \
            "*tls=TLSv1.2, cipher=TLS_RSA_WITH_NULL_SHA256, group=none, bits=0, *verdict=reject, reason=cipher-bits"
        expect_grep "NULL-SHA256: the MTA itself says 0 bits" \
            'TLS connection established .* with cipher NULL-SHA256 \(0/0 bits\)' "$(mta_log)"
    else
        fail "NULL-SHA256: no AUTH over the NULL cipher:"; sed 's/^/    | /' "$out" | head -30
    fi
}
