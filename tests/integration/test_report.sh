#!/bin/bash
# test_report.sh — rfc8314-report on an audit trail the milter itself wrote.
#
# The fixture is real milter output: each case runs `rfc8314-milter -t`
# (the milter's own decision and logging code, no MTA), and its audit line
# and JSON event are wrapped the way syslog, the milter's stderr and
# journalctl -o cat deliver them: a rotated set across New Year (one file
# gzipped, read in either order), foreign, damaged and non-audit lines
# mixed in.  What it proves: the cleartext-password list is exactly the
# users who authenticated over cleartext; counts, dates (Dec -> Jan),
# what-if and the four formats agree with the fixture; file order and
# compression do not change the result; bad input is counted, never fatal;
# the HTML page renders in headless Chromium with its charts, no console
# error and no network request.
. "$(dirname "$0")/common.sh"

new_workdir report
REPORT="$BUILD_ABS/rfc8314-report"
W=$WORK
[ -x "$REPORT" ] || { fail "no report binary at $REPORT"; finish; exit 1; }
[ -x "$MILTER_BIN" ] || { fail "no milter binary at $MILTER_BIN"; finish; exit 1; }

# milter_case USER TLS CIPHER BITS ADDR [PORT] — the milter's audit line
# (syslog message) to $W/case.msg and its JSON event, if any, to
# $W/case.json (-t prints the JSON event of every audit event, refusals at
# MAIL included).  BITS "-": the MTA passes no {cipher_bits}.
milter_case() {
    local user=$1 tls=$2 cipher=$3 bits=$4 addr=$5 port=${6:-587}
    local args=(-t --macro "{daemon_port}=$port" --macro '{auth_type}=PLAIN'
                --macro "{auth_authen}=$user" --macro "{client_addr}=$addr"
                --macro "i=Q$RANDOM" --helo client.example --rcpt rcpt@example.org)
    if [ "$tls" != none ]; then
        args+=(--macro "{tls_version}=$tls" --macro "{cipher}=$cipher")
        [ "$bits" != - ] && args+=(--macro "{cipher_bits}=$bits")
    fi
    "$MILTER_BIN" "${args[@]}" > "$W/case.out" 2>&1
    sed -n 's/^log info: \(.*user=.*verdict=.*\)$/\1/p' "$W/case.out" | head -1 > "$W/case.msg"
    sed -n 's/^audit: //p' "$W/case.out" | head -1 > "$W/case.json"
    [ -s "$W/case.msg" ]
}

# emit FILE STAMP CASE... — append a syslog line for the case to FILE.
emit() {
    local file=$1 stamp=$2; shift 2
    milter_case "$@" || { fail "milter -t gave no audit line for: $*"; sed 's/^/    | /' "$W/case.out"; return; }
    printf '%s mx1 rfc8314-milter[812]: %s\n' "$stamp" "$(cat "$W/case.msg")" >> "$file"
    cat "$W/case.json" >> "$W/audit.json"
}

T13=(TLSv1.3 TLS_AES_256_GCM_SHA384 256)
T12=(TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 128)
T10=(TLSv1 ECDHE-RSA-AES128-SHA 128)
CLEAR=(none - 0)

