#!/bin/bash
# test_hostile.sh — hostile SMTP sessions through a real Postfix, with the
# built milter: whatever a client sends, the milter keeps running, every
# trace field it writes is a valid RFC 5321 Time-stamp-line (<= 998 octets a
# line), and every log line it writes is one line.
#
# What it proves (one private Postfix on ports 14000-14999, real STARTTLS,
# real Cyrus SASL from a sasldb, a tap on the milter socket that records
# what Postfix really handed the milter — tests/integration/milter_tap.pl):
#   1. EHLO arguments with parentheses, backslashes, quotes, UTF-8, raw
#      8-bit octets, control octets, unbalanced parentheses and 300 octets
#      reach the milter (the tap shows the octets Postfix handed over); the
#      milter writes "from unknown" and the HELO, escaped exactly as
#      expected, in a comment.
#   2. SASL user names with spaces, double quotes, backslashes, "=, " (a
#      forged key), a TAB and 8-bit bytes (UTF-8, and Latin-1 which Postfix
#      itself turns into "?"), authenticated over TLS: one audit line each,
#      with the value escaped exactly as expected and the queue id of the
#      delivered message; one JSON audit line each, which parses and carries
#      the name.  Hostile recipients (a quoted local part with "(", "<", ";",
#      quotes; UTF-8; a 70-octet local part): "for" written only when valid.
#   3. A 64 KiB header block (600 headers and a 250-line folded header) in a
#      TLS + AUTH message: delivered whole, one milter trace field, valid.
#   4. 100 transactions on one TLS + AUTH connection: 100 delivered, each
#      with one valid milter trace field, 100 audit lines and 100 JSON lines,
#      one per queue id.
#   5. A trusted client certificate whose subject and issuer CNs hold quotes,
#      parentheses, a comma and a backslash: the milter does not ask for
#      {cert_subject} or {cert_issuer} (it reads neither), so Postfix passes
#      neither (the tap shows none), and the message carries one valid
#      trace field.
#   Afterwards: the milter runs with the pid it started with, every line of
#   its log is one "rfc8314-milter[PID]: key=value, ..." line in printable
#   ASCII, every audit-file line is one JSON object, nothing logged an
#   internal error, Postfix logged no milter failure, and every delivered
#   message's milter field parses with build/check-received.
# Every process started here is tracked and stopped by its own pid.  Fails,
# never skips, when Postfix or the milter cannot be started.
. "$(dirname "$0")/common.sh"
PORT_SMTP=14025 PORT_SUB=14587 PORT_SUBS=14465
. "$(dirname "$0")/mta-postfix.sh"
. "$(dirname "$0")/cases.sh"

new_workdir hostile
MILTER_PORT=14891
TAP_PORT=14892
TAP_LOG="$WORK/tap.log"
HERE=$(cd "$(dirname "$0")" && pwd)
CLIENT="$HERE/hostile_smtp.pl"
T0=$EPOCHREALTIME
DELIVERED=0   # messages the suite expects in the Maildir so far
AUDITS=0      # authenticated transactions so far (one audit event each)

# ---- helpers ------------------------------------------------------------------

# hex STRING — its octets as lower-case hex, as the tap writes them.
hex() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'; }

# tap_saw_helo STRING — the tap saw an SMFIC_HELO with exactly these octets.
tap_saw_helo() { grep -qx "conn=[0-9]* cmd=H helo=$(hex "$1")" "$TAP_LOG"; }

# tap_saw_macro NAME STRING — the tap saw macro NAME with exactly this value.
tap_saw_macro() { grep -q "cmd=D stage=. name=$1 value=$(hex "$2")\$" "$TAP_LOG"; }
# tap_saw_no_macro NAME — no macro NAME, whatever its value, crossed the tap
# (the tap log must exist and hold macros at all).
tap_saw_no_macro() { grep -q "cmd=D stage=. name=" "$TAP_LOG" && ! grep -q "cmd=D stage=. name=$1 " "$TAP_LOG"; }

# milter_fields FILE — the milter's Received fields (by milter.example.test),
# unfolded, one a line.
milter_fields() { received_fields "$1" | grep -F 'by milter.example.test' || true; }

# qid_of FILE — the id clause of the milter's field.
qid_of() { milter_fields "$1" | sed -n '1s/.* id \([A-Za-z0-9]*\).*/\1/p'; }

