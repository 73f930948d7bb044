#!/bin/bash
# test_postfix_policy.sh — the submission-policy suite (policy_cases.sh)
# against a real private Postfix on loopback with the built milter; then
# the deprecation tools (deprecation_cases.sh: a network exception, the
# legacy listener recipe on PORT_LEGACY, trace_client = hidden); then a
# NULL cipher (0 bits) and Postfix's own macro lists, without {daemon_port}.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/mta-postfix.sh"
. "$(dirname "$0")/cases.sh"
. "$(dirname "$0")/policy_cases.sh"
. "$(dirname "$0")/deprecation_cases.sh"

new_workdir postfix-policy
MILTER_PORT=12035
PORT_SMTP=10125 PORT_SUB=10687 PORT_SUBS=10565 PORT_LEGACY=10688
[ -x "$MILTER_BIN" ] || { fail "no milter binary at $MILTER_BIN"; finish; exit 1; }
start_milter || { fail "milter did not start"; finish; exit 1; }
mta_setup "$MILTER_PORT" || { fail "postfix setup"; finish; exit 1; }
mta_start || { fail "postfix did not start"; finish; exit 1; }
run_policy_cases
run_deprecation_cases
run_null_cipher_case
run_unknown_listener_cases
mta_stop
stop_milter
finish