: > "$W/audit.json"
# Older file of the rotated set: December 2025.
: > "$W/maillog.1"
emit "$W/maillog.1" "Dec 30 09:00:01" alice "${T13[@]}" 192.0.2.10
emit "$W/maillog.1" "Dec 30 09:05:00" bob "${T12[@]}" 192.0.2.20
emit "$W/maillog.1" "Dec 31 23:59:59" carol "${CLEAR[@]}" 192.0.2.30
echo "Dec 31 23:59:59 mx1 postfix/smtpd[77]: connect from unknown[192.0.2.30]" >> "$W/maillog.1"
emit "$W/maillog.1" "Dec 31 23:59:59" dave "${T10[@]}" 192.0.2.40
# Newer file: January 2026, gzipped by logrotate.
: > "$W/maillog"
emit "$W/maillog" "Jan  1 00:00:05" alice "${T12[@]}" 192.0.2.11 465
emit "$W/maillog" "Jan  1 08:30:00" "j doe" "${CLEAR[@]}" 198.51.100.7
emit "$W/maillog" "Jan  2 10:00:00" carol "${CLEAR[@]}" 192.0.2.30
emit "$W/maillog" "Jan  2 11:00:00" bob "${T13[@]}" 192.0.2.20
# Port 25: a relay listener, policy off by default, so accepted - but the
# password still crossed in cleartext.
emit "$W/maillog" "Jan  2 11:00:00" erin "${CLEAR[@]}" 203.0.113.5 25
echo "Jan  2 11:00:01 mx1 rfc8314-milter[812]: starting rfc8314-milter 0.1.0" >> "$W/maillog"
echo "Jan  2 11:00:02 mx1 rfc8314-milter[812]: Q1: user=\"trunc" >> "$W/maillog"
echo "Jan  2 11:00:03 mx1 kernel: random noise" >> "$W/maillog"
gzip -k "$W/maillog"
# mtimes as logrotate leaves them: the default year comes from these.
touch -d '2025-12-31 23:59:59' "$W/maillog.1"
touch -d '2026-01-02 12:00:00' "$W/maillog" "$W/maillog.gz"

CLEARTEXT_USERS=$'carol\nerin\nj doe'
AUDIT_LINES=9

# ---- text ------------------------------------------------------------------
"$REPORT" --year 2026-01 --require-tls --min-tls TLSv1.2 "$W/maillog.1" "$W/maillog.gz" > "$W/text.out" 2> "$W/text.err"
expect_eq "text: exit 0" "$?" 0
expect_grep "text: summary counts audit lines" "^audit +$AUDIT_LINES\$" "$W/text.out"
expect_grep "text: one foreign line per file" "^foreign +2\$" "$W/text.out"
expect_grep "text: damaged line counted" "^damaged +1\$" "$W/text.out"
expect_grep "text: non-audit milter line counted" "^other +1\$" "$W/text.out"
expect_grep "text: period spans New Year" "^first +2025-12-30 09:00:01\$" "$W/text.out"
expect_grep "text: period ends in January" "^last +2026-01-02 11:00:00\$" "$W/text.out"
expect_grep "text: cleartext heading" "^AUTHENTICATED OVER CLEARTEXT: password exposed, change advised\$" "$W/text.out"
expect_no_grep "text: no MUST (RFC 8314 4.1 advises a change, if compromised)" "MUST" "$W/text.out"
expect_grep "text: quoted user shown as the log writes it" '^"j doe" +1 ' "$W/text.out"
expect_grep "text: carol twice over cleartext" '^carol +2 +2025-12-31 23:59:59 +2026-01-02 10:00:00$' "$W/text.out"
expect_grep "text: what-if sentence" "^would refuse 5 of $AUDIT_LINES transactions \(55.6%\) of 4 users\$" "$W/text.out"
# Columns: refused, transactions, cleartext, tls_version, cipher_bits,
# tls_version_unknown, cipher_bits_unknown.
expect_grep "text: dave refused for TLS version" '^dave +1 +1 +0 +1 +0 +0 +0$' "$W/text.out"

# ---- CSV: the cleartext-password list is exactly the cleartext users --------
"$REPORT" --year 2026-01 --csv --table cleartext "$W/maillog.1" "$W/maillog.gz" > "$W/clear.csv"
got=$(tail -n +2 "$W/clear.csv" | tr -d '\r' | cut -d, -f1 | sort)
want=$(grep -h 'cleartext_auth=yes' "$W/maillog.1" "$W/maillog" | sed 's/.*user=\("[^"]*"\|[^,]*\),.*/\1/; s/"//g' | sort -u)
expect_eq "csv: cleartext users are those with cleartext_auth=yes in the log" "$got" "$want"
expect_eq "csv: and they are carol, erin and j doe" "$got" "$CLEARTEXT_USERS"
expect_eq "csv: header" "$(head -1 "$W/clear.csv" | tr -d '\r')" "user,transactions,first,last"
"$REPORT" --year 2026-01 --csv "$W/maillog.1" "$W/maillog.gz" > "$W/all.csv"
expect_grep "csv: days table" '^2026-01-01,2,' "$W/all.csv"
expect_grep "csv: users table" '^alice,2,2025-12-30 09:00:01,2026-01-01 00:00:05,TLSv1.3 TLSv1.2,' "$W/all.csv"

