#!/bin/bash
# test_report_deprecation.sh — the report's deprecation tools (issue 16
# items 2, 3, 4) on an audit trail written by the milter behind a real
# Postfix on loopback, then that Postfix held to the emitted exceptions.
#
# Stage 1, action = report: testuser submits over cleartext (its password
# crosses the wire) and over TLS; legacy only over TLS.  From that trail:
#   - the users table gives testuser's TLS mix (half cleartext);
#   - --emit-exceptions writes a file exempting testuser only, which the
#     milter accepts as it is (-n);
#   - --notices writes one message, to testuser, that Python's email
#     package (policy default, raise_on_defect) reads without a defect,
#     naming the client and advising a password change.
# Stage 2, action = reject with that file: testuser over cleartext is
# exempt and delivered, legacy over cleartext (no exception: not in the
# logs as below the rule) is refused — Google's "new clients first".
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/mta-postfix.sh"
. "$(dirname "$0")/cases.sh"
. "$(dirname "$0")/policy_cases.sh"

new_workdir report-deprecation
MILTER_PORT=12045
PORT_SMTP=10145 PORT_SUB=10707 PORT_SUBS=10585
REPORT=$BUILD_ABS/rfc8314-report
[ -x "$MILTER_BIN" ] && [ -x "$REPORT" ] || { fail "no milter or report binary in $BUILD_ABS"; finish; exit 1; }
start_milter "action = report" || { fail "milter did not start"; finish; exit 1; }
mta_setup "$MILTER_PORT" || { fail "postfix setup"; finish; exit 1; }
mta_start || { fail "postfix did not start"; finish; exit 1; }

# ---- stage 1: the trail ------------------------------------------------------------
send d_clear --port "$PORT_SUB" $(auth_args "$SASL_USER" "$SASL_PASS")
send d_tls --port "$PORT_SUB" --tls $(auth_args "$SASL_USER" "$SASL_PASS")
send d_legacy_tls --port "$PORT_SUB" --tls $(auth_args "$SASL_USER2" "$SASL_PASS2")
expect_grep "trail: cleartext would-reject logged" \
    "user=$SASL_USER[^,]*, .*tls=none, .*verdict=would-reject, reason=cleartext" "$MILTER_LOG"
expect_grep "trail: legacy over TLS accepted" \
    "user=$SASL_USER2[^,]*, .*tls=TLSv1\\.[23], .*verdict=accept" "$MILTER_LOG"
mta_wait_delivery 3 30 || fail "trail: report mode delivered fewer than 3 messages"
user1=$(sed -n "s/.*user=\\($SASL_USER[^,]*\\), .*tls=none.*/\\1/p" "$MILTER_LOG" | head -1)
[ -n "$user1" ] || user1=$SASL_USER

# ---- the TLS mix (item 4) -----------------------------------------------------------
"$REPORT" --csv --table users --json-input="$MILTER_AUDIT" > "$WORK/users.csv"
sed 's/^/    /' "$WORK/users.csv"
python3 - "$WORK/users.csv" "$user1" <<'PY' && pass "users table: testuser half cleartext, half TLS 1.2/1.3; legacy all TLS" || fail "users table: TLS mix (see above)"
import csv, sys
rows = {r["user"]: r for r in csv.DictReader(open(sys.argv[1], newline=""))}
t = rows[sys.argv[2]]
assert float(t["pct_cleartext"]) == 50.0, t
assert float(t["pct_tls1_2"]) + float(t["pct_tls1_3"]) == 50.0, t
l = [r for u, r in rows.items() if u != sys.argv[2]][0]
assert float(l["pct_cleartext"]) == 0.0 and float(l["pct_tls1_2"]) + float(l["pct_tls1_3"]) == 100.0, l
PY

# ---- grandfathering (item 2) --------------------------------------------------------
"$REPORT" --emit-exceptions --until 2099-12-31 --json-input="$MILTER_AUDIT" > "$WORK/exceptions" 2> "$WORK/emit.err"
check "emit-exceptions: exit 0" test $? -eq 0
sed 's/^/    /' "$WORK/exceptions"
expect_eq "emit-exceptions: one user line, testuser's" \
    "$(grep -v '^#' "$WORK/exceptions" | grep -c .)" 1
expect_grep "emit-exceptions: the line names until, last seen, the client and cleartext" \
    "^$user1 until 2099-12-31 # last seen [0-9-]+ [0-9:]+ from 127\\.0\\.0\\.1 .*with cleartext;" "$WORK/exceptions"
expect_no_grep "emit-exceptions: legacy (always TLS) is not exempted" "^$SASL_USER2" "$WORK/exceptions"

# ---- notices (item 3) ---------------------------------------------------------------
"$REPORT" --notices "$WORK/notices" --from postmaster@example.org --domain example.org \
    --deadline 2099-12-31 "$MILTER_LOG" > "$WORK/notices.out" 2> "$WORK/notices.err"
