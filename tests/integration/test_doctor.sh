#!/bin/bash
# test_doctor.sh — `rfc8314-milter --doctor` against the suite's private
# Postfix and Sendmail instances, each configured well and badly.
#
# What it proves: a well-wired MTA gives exit 0 and only "ok:" lines; each
# misconfiguration (wrong milter socket, milter_default_action = accept,
# AUTH over cleartext, old milter protocol without the macros, long
# timeouts, a chrooted smtpd with a socket outside the spool, a socket or a
# directory the MTA user may not write or search, Sendmail without
# AuthOptions=p, without F=T, with M=a, with the filter missing from
# InputMailFilters) gives exit 1, the expected finding and the exact fix
# line; ACL entries that do let the MTA user in count (the check is the
# kernel's, made as that user).  The doctor only reads the
# configuration, so the bad cases need no running MTA; the good ones are
# started, to show the configurations the doctor passes really work.
. "$(dirname "$0")/common.sh"

new_workdir doctor
MILTER_PORT=12065
WRONG_PORT=12099
[ -x "$MILTER_BIN" ] || { fail "no milter binary at $MILTER_BIN"; finish; exit 1; }

# doctor NAME ARGS... — run the doctor; output in $WORK/NAME.out, exit
# status in DOCTOR_RC.
doctor() {
    local name=$1; shift
    "$MILTER_BIN" --doctor -c "$MILTER_CONF" "$@" > "$WORK/$name.out" 2>&1
    DOCTOR_RC=$?
}

# hasnt NAME STRING — no line of the doctor's output holds STRING.
hasnt() {
    if [ -s "$WORK/$1.out" ] && ! grep -Fq -- "$2" "$WORK/$1.out"; then pass "$1: no '$2'"; else
        fail "$1: did not want '$2', got:"; sed 's/^/    | /' "$WORK/$1.out"
    fi
}

# has NAME STRING — STRING is (part of) a line of the doctor's output.
has() {
    if grep -Fq -- "$2" "$WORK/$1.out"; then pass "$1: has '$2'"; else
        fail "$1: want '$2', got:"; sed 's/^/    | /' "$WORK/$1.out"
    fi
}

# fix NAME WHERE LINE — the output carries exactly this fix line.
fix() {
    if grep -Fxq -- "  fix ($2): $3" "$WORK/$1.out"; then pass "$1: fix ($2): $3"; else
        fail "$1: want fix line '  fix ($2): $3', got:"; sed 's/^/    | /' "$WORK/$1.out"
    fi
}

# tls_refused NAME ARGS... — openssl s_client with ARGS gets no TLS session
# (the server refused the protocol version); tls_ok NAME WANT ARGS...: it
# negotiates protocol WANT.
tls_try() {
    timeout 10 openssl s_client "$@" -cipher 'DEFAULT:@SECLEVEL=0' </dev/null 2>&1 |
        sed -n 's/^New, \(TLSv[0-9.]*\|(NONE)\), Cipher is .*/\1/p' | head -n 1
}
tls_refused() {
    local name=$1 got; shift
    got=$(tls_try "$@")
    if [ "$got" = "(NONE)" ]; then pass "$name: no TLS session"; else
        fail "$name: want the handshake refused, got '${got:-no output}'"; fi
}
tls_ok() {
    local name=$1 want=$2 got; shift 2
    got=$(tls_try "$@")
    expect_eq "$name: negotiated" "$got" "$want"
}

# expired_cert DIR — DIR/expired.pem (and .key): a self-signed certificate
# valid only in January 2020, made with `openssl ca`, which takes dates.
expired_cert() {
    local d=$1
    mkdir -p "$d/ca/newcerts"
    : > "$d/ca/index.txt"
    echo 01 > "$d/ca/serial"
    cat > "$d/ca/ca.cnf" <<EOF
[ ca ]
default_ca = test
[ test ]
dir = $d/ca
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
default_md = sha256
policy = any
[ any ]
commonName = supplied
EOF
    openssl req -new -newkey rsa:2048 -nodes -subj "/CN=mx.example.test" \
        -keyout "$d/expired.key" -out "$d/expired.csr" >/dev/null 2>&1 &&
    openssl ca -batch -config "$d/ca/ca.cnf" -selfsign -keyfile "$d/expired.key" \
        -in "$d/expired.csr" -startdate 20200101000000Z -enddate 20200201000000Z \
        -out "$d/expired.pem" >/dev/null 2>&1
}

# all_ok NAME — exit 0 and not a single warning or error.
all_ok() {
    expect_eq "$1: exit status" "$DOCTOR_RC" 0
    expect_no_grep "$1: no warning or error" '^(warning|error):' "$WORK/$1.out"
    expect_grep "$1: summary" '^summary: [0-9]+ ok, 0 warning\(s\), 0 error\(s\)$' "$WORK/$1.out"
}

