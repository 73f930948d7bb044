# cases.sh — the trace-field and audit-log suite, run unchanged against any
# MTA adapter (mta-postfix.sh, mta-sendmail.sh).  Sourced after common.sh and
# one adapter.
#
# What it proves, on the delivered messages and the milter's own log:
# exactly one milter trace field, above the MTA's own, with the IANA name of
# the cipher the MTA itself says it negotiated; a group clause exactly when
# that suite's key exchange uses a group (none for RSA key transport); valid
# RFC 5321 syntax; no tls clause on cleartext; client-supplied Received
# fields untouched; an IPv6 client over ::1 as the address literal
# [IPv6:::1] and one canonical address in the logs; one audit line per
# authenticated transaction with user, mech, IANA cipher, bits, verdict.
# run_cases needs the adapter's MTA_IPV6=yes (the suites set it).

MILTER_PORT=${MILTER_PORT:-12025}
CHECK_RECEIVED="$BUILD_ABS/check-received"

# write_milter_conf [SUBMISSION LISTENER LINES...] — the milter's config in
# $MILTER_CONF.  Each argument is a line added to both submission listener
# sections, except "@exceptions", which sets exceptions_file to
# $WORK/exceptions.  $MILTER_GLOBAL_LINES (newline-separated) are added to
# the global keys.  MILTER_CONF_SECTIONS (optional): more lines appended at
# the end (further [listener] sections).
write_milter_conf() {
    local extra=() a exc=
    for a in "$@"; do
        if [ "$a" = "@exceptions" ]; then exc="exceptions_file = $WORK/exceptions"; else extra+=("$a"); fi
    done
    # The adapter's MTA offers exactly one group (MTA_GROUP), so the
    # listeners may declare it; the trace field then carries it.
    local g=
    [ -n "${MTA_GROUP:-}" ] && g="key_exchange_group = $MTA_GROUP"
    {
        echo "socket = inet:$MILTER_PORT@127.0.0.1"
        echo "syslog = no"
        echo "log_stderr = yes"
        echo "log_level = debug"
        echo "audit_file = $MILTER_AUDIT"
        echo "hostname = milter.example.test"
        echo "$exc"
        [ -n "${MILTER_GLOBAL_LINES:-}" ] && printf '%s\n' "$MILTER_GLOBAL_LINES"
        # The test ports are not 587/465/25: name the listeners by port.
        printf '[listener submission]\nport = %s\nrole = submission\n%s\n' "$PORT_SUB" "$g"
        printf '%s\n' "${extra[@]}"
        printf '[listener submissions]\nport = %s\nrole = submissions\n%s\n' "$PORT_SUBS" "$g"
        printf '%s\n' "${extra[@]}"
        printf '[listener relay]\nport = %s\nrole = relay\n' "$PORT_SMTP"
        [ -z "${MILTER_CONF_SECTIONS:-}" ] || printf '%s\n' "$MILTER_CONF_SECTIONS"
    } > "$MILTER_CONF.new"
    mv "$MILTER_CONF.new" "$MILTER_CONF"
}

# start_milter [SUBMISSION LISTENER LINES...] — the built milter on
# loopback, logging to $WORK/milter.log, audit JSON to $WORK/audit.jsonl.
# MILTER_ENV (optional): NAME=VALUE words for the milter's environment
# (the test build's hooks).
start_milter() {
    MILTER_LOG="$WORK/milter.log"
    MILTER_AUDIT="$WORK/audit.jsonl"
    MILTER_CONF="$WORK/milter.conf"
    : > "$MILTER_LOG"
    write_milter_conf "$@"
    "$MILTER_BIN" -n -c "$MILTER_CONF" || return 1
    # shellcheck disable=SC2086
    env ${MILTER_ENV:-} "$MILTER_BIN" -f -c "$MILTER_CONF" 2>>"$MILTER_LOG" &
    MILTER_PID=$!
    track_pid "$MILTER_PID"
    if ! wait_port "$MILTER_PORT" 10; then
        log "milter did not start:"; cat "$MILTER_LOG" >&2
        return 1
    fi
}

stop_milter() {
    [ -n "${MILTER_PID:-}" ] || return 0
    kill "$MILTER_PID" 2>/dev/null
    wait "$MILTER_PID" 2>/dev/null
    MILTER_PID=
}

# iana_of OPENSSL_NAME — the IANA name by the installed OpenSSL's own table
# (independent of the milter's mapping).
iana_of() {
    openssl ciphers -V -stdname 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' |
        awk -v n="$1" '$5 == n || $3 == n { print $3; exit }'
}