# ---- JSON --------------------------------------------------------------------
"$REPORT" --year 2026-01 --json --require-tls --min-tls TLSv1.2 "$W/maillog.gz" "$W/maillog.1" > "$W/a.json"
if python3 - "$W/a.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
assert (s["audit"], s["foreign"], s["damaged"], s["other"], s["undated"]) == (9, 2, 1, 1, 0), s
assert [x["day"] for x in d["days"]] == ["2025-12-30", "2025-12-31", "2026-01-01", "2026-01-02"], d["days"]
assert sorted(u["user"] for u in d["cleartext"]) == ["carol", "erin", "j doe"]
assert {u["user"] for u in d["users"]} == {"alice", "bob", "carol", "dave", "erin", "j doe"}
w = d["whatif"]
assert w["refused"] == 5 and w["policy"] == {"require_tls": True, "min_tls": "TLSv1.2", "min_bits": None,
                                             "exceptions": None, "as_of": None, "rollout_percent": 100,
                                             "listeners": []}, w
assert {u["user"]: u["refused"] for u in w["users"]} == {"carol": 2, "j doe": 1, "dave": 1, "erin": 1}, w
alice = [u for u in d["users"] if u["user"] == "alice"][0]
assert alice["listeners"] == {"submission/587": 1, "submissions/465": 1}, alice
assert alice["ciphers"] == {"TLS_AES_256_GCM_SHA384": 1, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": 1}, alice
EOF
then pass "json: counts, days, cleartext users, what-if, per-user detail"; else fail "json: content"; fi

# ---- order, compression, default year -------------------------------------------
"$REPORT" --year 2026-01 --json --require-tls --min-tls TLSv1.2 "$W/maillog.1" "$W/maillog" > "$W/b.json"
check "files in either order, plain or gzip: same report" cmp -s "$W/a.json" "$W/b.json"
"$REPORT" --json --require-tls --min-tls TLSv1.2 "$W/maillog.1" "$W/maillog.gz" > "$W/c.json"
check "year from the files' modification times: same report" cmp -s "$W/a.json" "$W/c.json"

# ---- JSON audit file, stderr form, journalctl -o cat on stdin ---------------------
"$REPORT" --json --json-input "$W/audit.json" > "$W/j.json"
# The same events as syslog lines: every audit line of the rotated set.
cat "$W/maillog.1" "$W/maillog" | grep -F 'rfc8314-milter[812]: ' | grep -F ', verdict=' > "$W/auditlines.log"
"$REPORT" --year 2026-01 --json "$W/auditlines.log" > "$W/acc.json"
if python3 - "$W/j.json" "$W/acc.json" "$(wc -l < "$W/audit.json")" <<'EOF'
import json, sys
j, a = (json.load(open(p)) for p in sys.argv[1:3])
assert j["summary"]["audit"] == int(sys.argv[3]) == a["summary"]["audit"] and j["summary"]["damaged"] == 0, j["summary"]
assert [u["user"] for u in j["cleartext"]] == [u["user"] for u in a["cleartext"]]
strip = lambda us: {u["user"]: (u["transactions"], u["tls"], u["ciphers"], u["mechs"], u["verdicts"]) for u in us}
assert strip(j["users"]) == strip(a["users"]), (strip(j["users"]), strip(a["users"]))
EOF
then pass "json input: same users, TLS, ciphers and verdicts as the syslog lines"; else fail "json input"; fi
# A rotated JSON set named by one glob (--json-input audit.json*): only the
# first name follows the option, the others are plain inputs, and must
# still be read as JSON.
mkdir -p "$W/jrot"
n=$(wc -l < "$W/audit.json")
head -n 2 "$W/audit.json" | gzip > "$W/jrot/audit.json.1.gz"
tail -n +3 "$W/audit.json" > "$W/jrot/audit.json"
"$REPORT" --json --json-input "$W"/jrot/audit.json* > "$W/jrot.json"
check "json: rotated set by one glob gives the same report" cmp -s "$W/j.json" "$W/jrot.json"
"$REPORT" --json "$W/jrot/audit.json.1.gz" "$W/jrot/audit.json" > "$W/jrot2.json"
check "json: the audit file as a plain input gives the same report" cmp -s "$W/j.json" "$W/jrot2.json"
expect_grep "json: as plain input, $n audit events, none foreign" "\"audit\":$n,\"foreign\":0," "$W/jrot2.json"
sed 's/^.\{15\} mx1 //' "$W/maillog.1" > "$W/stderr.log"
"$REPORT" --table summary "$W/stderr.log" > "$W/stderr.out"
expect_grep "stderr form: audit lines read" "^audit +4\$" "$W/stderr.out"
expect_grep "stderr form: counted as undated" "^undated +4\$" "$W/stderr.out"
sed 's/^.*rfc8314-milter\[812\]: //' "$W/maillog" | "$REPORT" --table summary > "$W/cat.out"
expect_grep "journalctl -o cat on stdin: audit lines read" "^audit +5\$" "$W/cat.out"
expect_grep "journalctl -o cat: damaged line still counted" "^damaged +1\$" "$W/cat.out"

# ---- journalctl's other timestamp shapes ------------------------------------------
# The same lines as journalctl -o short-precise, short-full, short-iso-precise
# and short-unix would print them (the zone is UTC, so short-unix's epoch
# gives the same days): every shape must give the same report.
cat "$W/maillog.1" "$W/maillog" > "$W/both.log"
python3 - "$W/both.log" "$W" <<'EOF'
import calendar, sys, time
lines = open(sys.argv[1], encoding="utf-8", errors="surrogateescape").read().splitlines()
out = {k: open("%s/journal-%s.log" % (sys.argv[2], k), "w", encoding="utf-8", errors="surrogateescape")
       for k in ("precise", "full", "iso-precise", "unix")}
for l in lines:
    stamp, rest = l[:15], l[16:]
    year = 2025 if stamp.startswith("Dec") else 2026
    t = time.strptime("%d %s" % (year, stamp), "%Y %b %d %H:%M:%S")
    out["precise"].write("%s.%06d %s\n" % (stamp, 123456, rest))
    out["full"].write("%s UTC %s\n" % (time.strftime("%a %Y-%m-%d %H:%M:%S", t), rest))
    out["iso-precise"].write("%s.123456+0000 %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S", t), rest))
    out["unix"].write("%d.123456 %s\n" % (calendar.timegm(t), rest))
