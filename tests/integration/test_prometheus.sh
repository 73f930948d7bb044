#!/bin/bash
# test_prometheus.sh — the metrics endpoint proven with a real Prometheus.
#
# A private Prometheus (Debian's, own config and data directory, loopback
# only, scraping every second, evaluating conf/rfc8314-alerts.yml every
# second) scrapes the built milter behind a real private Postfix.  Known
# transactions go through Postfix — cleartext AUTH refused, cleartext
# without AUTH refused, TLS 1.3 accepted, relay mail, and after a reload to
# report mode TLS 1.1 would-reject; then a reload that fails — and the
# results of PromQL queries through Prometheus's HTTP API must equal what
# was sent (counted from swaks's transcripts and the MTA's own Received
# fields) and what the milter's audit log says; the three example alerts
# must fire (or not) accordingly.  Also: promtool checks the rules and a
# scrape, prometheus_client's strict parser reads the OpenMetrics scrape,
# and hostile HTTP clients (idle, slow, oversized, too many) neither stall a
# transaction nor hold more connections than the cap.
#
# Prints the first 30 lines of a scrape and every PromQL result.  Every
# process it starts it stops by its pid.
. "$(dirname "$0")/common.sh"
PORT_SMTP=15025 PORT_SUB=15587 PORT_SUBS=15465
. "$(dirname "$0")/mta-postfix.sh"
. "$(dirname "$0")/cases.sh"
. "$(dirname "$0")/policy_cases.sh"

new_workdir prometheus
MILTER_PORT=15891
METRICS_PORT=15925
PROM_PORT=15990
METRICS_URL="http://127.0.0.1:$METRICS_PORT/metrics"
PROM_URL="http://127.0.0.1:$PROM_PORT"
# Debian's Python, which python3-prometheus-client installs into (a python3
# earlier in PATH, such as a pyenv one, would not have it).
PROMQL="$TOP/tests/integration/promql.py"
MILTER_GLOBAL_LINES="metrics_listen = 127.0.0.1:$METRICS_PORT"
OM_ACCEPT='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
[ -x "$MILTER_BIN" ] || { fail "no milter binary at $MILTER_BIN"; finish; exit 1; }

# ---- the example rules ----------------------------------------------------------
promtool check rules "$TOP/conf/rfc8314-alerts.yml" > "$WORK/rules.check" 2>&1 \
    && pass "promtool check rules conf/rfc8314-alerts.yml" \
    || { fail "promtool check rules:"; sed 's/^/    | /' "$WORK/rules.check"; }
(cd "$TOP/tests/data" && promtool test rules rfc8314-alerts.test.yml) > "$WORK/rules.test" 2>&1 \
    && pass "promtool test rules: each alert fires on its series, and only then" \
    || { fail "promtool test rules:"; sed 's/^/    | /' "$WORK/rules.test"; }

start_milter || { fail "milter did not start"; finish; exit 1; }
wait_port "$METRICS_PORT" 10 || { fail "nothing listens on the metrics port"; finish; exit 1; }
mta_setup "$MILTER_PORT" || { fail "postfix setup"; finish; exit 1; }
mta_start || { fail "postfix did not start"; finish; exit 1; }

# ---- the endpoint itself ------------------------------------------------------------
code_of() { curl -s -o "$WORK/body" -D "$WORK/head" -w '%{http_code}' "$@"; }
expect_eq "GET /metrics: 200" "$(code_of "$METRICS_URL")" 200
expect_grep "GET /metrics: the text format" '^Content-Type: text/plain; version=0.0.4; charset=utf-8' "$WORK/head"
cp "$WORK/body" "$WORK/scrape.prom"
promtool check metrics < "$WORK/scrape.prom" > "$WORK/scrape.check" 2>&1 \
    && [ ! -s "$WORK/scrape.check" ] && pass "promtool check metrics: a real scrape, no finding" \
    || { fail "promtool check metrics:"; sed 's/^/    | /' "$WORK/scrape.check"; }