# iana_group SPELLING — the IANA name of a group as an MTA or OpenSSL prints
# it ("X25519", "ECDHE (prime256v1)", "ECDH, prime256v1", "P-256"), so the
# suites compare with MTA_GROUP independently of the milter's own table.
iana_group() {
    case "$1" in
        X25519 | x25519) echo x25519 ;;
        X448 | x448) echo x448 ;;
        *prime256v1* | P-256 | secp256r1) echo secp256r1 ;;
        *secp384r1* | P-384) echo secp384r1 ;;
        *secp521r1* | P-521) echo secp521r1 ;;
        *) echo "unmapped:$1" ;;
    esac
}

# server_group PORT STARTTLS(yes|no) PROTOCOL [GROUPS] — the key-exchange
# group the MTA picks for an OpenSSL client offering GROUPS (default: all
# the usual ones), as IANA names it; "unmapped:" when the handshake fails.
server_group() {
    local args=(-connect "127.0.0.1:$1" "-$3" -groups "${4:-X25519:P-256:P-384:P-521:X448}")
    [ "$2" = yes ] && args+=(-starttls smtp)
    [ "$3" = tls1_2 ] && args+=(-cipher 'ECDHE:@SECLEVEL=0')
    local key
    key=$(timeout 20 openssl s_client "${args[@]}" < /dev/null 2>&1 | sed -n 's/^Server Temp Key: //p' | head -n 1)
    # "X25519, 253 bits" or "ECDH, prime256v1, 256 bits"
    case "$key" in
        ECDH,*) key=${key#ECDH, } ;;
    esac
    iana_group "${key%%,*}"
}

# check_mta_group — MTA_GROUP, which the suites' milter config declares as
# key_exchange_group, is the one group the MTA negotiates: measured here, on
# every TLS listener and version, not assumed.  A client offering only some
# other group must fail the handshake.
check_mta_group() {
    [ -n "${MTA_GROUP:-}" ] || return 0
    local p v g got
    for p in "$PORT_SUB:yes" "$PORT_SUBS:no"; do
        for v in tls1_3 tls1_2; do
            expect_eq "the MTA negotiates group $MTA_GROUP (port ${p%%:*}, $v)" \
                "$(server_group "${p%%:*}" "${p#*:}" "$v")" "$MTA_GROUP"
            for g in X25519 P-256 P-384 X448; do
                [ "$(iana_group "$g")" = "$MTA_GROUP" ] && continue
                got=$(server_group "${p%%:*}" "${p#*:}" "$v" "$g")
                case "$got" in
                    unmapped:*) pass "the MTA refuses a client offering only $g (port ${p%%:*}, $v)" ;;
                    *) fail "the MTA negotiated $got with a client offering only $g (port ${p%%:*}, $v)" ;;
                esac
            done
        done
    done
}

# send NAME SWAKS-ARGS... — one swaks session; transcript in $WORK/NAME.swaks.
# SEND_SERVER (default 127.0.0.1) is the address to connect to.
send() {
    local name=$1; shift
    swaks --server "${SEND_SERVER:-127.0.0.1}" --to "$RCPT" --from sender@example.test \
        --helo client.example.test --timeout 30 \
        --header "Subject: $name" --header "X-Case: $name" "$@" \
        > "$WORK/$name.swaks" 2>&1
}

# message_for NAME — the delivered message file whose X-Case is NAME.
message_for() {
    local f
    for f in $(mta_messages); do
        if grep -q "^X-Case: $1\$" "$f"; then echo "$f"; return 0; fi
    done
    return 1
}

# received_fields FILE — every Received field of the message, unfolded, one a line.
received_fields() {
    awk 'BEGIN{h=""} /^$/{exit} /^[ \t]/{h=h $0; next} {if(h!="")print h; h=$0} END{if(h!="")print h}' "$1" |
        tr -d '\r' | tr '\t' ' ' | grep -i '^Received:'
}

# expect_received_valid NAME FILE — every milter trace field of the message
# parses as an RFC 5321 Time-stamp-line, no line over 998 octets.
expect_received_valid() {
    if "$CHECK_RECEIVED" < "$2" > "$WORK/$1.check" 2>&1; then
        pass "$1: every milter field parses as an RFC 5321 Time-stamp-line, <= 998 octets"
    else
        fail "$1: check-received:"; sed 's/^/    | /' "$WORK/$1.check"
    fi
}

