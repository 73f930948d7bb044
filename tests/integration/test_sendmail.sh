#!/bin/bash
# test_sendmail.sh — the trace/audit suite (cases.sh) against a real private
# Sendmail on loopback, with the built milter.  Fails, never skips, when
# Sendmail cannot be started.
. "$(dirname "$0")/common.sh"
# An IPv6 client over ::1 is one of the cases (inet_protocols = all for Postfix).
MTA_IPV6=yes
. "$(dirname "$0")/mta-sendmail.sh"
. "$(dirname "$0")/cases.sh"

new_workdir sendmail
MILTER_PORT=12026
[ -x "$MILTER_BIN" ] || { fail "no milter binary at $MILTER_BIN"; finish; exit 1; }
start_milter || { fail "milter did not start"; finish; exit 1; }
mta_setup "$MILTER_PORT" || { fail "sendmail setup"; finish; exit 1; }
mta_start || { fail "sendmail did not start"; finish; exit 1; }
run_cases
mta_stop
stop_milter
finish