EOF
"$REPORT" --year 2026-01 --json "$W/both.log" > "$W/j-short.json"
for k in precise full iso-precise unix; do
    "$REPORT" --year 2026-01 --json "$W/journal-$k.log" > "$W/j-$k.json"
    check "journalctl -o short-$k: same report as -o short" cmp -s "$W/j-short.json" "$W/j-$k.json"
done
expect_grep "journalctl shapes: all audit lines dated" '"audit":9,.*"undated":0' "$W/j-unix.json"

# ---- errors ----------------------------------------------------------------------
"$REPORT" "$W/no-such-file" "$W/maillog.1" > "$W/missing.out" 2> "$W/missing.err"
expect_eq "missing file: exit 1" "$?" 1
expect_grep "missing file: named" "no-such-file" "$W/missing.err"
expect_grep "missing file: the others still read" "^audit +4\$" "$W/missing.out"
"$REPORT" --min-tls TLSv9 "$W/maillog.1" > /dev/null 2> "$W/bad.err"
expect_eq "bad option: exit 64 (EX_USAGE, as rfc8314-milter)" "$?" 64
expect_eq "bad option: why, then where to look, as rfc8314-milter says it" "$(cat "$W/bad.err")" \
    "rfc8314-report: --min-tls: unknown version 'TLSv9' (want e.g. TLSv1.2)
