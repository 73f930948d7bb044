#!/bin/bash
# test_ecs.sh — audit_format = ecs on a real Postfix: the trail a log
# pipeline collects is Elastic Common Schema, and the report reads it as it
# reads the native trail.
#
# Two milters sit in Postfix's smtpd_milters and see the very same
# transactions: the first writes its audit file with audit_format = ecs,
# the second (same configuration otherwise) with audit_format = native.
# What it proves: every key of every ECS event is either an ECS field with
# the type the ECS reference gives it (the list below, from the ECS field
# reference, https://www.elastic.co/guide/en/ecs/current/) and, for the
# categorization fields, one of its allowed values — or under rfc8314.;
# the events are nested objects (no dotted key); host.name and the native
# `host` are the MTA's {j} (its myhostname); and rfc8314-report gives the
# same tables (every table, --by host and a what-if included) from the ECS
# trail as from the native one.  The listeners report rather than refuse
# while the two trails are compared, so the second milter sees every MAIL;
# then a reload to action = reject adds refusals (event.outcome failure)
# to the ECS trail that is validated.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/mta-postfix.sh"
. "$(dirname "$0")/cases.sh"

new_workdir ecs
MILTER_PORT=12031
NATIVE_PORT=12032
REPORT="$BUILD_ABS/rfc8314-report"
[ -x "$MILTER_BIN" ] || { fail "no milter binary at $MILTER_BIN"; finish; exit 1; }
[ -x "$REPORT" ] || { fail "no report binary at $REPORT"; finish; exit 1; }

MILTER_GLOBAL_LINES="audit_format = ecs"
start_milter "action = report" || { fail "milter (ecs) did not start"; finish; exit 1; }
ECS_TRAIL=$MILTER_AUDIT
# The native twin: the same configuration, its own port, file and format.
NATIVE_TRAIL=$WORK/native.jsonl
NATIVE_CONF=$WORK/native.conf
sed -e "s/^socket = .*/socket = inet:$NATIVE_PORT@127.0.0.1/" \
    -e "s|^audit_file = .*|audit_file = $NATIVE_TRAIL|" \
    -e "s/^audit_format = .*/audit_format = native/" "$MILTER_CONF" > "$NATIVE_CONF"
"$MILTER_BIN" -f -c "$NATIVE_CONF" 2>> "$WORK/native.log" &
NATIVE_PID=$!
track_pid "$NATIVE_PID"
wait_port "$NATIVE_PORT" 10 || { fail "milter (native) did not start"; cat "$WORK/native.log"; finish; exit 1; }

MTA_MILTERS_AFTER="native=$NATIVE_PORT" mta_setup "$MILTER_PORT" || { fail "postfix setup"; finish; exit 1; }
mta_start || { fail "postfix did not start"; finish; exit 1; }
MTA_HOST=$(postconf -c "$PF_CONF" -h myhostname)

n=0
send tls13_auth --port "$PORT_SUB" --tls --auth PLAIN --auth-user "$SASL_USER" --auth-password "$SASL_PASS"
n=$((n + 1))
send tls12_auth --port "$PORT_SUB" --tls --tls-protocol tlsv1_2 --tls-cipher ECDHE-RSA-AES128-GCM-SHA256 \
    --auth PLAIN --auth-user "$SASL_USER" --auth-password "$SASL_PASS"
n=$((n + 1))
send rsa_kx --port "$PORT_SUB" --tls --tls-protocol tlsv1_2 --tls-cipher AES128-GCM-SHA256 \
    --auth LOGIN --auth-user "$SASL_USER2" --auth-password "$SASL_PASS2"
n=$((n + 1))
send implicit_tls --port "$PORT_SUBS" --tls-on-connect --auth PLAIN \
    --auth-user "$SASL_USER2" --auth-password "$SASL_PASS2"
n=$((n + 1))
# AUTH in cleartext (the adapter's submission offers it): would-reject.
send clear_auth --port "$PORT_SUB" --auth PLAIN --auth-user "$SASL_USER" --auth-password "$SASL_PASS"
n=$((n + 1))
# Relay, cleartext, no AUTH: accepted, no audit event.
send relay --port "$PORT_SMTP"
n=$((n + 1))
mta_wait_delivery "$n" 30 || fail "not every message delivered ($(mta_messages | grep -c .) of $n)"
# An accepted transaction's event is written at its end; give the close a moment.
for _ in $(seq 50); do
    [ "$(grep -c . "$ECS_TRAIL" 2>/dev/null)" -ge 5 ] && [ "$(grep -c . "$NATIVE_TRAIL" 2>/dev/null)" -ge 5 ] && break
    sleep 0.1
