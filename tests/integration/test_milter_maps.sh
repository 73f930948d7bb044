#!/bin/bash
# test_milter_maps.sh — the built milter wired into a real private Postfix
# through smtpd_milter_maps (Postfix >= 3.2), on the submission services
# only: main.cf has an empty smtpd_milters, and the two submission services
# in master.cf carry "-o smtpd_milter_maps=cidr:FILE", whose one entry maps
# every client address to this filter.  The relay service has no milter.
#
# What it proves:
#   1. The wiring is what it claims: postconf shows an empty smtpd_milters
#      and the map on exactly the two submission services.
#   2. Mail on the submission port (STARTTLS) and the submissions port
#      (Implicit TLS) is filtered: one valid trace field, topmost, IANA
#      cipher, one audit line; a cleartext AUTH on the submission port gets
#      the filter's 530 and is not delivered.
#   3. Mail on the relay port is not filtered: a STARTTLS message and a
#      cleartext one are delivered with the MTA's own Received only, and the
#      milter never heard of a relay connection.
#   4. The negative in 3 can fail: with the filter added to smtpd_milters
#      (global), the same STARTTLS message on the relay port gets the
#      filter's trace field and the milter logs the relay connection.
#   5. The map's result replaces smtpd_milters, it does not add to it (the
#      README's recipe relies on this): with another milter (hdrins) as the
#      global smtpd_milters, a submission message gets this filter's field
#      and not the other milter's header, a relay message the reverse.  So
#      a submission service wired through the map needs its whole chain in
#      the map's value — and with both milters in the value, in the
#      README's order (this filter last), a submission message gets both,
#      this filter's field topmost.
# Fails, never skips, when Postfix or the milter cannot be started.
. "$(dirname "$0")/common.sh"
PORT_SMTP=13525 PORT_SUB=13597 PORT_SUBS=13575
. "$(dirname "$0")/mta-postfix.sh"
. "$(dirname "$0")/cases.sh"
. "$(dirname "$0")/milters.sh"

new_workdir milter-maps
MILTER_PORT=13501 GLOBAL_PORT=13502
MAP="$WORK/milter_maps.cidr"

# milter_fields FILE — how many of this filter's trace fields FILE has.
milter_fields() { received_fields "$1" | grep -c ' by milter\.example\.test ' || true; }

# relay_unfiltered NAME [SWAKS ARGS...] — a message to the relay port that
# must pass without the filter.
relay_unfiltered() {
    local name=$1 f; shift
    send "$name" --port "$PORT_SMTP" "$@"
    DELIVERED=$((DELIVERED + 1))
    if mta_wait_delivery "$DELIVERED" 20 && f=$(message_for "$name"); then
        expect_eq "$name: no trace field from the filter" "$(milter_fields "$f")" 0
        expect_eq "$name: only the MTA's own Received" "$(received_fields "$f" | grep -c .)" 1
    else
        fail "$name: not delivered"
    fi
}

[ -x "$MILTER_BIN" ] || { fail "no milter binary at $MILTER_BIN"; finish; exit 1; }
start_milter || { fail "milter did not start"; finish; exit 1; }
# Every client address, IPv4 and IPv6, to this filter (a cidr table: the
# lookup key is the client address).
printf '0.0.0.0/0\tinet:127.0.0.1:%s\n::/0\tinet:127.0.0.1:%s\n' "$MILTER_PORT" "$MILTER_PORT" > "$MAP"
MTA_SUBMISSION_OPTS="-o smtpd_milter_maps=cidr:$MAP" MTA_SUBMISSIONS_OPTS="-o smtpd_milter_maps=cidr:$MAP" \
    mta_setup "$MILTER_PORT" "smtpd_milters =" || { fail "postfix setup"; finish; exit 1; }
mta_start || { fail "postfix did not start"; finish; exit 1; }
DELIVERED=0

# ---- 1. the wiring -------------------------------------------------------------
expect_eq "main.cf: smtpd_milters is empty" "$(postconf -c "$PF_CONF" -h smtpd_milters)" ""
expect_eq "main.cf: no global smtpd_milter_maps" "$(postconf -c "$PF_CONF" -h smtpd_milter_maps)" ""
expect_eq "master.cf: the map on exactly the two submission services" \
    "$(postconf -c "$PF_CONF" -P | grep '/smtpd_milter_maps = ' | sort | paste -sd ' ' -)" \
    "$PORT_SUBS/inet/smtpd_milter_maps = cidr:$MAP $PORT_SUB/inet/smtpd_milter_maps = cidr:$MAP"