# CASE_FILE[NAME] — the delivered file whose X-Case is NAME (index_cases).
declare -A CASE_FILE
index_cases() {
    local f c
    CASE_FILE=()
    while IFS=$'\t' read -r f c; do
        CASE_FILE[$c]=$f
    done < <(mta_messages | tr '\n' '\0' | xargs -0 -r awk '
        FNR == 1 { inhdr = 1 }
        inhdr && /^\r?$/ { nextfile }
        inhdr && /^X-Case: / { sub(/\r$/, ""); print FILENAME "\t" substr($0, 9); nextfile }')
}

# wait_delivered — wait until $DELIVERED messages are there, then index.
wait_delivered() {
    mta_wait_delivery "$DELIVERED" 30
    index_cases
}

# check_one_field NAME FILE — exactly one milter field, the topmost, valid.
check_one_field() {
    local name=$1 f=$2 n first
    n=$(milter_fields "$f" | grep -c .)
    expect_eq "$name: exactly one milter trace field" "$n" 1
    first=$(received_fields "$f" | sed -n 1p)
    case "$first" in
        *"by milter.example.test"*" tls "*) pass "$name: the milter's field is the topmost, with a tls clause" ;;
        *) fail "$name: topmost Received is not the milter's TLS field: $first" ;;
    esac
    expect_received_valid "$name" "$f"
}

# json_count FILE QID USER — JSON audit lines with this queue_id and user
# (USER as octets, compared after UTF-8 decoding).
json_count() {
    python3 - "$@" <<'EOF'
import json, os, sys
path, qid, user = sys.argv[1], sys.argv[2], os.fsencode(sys.argv[3]).decode('utf-8')
n = 0
with open(path, 'rb') as fh:
    for raw in fh:
        try:
            o = json.loads(raw.decode('utf-8'))
        except ValueError:
            continue
        if isinstance(o, dict) and o.get('queue_id') == qid and o.get('user') == user:
            n += 1
print(n)
EOF
}

