#!/bin/bash
# demo.sh — `make demo`: a private Postfix on loopback with the built milter;
# sends a TLS 1.3 + AUTH submission, a TLS 1.2 one and a cleartext one with
# swaks, prints the delivered trace fields and the audit lines, and stops
# everything it started.  Exit 0 when all three messages were delivered.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/mta-postfix.sh"
. "$(dirname "$0")/cases.sh"

new_workdir demo
MILTER_PORT=12027
start_milter || exit 1
mta_setup "$MILTER_PORT" || exit 1
mta_start || exit 1

send demo_tls13 --port "$PORT_SUB" --tls --auth PLAIN --auth-user "$SASL_USER" --auth-password "$SASL_PASS"
send demo_tls12 --port "$PORT_SUB" --tls --tls-protocol tlsv1_2 --tls-cipher ECDHE-RSA-AES128-GCM-SHA256 \
    --auth PLAIN --auth-user "$SASL_USER2" --auth-password "$SASL_PASS2"
send demo_cleartext --port "$PORT_SMTP"
mta_wait_delivery 3 20 || { echo "demo: not all messages were delivered"; exit 1; }

for c in demo_tls13 demo_tls12 demo_cleartext; do
    f=$(message_for "$c") || { echo "demo: $c missing"; exit 1; }
    echo
    echo "== $c: Received fields of the delivered message (top first)"
    received_fields "$f" | sed 's/^/  /'
done
echo
echo "== audit lines (milter log)"
grep -E 'user=' "$MILTER_LOG" | sed 's/^/  /'
echo
echo "== audit JSON ($MILTER_AUDIT)"
sed 's/^/  /' "$MILTER_AUDIT"
mta_stop
stop_milter
echo
echo "demo: done; everything it started is stopped"
