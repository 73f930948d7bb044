# clients.sh — real mail programs against any MTA adapter (mta-postfix.sh,
# mta-sendmail.sh): msmtp (GnuTLS), curl (OpenSSL) and s-nail (OpenSSL)
# submit the way a user's configuration makes them, and the suite asserts on
# what was delivered and on what each program shows its user when the
# policy refuses it.  Sourced after common.sh, one adapter and cases.sh.
#
# What it proves, per program: STARTTLS on the submission port and Implicit
# TLS on the submissions port, each with AUTH PLAIN and with AUTH LOGIN,
# with a TLS 1.3 and a TLS 1.2 session among them; every message delivered
# with this filter's trace field topmost and its tls clause the IANA name of
# the suite `openssl s_client` negotiates with the same listener and TLS
# version (mapped by `openssl ciphers -V -stdname`, not by the filter's
# table), and the same as the MTA's own record of the session; one audit
# line with the program's mechanism and TLS version.  Then one cleartext
# AUTH on the submission port: the exit status and the words the program
# prints, which must carry the filter's reply (it tells the user what to
# do) — or, for a program that hides the server's text, what it shows
# instead; nothing delivered; one refusal in the audit log.
#
# Every client verifies the server certificate by name (mx.example.test),
# which a private /etc/hosts in the client's own mount namespace maps to
# 127.0.0.1; nothing on the host changes.

# The filter's default reply, what a user must read (policy_cases.sh
# asserts it byte for byte at the SMTP level).
CLIENT_REFUSAL="530 5.7.0 Encryption required: enable SSL/TLS (or STARTTLS) with TLS 1.2 or newer in your mail program"

# in_hosts COMMAND... — run COMMAND with mx.example.test resolving to
# 127.0.0.1, HOME in the work directory (no user's rc file, no dead.letter
# outside $WORK).
in_hosts() {
    [ -s "$WORK/hosts" ] || printf '127.0.0.1\tlocalhost\n127.0.0.1\tmx.example.test\n' > "$WORK/hosts"
    HOME=$WORK unshare -m -- /bin/sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$WORK/hosts" "$@"
}

# client_message NAME — the message a program submits (msmtp and curl send
# it as it is; s-nail writes its own header and takes the body only).
client_message() {
    printf 'From: sender@example.test\nTo: %s\nSubject: %s\nX-Case: %s\n\n%s\n' \
        "$RCPT" "$1" "$1" "A message from a real mail program."
}

# client_cmd CLIENT MODE MECH TLS NAME — fill CMD with the program's command
# line.  MODE starttls | implicit | cleartext; MECH PLAIN | LOGIN; TLS the
# highest version the program may use (1.3 | 1.2), as its user would pin it.
client_cmd() {
    local client=$1 mode=$2 mech=$3 tls=$4 name=$5 port=$PORT_SUB
    [ "$mode" = implicit ] && port=$PORT_SUBS
    case "$client" in
        msmtp)
            CMD=(msmtp --host=mx.example.test "--port=$port" --domain=client.example.test
                 --from=sender@example.test "--auth=${mech,,}" "--user=$SASL_USER"
                 "--passwordeval=echo $SASL_PASS")
            case "$mode" in
                starttls) CMD+=(--tls=on --tls-starttls=on "--tls-trust-file=$MTA_CERT") ;;
                implicit) CMD+=(--tls=on --tls-starttls=off "--tls-trust-file=$MTA_CERT") ;;
                cleartext) CMD+=(--tls=off) ;;
            esac
            [ "$tls" = 1.2 ] && CMD+=(--tls-priorities=NORMAL:-VERS-TLS1.3)
            CMD+=("$RCPT") ;;
        curl)
            local scheme=smtp
            [ "$mode" = implicit ] && scheme=smtps
            # The URL's path is the EHLO argument.  --crlf: curl sends the
            # file as it is, and Debian's Sendmail drops the connection at a
            # bare LF in DATA ("421 4.5.0 Bare linefeed (LF) not allowed").
            CMD=(curl -sS --crlf --url "$scheme://mx.example.test:$port/client.example.test"
                 --user "$SASL_USER:$SASL_PASS" --login-options "AUTH=$mech"
                 --mail-from sender@example.test --mail-rcpt "$RCPT" --upload-file -)
            case "$mode" in
                starttls) CMD+=(--ssl-reqd --cacert "$MTA_CERT") ;;
                implicit) CMD+=(--cacert "$MTA_CERT") ;;
            esac
            [ "$tls" = 1.2 ] && CMD+=(--tls-max 1.2) ;;
        s-nail)
            local scheme=smtp
            [ "$mode" = implicit ] && scheme=smtps
            CMD=(s-nail -# -:/ -Sv15-compat -Snosave -Sttycharset=utf-8
                 "-Smta=$scheme://$SASL_USER:$SASL_PASS@mx.example.test:$port"
                 "-Ssmtp-auth=${mech,,}" -Shostname=client.example.test
                 "-Stls-ca-file=$MTA_CERT" -Stls-ca-no-defaults -Stls-verify=strict)
            [ "$mode" = starttls ] && CMD+=(-Ssmtp-use-starttls)
            [ "$tls" = 1.2 ] && CMD+=(-Stls-config-pairs=MaxProtocol=TLSv1.2)
            CMD+=(-r sender@example.test -s "$name" -C "X-Case: $name" -. "$RCPT") ;;
    esac
}