done
expect_eq "ecs trail: one event per audited transaction" "$(grep -c . "$ECS_TRAIL")" 5
expect_eq "native trail: the same number" "$(grep -c . "$NATIVE_TRAIL")" 5
cp "$ECS_TRAIL" "$WORK/ecs-compared.jsonl"
cp "$NATIVE_TRAIL" "$WORK/native-compared.jsonl"

# ---- the report: the same tables from either trail ----------------------------
# first/last are the times each milter saw MAIL: the two may straddle a
# second, so they are the only values left out of the comparison.
for args in "" "--by host" "--by host --require-tls --min-tls TLSv1.2 --min-bits 128"; do
    # shellcheck disable=SC2086
    "$REPORT" --json $args --json-input "$WORK/ecs-compared.jsonl" > "$WORK/r-ecs.json"
    # shellcheck disable=SC2086
    "$REPORT" --json $args --json-input "$WORK/native-compared.jsonl" > "$WORK/r-native.json"
    if python3 - "$WORK/r-ecs.json" "$WORK/r-native.json" <<'PY'
import json, sys
def strip(x):
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items() if k not in ("first", "last")}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x
e, n = (json.load(open(p)) for p in sys.argv[1:3])
assert e["summary"]["audit"] == 5 and e["summary"]["damaged"] == 0 and e["summary"]["foreign"] == 0, e["summary"]
assert strip(e) == strip(n), (strip(e), strip(n))
PY
    then pass "report ${args:-(defaults)}: same tables from the ECS trail as from the native trail"
    else fail "report ${args:-(defaults)}: ECS and native trails differ"; fi
done
"$REPORT" --by host --table hosts --csv --json-input "$WORK/ecs-compared.jsonl" | tr -d '\r' > "$WORK/hosts.csv"
expect_eq "--by host: one row, the MTA's myhostname, 5 transactions" "$(tail -n +2 "$WORK/hosts.csv" | cut -d, -f1-2)" "$MTA_HOST,5"
expect_grep "native trail: host is the MTA's {j}" "\"host\":\"$MTA_HOST\"" "$NATIVE_TRAIL"
# The text tables too (what a person reads), from either trail.
"$REPORT" --by host --require-tls --json-input "$WORK/ecs-compared.jsonl" | grep -v -E '^(first|last) ' > "$WORK/t-ecs.txt"
"$REPORT" --by host --require-tls --json-input "$WORK/native-compared.jsonl" | grep -v -E '^(first|last) ' > "$WORK/t-native.txt"
expect_eq "text: the same user rows from either trail" \
    "$(grep -E "^($SASL_USER|$SASL_USER2) " "$WORK/t-ecs.txt" | awk '{$3=$4=$5=$6=""; print}')" \
    "$(grep -E "^($SASL_USER|$SASL_USER2) " "$WORK/t-native.txt" | awk '{$3=$4=$5=$6=""; print}')"

# ---- refusals: reload the ECS milter to action = reject ---------------------------
write_milter_conf
kill -USR1 "$MILTER_PID"
for _ in $(seq 50); do grep -q 'event=reload' "$MILTER_LOG" && break; sleep 0.1; done
expect_grep "ecs milter: reloaded" 'event=reload, status=ok' "$MILTER_LOG"
send clear_refused --port "$PORT_SUB" --auth PLAIN --auth-user "$SASL_USER" --auth-password "$SASL_PASS"
expect_grep "clear_refused: client refused at MAIL" '^<\*\* +530 ' "$WORK/clear_refused.swaks"
for _ in $(seq 50); do [ "$(grep -c . "$ECS_TRAIL")" -ge 6 ] && break; sleep 0.1; done

