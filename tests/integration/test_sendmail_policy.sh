#!/bin/bash
# test_sendmail_policy.sh — the submission-policy suite (policy_cases.sh)
# against a real private Sendmail (MSA without M=a, so the milter does the refusing) on loopback with the built milter.
# Then the deprecation tools (deprecation_cases.sh) with the legacy listener
# recipe on PORT_LEGACY.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/mta-sendmail.sh"
. "$(dirname "$0")/cases.sh"
. "$(dirname "$0")/policy_cases.sh"
. "$(dirname "$0")/deprecation_cases.sh"

new_workdir sendmail-policy
MILTER_PORT=12036
PORT_SMTP=11125 PORT_SUB=11687 PORT_SUBS=11565 PORT_LEGACY=11688
[ -x "$MILTER_BIN" ] || { fail "no milter binary at $MILTER_BIN"; finish; exit 1; }
start_milter || { fail "milter did not start"; finish; exit 1; }
mta_setup "$MILTER_PORT" || { fail "sendmail setup"; finish; exit 1; }
mta_start || { fail "sendmail did not start"; finish; exit 1; }
run_policy_cases
run_deprecation_cases
mta_stop
stop_milter
finish