# ---- Postfix --------------------------------------------------------------------
PORT_SMTP=10325 PORT_SUB=10887 PORT_SUBS=10765
. "$(dirname "$0")/mta-postfix.sh"
. "$(dirname "$0")/cases.sh"
start_milter || { fail "milter did not start"; finish; exit 1; }

# Well configured: the suite's instance plus TLS-only AUTH on submission and
# TLS 1.2 or later only (the adapter allows TLS 1.0 for the policy tests).
MTA_SUBMISSION_OPTS="-o smtpd_tls_auth_only=yes" mta_setup "$MILTER_PORT" \
    "smtpd_tls_protocols = >=TLSv1.2" "smtpd_tls_mandatory_protocols = >=TLSv1.2" ||
    { fail "postfix setup"; finish; exit 1; }
if mta_start; then pass "postfix (good) starts"; else fail "postfix (good) starts"; fi
doctor pf_good --postfix-config "$PF_CONF"
all_ok pf_good
has pf_good "ok: postfix: service $PORT_SUB/inet (listener submission): smtpd_milters names the milter (inet:127.0.0.1:$MILTER_PORT)"
has pf_good "ok: postfix: service $PORT_SUB/inet (listener submission): smtpd_tls_auth_only = yes"
has pf_good "ok: postfix: service $PORT_SUBS/inet (listener submissions): implicit TLS"
has pf_good "ok: postfix: milter_default_action = tempfail"
has pf_good "ok: postfix: milter_protocol = 6: Postfix honours smfi_setsymlist"
has pf_good "ok: postfix: the milter's socket inet:$MILTER_PORT@127.0.0.1 accepts TCP connections"
has pf_good "ok: postfix: smtpd_tls_cert_file $PF_CONF/tls/cert.pem: valid until"
has pf_good "ok: postfix: smtpd_tls_protocols = >=TLSv1.2: STARTTLS with TLS 1.2 or later only"
has pf_good "ok: postfix: smtpd_tls_mandatory_protocols = >=TLSv1.2: implicit TLS with TLS 1.2 or later only"
expect_no_grep "pf_good: the relay service is not judged" "service $PORT_SMTP/" "$WORK/pf_good.out"
# What the doctor passed is what Postfix does: TLS 1.0 is refused on both
# submission ports, TLS 1.2 works.
tls_refused "pf_good: TLS 1.0 on $PORT_SUB" -connect "127.0.0.1:$PORT_SUB" -starttls smtp -tls1
tls_refused "pf_good: TLS 1.0 on $PORT_SUBS" -connect "127.0.0.1:$PORT_SUBS" -tls1
tls_ok "pf_good: TLS 1.2 on $PORT_SUB" TLSv1.2 -connect "127.0.0.1:$PORT_SUB" -starttls smtp -tls1_2
tls_ok "pf_good: TLS 1.2 on $PORT_SUBS" TLSv1.2 -connect "127.0.0.1:$PORT_SUBS" -tls1_2
mta_stop

# Badly configured: wrong socket, accept on failure, AUTH over cleartext,
# protocol 4 (no no-reply steps), a 5-minute command timeout, and the
# adapter's TLS 1.0 and 1.1 (>=TLSv1) on both submission services.
MTA_MILTER_DEFAULT_ACTION=accept MTA_SUBMISSION_OPTS="" \
    mta_setup "$WRONG_PORT" "milter_protocol = 4" "milter_command_timeout = 5m" ||
    { fail "postfix setup (bad)"; finish; exit 1; }