try 'rfc8314-report --help'"
"$REPORT" --year=2026-01 --json --require-tls --min-tls=TLSv1.2 "$W/maillog.gz" "$W/maillog.1" > "$W/eq.json"
check "--option=value: same report as --option value" cmp -s "$W/a.json" "$W/eq.json"
"$REPORT" --require-tls=yes "$W/maillog.1" > /dev/null 2> "$W/eq.err"
expect_eq "--flag=value: exit 64" "$?" 64
expect_grep "--flag=value: said so" "^rfc8314-report: .*'--require-tls' does not take any arguments" "$W/eq.err"
"$REPORT" "$W/maillog.1" --min-tls > /dev/null 2> "$W/noval.err"
expect_eq "option without its value: exit 64" "$?" 64
expect_grep "option without its value: said so" "^rfc8314-report: .*'--min-tls' is missing" "$W/noval.err"
expect_grep "option without its value: where to look" "^try 'rfc8314-report --help'\$" "$W/noval.err"
"$REPORT" --help > "$W/help.out"
expect_eq "--help: exit 0" "$?" 0
for o in json-input year ident require-tls min-tls min-bits exceptions as-of rollout-percent rollout-salt \
         listener emit-exceptions until notices template from deadline domain text csv json html table top version; do
    expect_grep "--help lists --$o" "^  --$o( |$)" "$W/help.out"
done
# The deprecation modes' usage errors: each exit 64 with its reason, nothing read.
while IFS='|' read -r why args; do
    # shellcheck disable=SC2086
    "$REPORT" $args "$W/maillog.1" > "$W/mode.out" 2> "$W/mode.err"
    expect_eq "usage: $why: exit 64" "$?" 64
    expect_grep "usage: $why: said so" "^rfc8314-report: $why" "$W/mode.err"
done <<'EOF2'
--emit-exceptions needs --until|--emit-exceptions
--until goes with --emit-exceptions|--until 2030-01-01
choose one of --emit-exceptions and --notices|--emit-exceptions --until 2030-01-01 --notices /nonexistent/x
--emit-exceptions writes no tables|--emit-exceptions --until 2030-01-01 --csv
--template, --from, --deadline and --domain go with --notices|--domain example.org
--notices needs --from|--notices /nonexistent/x
--rollout-salt goes with --rollout-percent|--min-tls TLSv1.2 --rollout-salt s
--exceptions, --as-of, --rollout-percent and --listener need a rule|--listener submission
--listener wants a listener name|--min-tls TLSv1.2 --listener submission/587
--rollout-percent wants a number from 0 to 100|--min-tls TLSv1.2 --rollout-percent 101
--until wants a date|--emit-exceptions --until 2030-13-01
--from wants a mail address|--notices /nonexistent/x --from a\nb
EOF2
printf 'alice until 2030-01-01\nbad line here\n' > "$W/bad-exceptions"
"$REPORT" --min-tls TLSv1.2 --exceptions "$W/bad-exceptions" "$W/maillog.1" > /dev/null 2> "$W/badexc.err"
expect_eq "--exceptions the milter would refuse: exit 64" "$?" 64
expect_grep "--exceptions the milter would refuse: its error, with file:line" \
    "^rfc8314-report: $W/bad-exceptions:2: " "$W/badexc.err"
mkdir -p "$W/notices-used" && : > "$W/notices-used/0001-old.eml"
"$REPORT" --notices "$W/notices-used" --domain example.org "$W/maillog.1" > /dev/null 2> "$W/used.err"
expect_eq "--notices into a directory with files: exit 1" "$?" 1
expect_grep "--notices into a directory with files: refused, so no notice is sent twice" "not empty" "$W/used.err"
cp "$W/maillog.1" "$W/-dash.log"
(cd "$W" && "$REPORT" --table summary -- -dash.log) > "$W/dash.out" 2>&1
expect_grep "--: a name after it is a file, even with a leading dash" "^audit +4\$" "$W/dash.out"
(cd "$W" && "$REPORT" --table summary -dash.log) > /dev/null 2>&1
expect_eq "without --: the same name is an unknown option" "$?" 64
head -c 3000000 /dev/urandom > "$W/noise.bin"
"$REPORT" --table summary "$W/noise.bin" "$W/maillog.1" > "$W/noise.out" 2>&1
expect_eq "binary garbage: not fatal" "$?" 0
expect_grep "binary garbage: real lines still read" "^audit +4\$" "$W/noise.out"
# A .gz cut short (a copy interrupted, a full disk): zlib hands back what
# it could decompress and reports nothing unless asked, so the report must
# say so itself instead of passing a partial period off as complete.
size=$(stat -c %s "$W/maillog.gz")
head -c $((size - 20)) "$W/maillog.gz" > "$W/cut.gz"
"$REPORT" --year 2026-01 --table summary "$W/cut.gz" "$W/maillog.1" > "$W/cut.out" 2> "$W/cut.err"
expect_eq "truncated .gz: exit 1" "$?" 1
expect_grep "truncated .gz: named on stderr" 'cut\.gz: compressed data ends early' "$W/cut.err"
expect_grep "truncated .gz: what it holds and the other file still read" "^audit +9\$" "$W/cut.out"
head -c $((size - 20)) "$W/maillog.gz" | "$REPORT" --table summary > /dev/null 2> "$W/cut-stdin.err"
expect_eq "truncated .gz on stdin: exit 1" "$?" 1
expect_grep "truncated .gz on stdin: named" 'standard input: compressed data ends early' "$W/cut-stdin.err"