# log_lines_valid FILE PID — every line is "rfc8314-milter[PID]: " and then
# [QID: ]key=value(, key=value)*, each value bare or a "..." string with
# only \" \\ \n \r \t \xHH escapes, printable ASCII only, and the file ends
# in a newline.  Prints the offending lines.
log_lines_valid() {
    perl -e '
        my ($file, $pid) = @ARGV;
        my $bare = q{[A-Za-z0-9._\-+@/:\[\]#%~*^!?$&\x27<>|{}]+};
        my $quoted = q{"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\\\["\\\\nrt]|\\\\x[0-9a-f]{2})*"};
        my $val = "(?:$bare|$quoted)";
        my $kv = "$bare=$val";
        open my $fh, "<:raw", $file or die "$file: $!\n";
        local $/;
        my $all = <$fh>;
        my $bad = 0;
        if (length $all && substr($all, -1) ne "\n") { print "    | (no newline at the end)\n"; $bad++ }
        for my $l (split /\n/, $all) {
            next if $l =~ /^\Qrfc8314-milter[$pid]: \E(?:$val: )?$kv(?:, $kv)*\z/;
            (my $s = $l) =~ s/([^\x20-\x7e])/sprintf("\\x%02x", ord $1)/ge;
            print "    | $s\n";
            $bad++;
        }
        exit($bad ? 1 : 0);
    ' "$@"
}

# json_lines_valid FILE — every line is one JSON object (UTF-8).
json_lines_valid() {
    python3 - "$1" <<'EOF'
import json, sys
bad = 0
with open(sys.argv[1], 'rb') as fh:
    data = fh.read()
if data and not data.endswith(b'\n'):
    print('    | (no newline at the end)'); bad += 1
for i, raw in enumerate(data.split(b'\n')[:-1], 1):
    try:
        if not isinstance(json.loads(raw.decode('utf-8')), dict):
            raise ValueError('not an object')
    except ValueError as e:
        print('    | line %d: %s: %r' % (i, e, raw[:120])); bad += 1
sys.exit(1 if bad else 0)
EOF
}

# auth_send NAME USER PASS sub|subs [SWAKS ARGS...] — one AUTH PLAIN swaks
# session over TLS: "sub" is STARTTLS on the submission port, "subs" implicit
# TLS on the submissions port.  Counts the message as expected in the
# Maildir only when the client got its 250 (the caller asserts on that).
auth_send() {
    local name=$1 user=$2 pass=$3 mode=$4 tls; shift 4
    if [ "$mode" = subs ]; then tls=(--port "$PORT_SUBS" --tls-on-connect); else tls=(--port "$PORT_SUB" --tls); fi
    send "$name" "${tls[@]}" --auth PLAIN --auth-user "$user" --auth-password "$pass" "$@"
    if grep -Eq '^<[-~] +250 .*(queued|Ok)' "$WORK/$name.swaks"; then
        DELIVERED=$((DELIVERED + 1)); AUDITS=$((AUDITS + 1))
    fi
}

# ---- setup ------------------------------------------------------------------------
[ -x "$MILTER_BIN" ] || { fail "no milter binary at $MILTER_BIN"; finish; exit 1; }
[ -x "$CHECK_RECEIVED" ] || { fail "no check-received at $CHECK_RECEIVED"; finish; exit 1; }
command -v swaks >/dev/null || { fail "swaks is not installed"; finish; exit 1; }

# A private CA and a client certificate, both with hostile CNs (quotes,
# parentheses, a comma, a backslash; "\\" is one backslash in -subj).
CA_DIR="$WORK/ca"
CA_CN='Hostile "CA" (test), \root'
CLIENT_CN='Mallory "the (quoted) client", \back'
mkdir -p "$CA_DIR"
if openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj '/CN=Hostile "CA" (test), \\root' \
        -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
        -keyout "$CA_DIR/ca.key" -out "$CA_DIR/ca.pem" >/dev/null 2>&1 &&
    openssl req -new -newkey rsa:2048 -nodes -subj '/CN=Mallory "the (quoted) client", \\back' \
        -keyout "$CA_DIR/client.key" -out "$CA_DIR/client.csr" >/dev/null 2>&1 &&
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' \
        > "$CA_DIR/client.ext" &&
    openssl x509 -req -in "$CA_DIR/client.csr" -CA "$CA_DIR/ca.pem" -CAkey "$CA_DIR/ca.key" \
        -CAcreateserial -days 30 -extfile "$CA_DIR/client.ext" -out "$CA_DIR/client.pem" >/dev/null 2>&1; then
    chmod 0644 "$CA_DIR/ca.pem"
    expect_eq "setup: client certificate subject CN as intended" \
        "$(openssl x509 -in "$CA_DIR/client.pem" -noout -subject -nameopt utf8,sep_multiline,-esc_2253 |
            sed -n 's/^ *CN=//p')" "$CLIENT_CN"
else
    fail "setup: could not make the private CA and the client certificate"
fi

start_milter || { fail "milter did not start"; finish; exit 1; }
MILTER_PID0=$MILTER_PID
: > "$TAP_LOG"
perl "$HERE/milter_tap.pl" "$TAP_PORT" "$MILTER_PORT" "$TAP_LOG" > "$WORK/tap.out" 2>&1 &
TAP_PID=$!
track_pid "$TAP_PID"
wait_port "$TAP_PORT" 10 || { fail "the milter tap did not start"; cat "$WORK/tap.out"; finish; exit 1; }

# Postfix talks to the milter through the tap.  smtputf8_enable = yes: only
# then does Postfix keep valid UTF-8 in a SASL user name (printable() turns
# any other 8-bit octet into "?").  The HELO restrictions are off (the 3.7
# default, said here explicitly) so any EHLO argument is accepted.
# in_flow_delay = 0: 100 messages in a burst are not throttled.
mta_setup "$TAP_PORT" 'smtputf8_enable = yes' 'smtpd_helo_required = no' 'smtpd_helo_restrictions =' \
    'in_flow_delay = 0' "smtpd_tls_CAfile = $CA_DIR/ca.pem" 'smtpd_tls_ask_ccert = yes' ||
    { fail "postfix setup"; finish; exit 1; }
# The submissions service (implicit TLS) keeps smtputf8_enable = no: there
# Postfix accepts an EHLO argument that is not UTF-8 (with "yes" it answers
# "500 5.5.2 Error: bad UTF-8 syntax"), so raw 8-bit octets can be sent.
postconf -c "$PF_CONF" -P "$PORT_SUBS/inet/smtputf8_enable=no" ||
    { fail "postfix setup: smtputf8_enable=no on $PORT_SUBS"; finish; exit 1; }