# ---- 2. the submission services are filtered ------------------------------------
send maps_submission --port "$PORT_SUB" --tls --auth PLAIN --auth-user "$SASL_USER" --auth-password "$SASL_PASS"
DELIVERED=$((DELIVERED + 1)); check_trace maps_submission "$DELIVERED"
expect_grep "maps_submission: audit line" "user=$SASL_USER, mech=PLAIN, tls=TLSv1\\.3, .*listener=submission/$PORT_SUB, verdict=accept" "$MILTER_LOG"
send maps_submissions --port "$PORT_SUBS" --tls-on-connect --auth LOGIN --auth-user "$SASL_USER" --auth-password "$SASL_PASS"
DELIVERED=$((DELIVERED + 1)); check_trace maps_submissions "$DELIVERED"
expect_grep "maps_submissions: audit line" "user=$SASL_USER, mech=LOGIN, tls=TLSv1\\.3, .*listener=submissions/$PORT_SUBS, verdict=accept" "$MILTER_LOG"
send maps_cleartext --port "$PORT_SUB" --auth PLAIN --auth-user "$SASL_USER" --auth-password "$SASL_PASS"
expect_grep "maps_cleartext: the filter's refusal" '^<\*\* +530 5\.7\.0 Encryption required' "$WORK/maps_cleartext.swaks"
expect_grep "maps_cleartext: audit line" 'tls=none, .*verdict=reject, reason=cleartext' "$MILTER_LOG"
sleep 1
if message_for maps_cleartext > /dev/null; then fail "maps_cleartext: delivered although refused"
else pass "maps_cleartext: nothing delivered"; fi

# ---- 3. the relay service is not ------------------------------------------------
relay_unfiltered maps_relay_tls --tls
relay_unfiltered maps_relay_cleartext
expect_no_grep "milter log: never a relay connection" "listener=relay/" "$MILTER_LOG"

# ---- 4. the control: the filter wired globally reaches the relay port --------------
postconf -c "$PF_CONF" -e "smtpd_milters = inet:127.0.0.1:$MILTER_PORT" && mta_reload ||
    fail "reload with a global smtpd_milters"
send maps_relay_global --port "$PORT_SMTP" --tls
DELIVERED=$((DELIVERED + 1))
if mta_wait_delivery "$DELIVERED" 20 && f=$(message_for maps_relay_global); then
    expect_eq "control, global wiring: the relay message gets the filter's field" "$(milter_fields "$f")" 1
else
    fail "maps_relay_global: not delivered"
fi
expect_grep "control, global wiring: the milter saw the relay connection" "listener=relay/$PORT_SMTP" "$MILTER_LOG"

# ---- 5. the map's result replaces smtpd_milters ---------------------------------
start_hdrins global "$GLOBAL_PORT" X-Global-Milter "inserted by the milter in smtpd_milters" 0 ||
    fail "hdrins did not start"
postconf -c "$PF_CONF" -e "smtpd_milters = inet:127.0.0.1:$GLOBAL_PORT" && mta_reload ||
    fail "reload with another milter in smtpd_milters"
send maps_override_submission --port "$PORT_SUB" --tls --auth PLAIN --auth-user "$SASL_USER" --auth-password "$SASL_PASS"
DELIVERED=$((DELIVERED + 1))
if mta_wait_delivery "$DELIVERED" 20 && f=$(message_for maps_override_submission); then
    expect_eq "map over smtpd_milters: the submission message has this filter's field" "$(milter_fields "$f")" 1
    expect_no_grep "map over smtpd_milters: and not the global milter's header" '^X-Global-Milter:' "$f"
else
    fail "maps_override_submission: not delivered"
fi
send maps_override_relay --port "$PORT_SMTP" --tls
DELIVERED=$((DELIVERED + 1))
if mta_wait_delivery "$DELIVERED" 20 && f=$(message_for maps_override_relay); then
    expect_grep "map over smtpd_milters: the relay message has the global milter's header" '^X-Global-Milter:' "$f"
    expect_eq "map over smtpd_milters: and no field of this filter" "$(milter_fields "$f")" 0
else
    fail "maps_override_relay: not delivered"
fi
printf '0.0.0.0/0\tinet:127.0.0.1:%s, inet:127.0.0.1:%s\n::/0\tinet:127.0.0.1:%s, inet:127.0.0.1:%s\n' \
    "$GLOBAL_PORT" "$MILTER_PORT" "$GLOBAL_PORT" "$MILTER_PORT" > "$MAP"
mta_reload || fail "reload with the whole chain in the map"
send maps_chain_submission --port "$PORT_SUB" --tls --auth PLAIN --auth-user "$SASL_USER" --auth-password "$SASL_PASS"
DELIVERED=$((DELIVERED + 1)); check_trace maps_chain_submission "$DELIVERED"
if f=$(message_for maps_chain_submission); then
    expect_eq "the whole chain in the map: the other milter ran too, before this one" \
        "$(header_names "$f" | paste -sd ' ' -)" "Received(milter) X-Global-Milter Received(mta)"
fi

expect_no_grep "milter log: no internal errors" 'internal error' "$MILTER_LOG"
mta_stop
stop_milter
finish
