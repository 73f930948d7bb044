#!/bin/bash
# test_postfix.sh — the trace/audit suite (cases.sh) against a real private
# Postfix on loopback, with the built milter.  Fails, never skips, when
# Postfix cannot be started.
. "$(dirname "$0")/common.sh"
# An IPv6 client over ::1 is one of the cases (inet_protocols = all for Postfix).
MTA_IPV6=yes
. "$(dirname "$0")/mta-postfix.sh"
. "$(dirname "$0")/cases.sh"

new_workdir postfix
MILTER_PORT=12025
[ -x "$MILTER_BIN" ] || { fail "no milter binary at $MILTER_BIN"; finish; exit 1; }
start_milter || { fail "milter did not start"; finish; exit 1; }
mta_setup "$MILTER_PORT" || { fail "postfix setup"; finish; exit 1; }
mta_start || { fail "postfix did not start"; finish; exit 1; }
run_cases
mta_stop
stop_milter
finish