# run_client NAME CLIENT MODE MECH TLS [OPTION...] — run it once, with the
# OPTIONs right after the program's name; CLIENT_RC is its exit status,
# $WORK/NAME.out what it printed, $WORK/NAME.cmd the command.
run_client() {
    local name=$1 client=$2
    client_cmd "$client" "$3" "$4" "$5" "$name"
    CMD=("${CMD[0]}" "${@:6}" "${CMD[@]:1}")
    printf '%q ' "${CMD[@]}" > "$WORK/$name.cmd"
    if [ "$client" = s-nail ]; then
        client_message "$name" | sed '1,/^$/d' | in_hosts "${CMD[@]}" > "$WORK/$name.out" 2>&1
    else
        client_message "$name" | in_hosts "${CMD[@]}" > "$WORK/$name.out" 2>&1
    fi
    CLIENT_RC=$?
}

# sclient_cipher PORT MODE TLS — the suite openssl s_client negotiates with
# the listener (OpenSSL spelling), for the same TLS version.
sclient_cipher() {
    local args=(-connect "127.0.0.1:$1" -servername mx.example.test "-tls${3/./_}")
    [ "$2" = starttls ] && args+=(-starttls smtp)
    timeout 20 openssl s_client "${args[@]}" < /dev/null 2>&1 |
        sed -n 's/^New, [^,]*, Cipher is \([^ ]*\)$/\1/p' | head -n 1
}

# trace_tls FILE — the tls clause of the topmost Received field.
trace_tls() { received_fields "$1" | sed -n '1s/.* tls \([^ ;]*\).*/\1/p'; }