# check_trace NAME OPENSSL_CIPHER_OR_EMPTY — assertions on one delivered message.
check_trace() {
    local name=$1 f fields ours first second own_cipher own_group want
    if ! mta_wait_delivery "$2" 20; then fail "$name: not delivered"; return; fi
    f=$(message_for "$name") || { fail "$name: no delivered message with X-Case $name"; return; }
    fields=$(received_fields "$f")
    ours=$(printf '%s\n' "$fields" | grep -c ' tls ' || true)
    expect_eq "$name: exactly one milter trace field" "$ours" 1
    first=$(printf '%s\n' "$fields" | sed -n 1p)
    second=$(printf '%s\n' "$fields" | sed -n 2p)
    case "$first" in
        *" tls "*) pass "$name: milter field is the topmost" ;;
        *) fail "$name: topmost Received is not the milter's: $first" ;;
    esac
    case "$second" in
        *"by mx.example.test"*) pass "$name: MTA's own field right below" ;;
        *) fail "$name: second Received is not the MTA's own: $second" ;;
    esac
    own_cipher=$(mta_own_cipher "$f")
    want=$(iana_of "$own_cipher")
    if [ -z "$want" ]; then fail "$name: cannot map MTA cipher '$own_cipher' via openssl"; return; fi
    case "$first" in
        *" tls $want"*) pass "$name: tls clause is IANA $want (MTA negotiated $own_cipher)" ;;
        *) fail "$name: want 'tls $want' (MTA negotiated $own_cipher) in: $first" ;;
    esac
    # The group clause: exactly the one group the MTA offers, for a suite
    # whose key exchange uses a group (TLS 1.3, ECDHE); none otherwise
    # (RFC 8314 §4.3: "when applicable and known").
    local uses_group=no
    case "$want" in
        TLS_ECDHE_*) uses_group=yes ;;
        *_WITH_*) ;;
        TLS_*) uses_group=yes ;;
    esac
    if [ "$uses_group" = no ]; then
        case "$first" in
            *" group "*) fail "$name: a group clause for $want, whose key exchange uses none: $first" ;;
            *) pass "$name: no group clause for $want (no group in its key exchange)" ;;
        esac
    elif [ -n "${MTA_GROUP:-}" ]; then
        case "$first" in
            *" group $MTA_GROUP;"*) pass "$name: group clause is $MTA_GROUP" ;;
            *) fail "$name: want 'group $MTA_GROUP' in: $first" ;;
        esac
        own_group=$(mta_own_group "$f")
        if [ -n "$own_group" ]; then
            expect_eq "$name: the MTA itself recorded group '$own_group' = $MTA_GROUP" \
                "$(iana_group "$own_group")" "$MTA_GROUP"
        fi
    else
        case "$first" in
            *" group "*) fail "$name: a group clause although the group is unknown: $first" ;;
            *) pass "$name: no group clause (group unknown)" ;;
        esac
    fi
    expect_received_valid "$name" "$f"
}