check "notices: exit 0" test $? -eq 0
expect_eq "notices: one message, for the one user below the rule" "$(ls "$WORK/notices" | grep -c .)" 1
python3 - "$WORK/notices" "$user1" <<'PY' && pass "notices: strict RFC 5322 parse, headers, body" || fail "notices: parse (see above)"
import email, email.policy, os, sys
d, user = sys.argv[1], sys.argv[2]
strict = email.policy.default.clone(raise_on_defect=True)
for f in os.listdir(d):
    raw = open(os.path.join(d, f), "rb").read()
    m = email.message_from_bytes(raw, policy=strict)
    assert not m.defects, m.defects
    for h in ("From", "To", "Subject", "Date", "Message-ID"):
        assert len(m.get_all(h) or []) == 1, (h, m.get_all(h))
        assert not m[h].defects, (h, m[h].defects)
    want = user if "@" in user else user + "@example.org"
    assert m["To"].addresses[0].addr_spec == want, m["To"]
    assert m["From"].addresses[0].addr_spec == "postmaster@example.org", m["From"]
    assert m["Date"].datetime is not None
    assert m.get_content_type() == "text/plain" and m.get_content_charset() == "utf-8"
    body = m.get_content()
    for want_text in ("127.0.0.1", "cleartext", "2099-12-31", "change your password", user):
        assert want_text in body, (want_text, body)
    print("    " + body.replace("\n", "\n    "))
PY

# The same trail with hostile user names added (copies of testuser's
# cleartext event under other names), and a template with an 8-bit
# Subject naming the user: the messages still parse without a defect,
# no name adds a header, and names that are no address get no notice.
python3 - "$MILTER_AUDIT" "$WORK/hostile.jsonl" <<'PY'
import json, sys
src = [json.loads(l) for l in open(sys.argv[1])]
base = [e for e in src if e.get("tls") == "none"][0]
with open(sys.argv[2], "w") as out:
    for e in src:
        out.write(json.dumps(e) + "\n")
    for user in ("evil@example.org\r\nBcc: victim@example.net", "J\u00fcrgen", "o'brien@example.org",
                 "=?UTF-8?Q?spoof?=", "x" * 300):
        e = dict(base, user=user)
        out.write(json.dumps(e) + "\n")
PY
printf 'Subject: \303\204nderung f\303\274r {user}: TLS ab {deadline}\n\n{for client}\n{client}: {client_tls}\n{end}\n' \
    > "$WORK/umlaut.txt"
"$REPORT" --notices "$WORK/hostile-notices" --template "$WORK/umlaut.txt" --from postmaster@example.org \
    --domain example.org --deadline 2099-12-31 --json-input="$WORK/hostile.jsonl" > "$WORK/hostile.out" 2> "$WORK/hostile.err"
check "notices, hostile names: exit 0" test $? -eq 0
sed 's/^/    stderr: /' "$WORK/hostile.err"
expect_grep "notices, hostile names: the CR LF name gets none, said on stderr" \
    'no notice for user "evil@example.org\\r\\nBcc: victim@example.net": the name is no mail address' "$WORK/hostile.err"
expect_grep "notices, hostile names: an 8-bit name gets none, said on stderr, escaped" \
    'no notice for user "J\\xc3\\xbcrgen"' "$WORK/hostile.err"
expect_grep "notices, hostile names: a name RFC 2047 readers would decode gets none" \
    'no notice for user "?=\?UTF-8\?Q\?spoof\?="?:' "$WORK/hostile.err"
python3 - "$WORK/hostile-notices" "$user1" <<'PY' && pass "notices, hostile names: strict parse, encoded Subject, no injected header" || fail "notices, hostile names (see above)"
import email, email.policy, os, sys
d, user = sys.argv[1], sys.argv[2]
strict = email.policy.default.clone(raise_on_defect=True)
to = {}
for f in sorted(os.listdir(d)):
    m = email.message_from_bytes(open(os.path.join(d, f), "rb").read(), policy=strict)
    assert not m.defects, (f, m.defects)
    assert m.get_all("Bcc") is None and m.get_all("Cc") is None, f
    assert sorted(set(m.keys())) == sorted({"From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted",
                                            "MIME-Version", "Content-Type", "Content-Transfer-Encoding"}), m.keys()
    addr = m["To"].addresses[0].addr_spec
    to[addr] = str(m["Subject"])
print("    " + repr(to))
want_user = user if "@" in user else user + "@example.org"
# The 300-byte name is too long a local part for a mailbox: no notice.
assert set(to) == {want_user, "o'brien@example.org"}, to
assert to[want_user] == "\u00c4nderung f\u00fcr %s: TLS ab 2099-12-31" % user, to[want_user]
PY

# ---- stage 2: reject, with the emitted file -----------------------------------------
# The milter reads the file as it is: -n with it, then a reload.
reload_milter "action = reject" "@exceptions" || fail "reload with the emitted exceptions did not finish"
check "milter -n accepts the emitted exceptions file" "$MILTER_BIN" -n -c "$MILTER_CONF"
expect_grep "reload with the emitted exceptions: ok" 'event=reload, status=ok' "$MILTER_LOG"
before=$(mta_messages | grep -c .)
send g_clear_listed --port "$PORT_SUB" $(auth_args "$SASL_USER" "$SASL_PASS")
send g_clear_new --port "$PORT_SUB" $(auth_args "$SASL_USER2" "$SASL_PASS2")
expect_audit "grandfathered: testuser over cleartext is exempt" "$SASL_USER" "*tls=none,*verdict=exempt*"
expect_audit "new client first: legacy over cleartext is refused" "$SASL_USER2" "*tls=none,*verdict=reject, reason=cleartext*"
expect_grep "new client first: refused at MAIL" '^<[*~-]* *530 ' "$WORK/g_clear_new.swaks"
mta_wait_delivery $((before + 1)) 30 || fail "grandfathered: the exempt message did not arrive"
check "grandfathered: delivered" delivered g_clear_listed
if delivered g_clear_new; then fail "new client first: the refused message was delivered"; else
    pass "new client first: not delivered"; fi

mta_stop
stop_milter
finish