# client_ok NAME CLIENT MODE MECH TLS — one submission that must go through.
client_ok() {
    local name=$1 client=$2 mode=$3 mech=$4 tls=$5 f port=$PORT_SUB listener=submission
    [ "$mode" = implicit ] && { port=$PORT_SUBS; listener=submissions; }
    # check_trace waits for a count of messages; one lost earlier must not
    # fail every case after it.
    local want
    want=$(($(mta_messages | grep -c .) + 1))
    run_client "$@"
    if [ "$CLIENT_RC" -ne 0 ]; then
        fail "$name: $client exited $CLIENT_RC:"; sed 's/^/    | /' "$WORK/$name.out"
    else
        pass "$name: $client exited 0"
    fi
    check_trace "$name" "$want"
    f=$(message_for "$name") || return
    local osl iana clause qid
    osl=$(sclient_cipher "$port" "$mode" "$tls")
    iana=$(iana_of "$osl")
    clause=$(trace_tls "$f")
    if [ -n "$iana" ] && [ "$clause" = "$iana" ]; then
        pass "$name: tls clause $clause = openssl s_client's $osl on port $port, TLS $tls"
    else
        fail "$name: tls clause '$clause', openssl s_client negotiated '$osl' (IANA '$iana') on port $port, TLS $tls"
    fi
    qid=$(received_fields "$f" | sed -n '1s/.* id \([A-Za-z0-9]*\).*/\1/p')
    expect_grep "$name: one audit line, $mech over TLSv$tls on $listener" \
        "^rfc8314-milter\\[[0-9]+\\]: $qid: user=$SASL_USER, mech=$mech, tls=TLSv$tls, cipher=$clause, .*listener=$listener/$port, verdict=accept\$" "$MILTER_LOG"
    expect_eq "$name: exactly one audit line for $qid" "$(grep -c ": $qid: user=" "$MILTER_LOG")" 1
}

# client_refused NAME CLIENT WANT_RC SHOWS — the cleartext attempt.  SHOWS
# is "text" when the program must print the filter's reply, else the exact
# output the program prints instead (it hides the server's text).
client_refused() {
    local name=$1 client=$2 want_rc=$3 shows=$4 before
    before=$(grep -c 'verdict=reject, reason=cleartext' "$MILTER_LOG")
    run_client "$name" "$client" cleartext PLAIN 1.3
    log "  $client, cleartext AUTH on $PORT_SUB: $(cat "$WORK/$name.cmd")"
    log "  $client printed (exit $CLIENT_RC):"; sed 's/^/    | /' "$WORK/$name.out" >&2
    expect_eq "$name: $client exit status on the refusal" "$CLIENT_RC" "$want_rc"
    if [ "$shows" = text ]; then
        if grep -qF -- "$CLIENT_REFUSAL" "$WORK/$name.out"; then
            pass "$name: $client shows its user the filter's reply"
        else
            fail "$name: $client does not show '$CLIENT_REFUSAL'"
        fi
    else
        expect_eq "$name: $client shows only its own summary" "$(cat "$WORK/$name.out")" "$shows"
    fi
    sleep 1
    if message_for "$name" > /dev/null; then fail "$name: the refused message was delivered"
    else pass "$name: nothing delivered"; fi
    expect_eq "$name: one cleartext refusal in the audit log" \
        "$(grep -c 'verdict=reject, reason=cleartext' "$MILTER_LOG")" $((before + 1))
}

run_client_cases() {
    local c
    for c in msmtp curl s-nail; do
        client_ok "${c}_starttls_plain" "$c" starttls PLAIN 1.3
        client_ok "${c}_starttls_login" "$c" starttls LOGIN 1.2
        client_ok "${c}_implicit_plain" "$c" implicit PLAIN 1.2
        client_ok "${c}_implicit_login" "$c" implicit LOGIN 1.3
    done
    # What each program makes of the refusal (measured: msmtp exits
    # EX_DATAERR and quotes the reply; s-nail exits 4 and quotes it; curl
    # exits 55, CURLE_SEND_ERROR, and prints only the code).
    client_refused msmtp_cleartext msmtp 65 text
    client_refused s-nail_cleartext s-nail 4 text
    client_refused curl_cleartext curl 55 "curl: (55) MAIL failed: 530"
    # curl shows the reply only to a user who asks for the dialogue (-v).
    run_client curl_cleartext_v curl cleartext PLAIN 1.3 -v
    if grep -qxF -- "< $CLIENT_REFUSAL" <(tr -d '\r' < "$WORK/curl_cleartext_v.out"); then
        pass "curl -v: the dialogue shows the filter's reply"
    else
        fail "curl -v: no '< $CLIENT_REFUSAL' in:"; sed 's/^/    | /' "$WORK/curl_cleartext_v.out"
    fi
    expect_no_grep "milter log: no internal errors" 'internal error' "$MILTER_LOG"
}