expect_eq "Prometheus's Accept: 200" "$(code_of -H "Accept: $OM_ACCEPT" "$METRICS_URL")" 200
expect_grep "Prometheus's Accept: OpenMetrics" '^Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8' "$WORK/head"
expect_eq "OpenMetrics ends in # EOF" "$(tail -n 1 "$WORK/body")" "# EOF"
cp "$WORK/body" "$WORK/scrape.om"
got=$(/usr/bin/python3 "$PROMQL" --openmetrics "$WORK/scrape.om" 2>&1)
[[ $got == "ok "* ]] && pass "prometheus_client's OpenMetrics parser reads the scrape ($got)" || fail "OpenMetrics parser: $got"
expect_eq "GET /: 404" "$(code_of "http://127.0.0.1:$METRICS_PORT/")" 404
expect_eq "POST /metrics: 404" "$(code_of -X POST -d x "$METRICS_URL")" 404
expect_eq "HEAD /metrics: 200" "$(curl -s -I -o /dev/null -w '%{http_code}' "$METRICS_URL")" 200

# ---- a private Prometheus ----------------------------------------------------------------
mkdir -p "$WORK/prom/data"
cat > "$WORK/prom/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $TOP/conf/rfc8314-alerts.yml
scrape_configs:
  - job_name: rfc8314
    static_configs:
      - targets: ['127.0.0.1:$METRICS_PORT']
EOF
prometheus --config.file="$WORK/prom/prometheus.yml" --storage.tsdb.path="$WORK/prom/data" \
    --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn > "$WORK/prom/prometheus.log" 2>&1 &
PROM_PID=$!
track_pid "$PROM_PID"
ready=no
for ((i = 0; i < 600; i++)); do
    curl -sf "$PROM_URL/-/ready" > /dev/null 2>&1 && { ready=yes; break; }
    kill -0 "$PROM_PID" 2>/dev/null || break
    sleep 0.1
done
[ "$ready" = yes ] && pass "Prometheus is up" || { fail "Prometheus did not start:"; sed 's/^/    | /' "$WORK/prom/prometheus.log"; finish; exit 1; }

# q QUERY — the query's result through Prometheus (promql.py's format).
q() { /usr/bin/python3 "$PROMQL" "$PROM_URL" "$1" | cut -f2-; }
# wait_q QUERY WANT [SECS] — until the result is WANT; prints the last one.
wait_q() {
    local got i
    for ((i = 0; i < ${3:-60}; i++)); do
        got=$(q "$1")
        [ "$got" = "$2" ] && break
        sleep 1
    done
    printf '%s' "$got"
}
expect_eq "Prometheus scrapes the milter: up == 1" "$(wait_q 'up{job="rfc8314"}' '{__name__="up",instance="127.0.0.1:'"$METRICS_PORT"'",job="rfc8314"}=1')" \
    '{__name__="up",instance="127.0.0.1:'"$METRICS_PORT"'",job="rfc8314"}=1'

# ---- known transactions --------------------------------------------------------------------
# swaks_ok NAME — the server accepted the message.
swaks_ok() { grep -Eq '^<[-~] +250 .*(queued|accepted|OK|Ok)' "$WORK/$1.swaks"; }
refused=0 cleartext_auth=0 accepted13=0 wouldreject=0 mails=0
for i in 1 2; do
    send m_clear_auth$i --port "$PORT_SUB" $(auth_args "$SASL_USER" "$SASL_PASS")
    mails=$((mails + 1))
    [[ $(mail_reply m_clear_auth$i) == "530 5.7.0 "* ]] && refused=$((refused + 1))
    grep -q '^<[-~] *235 ' "$WORK/m_clear_auth$i.swaks" && cleartext_auth=$((cleartext_auth + 1))
done
send m_clear_noauth --port "$PORT_SUB"
mails=$((mails + 1))
[[ $(mail_reply m_clear_noauth) == "530 5.7.0 "* ]] && refused=$((refused + 1))
expect_eq "3 cleartext MAILs on submission refused with 530 (by swaks)" "$refused" 3
expect_eq "2 of them after a successful cleartext AUTH (235, by swaks)" "$cleartext_auth" 2
for i in 1 2 3; do
    send m_tls13_$i --port "$PORT_SUB" --tls --tls-protocol tlsv1_3 $(auth_args "$SASL_USER" "$SASL_PASS")
    mails=$((mails + 1))
    swaks_ok m_tls13_$i && accepted13=$((accepted13 + 1))
done
expect_eq "3 TLS 1.3 + AUTH accepted (by swaks)" "$accepted13" 3
for i in 1 2; do
    send m_relay$i --port "$PORT_SMTP"
    mails=$((mails + 1))