doctor pf_bad --postfix-config "$PF_CONF"
expect_eq "pf_bad: exit status" "$DOCTOR_RC" 1
has pf_bad "error: postfix: service $PORT_SUB/inet (listener submission): smtpd_milters (main.cf) = inet:127.0.0.1:$WRONG_PORT: does not name the milter's socket inet:$MILTER_PORT@127.0.0.1"
fix pf_bad main.cf "smtpd_milters = inet:127.0.0.1:$MILTER_PORT"
has pf_bad "warning: postfix: service $PORT_SUB/inet (listener submission): the milter requires TLS for AUTH here, but smtpd_tls_auth_only is not yes"
fix pf_bad master.cf "$PORT_SUB inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=yes"
has pf_bad "warning: postfix: milter_default_action = accept: while the milter is down, mail passes with no trace field"
fix pf_bad main.cf "milter_default_action = tempfail"
has pf_bad "warning: postfix: milter_command_timeout = 5m is above 60s"
fix pf_bad main.cf "milter_command_timeout = 10s"
# Postfix honours smfi_setsymlist at every milter_protocol (measured: the
# milter gets {daemon_port} at 4), so the doctor asks for protocol 6 for the
# no-reply steps only and asks for no macro-list change.
has pf_bad "warning: postfix: milter_protocol = 4: below 6 Postfix negotiates no no-reply steps"
fix pf_bad main.cf "milter_protocol = 6"
hasnt pf_bad "milter_connect_macros"
hasnt pf_bad "milter_mail_macros"
# The wrong socket is in main.cf, so submissions is wired wrong too, but
# its implicit TLS keeps AUTH safe.
has pf_bad "ok: postfix: service $PORT_SUBS/inet (listener submissions): implicit TLS"
has pf_bad "warning: postfix: smtpd_tls_protocols = >=TLSv1 enables TLSv1.0 and TLSv1.1 for STARTTLS, which RFC 8997 deprecates"
fix pf_bad main.cf "smtpd_tls_protocols = >=TLSv1.2"
has pf_bad "warning: postfix: smtpd_tls_mandatory_protocols = >=TLSv1 enables TLSv1.0 and TLSv1.1 for implicit TLS, which RFC 8997 deprecates"
fix pf_bad main.cf "smtpd_tls_mandatory_protocols = >=TLSv1.2"
# Applying the fix lines makes the doctor happy again.
postconf -c "$PF_CONF" -e "smtpd_milters = inet:127.0.0.1:$MILTER_PORT" \
    "milter_default_action = tempfail" "milter_command_timeout = 10s" "milter_protocol = 6" \
    "smtpd_tls_protocols = >=TLSv1.2" "smtpd_tls_mandatory_protocols = >=TLSv1.2"
postconf -c "$PF_CONF" -P "$PORT_SUB/inet/smtpd_tls_auth_only=yes"
doctor pf_fixed --postfix-config "$PF_CONF"
all_ok pf_fixed

# RFC 8314 on the MTA side.  A 465 service without wrapper mode (with
# smtpd_tls_auth_only = yes, the old doctor called it "ok: ... AUTH only
# after STARTTLS"): an error, and its fix line makes it right.
postconf -c "$PF_CONF" -PX "$PORT_SUBS/inet/smtpd_tls_wrappermode"
postconf -c "$PF_CONF" -P "$PORT_SUBS/inet/smtpd_tls_auth_only=yes"
doctor pf_465_plain --postfix-config "$PF_CONF"
expect_eq "pf_465_plain: exit status" "$DOCTOR_RC" 1
has pf_465_plain "error: postfix: service $PORT_SUBS/inet (listener submissions): a submissions listener must start TLS at once (RFC 8314 §3.3: implicit TLS, port 465), but smtpd_tls_wrappermode is not yes"
fix pf_465_plain master.cf "$PORT_SUBS inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=yes -o smtpd_tls_wrappermode=yes"
expect_no_grep "pf_465_plain: no 'AUTH only after STARTTLS' for 465" "^ok: .*service $PORT_SUBS/inet.*AUTH only after STARTTLS" "$WORK/pf_465_plain.out"
postconf -c "$PF_CONF" -P "$PORT_SUBS/inet/smtpd_tls_wrappermode=yes"
doctor pf_465_fixed --postfix-config "$PF_CONF"
all_ok pf_465_fixed
# No 465 service at all: a warning (RFC 8314 §3.3 SHOULD), with the 587
# service's line as a submissions service.
cp "$PF_CONF/master.cf" "$WORK/master.cf.keep"
postconf -c "$PF_CONF" -MX "$PORT_SUBS/inet"
doctor pf_no465 --postfix-config "$PF_CONF"
expect_eq "pf_no465: exit status" "$DOCTOR_RC" 1
has pf_no465 "warning: postfix: no smtpd service is a submissions listener (implicit TLS, port 465): RFC 8314 §3.3 says a submission server should offer it beside STARTTLS on 587"
fix pf_no465 master.cf "submissions inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=yes -o smtpd_tls_wrappermode=yes"
cp "$WORK/master.cf.keep" "$PF_CONF/master.cf"
# Certificates (RFC 8314 §4.4): none configured, a file that is not there,
# one that expired, one due within 14 days.
postconf -c "$PF_CONF" -e "smtpd_tls_cert_file ="
doctor pf_nocert --postfix-config "$PF_CONF"
expect_eq "pf_nocert: exit status" "$DOCTOR_RC" 1
has pf_nocert "error: postfix: service $PORT_SUB/inet (listener submission): offers TLS, but no server certificate is configured (smtpd_tls_cert_file and smtpd_tls_chain_files are empty): Postfix then offers no STARTTLS"
has pf_nocert "error: postfix: service $PORT_SUBS/inet (listener submissions): offers TLS, but no server certificate is configured (smtpd_tls_cert_file and smtpd_tls_chain_files are empty): Postfix then fails every TLS handshake"
fix pf_nocert main.cf "smtpd_tls_cert_file = /etc/postfix/tls/fullchain.pem"
fix pf_nocert main.cf "smtpd_tls_key_file = /etc/postfix/tls/privkey.pem"
postconf -c "$PF_CONF" -e "smtpd_tls_cert_file = $WORK/no-such-cert.pem"
doctor pf_missingcert --postfix-config "$PF_CONF"
has pf_missingcert "error: postfix: smtpd_tls_cert_file $WORK/no-such-cert.pem: cannot be read: No such file or directory: the MTA cannot present a certificate"
check "an expired certificate is made" expired_cert "$WORK"
postconf -c "$PF_CONF" -e "smtpd_tls_cert_file = $WORK/expired.pem" "smtpd_tls_key_file = $WORK/expired.key"
doctor pf_expired --postfix-config "$PF_CONF"
expect_eq "pf_expired: exit status" "$DOCTOR_RC" 1
has pf_expired "error: postfix: smtpd_tls_cert_file $WORK/expired.pem: expired at 2020-02-01 00:00:00 UTC"
openssl req -x509 -newkey rsa:2048 -nodes -days 5 -subj "/CN=mx.example.test" \
    -keyout "$WORK/due.key" -out "$WORK/due.pem" >/dev/null 2>&1