# The hostile SASL users (Cyrus strips leading and trailing white space and
# splits at "@", so the names avoid those).  USERS[i] is the name sent,
# SEEN[i] what Postfix hands the milter as {auth_authen} (its printable()
# turns TAB and any octet that is not valid UTF-8 into "?"), LOGVAL[i] the
# audit line's user value: bare, or quoted with \" \\ and \xHH escapes.
USERS=('two words' 'say "hi"' 'back\slash' 'a=b, user=root' $'j\xc3\xbcrgen' $'m\xfcller'
       $'Eve "x" (y) \\z \xc3\xbc\t!')
LOGVAL=('"two words"' '"say \"hi\""' '"back\\slash"' '"a=b, user=root"' '"j\xc3\xbcrgen"' 'm?ller'
        '"Eve \"x\" (y) \\z \xc3\xbc?!"')
SEEN=('two words' 'say "hi"' 'back\slash' 'a=b, user=root' $'j\xc3\xbcrgen' 'm?ller'
      $'Eve "x" (y) \\z \xc3\xbc?!')
db="$PF_CONF/sasl/sasldb2"
for u in "${USERS[@]}"; do
    printf '%s' hostilepass | saslpasswd2 -p -c -f "$db" -u "$PF_SASL_REALM" "$u" ||
        fail "setup: saslpasswd2 for user $(printf '%q' "$u")"
done
chown root:postfix "$db"
chmod 0640 "$db"
# Every address in the virtual domain lands in the one Maildir, so hostile
# recipient addresses are delivered too.
printf '@example.test example.test/user/\n' >> "$PF_CONF/vmailbox"
mta_start || { fail "postfix did not start"; finish; exit 1; }

# ---- 1. hostile HELO ---------------------------------------------------------------
# HELO_SENT[i] goes out as the EHLO argument (with STARTTLS twice, before
# and after the handshake); HELO_SHOWN[i] is the comment body the milter must write:
# "(", ")" and "\" as quoted-pairs, other octets outside printable ASCII as
# "?", cut after 100 source octets with "...".  Each goes out on its own
# STARTTLS (sub) or implicit TLS (subs) connection, with AUTH.
long=x; shown=x
for ((i = 0; i < 299; i++)); do long+='('; done
for ((i = 0; i < 99; i++)); do shown+='\('; done
shown+=...
# HELO_PORT[i]: "sub" (STARTTLS, smtputf8_enable = yes: Postfix passes only
# valid UTF-8) or "subs" (implicit TLS, smtputf8_enable = no: any octet).
HELO_CASE=(helo_quotes helo_utf8 helo_8bit helo_controls helo_unbalanced helo_long)
HELO_PORT=(sub sub subs sub sub sub)
HELO_SENT=('ev(il) "q\"uo(ted" \\back\ slash'
           $'h\xc3\xa9llo.ex\xc3\xa4mple(\xc3\xbc)"x"\\y'
           $'caf\xe9(\xff)"x\x80"\\y\xfe'
           $'cr\rtab\tesc\x1b[1mdel\x7f(x)'
           'a)b(c\d))'
           "$long")
# HELO_SEEN[i] is what Postfix hands the milter: the argument as sent, except
# that Postfix's command tokenizer splits at CR and TAB too and joins the
# words with single spaces.
HELO_SEEN=("${HELO_SENT[@]}")
HELO_SEEN[3]=$'cr tab esc\x1b[1mdel\x7f(x)'
HELO_SHOWN=('ev\(il\) "q\\"uo\(ted" \\\\back\\ slash'
            'h??llo.ex??mple\(??\)"x"\\y'
            'caf?\(?\)"x?"\\y?'
            'cr tab esc?[1mdel?\(x\)'
            'a\)b\(c\\d\)\)'
            "$shown")
for i in "${!HELO_CASE[@]}"; do
    auth_send "${HELO_CASE[$i]}" "$SASL_USER" "$SASL_PASS" "${HELO_PORT[$i]}" --helo "${HELO_SENT[$i]}"