# ---- every key an ECS field of its type, or under rfc8314. ---------------------
if python3 - "$ECS_TRAIL" "$MTA_HOST" <<'PY'
import ipaddress, json, re, sys
# ECS field reference (https://www.elastic.co/guide/en/ecs/current/):
# field -> type.  keyword/match_only_text are strings; long a JSON
# integer; ip an IPv4/IPv6 address; date ISO 8601; boolean true/false.
# event.category and event.type are arrays of keyword.
ECS = {
    "@timestamp": "date",              # Base fields
    "ecs.version": "keyword",          # ECS fields
    "event.kind": "keyword",           # Event fields (categorization)
    "event.category": "keyword[]",
    "event.type": "keyword[]",
    "event.action": "keyword",
    "event.outcome": "keyword",
    "event.reason": "keyword",
    "host.name": "keyword",            # Host fields
    "email.local_id": "keyword",       # Email fields
    "user.name": "keyword",            # User fields
    "source.ip": "ip",                 # Source fields
    "source.port": "long",
    "source.domain": "keyword",
    "destination.port": "long",        # Destination fields
    "tls.established": "boolean",      # TLS fields
    "tls.version": "keyword",
    "tls.version_protocol": "keyword",
    "tls.cipher": "keyword",
    "tls.curve": "keyword",
    "error.message": "match_only_text",  # Error fields
}
# Allowed values of the categorization fields (ECS Categorization Fields).
ALLOWED = {
    "event.kind": {"alert", "asset", "enrichment", "event", "metric", "state", "pipeline_error", "signal"},
    "event.category": {"api", "authentication", "configuration", "database", "driver", "email", "file",
                       "host", "iam", "intrusion_detection", "library", "malware", "network", "package",
                       "process", "registry", "session", "threat", "vulnerability", "web"},
    "event.type": {"access", "admin", "allowed", "change", "connection", "creation", "deletion", "denied",
                   "device", "end", "error", "group", "indicator", "info", "installation", "protocol",
                   "start", "user"},
    "event.outcome": {"failure", "success", "unknown"},
}
def ok(t, v):
    if t == "keyword" or t == "match_only_text":
        return isinstance(v, str)
    if t == "keyword[]":
        return isinstance(v, list) and all(isinstance(x, str) for x in v)
    if t == "long":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "boolean":
        return isinstance(v, bool)
    if t == "ip":
        try:
            ipaddress.ip_address(v); return True
        except (ValueError, TypeError):
            return False
    if t == "date":
        return isinstance(v, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", v)
    raise AssertionError("no type " + t)
def leaves(d, prefix=""):
    for k, v in d.items():
        assert "." not in k or prefix == "" and k == "@timestamp", "dotted key %r: ECS events are nested objects" % k
        p = prefix + k
        if isinstance(v, dict):
            yield from leaves(v, p + ".")
        else:
            yield p, v
bad, seen, outcomes = [], set(), set()
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 6, len(lines)
for n, line in enumerate(lines, 1):
    ev = json.loads(line)
    for path, v in leaves(ev):
        seen.add(path)
        if path.startswith("rfc8314."):
            continue
        if path not in ECS:
            bad.append("line %d: %s is neither an ECS field of the list nor under rfc8314." % (n, path)); continue
        if not ok(ECS[path], v):
            bad.append("line %d: %s = %r is not %s" % (n, path, v, ECS[path])); continue
        allowed = ALLOWED.get(path)
        if allowed and not set(v if isinstance(v, list) else [v]) <= allowed:
            bad.append("line %d: %s = %r not an allowed value" % (n, path, v))
    assert ev["host"]["name"] == sys.argv[2], ev["host"]
    outcomes.add(ev["event"]["outcome"])
    if ev["tls"]["established"]:
        assert ev["tls"]["version_protocol"] == "tls" and re.fullmatch(r"1\.[0-3]", ev["tls"]["version"]), ev["tls"]
        assert ev["tls"]["cipher"].startswith("TLS_"), ev["tls"]
for b in bad:
    print("   ", b)
print("    keys seen:", " ".join(sorted(seen)))
assert not bad
assert outcomes == {"success", "failure"}, outcomes
for must in ("@timestamp", "ecs.version", "event.kind", "event.category", "event.action", "event.outcome",
             "user.name", "source.ip", "source.port", "host.name", "tls.version", "tls.version_protocol",
             "tls.cipher", "email.local_id", "destination.port", "rfc8314.listener"):
    assert must in seen, must + " never written"
PY
then pass "ecs trail: every key an ECS field of its type (or under rfc8314.), nested, refusals included"
else fail "ecs trail: keys or types"; sed 's/^/    | /' "$ECS_TRAIL"; fi
"$REPORT" --table summary --json-input "$ECS_TRAIL" > "$WORK/final.txt"
expect_grep "report: the refusal read from the ECS trail" '^audit +6$' "$WORK/final.txt"
"$REPORT" --csv --table users --json-input "$ECS_TRAIL" | tr -d '\r' > "$WORK/final-users.csv"
# The column by its name: the users table gains columns (the TLS mix did).
reject_col=$(head -1 "$WORK/final-users.csv" | tr ',' '\n' | grep -nx reject | cut -d: -f1)
expect_eq "report: the csv has one reject column" "$(head -1 "$WORK/final-users.csv" | tr ',' '\n' | grep -cx reject)" 1
expect_eq "report: $SASL_USER's one refusal read from the ECS trail" \
    "$(awk -F, -v u="$SASL_USER" -v c="${reject_col:-0}" '$1 == u {print $c}' "$WORK/final-users.csv")" 1
echo "    sample ECS event: $(sed -n 1p "$ECS_TRAIL")"
expect_no_grep "milter log: no internal errors" 'internal error' "$MILTER_LOG"

mta_stop
stop_milter
kill "$NATIVE_PID" 2>/dev/null
wait "$NATIVE_PID" 2>/dev/null
finish