# ---- the what-if is the milter's own decision ------------------------------------
# The milter -t under its compiled-in policy (TLS for AUTH, TLSv1.2, 128 bits,
# reject) on every kind of TLS: the report's what-if with the same policy
# must refuse exactly the transactions the milter refused, for the same
# reasons.  NULL-SHA256 (0 bits) is refused by the milter; the old what-if
# ignored 0 bits and said "would refuse 0" (issue 12 item 4).
: > "$W/policy.log"
: > "$W/policy.json"
n=0
for c in "u13 TLSv1.3 TLS_AES_128_GCM_SHA256 128" "u12 TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384 256" \
         "u3des TLSv1.2 DES-CBC3-SHA 112" "unull TLSv1.2 NULL-SHA256 0" "u10 TLSv1 AES128-SHA 128" \
         "u11 TLSv1.1 AES256-SHA 256" "uold TLSv1/SSLv3 AES256-SHA 256" "uclear none - 0" \
         "unobits TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 -"; do
    set -- $c
    n=$((n + 1))
    milter_case "$1" "$2" "$3" "$4" "192.0.2.$((60 + n))" || { fail "milter -t gave no audit line for $c"; continue; }
    printf 'Jan  3 10:00:%02d mx1 rfc8314-milter[812]: %s\n' "$n" "$(cat "$W/case.msg")" >> "$W/policy.log"
    cat "$W/case.json" >> "$W/policy.json"
done
expect_grep "policy cases: the milter refused NULL-SHA256 for its 0 bits" \
    'user=unull, .*bits=0, .*verdict=reject, reason=cipher-bits' "$W/policy.log"
# An MTA that passes no {cipher_bits}: the milter logs bits=unknown and
# refuses (fail closed); the report must read that as unknown, not 0.
expect_grep "policy cases: the milter refused TLS without {cipher_bits} as bits=unknown" \
    'user=unobits, .*bits=unknown, .*verdict=reject, reason=cipher-bits-unknown' "$W/policy.log"
expect_grep "policy cases: the milter refused TLSv1/SSLv3 as an unknown version" \
    'user=uold, .*verdict=reject, reason=tls-version-unknown' "$W/policy.log"
# user -> reason of each refusal, as the milter logged it.
sed -n 's/.*user=\([^,]*\),.*verdict=reject, reason=\([^,]*\).*/\1 \2/p' "$W/policy.log" | sort > "$W/milter-refused.txt"
[ -s "$W/milter-refused.txt" ] || fail "policy cases: the milter refused nothing"
for form in syslog json; do
    input=$W/policy.log
    [ $form = json ] && input=--json-input=$W/policy.json
    "$REPORT" --year 2026 --json --require-tls --min-tls TLSv1.2 --min-bits 128 "$input" > "$W/policy-report.json"
    python3 - "$W/policy-report.json" > "$W/report-refused.txt" <<'EOF2'
import json, sys
w = json.load(open(sys.argv[1]))["whatif"]
for u in w["users"]:
    reasons = [k for k in u if k not in ("user", "refused", "transactions") and u[k]]
    assert u["refused"] == 1 and len(reasons) == 1, u
    print(u["user"], reasons[0].replace("_", "-"))
EOF2
    sort -o "$W/report-refused.txt" "$W/report-refused.txt"
    check "what-if on the $form log: refuses what the milter refused, for its reasons" \
        cmp -s "$W/milter-refused.txt" "$W/report-refused.txt"
