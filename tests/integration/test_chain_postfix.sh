#!/bin/bash
# test_chain_postfix.sh — the built milter in a chain (chain.sh) in a real
# private Postfix: with a real OpenDKIM signer in both orders (smtpd_milters
# = this filter, OpenDKIM and the reverse), and between two milters that
# insert header fields at index 0.  Fails, never skips, when Postfix,
# OpenDKIM or a milter cannot be started.
. "$(dirname "$0")/common.sh"
PORT_SMTP=13225 PORT_SUB=13787 PORT_SUBS=13665
. "$(dirname "$0")/mta-postfix.sh"
. "$(dirname "$0")/cases.sh"
. "$(dirname "$0")/milters.sh"
. "$(dirname "$0")/chain.sh"

new_workdir chain-postfix
MILTER_PORT=13201 DKIM_PORT=13202 BEFORE_PORT=13203 AFTER_PORT=13204
[ -x "$MILTER_BIN" ] || { fail "no milter binary at $MILTER_BIN"; finish; exit 1; }
start_milter || { fail "milter did not start"; finish; exit 1; }
start_chain_milters || { fail "OpenDKIM or an inserter did not start"; finish; exit 1; }
mta_setup "$MILTER_PORT" || { fail "postfix setup"; finish; exit 1; }
mta_start || { fail "postfix did not start"; finish; exit 1; }
run_chain_cases
mta_stop
stop_milter
finish
