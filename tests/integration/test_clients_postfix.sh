#!/bin/bash
# test_clients_postfix.sh — real mail programs (msmtp, curl, s-nail) against
# a real private Postfix with the built milter (clients.sh).  Fails, never
# skips, when a program, Postfix or the milter cannot be started.
. "$(dirname "$0")/common.sh"
PORT_SMTP=13025 PORT_SUB=13587 PORT_SUBS=13465
. "$(dirname "$0")/mta-postfix.sh"
. "$(dirname "$0")/cases.sh"
. "$(dirname "$0")/clients.sh"

new_workdir clients-postfix
MILTER_PORT=13001
[ -x "$MILTER_BIN" ] || { fail "no milter binary at $MILTER_BIN"; finish; exit 1; }
start_milter || { fail "milter did not start"; finish; exit 1; }
mta_setup "$MILTER_PORT" || { fail "postfix setup"; finish; exit 1; }
mta_start || { fail "postfix did not start"; finish; exit 1; }
run_client_cases
mta_stop
stop_milter
finish