done
sed 's/^/    milter: /' "$W/milter-refused.txt"
"$REPORT" --year 2026 --min-bits 128 --table whatif "$W/policy.log" > "$W/null.out"
# Columns: refused, transactions, cleartext, tls_version, cipher_bits,
# tls_version_unknown, cipher_bits_unknown.
expect_grep "what-if --min-bits 128: the NULL-SHA256 refusal counted" '^unull +1 +1 +0 +0 +1 +0 +0$' "$W/null.out"
expect_grep "what-if --min-bits 128: the refusal without {cipher_bits} counted as cipher-bits-unknown" \
    '^unobits +1 +1 +0 +0 +0 +0 +1$' "$W/null.out"

# ---- one client, one row ----------------------------------------------------------
# The same IPv6 client as Postfix spells {client_addr} (IPv6:...), as
# Sendmail does, and written out in full: the milter's lines, old or new,
# must give one row with the canonical address (issue 12 item 5).
: > "$W/v6.log"
: > "$W/v6.json"
n=0
for addr in IPv6:2001:db8::10 2001:db8::10 2001:DB8:0:0:0:0:0:10; do
    n=$((n + 1))
    milter_case "v6user$n" "${T13[@]}" "$addr" || { fail "milter -t gave no audit line for $addr"; continue; }
    printf 'Jan  4 10:00:%02d mx1 rfc8314-milter[812]: %s\n' "$n" "$(cat "$W/case.msg")" >> "$W/v6.log"
    cat "$W/case.json" >> "$W/v6.json"
done
for form in syslog json; do
    input=$W/v6.log
    [ $form = json ] && input=--json-input=$W/v6.json
    "$REPORT" --year 2026 --csv --table clients "$input" | tr -d '\r' | tail -n +2 | cut -d, -f1-3 > "$W/v6-$form.csv"
    expect_eq "$form: three spellings of one IPv6 client, one row" "$(cat "$W/v6-$form.csv")" "2001:db8::10,3,3"
done

# ---- HTML in headless Chromium ---------------------------------------------------
"$REPORT" --year 2026-01 --require-tls --min-tls TLSv1.2 --html "$W/report.html" "$W/maillog.1" "$W/maillog.gz" > "$W/html.out"
expect_eq "html: nothing on stdout without a format" "$(wc -c < "$W/html.out")" 0
expect_no_grep "html: no external resource" '(src|href)=|url\(|@import' "$W/report.html"
expect_grep "html: escaped user" 'j doe' "$W/report.html"
# A busy MSP's month: the page keeps the 1,000 busiest users and addresses
# (else hundreds of megabytes) and says so; the cleartext list stays whole;
# --top overrides.
GENLOG="$BUILD_ABS/rfc8314-report-genlog"
if [ -x "$GENLOG" ]; then
    "$GENLOG" 30000 --users 4000 > "$W/busy.log"
    "$REPORT" --html "$W/busy.html" "$W/busy.log"
    users_rows=$(sed -n '/<section id="users">/,/<\/section>/p' "$W/busy.html" | grep -c '^<tr>')
    expect_eq "html, 4000 users: users table keeps the 1000 busiest" "$users_rows" 1000
    expect_grep "html, 4000 users: and says so" 'the 1000 busiest of [0-9]+ users \(a page with every row' "$W/busy.html"
    clear_rows=$(sed -n '/<section id="cleartext">/,/<\/section>/p' "$W/busy.html" | grep -c '^<tr>')
    clear_all=$("$REPORT" --csv --table cleartext "$W/busy.log" | tail -n +2 | wc -l)
    expect_eq "html, 4000 users: cleartext list whole ($clear_all users)" "$clear_rows" "$clear_all"
    "$REPORT" --top 5000 --html "$W/busy-all.html" "$W/busy.log"
    all_rows=$(sed -n '/<section id="users">/,/<\/section>/p' "$W/busy-all.html" | grep -c '^<tr>')
    all_users=$("$REPORT" --csv --table users "$W/busy.log" | tail -n +2 | wc -l)
    expect_eq "html --top 5000: every user ($all_users)" "$all_rows" "$all_users"
else
    fail "no genlog binary at $GENLOG"
fi
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
    fail "html: chromium not installed (tests/packages.txt lists it)"
