#!/bin/bash
# test_chain_sendmail.sh — the built milter in a chain (chain.sh) in a real
# private Sendmail: with a real OpenDKIM signer in both orders (two
# INPUT_MAIL_FILTERs, this filter's first and then OpenDKIM's first), and
# between two milters that insert header fields at index 0.  Fails, never
# skips, when Sendmail, OpenDKIM or a milter cannot be started.
. "$(dirname "$0")/common.sh"
PORT_SMTP=13325 PORT_SUB=13887 PORT_SUBS=13765
. "$(dirname "$0")/mta-sendmail.sh"
. "$(dirname "$0")/cases.sh"
. "$(dirname "$0")/milters.sh"
. "$(dirname "$0")/chain.sh"

new_workdir chain-sendmail
MILTER_PORT=13301 DKIM_PORT=13302 BEFORE_PORT=13303 AFTER_PORT=13304
[ -x "$MILTER_BIN" ] || { fail "no milter binary at $MILTER_BIN"; finish; exit 1; }
start_milter || { fail "milter did not start"; finish; exit 1; }
start_chain_milters || { fail "OpenDKIM or an inserter did not start"; finish; exit 1; }
mta_setup "$MILTER_PORT" || { fail "sendmail setup"; finish; exit 1; }
mta_start || { fail "sendmail did not start"; finish; exit 1; }
run_chain_cases
mta_stop
stop_milter
finish