postconf -c "$PF_CONF" -e "smtpd_tls_cert_file = $WORK/due.pem" "smtpd_tls_key_file = $WORK/due.key"
doctor pf_due --postfix-config "$PF_CONF"
has pf_due "warning: postfix: smtpd_tls_cert_file $WORK/due.pem: expires at "
postconf -c "$PF_CONF" -e "smtpd_tls_cert_file = $PF_CONF/tls/cert.pem" "smtpd_tls_key_file = $PF_CONF/tls/key.pem"
# No STARTTLS at all on the submission service.
postconf -c "$PF_CONF" -P "$PORT_SUB/inet/smtpd_tls_security_level=none"
doctor pf_notls --postfix-config "$PF_CONF"
has pf_notls "error: postfix: service $PORT_SUB/inet (listener submission): -o smtpd_tls_security_level = none: this submission service offers no STARTTLS"
fix pf_notls master.cf "$PORT_SUB inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=yes -o smtpd_tls_security_level=may"
postconf -c "$PF_CONF" -PX "$PORT_SUB/inet/smtpd_tls_security_level"
# Postfix 3.11's default failure action, shutdown, is fail-closed: no finding.
postconf -c "$PF_CONF" -e "milter_default_action = shutdown"
doctor pf_shutdown --postfix-config "$PF_CONF"
all_ok pf_shutdown
has pf_shutdown "ok: postfix: milter_default_action = shutdown: fail-closed, no mail passes while the milter is unreachable"
postconf -c "$PF_CONF" -e "milter_default_action = tempfail"

# smtpd_milter_maps (issue 18 item 4): the milter on the two submission
# services only, through -o smtpd_milter_maps with a cidr table that lists
# every client (inet_protocols = ipv4 here), and no smtpd_milters at all.
# The doctor calls that wired; Postfix agrees: mail submitted on $PORT_SUB
# carries the milter's trace field, mail on the relay port does not.
printf '# every client of the submission services\n0.0.0.0/0 inet:127.0.0.1:%s\n' \
    "$MILTER_PORT" > "$PF_CONF/milters.cidr"
postconf -c "$PF_CONF" -e "smtpd_milters ="
postconf -c "$PF_CONF" -P "$PORT_SUB/inet/smtpd_milter_maps=cidr:$PF_CONF/milters.cidr" \
    "$PORT_SUBS/inet/smtpd_milter_maps=cidr:$PF_CONF/milters.cidr"
doctor pf_map_cidr --postfix-config "$PF_CONF"
all_ok pf_map_cidr
has pf_map_cidr "ok: postfix: service $PORT_SUB/inet (listener submission): smtpd_milter_maps (-o in master.cf) = cidr:$PF_CONF/milters.cidr: every client it lists gets the milter (inet:127.0.0.1:$MILTER_PORT), and it lists every client"
has pf_map_cidr "ok: postfix: service $PORT_SUBS/inet (listener submissions): smtpd_milter_maps (-o in master.cf)"
expect_no_grep "pf_map_cidr: smtpd_milters not judged" "smtpd_milters" "$WORK/pf_map_cidr.out"
if mta_start; then pass "postfix (milters by map) starts"; else fail "postfix (milters by map) starts"; fi
send map_sub -p "$PORT_SUB" --tls --auth PLAIN --auth-user "$SASL_USER" --auth-password "$SASL_PASS"
send map_relay -p "$PORT_SMTP"
check "map_sub and map_relay delivered" mta_wait_delivery 2 20
f=$(message_for map_sub) && expect_eq "map_sub: the milter's trace field" \
    "$(received_fields "$f" | grep -c ' tls ')" 1 || fail "map_sub: not delivered"