else
    profile=$(mktemp -d "$W/chromium.XXXXXX")
    opts=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
          --disable-background-networking --disable-component-update --disable-sync
          --user-data-dir="$profile" --window-size=1200,2000)
    timeout 120 "$CHROMIUM" "${opts[@]}" --screenshot="$W/report.png" "file://$W/report.html" \
        > "$W/shot.log" 2>&1
    timeout 120 "$CHROMIUM" "${opts[@]}" --enable-logging=stderr --v=0 --dump-dom \
        "file://$W/report.html" > "$W/dom.html" 2> "$W/console.log"
    cat > "$W/png_count.py" <<'EOF'
# A PNG decoder in the standard library's terms: unfilter the scanlines and
# count colours, so a blank (one-colour) page cannot pass.
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8 and ctype in (2, 6), (depth, ctype)
        bpp = 3 if ctype == 2 else 4
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
colours, ink, counts = set(), 0, {}
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    if y % 4 == 0:
        for x in range(0, stride, bpp * 2):
            px = bytes(line[x:x + 3])
            colours.add(px)
            counts[px] = counts.get(px, 0) + 1
            ink += px != b"\xff\xff\xff"
    prev = line
print("png %dx%d, %d colours, %d sampled non-white pixels" % (w, h, len(colours), ink))
# PNG_COLOURS="rrggbb ...": each must be drawn (sampled at least 20 times);
# without it, the whole page: many colours and much ink.
import os
want = os.environ.get("PNG_COLOURS", "").split()
for c in want:
    n = counts.get(bytes.fromhex(c), 0)
    print("colour #%s: %d sampled pixels" % (c, n))
    assert n >= 20, c
assert w == 1200 and (want or (len(colours) >= 8 and ink > 5000))
EOF
    if python3 - "$W/report.png" < "$W/png_count.py"
    then pass "html: screenshot renders (not blank)"; else fail "html: screenshot"; sed 's/^/    | /' "$W/shot.log"; fi
    size=$(stat -c %s "$W/report.png" 2>/dev/null || echo 0)
    check "html: screenshot non-trivial ($size bytes)" test "$size" -gt 20000
    svgs=$(grep -o '<svg' "$W/dom.html" | wc -l)
    rects=$(grep -o '<rect' "$W/dom.html" | wc -l)
    check "html: charts in the DOM ($svgs svg, $rects rect)" test "$svgs" -ge 3 -a "$rects" -ge 20
    # The TLS mix of the busiest users (issue 16 item 4): a bar of
    # segments per user in the DOM, and drawn: the chart's section alone,
    # with the page's style, shot again, shows every segment colour.
    mixes=$(grep -o '<rect class="mix"' "$W/dom.html" | wc -l)
    check "html: TLS-mix bars in the DOM ($mixes segments for 6 users)" test "$mixes" -ge 6
    { sed -n '1,/<body>/p' "$W/report.html"; sed -n '/<section id="chart-users">/,/<\/section>/p' "$W/report.html"
      echo '</body></html>'; } > "$W/mix.html"
    grep -o '<rect class="mix"[^>]*fill="#[0-9a-f]*"' "$W/mix.html" | sed 's/.*fill="#//; s/"$//' | sort -u > "$W/mix.fills"
    timeout 120 "$CHROMIUM" "${opts[@]}" --window-size=1200,800 --screenshot="$W/mix.png" "file://$W/mix.html" \
        > "$W/mixshot.log" 2>&1
    if [ -s "$W/mix.fills" ] && PNG_COLOURS="$(tr '\n' ' ' < "$W/mix.fills")" \
        python3 - "$W/mix.png" < "$W/png_count.py"; then
        pass "html: TLS-mix bars drawn in every segment colour ($(tr '\n' ' ' < "$W/mix.fills"))"
    else
        fail "html: TLS-mix bars not drawn"
    fi
    for id in chart-tls chart-ciphers chart-refusals chart-users cleartext whatif users clients; do
        expect_grep "html: section $id rendered" "id=\"$id\"" "$W/dom.html"
    done
    expect_no_grep "html: no console message or failed load" 'CONSOLE|Uncaught|net::ERR_|Refused to|Content Security Policy' "$W/console.log"
    rm -rf "$profile"
fi

finish