done
wait_delivered
for i in "${!HELO_CASE[@]}"; do
    c=${HELO_CASE[$i]}
    expect_grep "$c: client got 250 after DATA" '^<[-~] +250 .*(queued|Ok)' "$WORK/$c.swaks"
    check "$c: the EHLO argument reached the milter as expected (tap)" tap_saw_helo "${HELO_SEEN[$i]}"
    f=${CASE_FILE[$c]:-}
    [ -n "$f" ] || { fail "$c: not delivered"; continue; }
    check_one_field "$c" "$f"
    field=$(milter_fields "$f")
    case "$field" in
        *"from unknown ([127.0.0.1]) (helo=${HELO_SHOWN[$i]}) by milter.example.test "*)
            pass "$c: from unknown, the HELO escaped in a comment" ;;
        *) fail "$c: want '(helo=${HELO_SHOWN[$i]})' after 'from unknown ([127.0.0.1])' in: $field" ;;
    esac
done

# ---- 2. hostile SASL user names ---------------------------------------------------
for i in "${!USERS[@]}"; do
    auth_send "user_$i" "${USERS[$i]}" hostilepass sub
done
wait_delivered
for i in "${!USERS[@]}"; do
    c=user_$i
    u=$(printf '%q' "${USERS[$i]}")
    expect_grep "$c ($u): authenticated over TLS" '^<[-~] +235 ' "$WORK/$c.swaks"
    expect_grep "$c ($u): client got 250 after DATA" '^<[-~] +250 .*(queued|Ok)' "$WORK/$c.swaks"
    check "$c ($u): Postfix handed the milter {auth_authen} as expected (tap)" \
        tap_saw_macro '{auth_authen}' "${SEEN[$i]}"
    f=${CASE_FILE[$c]:-}
    [ -n "$f" ] || { fail "$c: not delivered"; continue; }
    check_one_field "$c" "$f"
    qid=$(qid_of "$f")
    [ -n "$qid" ] || { fail "$c: no id clause in the milter's field"; continue; }
    want="$qid: user=${LOGVAL[$i]}, mech=PLAIN, tls=TLSv1.3, "
    expect_eq "$c ($u): exactly one audit line, user=${LOGVAL[$i]}, with the queue id" \
        "$(grep -cF -- "$want" "$MILTER_LOG")" 1
    expect_eq "$c ($u): exactly one JSON audit line with this queue_id and user" \
        "$(json_count "$MILTER_AUDIT" "$qid" "${SEEN[$i]}")" 1
done

# ---- 2b. hostile recipient addresses ----------------------------------------------
# RCPT_SENT[i] is the address sent (in <>); RCPT_FOR[i] the "for" clause the
# milter must write for it, or "" for none (not an RFC 5321 Mailbox it may
# write: 8-bit, a local part over 64 octets).
long_local=$(printf '%070d' 0)
RCPT_SENT=('"a (b) \"c\" <d>;e"@example.test' '"sp ace"@example.test' $'"j\xc3\xbcrgen"@example.test'
           "$long_local@example.test")
RCPT_FOR=('for <"a (b) \"c\" <d>;e"@example.test>' 'for <"sp ace"@example.test>' '' '')
for i in "${!RCPT_SENT[@]}"; do
    auth_send "rcpt_$i" "$SASL_USER" "$SASL_PASS" sub --to "${RCPT_SENT[$i]}"
done
wait_delivered
for i in "${!RCPT_SENT[@]}"; do
    c=rcpt_$i
    expect_grep "$c: client got 250 after DATA" '^<[-~] +250 .*(queued|Ok)' "$WORK/$c.swaks"
    check "$c: the address reached the milter octet for octet (tap)" \
        grep -qx "conn=[0-9]* cmd=R rcpt=$(hex "<${RCPT_SENT[$i]}>")" "$TAP_LOG"
    f=${CASE_FILE[$c]:-}
    [ -n "$f" ] || { fail "$c: not delivered"; continue; }
    check_one_field "$c" "$f"
    field=$(milter_fields "$f")
    if [ -n "${RCPT_FOR[$i]}" ]; then
        case "$field" in
            *" ${RCPT_FOR[$i]} tls "*) pass "$c: the field says ${RCPT_FOR[$i]}" ;;
            *) fail "$c: want '${RCPT_FOR[$i]}' in: $field" ;;
        esac
    else
        case "$field" in
            *" for "*) fail "$c: a for clause for an address it may not write: $field" ;;
            *) pass "$c: no for clause" ;;
        esac
    fi
done