f=$(message_for map_relay) && expect_eq "map_relay: no milter on the relay port" \
    "$(received_fields "$f" | grep -c 'milter.example.test')" 0 || fail "map_relay: not delivered"
mta_stop
# A cidr table that lists only loopback: the other clients fall to the
# empty smtpd_milters; the fix is a catch-all line in the table.
printf '127.0.0.0/8 inet:127.0.0.1:%s\n' "$MILTER_PORT" > "$PF_CONF/milters.cidr"
doctor pf_map_partial --postfix-config "$PF_CONF"
expect_eq "pf_map_partial: exit status" "$DOCTOR_RC" 1
has pf_map_partial "error: postfix: service $PORT_SUB/inet (listener submission): smtpd_milters (main.cf) is empty: does not name the milter's socket inet:$MILTER_PORT@127.0.0.1 (Postfix spelling inet:127.0.0.1:$MILTER_PORT) for the clients smtpd_milter_maps does not list"
fix pf_map_partial "$PF_CONF/milters.cidr" "0.0.0.0/0 inet:127.0.0.1:$MILTER_PORT"
# DISABLE for some clients of a submission service.
printf '10.0.0.0/8 DISABLE\n0.0.0.0/0 inet:127.0.0.1:%s\n' "$MILTER_PORT" > "$PF_CONF/milters.cidr"
doctor pf_map_disable --postfix-config "$PF_CONF"
has pf_map_disable "error: postfix: service $PORT_SUB/inet (listener submission): smtpd_milter_maps (-o in master.cf) cidr:$PF_CONF/milters.cidr gives clients matching 10.0.0.0/8 no milter (DISABLE)"
fix pf_map_disable "$PF_CONF/milters.cidr" "10.0.0.0/8 inet:127.0.0.1:$MILTER_PORT"
# A texthash table in main.cf, listed by the real postmap -s.
postconf -c "$PF_CONF" -PX "$PORT_SUB/inet/smtpd_milter_maps" "$PORT_SUBS/inet/smtpd_milter_maps"
printf '127.0.0.1 inet:127.0.0.1:%s\n' "$MILTER_PORT" > "$PF_CONF/by_client"
postconf -c "$PF_CONF" -e "smtpd_milter_maps = texthash:$PF_CONF/by_client"
doctor pf_map_texthash --postfix-config "$PF_CONF"
has pf_map_texthash "ok: postfix: service $PORT_SUB/inet (listener submission): smtpd_milter_maps = texthash:$PF_CONF/by_client: every client it lists gets the milter (inet:127.0.0.1:$MILTER_PORT)"
has pf_map_texthash "error: postfix: service $PORT_SUB/inet (listener submission): smtpd_milters (main.cf) is empty"
fix pf_map_texthash main.cf "smtpd_milters = inet:127.0.0.1:$MILTER_PORT"
postconf -c "$PF_CONF" -e "smtpd_milter_maps =" "smtpd_milters = inet:127.0.0.1:$MILTER_PORT"

