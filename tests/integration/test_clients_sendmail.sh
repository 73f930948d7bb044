#!/bin/bash
# test_clients_sendmail.sh — real mail programs (msmtp, curl, s-nail) against
# a real private Sendmail with the built milter (clients.sh).  Fails, never
# skips, when a program, Sendmail or the milter cannot be started.
. "$(dirname "$0")/common.sh"
PORT_SMTP=13125 PORT_SUB=13687 PORT_SUBS=13565
. "$(dirname "$0")/mta-sendmail.sh"
. "$(dirname "$0")/cases.sh"
. "$(dirname "$0")/clients.sh"

new_workdir clients-sendmail
MILTER_PORT=13101
[ -x "$MILTER_BIN" ] || { fail "no milter binary at $MILTER_BIN"; finish; exit 1; }
start_milter || { fail "milter did not start"; finish; exit 1; }
mta_setup "$MILTER_PORT" || { fail "sendmail setup"; finish; exit 1; }
mta_start || { fail "sendmail did not start"; finish; exit 1; }
run_client_cases
mta_stop
stop_milter
finish