# ---- 3. a 64 KiB header block -----------------------------------------------------
c=big_headers
{
    printf 'From: <sender@example.test>\nTo: <%s>\nSubject: %s\nX-Case: %%CASE%%\n' "$RCPT" "$c"
    for ((i = 1; i <= 600; i++)); do
        printf 'X-Filler-%03d: %s\n' "$i" "$(printf '%090d' "$i" | tr 0 f)"
    done
    printf 'X-Long: start'
    for ((i = 1; i <= 250; i++)); do printf '\n\tpart %03d (of a long) "folded" \\header\\ %s' "$i" "$(printf '%030d' 0)"; done
    printf '\n\nA small body.\n'
} > "$WORK/$c.msg"
hdr_sent=$(sed '/^$/q' "$WORK/$c.msg" | wc -c)
check "$c: the header block sent is >= 64 KiB ($hdr_sent octets)" [ "$hdr_sent" -ge 65536 ]
if perl "$CLIENT" --port "$PORT_SUB" --starttls --user "$SASL_USER" --pass "$SASL_PASS" \
        --message "$WORK/$c.msg" --case "$c" --transcript "$WORK/$c.smtp" > "$WORK/$c.out" 2>&1; then
    pass "$c: accepted over STARTTLS + AUTH"
    DELIVERED=$((DELIVERED + 1)); AUDITS=$((AUDITS + 1))
else
    fail "$c: not accepted:"; sed 's/^/    | /' "$WORK/$c.out" "$WORK/$c.smtp" | tail -n 20
fi
wait_delivered
f=${CASE_FILE[$c]:-}
if [ -n "$f" ]; then
    hdr_got=$(sed '/^\r\?$/q' "$f" | wc -c)
    check "$c: delivered with the whole header block ($hdr_got octets)" [ "$hdr_got" -ge "$hdr_sent" ]
    expect_eq "$c: all 600 filler headers delivered" "$(grep -c '^X-Filler-[0-9]*: f' "$f")" 600
    expect_eq "$c: the folded header has all 250 lines" "$(grep -c $'^\tpart [0-9]* (of a long)' "$f")" 250
    check_one_field "$c" "$f"
else
    fail "$c: not delivered"
fi

# ---- 4. 100 transactions on one connection -----------------------------------------
c='batch'
printf 'From: <sender@example.test>\nTo: <%s>\nSubject: %%CASE%%\nX-Case: %%CASE%%\n\nOne of 100.\n' "$RCPT" \
    > "$WORK/$c.msg"
tap_conns_before=$(grep -c ' cmd=M$' "$TAP_LOG")
perl "$CLIENT" --port "$PORT_SUB" --starttls --user "$SASL_USER" --pass "$SASL_PASS" --count 100 \
    --message "$WORK/$c.msg" --case "$c" --transcript "$WORK/$c.smtp" > "$WORK/$c.out" 2>&1
expect_eq "$c: 100 transactions queued on one connection" "$(grep -c '^queued ' "$WORK/$c.out")" 100
grep -v '^queued ' "$WORK/$c.out" | sed 's/^/    | /'
queued=$(grep -c '^queued ' "$WORK/$c.out")
DELIVERED=$((DELIVERED + queued)); AUDITS=$((AUDITS + queued))
# The tap saw them as 100 MAIL commands on one milter connection.
expect_eq "$c: one milter connection carried 100 MAIL stages (tap)" \
    "$(grep ' cmd=M$' "$TAP_LOG" | tail -n +"$((tap_conns_before + 1))" | cut -d' ' -f1 | sort | uniq -c |
        awk '{print $1}' | sort -n | tail -n 1)" 100
wait_delivered
ok_fields=0 ok_check=0 ok_audit=0 ok_json=0 missing=0
declare -A seen_qid=()
for ((i = 1; i <= 100; i++)); do
    n=$(printf '%s-%03d' "$c" "$i")
    f=${CASE_FILE[$n]:-}
    [ -n "$f" ] || { missing=$((missing + 1)); continue; }
    [ "$(milter_fields "$f" | grep -c .)" -eq 1 ] && ok_fields=$((ok_fields + 1))
    if "$CHECK_RECEIVED" < "$f" > "$WORK/$n.check" 2>&1; then ok_check=$((ok_check + 1)); else
        sed "s/^/    | $n: /" "$WORK/$n.check"
    fi
    qid=$(qid_of "$f")
    [ -n "$qid" ] || continue
    seen_qid[$qid]=1
    [ "$(grep -c "^rfc8314-milter\[$MILTER_PID0\]: $qid: user=$SASL_USER, mech=PLAIN, " "$MILTER_LOG")" -eq 1 ] &&
        ok_audit=$((ok_audit + 1))
    [ "$(grep -c "\"queue_id\":\"$qid\"" "$MILTER_AUDIT")" -eq 1 ] && ok_json=$((ok_json + 1))