done
mta_wait_delivery 5 30 || fail "5 messages not delivered"
f=$(message_for m_tls13_1)
cipher13=$(iana_of "$(mta_own_cipher "$f")")
[ -n "$cipher13" ] && pass "TLS 1.3 cipher from Postfix's own Received: $cipher13" || fail "no TLS 1.3 cipher in $f"

# Report mode from now on: TLS 1.1 is let through, audited would-reject.
t_reload=$(date +%s)
reload_milter "action = report" || fail "reload to report mode not logged"
cipher11=
for i in 1 2; do
    send m_tls11_$i --port "$PORT_SUB" --tls --tls-protocol tlsv1_1 --tls-cipher 'DEFAULT:@SECLEVEL=0' \
        $(auth_args "$SASL_USER2" "$SASL_PASS2")
    mails=$((mails + 1))
    if grep -q 'TLS started with cipher TLSv1.1' "$WORK/m_tls11_$i.swaks" && swaks_ok m_tls11_$i; then
        wouldreject=$((wouldreject + 1))
        cipher11=$(iana_of "$(sed -n 's/.*TLS started with cipher TLSv1.1:\([^:]*\):.*/\1/p' "$WORK/m_tls11_$i.swaks" | head -n 1)")
    fi
done
expect_eq "2 TLS 1.1 + AUTH sent and delivered in report mode (by swaks)" "$wouldreject" 2
# A reload that fails: the running (report) configuration stays.
echo "no_such_key = 1" >> "$MILTER_CONF"
kill -USR1 "$MILTER_PID"
for ((i = 0; i < 50; i++)); do grep -q 'event=reload, status=failed' "$MILTER_LOG" && break; sleep 0.1; done
audit_lines=$(grep -Ec ' user=.*, verdict=' "$MILTER_LOG")
expect_eq "the milter's audit log has 8 transaction lines" "$audit_lines" 8

# ---- PromQL ---------------------------------------------------------------------------------
# Wait until Prometheus has scraped the final state.
expect_eq "Prometheus saw the failed reload" \
    "$(wait_q 'rfc8314_config_reloads_total{result="failed"}' '{__name__="rfc8314_config_reloads_total",instance="127.0.0.1:'"$METRICS_PORT"'",job="rfc8314",result="failed"}=1')" \
    '{__name__="rfc8314_config_reloads_total",instance="127.0.0.1:'"$METRICS_PORT"'",job="rfc8314",result="failed"}=1'
wait_q 'sum(rfc8314_transactions_total)' "$audit_lines" > /dev/null
sleep 2

# QUERY<TAB>WANT: every result in one Python run.
cat > "$WORK/queries.tsv" <<EOF
sum(rfc8314_transactions_total{verdict="reject",reason="cleartext"})	$refused
sum(rfc8314_cleartext_auth_total)	$cleartext_auth
sum(rfc8314_cleartext_auth_total{listener="submission"})	$cleartext_auth
sum(rfc8314_transactions_total{listener="submission",verdict="accept",reason=""})	$accepted13
sum(rfc8314_tls_transactions_total{tls_version="TLSv1.3",cipher="$cipher13"})	$accepted13
sum(rfc8314_transactions_total{verdict="would-reject",reason="tls-version"})	$wouldreject
sum(rfc8314_tls_transactions_total{tls_version="TLSv1.1",cipher="$cipher11"})	$wouldreject
sum(rfc8314_tls_transactions_total{tls_version="none",cipher="none"})	$refused
sum(rfc8314_transactions_total)	$audit_lines
sum(rfc8314_tls_transactions_total)	$audit_lines
sum(rfc8314_transactions_total{listener="relay"})	empty
sum(rfc8314_callback_duration_seconds_count{stage="mail"})	$mails
sum(rfc8314_internal_errors_total)	0
rfc8314_sessions_active	{__name__="rfc8314_sessions_active",instance="127.0.0.1:$METRICS_PORT",job="rfc8314"}=0
sum(rfc8314_config_reloads_total{result="ok"})	1
sum(rfc8314_config_reloads_total{result="failed"})	1
sum(rfc8314_config_last_reload_successful)	0
sum(rfc8314_build_info{version="0.1.0"})	1
count(ALERTS{alertname="RFC8314CleartextAuth",alertstate="firing",listener="submission"})	1
count(ALERTS{alertname="RFC8314CleartextAuth",listener!="submission"})	empty
count(ALERTS{alertname="RFC8314ConfigReloadFailed",alertstate="firing"})	1
count(ALERTS{alertname="RFC8314InternalErrors"})	empty
EOF
# Alerts are evaluated every second; give them the time to turn firing.
wait_q 'count(ALERTS{alertname="RFC8314ConfigReloadFailed",alertstate="firing"})' 1 > /dev/null
mapfile -t queries < <(cut -f1 "$WORK/queries.tsv")
/usr/bin/python3 "$PROMQL" "$PROM_URL" "${queries[@]}" > "$WORK/results.tsv"
paste "$WORK/queries.tsv" <(cut -f2- "$WORK/results.tsv") > "$WORK/compare.tsv"
while IFS=$'\t' read -r query want got; do
    expect_eq "PromQL $query" "$got" "$want"