# A unix socket: a second milter on $WORK/milter.sock (mode 0770 root:root
# by its umask 007, so user postfix may not write it), and a chrooted
# submission smtpd whose spool does not hold the socket.
SOCK="$WORK/milter.sock"
MILTER_CONF_INET=$MILTER_CONF
MILTER_CONF="$WORK/milter-unix.conf"
sed "s|^socket = .*|socket = local:$SOCK|" "$MILTER_CONF_INET" > "$MILTER_CONF"
"$MILTER_BIN" -f -c "$MILTER_CONF" 2>>"$WORK/milter-unix.log" &
track_pid $!
for ((i = 0; i < 100; i++)); do [ -S "$SOCK" ] && break; sleep 0.1; done
check "unix milter is up" test -S "$SOCK"
chgrp root "$SOCK"
postconf -c "$PF_CONF" -e "smtpd_milters = unix:$SOCK"
doctor pf_unix_perm --postfix-config "$PF_CONF"
expect_eq "pf_unix_perm: exit status" "$DOCTOR_RC" 1
has pf_unix_perm "ok: postfix: service $PORT_SUB/inet (listener submission): smtpd_milters names the milter (unix:$SOCK)"
has pf_unix_perm "error: postfix: user postfix cannot write to the socket $SOCK (mode 0770, group root)"
fix pf_unix_perm shell "usermod -a -G root postfix"
has pf_unix_perm "ok: postfix: the milter accepts connections on $SOCK"
# The permission check is the kernel's, as user postfix: an ACL entry that
# lets postfix write counts (the mode bits alone say it may not).
setfacl -m u:postfix:rw "$SOCK"
doctor pf_unix_acl --postfix-config "$PF_CONF"
all_ok pf_unix_acl
has pf_unix_acl "ok: postfix: user postfix may connect to $SOCK"
setfacl -b "$SOCK"
chgrp postfix "$SOCK"
doctor pf_unix_good --postfix-config "$PF_CONF"
all_ok pf_unix_good
has pf_unix_good "ok: postfix: user postfix may connect to $SOCK"
# A directory on the way that postfix may not search, then an ACL that
# lets it.
chmod 0750 "$WORK"
doctor pf_unix_dir --postfix-config "$PF_CONF"
expect_eq "pf_unix_dir: exit status" "$DOCTOR_RC" 1
has pf_unix_dir "error: postfix: user postfix cannot search $WORK (mode 0750, group root): Permission denied"
fix pf_unix_dir shell "usermod -a -G root postfix"
setfacl -m u:postfix:x "$WORK"
doctor pf_unix_dir_acl --postfix-config "$PF_CONF"
all_ok pf_unix_dir_acl
setfacl -b "$WORK"
chmod 0755 "$WORK"
postconf -c "$PF_CONF" -F "$PORT_SUB/inet/chroot=y"
doctor pf_chroot --postfix-config "$PF_CONF"
expect_eq "pf_chroot: exit status" "$DOCTOR_RC" 1
has pf_chroot "error: postfix: service $PORT_SUB/inet (listener submission): runs chrooted (master.cf chroot column) in $PF_DIR/queue and cannot reach the milter's socket $SOCK (smtpd_milters names it, but inside the chroot it is $PF_DIR/queue$SOCK)"
fix pf_chroot "$MILTER_CONF" "$(printf 'socket = local:%s/queue/rfc8314-milter/rfc8314-milter.sock' "$PF_DIR")"
fix pf_chroot main.cf "smtpd_milters = unix:/rfc8314-milter/rfc8314-milter.sock"
MILTER_CONF=$MILTER_CONF_INET

# A Postfix config directory that does not exist: an error when it was
# named on the command line (without the option it would be a note).
doctor pf_missing --postfix-config "$WORK/no-such-dir"
expect_eq "pf_missing: exit status" "$DOCTOR_RC" 1
has pf_missing "error: postfix: postconf failed:"

# ---- Sendmail -------------------------------------------------------------------
PORT_SMTP=11325 PORT_SUB=11887 PORT_SUBS=11765
. "$(dirname "$0")/mta-sendmail.sh"
# Same milter; its listener sections now name the Sendmail ports.
write_milter_conf
check "milter config for sendmail ports is valid" "$MILTER_BIN" -n -c "$MILTER_CONF"

MTA_AUTH_OPTIONS=p mta_setup "$MILTER_PORT" || { fail "sendmail setup"; finish; exit 1; }
CF="$SM_DIR/sendmail.cf"
# TLS 1.0 and 1.1 off (the adapter has no knob for it: the line goes into
# the generated cf, as confSERVER_SSL_OPTIONS would put it).
SSL_OPTS="O ServerSSLOptions=+SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1"
sed -i "/^O ServerKeyFile=/a $SSL_OPTS" "$CF"
check "the cf has ServerSSLOptions" grep -qx "$SSL_OPTS" "$CF"
if mta_start; then pass "sendmail (good) starts"; else fail "sendmail (good) starts"; fi
doctor sm_good --sendmail-cf "$CF"
all_ok sm_good
has sm_good "ok: sendmail: daemon MSA (port $PORT_SUB, listener submission): milter rfc8314 (S=inet:$MILTER_PORT@127.0.0.1) is in InputMailFilters"
has sm_good "ok: sendmail: daemon MSA (port $PORT_SUB, listener submission): AuthOptions has p"
has sm_good "ok: sendmail: daemon SMTPS (port $PORT_SUBS, listener submissions): implicit TLS (M=s)"
has sm_good "ok: sendmail: milter rfc8314: F=T"
has sm_good "ok: sendmail: milter rfc8314: T=S:30s;R:30s;E:1m within bounds"
has sm_good "ok: sendmail: version 8.17"
has sm_good "ok: sendmail: ServerCertFile $SM_DIR/tls/cert.pem: valid until"
has sm_good "ok: sendmail: ServerSSLOptions = +SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1: TLS 1.2 or later only"
# Sendmail does what the doctor passed: its private openssl.cnf allows TLS
# 1.0, ServerSSLOptions refuses it.
tls_refused "sm_good: TLS 1.0 on $PORT_SUB" -connect "127.0.0.1:$PORT_SUB" -starttls smtp -tls1
tls_refused "sm_good: TLS 1.0 on $PORT_SUBS" -connect "127.0.0.1:$PORT_SUBS" -tls1
tls_ok "sm_good: TLS 1.2 on $PORT_SUB" TLSv1.2 -connect "127.0.0.1:$PORT_SUB" -starttls smtp -tls1_2
mta_stop