run_cases() {
    local n=0 f
    check_mta_group

    # 1. TLS 1.3 + AUTH on submission (STARTTLS).
    send tls13_auth --port "$PORT_SUB" --tls --auth PLAIN \
        --auth-user "$SASL_USER" --auth-password "$SASL_PASS"
    expect_grep "tls13_auth: client got 250 after DATA" '^<[-~] +250 .*(queued|accepted|OK|Ok)' "$WORK/tls13_auth.swaks"
    n=$((n + 1)); check_trace tls13_auth "$n"
    # The audit line leads with the same queue id as the trace field's id clause.
    local qid
    f=$(message_for tls13_auth) && qid=$(received_fields "$f" | sed -n '1s/.* id \([A-Za-z0-9]*\).*/\1/p')
    if [ -n "$qid" ]; then
        expect_grep "tls13_auth: audit line carries queue id $qid" "$qid: user=$SASL_USER" "$MILTER_LOG"
    else
        fail "tls13_auth: no id clause in the milter's trace field"
    fi
    expect_grep "tls13_auth: audit line" "user=$SASL_USER[^,]*, mech=PLAIN, tls=TLSv1.3, cipher=TLS_AES_[0-9A-Z_]+, group=${MTA_GROUP:-unknown}, bits=[0-9]+, client=[^,]+\\[127.0.0.1\\]:[0-9]+, listener=submission/[0-9]+, verdict=accept" "$MILTER_LOG"

    # 2. STARTTLS forced to TLS 1.2 with an OpenSSL-named suite.
    send tls12_auth --port "$PORT_SUB" --tls --tls-protocol tlsv1_2 \
        --tls-cipher ECDHE-RSA-AES128-GCM-SHA256 --auth PLAIN \
        --auth-user "$SASL_USER" --auth-password "$SASL_PASS"
    n=$((n + 1)); check_trace tls12_auth "$n"
    f=$(message_for tls12_auth) && expect_grep "tls12_auth: IANA name for ECDHE-RSA-AES128-GCM-SHA256" \
        'tls TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256' "$f"
    expect_grep "tls12_auth: audit line" "mech=PLAIN, tls=TLSv1.2, cipher=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, group=${MTA_GROUP:-unknown}, bits=128,.*verdict=accept" "$MILTER_LOG"

    # 3. Implicit TLS (submissions).
    send implicit_tls --port "$PORT_SUBS" --tls-on-connect --auth PLAIN \
        --auth-user "$SASL_USER2" --auth-password "$SASL_PASS2"
    n=$((n + 1)); check_trace implicit_tls "$n"
    expect_grep "implicit_tls: audit line" "user=$SASL_USER2[^,]*, mech=PLAIN, tls=TLSv1\\.[23],.*listener=submissions/[0-9]+, verdict=accept" "$MILTER_LOG"

    # 4. Cleartext on the relay port: no trace field from the milter.
    send cleartext --port "$PORT_SMTP"
    n=$((n + 1))
    if mta_wait_delivery "$n" 20 && f=$(message_for cleartext); then
        expect_eq "cleartext: no milter trace field" "$(received_fields "$f" | grep -c ' tls ' || true)" 0
        expect_eq "cleartext: only the MTA's own Received" "$(received_fields "$f" | grep -c .)" 1
    else
        fail "cleartext: not delivered"
    fi

    # 5. A client-supplied Received field is left exactly as sent.
    local forged='Received: from evil.example (evil.example [192.0.2.66]) by relay.example; Tue, 1 Jan 2030 00:00:00 +0000'
    send client_received --port "$PORT_SUB" --tls --auth PLAIN \
        --auth-user "$SASL_USER" --auth-password "$SASL_PASS" --add-header "$forged"
    n=$((n + 1)); check_trace client_received "$n"
    if f=$(message_for client_received); then
        expect_eq "client_received: client field unchanged" \
            "$(received_fields "$f" | grep -c -F -x "$forged")" 1
        expect_eq "client_received: three Received in all" "$(received_fields "$f" | grep -c .)" 3
    fi

    # 6. A hostile HELO never breaks the field's syntax.
    send hostile_helo --port "$PORT_SUB" --tls --auth PLAIN \
        --auth-user "$SASL_USER" --auth-password "$SASL_PASS" \
        --helo 'evil(helo)"quoted"\back'
    n=$((n + 1)); check_trace hostile_helo "$n"

    # 7. An IPv6 client (over ::1): the trace field carries the RFC 5321
    # address literal, the audit line and the JSON one canonical address.
    if [ "${MTA_IPV6:-}" = yes ]; then
        SEND_SERVER=::1 send ipv6_auth --port "$PORT_SUB" --tls --auth PLAIN \
            --auth-user "$SASL_USER" --auth-password "$SASL_PASS"
        expect_grep "ipv6_auth: connected over ::1" '^=== Connected to ::1' "$WORK/ipv6_auth.swaks"
        n=$((n + 1)); check_trace ipv6_auth "$n"
        if f=$(message_for ipv6_auth); then
            case "$(received_fields "$f" | sed -n 1p)" in
                *"[IPv6:::1])"*) pass "ipv6_auth: the milter's field names the client [IPv6:::1]" ;;
                *) fail "ipv6_auth: no [IPv6:::1] in the milter's field: $(received_fields "$f" | sed -n 1p)" ;;
            esac
        fi
        expect_grep "ipv6_auth: audit line with the canonical address" \
            "user=$SASL_USER[^,]*, mech=PLAIN, tls=TLSv1\\.[23], .*client=[^,]*\\[::1\\]:[0-9]+, listener=submission/[0-9]+, verdict=accept" "$MILTER_LOG"
        expect_no_grep "ipv6_auth: no IPv6: prefix in any log line" 'client=[^,]*\[IPv6:' "$MILTER_LOG"
        expect_grep "ipv6_auth: JSON client_addr ::1" '"client_addr":"::1"' "$MILTER_AUDIT"
    else
        fail "ipv6_auth: the suite needs the adapter's MTA_IPV6=yes"
    fi

    # 8. RSA key transport (TLS 1.2, static RSA): the suite's key exchange
    # has no group, so no group clause although the listener declares one.
    send rsa_kx --port "$PORT_SUB" --tls --tls-protocol tlsv1_2 --tls-cipher AES128-GCM-SHA256 \
        --auth PLAIN --auth-user "$SASL_USER" --auth-password "$SASL_PASS"
    n=$((n + 1)); check_trace rsa_kx "$n"
    expect_grep "rsa_kx: audit line says group=none" \
        "mech=PLAIN, tls=TLSv1\\.2, cipher=TLS_RSA_WITH_AES_128_GCM_SHA256, group=none, bits=128,.*verdict=accept" "$MILTER_LOG"

    # 9. The milter wrote one audit JSON line per authenticated transaction.
    expect_eq "audit file: one JSON line per authenticated transaction" \
        "$(grep -c '"event":"auth"' "$MILTER_AUDIT" 2>/dev/null || echo 0)" 7
    expect_no_grep "milter log: no internal errors" 'internal error' "$MILTER_LOG"
}