done < "$WORK/compare.tsv"
ts=$(q 'rfc8314_config_last_reload_success_timestamp_seconds' | sed 's/.*=//')
if [ -n "$ts" ] && [ "$ts" -ge "$((t_reload - 1))" ] && [ "$ts" -le "$((t_reload + 5))" ]; then
    pass "last reload success timestamp is the good reload's ($ts, reload at $t_reload)"
else fail "last reload success timestamp: '$ts', reload at $t_reload"; fi

# ---- hostile HTTP clients ----------------------------------------------------------------------
base_fds=$(ls "/proc/$MILTER_PID/fd" | wc -l)
held=()
for ((i = 0; i < 40; i++)); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$METRICS_PORT" && held+=("$fd")
done
printf 'GET /metrics HTTP/1.1\r\n' >&"${held[0]}" # a slow client: never ends its request
sleep 1
now_fds=$(ls "/proc/$MILTER_PID/fd" | wc -l)
if [ "$((now_fds - base_fds))" -le 16 ]; then pass "40 idle clients: the milter holds $((now_fds - base_fds)) of them (cap 16)"
else fail "40 idle clients: the milter holds $((now_fds - base_fds)) descriptors more, want <= 16"; fi
start=$(date +%s%N)
send m_during --port "$PORT_SUB" --tls $(auth_args "$SASL_USER" "$SASL_PASS")
ms=$((($(date +%s%N) - start) / 1000000))
swaks_ok m_during && pass "a transaction while the endpoint is flooded: accepted (${ms} ms)" \
    || fail "a transaction while the endpoint is flooded: not accepted"
sleep 6
for fd in "${held[@]}"; do exec {fd}>&-; done
after_fds=$(ls "/proc/$MILTER_PID/fd" | wc -l)
expect_eq "after the 5 s timeout every idle connection is closed by the milter" "$after_fds" "$base_fds"
head -c 10000 /dev/zero | tr '\0' 'a' | { printf 'GET /metrics HTTP/1.1\r\nX-Big: '; cat; } |
    timeout 10 curl -s --max-time 8 telnet://127.0.0.1:$METRICS_PORT > "$WORK/big.out" 2>&1
expect_grep "a 10 kB request head: 431" '^HTTP/1.1 431 ' "$WORK/big.out"
expect_eq "and the endpoint still answers" "$(code_of "$METRICS_URL")" 200

# ---- a start error: the metrics address is taken ----------------------------------------------
sed -e "s/^socket = .*/socket = inet:$((MILTER_PORT + 1))@127.0.0.1/" "$MILTER_CONF" |
    grep -v '^no_such_key' > "$WORK/second.conf"
"$MILTER_BIN" -f -c "$WORK/second.conf" > "$WORK/second.out" 2>&1 &
second=$!
track_pid "$second"
wait "$second"
expect_eq "metrics_listen already in use: the daemon does not start (exit 71)" "$?" 71
expect_grep "and says why" "^rfc8314-milter: metrics_listen 127.0.0.1:$METRICS_PORT: bind: Address already in use" "$WORK/second.out"

# ---- for the closing note ----------------------------------------------------------------------
echo "--- first 30 lines of a scrape (text format), at the end of the suite:"
curl -s "$METRICS_URL" | head -n 30 | sed 's/^/    /'
echo "--- PromQL results (query, want, got):"
sed 's/^/    /' "$WORK/compare.tsv"

kill "$PROM_PID" 2>/dev/null
wait "$PROM_PID" 2>/dev/null
mta_stop
stop_milter
finish