MTA_AUTH_OPTIONS= MTA_MILTER_FLAGS= mta_setup "$MILTER_PORT" || { fail "sendmail setup (bad)"; finish; exit 1; }
doctor sm_bad --sendmail-cf "$CF"
expect_eq "sm_bad: exit status" "$DOCTOR_RC" 1
has sm_bad "warning: sendmail: daemon MSA (port $PORT_SUB, listener submission): the milter requires TLS for AUTH here, but AuthOptions lacks p"
fix sm_bad sendmail.mc "define(\`confAUTH_OPTIONS', \`p')dnl"
fix sm_bad sendmail.cf "O AuthOptions=p"
has sm_bad "warning: sendmail: milter rfc8314: no F= flag: while the milter is down, mail passes with no trace field"
fix sm_bad sendmail.cf "Xrfc8314, S=inet:$MILTER_PORT@127.0.0.1, F=T, T=S:30s;R:30s;E:1m"
fix sm_bad sendmail.mc "INPUT_MAIL_FILTER(\`rfc8314', \`S=inet:$MILTER_PORT@127.0.0.1, F=T, T=S:30s;R:30s;E:1m')dnl"
has sm_bad "warning: sendmail: ServerSSLOptions is not set and leaves TLSv1.0 and TLSv1.1 on, which RFC 8997 deprecates: Sendmail then accepts what OpenSSL's configuration allows"
fix sm_bad sendmail.mc "define(\`confSERVER_SSL_OPTIONS', \`+SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1')dnl"
fix sm_bad sendmail.cf "O ServerSSLOptions=+SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1"

# Variations of the bad cf that the adapter has no knob for: M=a on the
# MSA, a long T=E, and the filter dropped from InputMailFilters / pointing
# at the wrong socket.
sed -e "s/Name=MSA, M=E\$/Name=MSA, M=Ea/" -e 's/E:1m$/E:1h/' "$CF" > "$WORK/ma.cf"
doctor sm_ma --sendmail-cf "$WORK/ma.cf"
expect_eq "sm_ma: exit status" "$DOCTOR_RC" 1
has sm_ma "warning: sendmail: daemon MSA (port $PORT_SUB, listener submission): M=a makes Sendmail refuse unauthenticated MAIL itself"
fix sm_ma sendmail.cf "O DaemonPortOptions=Port=$PORT_SUB, Addr=127.0.0.1, Family=inet, Name=MSA, M=E"
fix sm_ma sendmail.mc "DAEMON_OPTIONS(\`Port=$PORT_SUB, Addr=127.0.0.1, Family=inet, Name=MSA, M=E')dnl"
has sm_ma "warning: sendmail: milter rfc8314: T= E:1h is above 600s"
sed -e 's/^O InputMailFilters=.*/O InputMailFilters=/' "$CF" > "$WORK/unlisted.cf"
doctor sm_unlisted --sendmail-cf "$WORK/unlisted.cf"
expect_eq "sm_unlisted: exit status" "$DOCTOR_RC" 1
has sm_unlisted "error: sendmail: daemon MSA (port $PORT_SUB, listener submission): the X line rfc8314 names the milter's socket but is not listed in InputMailFilters"
fix sm_unlisted sendmail.cf "O InputMailFilters=rfc8314"
sed -e "s/^Xrfc8314, S=inet:$MILTER_PORT@/Xrfc8314, S=inet:$WRONG_PORT@/" "$CF" > "$WORK/wrong.cf"
doctor sm_wrong --sendmail-cf "$WORK/wrong.cf"
expect_eq "sm_wrong: exit status" "$DOCTOR_RC" 1
has sm_wrong "error: sendmail: daemon MSA (port $PORT_SUB, listener submission): no X line names the milter's socket inet:$MILTER_PORT@127.0.0.1 (defined: rfc8314 S=inet:$WRONG_PORT@127.0.0.1)"
fix sm_wrong sendmail.cf "Xrfc8314, S=inet:$MILTER_PORT@127.0.0.1, F=T, T=S:30s;R:30s;E:1m"