done
expect_eq "$c: all 100 delivered" "$missing" 0
expect_eq "$c: 100 distinct queue ids in the milter's fields" "${#seen_qid[@]}" 100
expect_eq "$c: each has exactly one milter trace field" "$ok_fields" 100
expect_eq "$c: each field parses with check-received" "$ok_check" 100
expect_eq "$c: one audit line per queue id" "$ok_audit" 100
expect_eq "$c: one JSON audit line per queue id" "$ok_json" 100

# ---- 5. a trusted client certificate with a hostile subject -----------------------
c=client_cert
log_mark=$(wc -l < "$(mta_log)")
auth_send "$c" "$SASL_USER" "$SASL_PASS" sub --tls-cert "$CA_DIR/client.pem" --tls-key "$CA_DIR/client.key"
wait_delivered
expect_grep "$c: client got 250 after DATA" '^<[-~] +250 .*(queued|Ok)' "$WORK/$c.swaks"
tail -n +"$((log_mark + 1))" "$(mta_log)" > "$WORK/$c.maillog"
expect_grep "$c: Postfix trusted the client certificate" 'Trusted TLS connection established' "$WORK/$c.maillog"
check "$c: Postfix handed the milter no {cert_subject}: not asked for (tap)" \
    tap_saw_no_macro '{cert_subject}'
check "$c: Postfix handed the milter no {cert_issuer}: not asked for (tap)" \
    tap_saw_no_macro '{cert_issuer}'
check "$c: the tap did see the TLS macros the milter asks for" grep -q "cmd=D stage=. name={cipher} " "$TAP_LOG"
f=${CASE_FILE[$c]:-}
if [ -n "$f" ]; then check_one_field "$c" "$f"; else fail "$c: not delivered"; fi
check "$c: the milter still runs" kill -0 "$MILTER_PID0"

# ---- afterwards ------------------------------------------------------------------
sleep 0.5   # let the last milter sessions close (audit lines are written by then)
check "after: the milter still runs with the pid it started with ($MILTER_PID0)" \
    test "$MILTER_PID" = "$MILTER_PID0" -a -d "/proc/$MILTER_PID0"
if log_lines_valid "$MILTER_LOG" "$MILTER_PID0" > "$WORK/log.bad"; then
    pass "after: every milter log line ($(grep -c . "$MILTER_LOG")) is one key=value line in printable ASCII"
else
    fail "after: milter log lines that are not one key=value line:"; head -n 20 "$WORK/log.bad"
fi
if json_lines_valid "$MILTER_AUDIT" > "$WORK/json.bad"; then
    pass "after: every audit-file line ($(grep -c . "$MILTER_AUDIT")) is one JSON object"
else
    fail "after: audit-file lines that do not parse:"; head -n 20 "$WORK/json.bad"
fi
expect_eq "after: one audit line per authenticated transaction" \
    "$(grep -c ': user=' "$MILTER_LOG")" "$AUDITS"
expect_eq "after: one JSON audit line per authenticated transaction" \
    "$(grep -c '"event":"auth"' "$MILTER_AUDIT")" "$AUDITS"
expect_no_grep "after: the milter logged no internal error" '(internal error|^[^ ]* error=)' "$MILTER_LOG"
expect_no_grep "after: Postfix logged no milter failure" 'warning: milter ' "$(mta_log)"
index_cases
total=0 valid=0
while IFS= read -r f; do
    total=$((total + 1))
    "$CHECK_RECEIVED" < "$f" > /dev/null 2>&1 && valid=$((valid + 1))
done < <(mta_messages)
expect_eq "after: $DELIVERED messages delivered in all" "$total" "$DELIVERED"
expect_eq "after: every delivered milter trace field parses with check-received" "$valid" "$total"

mta_stop
stop_milter
t=${EPOCHREALTIME/./}; t0=${T0/./}
log "test_hostile: $(((t - t0) / 1000000)) s"
finish