# RFC 8314 on the MTA side: SMTPS without M=s, no SMTPS at all, no
# certificate, an expired one, STARTTLS turned off on the MSA; and (issue
# 13 item 11) a Sendmail older than 8.14, whose connect macros lack
# {daemon_port}.
sed -e "s/Name=SMTPS, M=s\$/Name=SMTPS, M=E/" "$CF" > "$WORK/plain465.cf"
doctor sm_465_plain --sendmail-cf "$WORK/plain465.cf"
expect_eq "sm_465_plain: exit status" "$DOCTOR_RC" 1
has sm_465_plain "error: sendmail: daemon SMTPS (port $PORT_SUBS, listener submissions): a submissions listener must start TLS at once (RFC 8314 §3.3: implicit TLS, port 465), but M= lacks s"
fix sm_465_plain sendmail.mc "DAEMON_OPTIONS(\`Port=$PORT_SUBS, Addr=127.0.0.1, Family=inet, Name=SMTPS, M=Es')dnl"
fix sm_465_plain sendmail.cf "O DaemonPortOptions=Port=$PORT_SUBS, Addr=127.0.0.1, Family=inet, Name=SMTPS, M=Es"
expect_no_grep "sm_465_plain: no 'AUTH only after STARTTLS' for SMTPS" "^ok: .*daemon SMTPS.*AUTH only after STARTTLS" "$WORK/sm_465_plain.out"
sed -e "/Name=SMTPS, M=s\$/d" "$CF" > "$WORK/no465.cf"
doctor sm_no465 --sendmail-cf "$WORK/no465.cf"
expect_eq "sm_no465: exit status" "$DOCTOR_RC" 1
has sm_no465 "warning: sendmail: no DaemonPortOptions line is a submissions listener (implicit TLS, port 465): RFC 8314 §3.3 says a submission server should offer it beside STARTTLS on 587"
fix sm_no465 sendmail.mc "DAEMON_OPTIONS(\`Port=465, Name=SMTPS, M=s')dnl"
fix sm_no465 sendmail.cf "O DaemonPortOptions=Port=465, Name=SMTPS, M=s"
sed -e "/^O ServerCertFile=/d" "$CF" > "$WORK/nocert.cf"
doctor sm_nocert --sendmail-cf "$WORK/nocert.cf"
expect_eq "sm_nocert: exit status" "$DOCTOR_RC" 1
has sm_nocert "error: sendmail: ServerCertFile or ServerKeyFile is not set: Sendmail offers no STARTTLS and cannot do implicit TLS (RFC 8314 §4.4: an MSP must keep a valid server certificate)"
fix sm_nocert sendmail.mc "define(\`confSERVER_CERT', \`/etc/mail/tls/fullchain.pem')dnl"
fix sm_nocert sendmail.cf "O ServerCertFile=/etc/mail/tls/fullchain.pem"
[ -s "$WORK/expired.pem" ] || expired_cert "$WORK"
sed -e "s|^O ServerCertFile=.*|O ServerCertFile=$WORK/expired.pem|" "$CF" > "$WORK/expired.cf"
doctor sm_expired --sendmail-cf "$WORK/expired.cf"
expect_eq "sm_expired: exit status" "$DOCTOR_RC" 1
has sm_expired "error: sendmail: ServerCertFile $WORK/expired.pem: expired at 2020-02-01 00:00:00 UTC"
sed -e "s/Name=MSA, M=E\$/Name=MSA, M=ES/" "$CF" > "$WORK/nostarttls.cf"
doctor sm_nostarttls --sendmail-cf "$WORK/nostarttls.cf"
has sm_nostarttls "error: sendmail: daemon MSA (port $PORT_SUB, listener submission): M=S turns STARTTLS off on this submission listener"
fix sm_nostarttls sendmail.cf "O DaemonPortOptions=Port=$PORT_SUB, Addr=127.0.0.1, Family=inet, Name=MSA, M=E"
sed -e "s/^DZ.*/DZ8.13.8/" "$CF" > "$WORK/old.cf"
doctor sm_old --sendmail-cf "$WORK/old.cf"
expect_eq "sm_old: exit status" "$DOCTOR_RC" 1
has sm_old "warning: sendmail: version 8.13.8 is older than 8.14: smfi_setsymlist may be ignored"
has sm_old "warning: sendmail: Milter.macros.connect lacks {daemon_addr} {daemon_port} {client_addr} {client_name} {client_port} {tls_version} {cipher} {cipher_bits}; without {daemon_port} the milter cannot tell port 587 from 465 or 25"
fix sm_old sendmail.cf "O Milter.macros.connect=j, _, {daemon_name}, {if_name}, {if_addr}, {daemon_addr}, {daemon_port}, {client_addr}, {client_name}, {client_port}, {tls_version}, {cipher}, {cipher_bits}"

# A milter that is down is an error too.
stop_milter
doctor sm_down --sendmail-cf "$CF"
expect_eq "sm_down: exit status" "$DOCTOR_RC" 1
has sm_down "error: sendmail: cannot connect to the milter's socket inet:$MILTER_PORT@127.0.0.1"

# A bad milter configuration: 78 before any MTA is looked at.
echo "socket = nonsense" > "$WORK/bad.conf"
"$MILTER_BIN" --doctor -c "$WORK/bad.conf" --sendmail-cf "$CF" > "$WORK/badconf.out" 2>&1
expect_eq "bad milter config: exit status" "$?" 78
finish
